"""Default views of ingested resources (issue 16): loading the real sample the way `make run`
does (`ckan ecarto load-sample`, fresh database) gives every loaded resource the table preview
`ecarto_tableau` and every UAI-keyed one the map `ecarto_carte_uai`; loading again (forced, or a
new version of a file) creates no duplicate; `ckan ecarto vues creer` restores what an older
portal lacks. The preview's reading action follows the dataset's visibility (a private dataset's
rows are never read anonymously: action, JSON route, resource page and view page), and a file
refused by the validation gets a preview that says so in French."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.plugins.toolkit as tk
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers
from ckan.cli.cli import ckan

from tests.publication import files

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
IPS_DATASET = "ips-colleges-rentree-2023"
PRIVATE_DATASET = "ips-prive-brouillon"
TABLE, MAP = "ecarto_tableau", "ecarto_carte_uai"

pytestmark = pytest.mark.usefixtures("with_plugins")


def _sys() -> dict:
    return {"user": helpers.call_action("get_site_user", {"ignore_auth": True})["name"], "ignore_auth": True}


def _anonymous() -> dict:
    return {"user": "", "ignore_auth": False}


def ips_rows() -> list[dict[str, str]]:
    """The IPS sample file read with the csv module (independently of the portal)."""
    return list(csv.DictReader(io.StringIO(IPS.read_bytes().decode("utf-8-sig")), delimiter=";"))


def _views(resource_id: str) -> list[str]:
    return [v["view_type"] for v in helpers.call_action("resource_view_list", _sys(), id=resource_id)]


def _loaded() -> list[dict]:
    """(resource, registry row) of every resource the sample loaded."""
    found = []
    for name in helpers.call_action("package_list", _sys()):
        package = helpers.call_action("package_show", _sys(), id=name)
        for resource in package["resources"]:
            status = helpers.call_action("ecarto_ingest_status", _sys(), id=resource["id"])
            found.append({"package": package, "resource": resource, "status": status})
    return found


def _load_sample(*args: str) -> str:
    from ckanext.ecarto.ingest import commands

    app = helpers._get_test_app()
    with app.flask_app.test_request_context():
        result = CliRunner().invoke(commands.load_sample, ["--dir", str(SAMPLE), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def sample(module_portal_db) -> list[dict]:
    """The real sample loaded by `ckan ecarto load-sample` (as `make run` does) on a fresh database."""
    _load_sample()
    model.Session.remove()
    return _loaded()


def test_every_loaded_sample_resource_gets_its_table_and_uai_resources_their_map(sample):
    assert len(sample) >= 10
    for item in sample:
        views = _views(item["resource"]["id"])
        assert item["status"]["status"] == "ok", item["status"]
        expected = [TABLE, MAP] if item["status"]["key_kind"] == "uai" else [TABLE]
        assert views == expected, (item["resource"]["name"], views)
    kinds = Counter(item["status"]["key_kind"] for item in sample)
    assert kinds["uai"] >= 4 and kinds["commune"] >= 4


def test_the_sample_resource_page_shows_its_first_rows(sample, app):
    ips = next(i for i in sample if i["package"]["name"] == IPS_DATASET and i["resource"]["url"].endswith("ips-colleges-2023.csv"))
    html = app.get(f"/dataset/{IPS_DATASET}/resource/{ips['resource']['id']}", status=200).get_data(as_text=True)
    first = ips_rows()[:25]
    assert "Aperçu du tableau" in html
    assert "<caption" in html and 'scope="col"' in html
    for row in first:
        assert f"<td>{row['UAI']}</td>" in html
    assert ips_rows()[25]["UAI"] not in html  # the 26th row is on page 2
    assert "Lignes 1 à 25 sur 6\u00a0864" in html
    page2 = app.get(f"/dataset/{IPS_DATASET}/resource/{ips['resource']['id']}?page=2", status=200).get_data(as_text=True)
    assert f"<td>{ips_rows()[25]['UAI']}</td>" in page2 and "Lignes 26 à 50 sur 6\u00a0864" in page2


def test_every_sample_resource_page_previews_its_table(sample, app):
    """Whatever the file's shape (directories, commune tables, a multi-year file), its preview
    shows its first rows with one header per column and the table's row count."""
    for item in sample:
        rid = item["resource"]["id"]
        result = helpers.call_action("ecarto_table_rows", _anonymous(), id=rid)
        assert result["status"] == "ok" and result["columns"], item["resource"]["name"]
        assert result["total"] == (item["status"]["layout"] or {}).get("table_rows", item["status"]["n_rows"])
        assert len(result["rows"]) == min(25, result["total"])
        assert all(len(row) == len(result["columns"]) for row in result["rows"])
        html = app.get(f"/dataset/{item['package']['name']}/resource/{rid}", status=200).get_data(as_text=True)
        preview = re.search(r'<section class="ecarto-tableau".*?</section>', html, re.S).group(0)
        assert preview.count('<th scope="col"') == len(result["columns"])
        assert preview.count("<tr>") == len(result["rows"]) + 1


