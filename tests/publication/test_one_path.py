"""One path (issue 15): the same faulty file — the IPS of the Haute-Garonne collèges with one UAI
given a wrong check letter (real rows, one cell changed) — through every way a file reaches a
dataset of an axis: CKAN's resource form posted with its real fields, ``resource_create``,
``resource_patch`` over a published version, and a link (URL) served by a local HTTP server.

Before issue 15 the loader took such a file (rejecting the bad row) with no report. Now each
time: the resource is kept as a plain download, the registry and ``ecarto_ingest_status`` say
the validation refused it, the resource and dataset pages show the French warning, the
establishment pages of the file's (valid) UAIs answer 200 without its values and the territory
aggregates do not change. The resource form of such a dataset is the validated publication
form; documents (PDF) are still added through it, as is."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.tests.helpers as helpers
from ckan.lib import jobs

from ckanext.ecarto import ingest
from ckanext.ecarto.territoires import aggregates
from tests.publication import files
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")

WARNING = "Fichier non validé"
PUBLIC_WARNING = "il ne respecte pas le schéma de données de l'axe"


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def _ctx(portal, who="editor"):
    return {"user": portal.user(who)["name"], "ignore_auth": False}


def _faulty() -> tuple[bytes, str, str]:
    """(the faulty file, a valid UAI of it, its IPS): line 2's UAI has a wrong check letter."""
    lines = files.ips_lines()
    first, second = lines[1].split(";"), lines[2].split(";")
    content = files.with_cell(files.ips_haute_garonne(), line=2, column="UAI", value=files.wrong_letter(first[1]))
    return content, second[1], second[2]


def _aggregates() -> tuple[list, int]:
    """The territory series and aggregate rows, rebuilt from what is loaded now."""
    aggregates.refresh(wait=True)
    with model.meta.engine.connect() as conn:
        series = conn.execute(sa.text(
            f"SELECT serie, md5(data::text) FROM {aggregates.t('territoire_serie')} ORDER BY serie")).all()
        rows = conn.execute(sa.text(f"SELECT count(*) FROM {aggregates.t('territoire_agregat')}")).scalar()
    return [tuple(r) for r in series], rows


def _status(portal, resource_id: str, who: str = "editor") -> dict:
    return helpers.call_action("ecarto_ingest_status", _ctx(portal, who), id=resource_id)


def assert_refused_and_not_joined(app, portal, package: dict, resource_id: str, uai: str, before) -> None:
    status = _status(portal, resource_id)
    assert status["status"] == "error" and status["failure"]["code"] == "validation", status
    assert status["table_name"] is None
    assert status["message"].startswith(WARNING) and "UAI invalide" in status["message"]
    public = helpers.call_action("ecarto_ingest_status", {"user": "", "ignore_auth": False}, id=resource_id)
    assert PUBLIC_WARNING in public["message"]

    establishment = _text(app.get(f"/etablissement/{uai}", status=200))
    assert package["title"] not in establishment
    assert _aggregates() == before

    resource_page = _text(app.get(f"/dataset/{package['name']}/resource/{resource_id}",
                                  headers=portal.headers("editor"), status=200))
    assert WARNING in resource_page
    anonymous_page = _text(app.get(f"/dataset/{package['name']}/resource/{resource_id}", status=200))
    assert PUBLIC_WARNING in anonymous_page
    dataset_page = _text(app.get(f"/dataset/{package['name']}", status=200))
    assert 'ecarto-not-validated' in dataset_page and "Non validé" in dataset_page
    # still a plain download
    shown = helpers.call_action("resource_show", id=resource_id)
    assert shown["url_type"] == "upload" or shown["url"].startswith("http")


def test_the_resource_form_of_a_dataset_of_an_axis_is_the_validated_form(app, portal, new_dataset):
    package = new_dataset("un-seul-formulaire")
    page = _text(app.get(f"/dataset/{package['name']}/resource/new", headers=portal.headers("editor"), status=200))
    assert f'action="/dataset/{package["name"]}/publier"' in page
    assert 'id="resource-edit"' not in page              # CKAN's own form is not offered beside it
    assert page.count('type="file"') == 1


def test_faulty_file_through_ckan_resource_form(app, portal, new_dataset):
    before = _aggregates()
    content, uai, _ips = _faulty()
    package = new_dataset("fautif-formulaire", title="IPS fautif (formulaire CKAN)")
    login = app.post("/user/login", data={"login": portal.editor["name"], "password": portal.password},
                     follow_redirects=False)
    assert login.status_code == 302
    response = app.post(f"/dataset/{package['name']}/resource/new", data={
        "id": "", "save": "go-metadata", "name": "IPS fautif", "description": "", "format": "CSV",
        "url": "", "upload": (io.BytesIO(content), "ips-fautif.csv")}, follow_redirects=False)
    assert response.status_code == 302, _text(response)[:2000]
    app.get("/user/_logout")
    resources = helpers.call_action("package_show", id=package["id"])["resources"]
    assert [r["name"] for r in resources] == ["IPS fautif"]
    assert_refused_and_not_joined(app, portal, package, resources[0]["id"], uai, before)


def test_faulty_file_through_the_publication_form_is_not_published(app, portal, new_dataset):
    content, uai, _ips = _faulty()
    package = new_dataset("fautif-publication", title="IPS fautif (formulaire validé)")
    response = app.post(f"/dataset/{package['name']}/publier", headers=portal.headers("editor"),
                        data={"upload": (io.BytesIO(content), "ips-fautif.csv"), "name": "IPS fautif"},
                        follow_redirects=False)
    assert response.status_code == 302
    report = _text(app.get(response.headers["Location"], headers=portal.headers("editor"), status=200))
    assert 'data-verdict="blocking"' in report and "Publier ces données" not in report
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []
    assert package["title"] not in _text(app.get(f"/etablissement/{uai}", status=200))