def test_loading_again_creates_no_duplicate_view(sample):
    before = {i["resource"]["id"]: _views(i["resource"]["id"]) for i in sample}
    output = _load_sample("--force")          # every file loaded again: `ecarto_ingest_committed` each time
    assert "ÉCHEC" not in output
    ips = next(i for i in sample if i["package"]["name"] == IPS_DATASET)
    report = helpers.call_action("ecarto_ingest_resource", _sys(), id=ips["resource"]["id"], force=True)
    assert report["status"] == "ok" and not report.get("unchanged")
    # a new version of a file (its first 500 real rows) through CKAN's resource_patch
    lines = IPS.read_bytes().decode("utf-8-sig").splitlines()[:501]
    helpers.call_action("resource_patch", _sys(), id=ips["resource"]["id"],
                        upload=FileStorage(io.BytesIO("\n".join(lines).encode()), "ips-colleges-2023.csv"))
    assert helpers.call_action("ecarto_ingest_status", _sys(), id=ips["resource"]["id"])["n_rows"] == 500
    after = {i["resource"]["id"]: _views(i["resource"]["id"]) for i in sample}
    assert after == before


def test_the_cli_creates_the_missing_views_once(sample, cli):
    arcep = next(i for i in sample if i["status"]["key_kind"] == "commune")
    annuaire = next(i for i in sample if i["status"]["key_kind"] == "uai")
    for item in (arcep, annuaire):
        for view in helpers.call_action("resource_view_list", _sys(), id=item["resource"]["id"]):
            helpers.call_action("resource_view_delete", _sys(), id=view["id"])
        assert _views(item["resource"]["id"]) == []
    result = cli.invoke(ckan, ["ecarto", "vues", "creer"])
    assert result.exit_code == 0, result.output
    assert "2 ressource(s) complétée(s), 3 vue(s) créée(s)." in result.output
    assert f"{annuaire['package']['name']} / {annuaire['resource']['name']} : {TABLE}, {MAP}" in result.output
    assert _views(arcep["resource"]["id"]) == [TABLE]
    assert _views(annuaire["resource"]["id"]) == [TABLE, MAP]
    again = cli.invoke(ckan, ["ecarto", "vues", "creer"])
    assert again.exit_code == 0 and "0 ressource(s) complétée(s), 0 vue(s) créée(s)." in again.output


def test_the_action_pages_and_sorts_the_real_rows(sample):
    ips = next(i for i in sample if i["resource"]["url"].endswith("ips-colleges-2023.csv"))
    rid = ips["resource"]["id"]
    loaded = helpers.call_action("ecarto_ingest_status", _sys(), id=rid)["n_rows"]
    rows = ips_rows()[:loaded]     # the whole file, or its first 500 rows after test_loading_again…
    page = helpers.call_action("ecarto_table_rows", _anonymous(), id=rid, limit=10, offset=10)
    labels = [c["label"] for c in page["columns"]]
    assert labels == ["Rentrée scolaire", "UAI", "Indice de position sociale (IPS)", "Écart-type de l'IPS"]
    assert page["total"] == len(rows)
    assert [r[1] for r in page["rows"]] == [r["UAI"] for r in rows[10:20]]
    assert [r[2] for r in page["rows"]] == [float(r["IPS"]) for r in rows[10:20]]
    top = helpers.call_action("ecarto_table_rows", _anonymous(), id=rid, limit=1, sort="ips", order="desc")
    assert top["rows"][0][2] == max(float(r["IPS"]) for r in rows)
    for bad in ({"limit": 101}, {"limit": 0}, {"offset": -1}, {"sort": "colonne_inconnue"}, {"order": "hasard"},
                {"sort": "ips; DROP TABLE package"}):
        with pytest.raises(tk.ValidationError):
            helpers.call_action("ecarto_table_rows", _anonymous(), id=rid, **bad)