def test_faulty_file_through_resource_create(app, portal, new_dataset):
    before = _aggregates()
    content, uai, _ips = _faulty()
    package = new_dataset("fautif-api-create", title="IPS fautif (resource_create)")
    resource = helpers.call_action("resource_create", _ctx(portal), package_id=package["id"], name="IPS fautif",
                                   format="CSV", upload=upload(content, "ips-fautif.csv"))
    assert_refused_and_not_joined(app, portal, package, resource["id"], uai, before)


def test_faulty_file_through_resource_patch_keeps_the_published_version(app, portal, new_dataset):
    content, uai, ips = _faulty()
    package = new_dataset("fautif-api-patch", title="IPS fautif (resource_patch)")
    published = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                    upload=upload(files.ips_haute_garonne(), "ips.csv"))
    resource_id = published["resource"]["id"]
    page = _text(app.get(f"/etablissement/{uai}", status=200))
    assert package["title"] in page and ips.replace(".", ",") in page
    before = _aggregates()
    changed = files.with_cell(content, line=3, column="IPS", value="42.4")   # a value the pages must not show

    helpers.call_action("resource_patch", _ctx(portal), id=resource_id, upload=upload(changed, "ips-v2.csv"))

    status = _status(portal, resource_id)
    assert status["status"] == "ok" and status["failure"]["code"] == "validation"   # the first version stays
    assert WARNING in status["message"] and "reste en place" in status["message"]
    page = _text(app.get(f"/etablissement/{uai}", status=200))
    assert ips.replace(".", ",") in page and "42,4" not in page
    assert _aggregates() == before
    resource_page = _text(app.get(f"/dataset/{package['name']}/resource/{resource_id}",
                                  headers=portal.headers("editor"), status=200))
    assert WARNING in resource_page


def _run_ingest_job(resource_id: str) -> None:
    """Run, in this process, the background ingestion job the resource hook queued."""
    queued = [job for job in jobs.get_queue().jobs if job.args and job.args[0] == resource_id
              and job.func_name.endswith("guarded_job")]
    assert len(queued) == 1, [j.func_name for j in jobs.get_queue().jobs]
    queued[0].perform()
    queued[0].delete()


def test_faulty_file_given_by_url(app, portal, new_dataset, tmp_path, file_server):
    before = _aggregates()
    content, uai, _ips = _faulty()
    (tmp_path / "ips-fautif.csv").write_bytes(content)
    package = new_dataset("fautif-lien", title="IPS fautif (lien)")
    resource = helpers.call_action("resource_create", _ctx(portal), package_id=package["id"], name="IPS fautif",
                                   format="CSV", url=f"{file_server}/ips-fautif.csv")
    _run_ingest_job(resource["id"])
    assert_refused_and_not_joined(app, portal, package, resource["id"], uai, before)


def test_valid_file_by_the_api_is_still_loaded(app, portal, new_dataset):
    """The gate lets a valid file through: the ordinary API keeps working."""
    package = new_dataset("valide-api", title="IPS valide (resource_create)")
    resource = helpers.call_action("resource_create", _ctx(portal), package_id=package["id"], name="IPS",
                                   format="CSV", upload=upload(files.ips_haute_garonne(), "ips.csv"))
    status = _status(portal, resource["id"])
    assert status["status"] == "ok" and not status["failure"]
    uai, ips = next(iter(files.ips_values().items()))
    assert ips.replace(".", ",") in _text(app.get(f"/etablissement/{uai}", status=200))


def test_a_document_is_added_through_the_same_form(app, portal, new_dataset):
    package = new_dataset("notice-pdf")
    response = app.post(f"/dataset/{package['name']}/publier", headers=portal.headers("editor"),
                        data={"upload": (io.BytesIO(b"%PDF-1.4 notice"), "notice.pdf"), "name": "Notice"},
                        follow_redirects=False)
    assert response.status_code == 302
    resources = helpers.call_action("package_show", id=package["id"])["resources"]
    assert [r["name"] for r in resources] == ["Notice"]
    assert response.headers["Location"].endswith(f"/resource/{resources[0]['id']}")
    assert ingest.status(resources[0]["id"]) is None                      # not a table: nothing loaded


def test_a_malformed_workbook_loses_nothing_already_published(app, portal, new_dataset):
    """A truncated XLSX sent over a published version: a French message, the version in place
    stays on the pages."""
    package = new_dataset("classeur-tronque", title="IPS (classeur tronqué)")
    published = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                    upload=upload(files.ips_haute_garonne(), "ips.csv"))
    resource_id = published["resource"]["id"]
    uai, ips = next(iter(files.ips_values().items()))
    truncated = b"PK\x03\x04" + b"\x00" * 64          # the start of a ZIP, cut short

    helpers.call_action("resource_patch", _ctx(portal), id=resource_id, format="XLSX",
                        upload=upload(truncated, "ips.xlsx"))

    status = _status(portal, resource_id)
    assert status["status"] == "ok" and status["failure"]["code"] == "not-a-table"   # the reader's own code
    assert "reste en place" in status["message"] and "Classeur XLSX illisible" in status["message"]
    page = _text(app.get(f"/etablissement/{uai}", status=200))
    assert package["title"] in page and ips.replace(".", ",") in page