@pytest.fixture
def private(sample, with_plugins) -> dict:
    """A private dataset of the ministry with the real IPS file, a member of the ministry, an
    outsider (built once the plugins are loaded: a function fixture)."""
    member, outsider = factories.User(), factories.User()
    helpers.call_action("organization_member_create", _sys(), id="menj", username=member["name"], role="member")
    package = helpers.call_action("package_create", _sys(), name=PRIVATE_DATASET, title="IPS — brouillon privé",
                                  owner_org="menj", private=True, axe="etablissements", millesime="2023",
                                  license_id="etalab-2.0")
    resource = helpers.call_action("resource_create", _sys(), package_id=package["id"], name="IPS privé",
                                   format="CSV", upload=FileStorage(io.BytesIO(IPS.read_bytes()), "ips.csv"))
    return {"package": package, "resource": resource, "member": member, "outsider": outsider,
            "token": factories.APIToken(user=member["name"])["token"],
            "outsider_token": factories.APIToken(user=outsider["name"])["token"]}


def test_a_private_table_is_never_read_anonymously(private, app):
    rid, first_uai = private["resource"]["id"], ips_rows()[0]["UAI"]
    assert _views(rid) == [TABLE, MAP]
    # the action
    for context in (_anonymous(), {"user": private["outsider"]["name"], "ignore_auth": False}):
        with pytest.raises(tk.NotAuthorized):
            helpers.call_action("ecarto_table_rows", context, id=rid)
    member = helpers.call_action("ecarto_table_rows", {"user": private["member"]["name"], "ignore_auth": False},
                                 id=rid)
    assert member["rows"][0][1] == first_uai
    # the JSON route
    for headers in ({}, {"Authorization": private["outsider_token"]}):
        response = app.get(f"/apercu/{rid}.json", headers=headers, status=404)
        assert first_uai not in response.get_data(as_text=True)
    assert app.get(f"/apercu/{rid}.json", headers={"Authorization": private["token"]}).json["rows"][0][1] == first_uai
    # the API
    api = app.get(f"/api/3/action/ecarto_table_rows?id={rid}", status=403)
    assert first_uai not in api.get_data(as_text=True)
    # the resource page and the view page
    view_id = helpers.call_action("resource_view_list", _sys(), id=rid)[0]["id"]
    for path in (f"/dataset/{PRIVATE_DATASET}/resource/{rid}", f"/dataset/{PRIVATE_DATASET}/resource/{rid}/view/{view_id}"):
        for headers in ({}, {"Authorization": private["outsider_token"]}):
            response = app.get(path, headers=headers, status=404)
            assert first_uai not in response.get_data(as_text=True)
        shown = app.get(path, headers={"Authorization": private["token"]}, status=200).get_data(as_text=True)
        assert f"<td>{first_uai}</td>" in shown


def test_a_refused_file_gets_a_preview_that_says_why(sample, app):
    """The IPS of the Haute-Garonne collèges with one UAI given a wrong check letter: the
    validation refuses it; its preview says so in French instead of failing."""
    lines = files.ips_lines()
    faulty = files.with_cell(files.ips_haute_garonne(), line=2, column="UAI",
                             value=files.wrong_letter(lines[1].split(";")[1]))
    package = helpers.call_action("package_show", _sys(), id=IPS_DATASET)
    resource = helpers.call_action("resource_create", _sys(), package_id=package["id"], name="IPS fautif",
                                   format="CSV", upload=FileStorage(io.BytesIO(faulty), "ips-fautif.csv"))
    status = helpers.call_action("ecarto_ingest_status", _sys(), id=resource["id"])
    assert status["status"] == "error" and status["failure"]["code"] == "validation"
    assert _views(resource["id"]) == []          # no default view for a refused file…
    view = helpers.call_action("resource_view_create", _sys(), resource_id=resource["id"], view_type=TABLE,
                               title="Aperçu du tableau")    # …but an editor may add one
    result = helpers.call_action("ecarto_table_rows", _anonymous(), id=resource["id"])
    assert result["status"] == "error" and result["rows"] == [] and result["failure"]["code"] == "validation"
    html = app.get(f"/dataset/{IPS_DATASET}/resource/{resource['id']}?view_id={view['id']}",
                   status=200).get_data(as_text=True).replace("&#39;", "'")
    assert "Aperçu indisponible. Le fichier n'a pas pu être intégré : il ne respecte pas le schéma" in html
