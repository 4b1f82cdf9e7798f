"""What a published file becomes, through the API as the département's editor: a new version
replaces the old only when it passes, a private dataset feeds no public page, every change is
in the activity stream, and the dataset is in search and in the DCAT catalogue with the
organization as publisher and the Licence Ouverte 2.0."""
from __future__ import annotations

import http.server
import threading

import openpyxl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF

import ckan.logic as logic
import ckan.tests.helpers as helpers

from tests.publication import files
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")

ETALAB = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")


def _ctx(portal, who="editor"):
    return {"user": portal.user(who)["name"], "ignore_auth": False}


def _others(app, uai, headers=None) -> str:
    page = app.get(f"/etablissement/{uai}", headers=headers or {}, status=200).get_data(as_text=True)
    return page.split('id="autres-donnees"', 1)[1].split("</section>", 1)[0]


def test_a_refused_version_leaves_the_published_one_live(app, portal, new_dataset):
    package = new_dataset("ips-versions", title="IPS versions successives")
    first = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                upload=upload(files.ips_haute_garonne(), "ips.csv"))
    resource_id = first["resource"]["id"]
    uai, ips = next(iter(files.ips_values().items()))
    assert ips.replace(".", ",") in _others(app, uai)

    lines = files.ips_lines()
    broken = files.with_cell(files.ips_haute_garonne(), line=2, column="UAI", value=files.wrong_letter(uai))
    with pytest.raises(logic.ValidationError):
        helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                            resource_id=resource_id, upload=upload(broken, "ips-v2.csv"))
    assert ips.replace(".", ",") in _others(app, uai)                    # still the first version
    shown = helpers.call_action("resource_show", id=resource_id)
    assert shown["url"].endswith("ips.csv")

    fixed = files.with_cell(files.ips_haute_garonne(), line=2, column="IPS", value=lines[2].split(";")[2])
    helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                        resource_id=resource_id, upload=upload(fixed, "ips-v3.csv"))
    assert helpers.call_action("resource_show", id=resource_id)["url"].endswith("ips-v3.csv")
    others = _others(app, uai)
    assert lines[2].split(";")[2].replace(".", ",") in others
    assert len(helpers.call_action("package_show", id=package["id"])["resources"]) == 1

    activities = helpers.call_action("package_activity_list", id=package["id"])
    assert {a["user_id"] for a in activities} == {portal.editor["id"]}
    assert len(activities) >= 3                                          # created, published, replaced


def test_private_dataset_feeds_no_public_page(app, portal, new_dataset):
    package = new_dataset("ips-prive", title="IPS en préparation (privé)", private=True)
    helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                        upload=upload(files.ips_haute_garonne(), "ips.csv"))
    uai = next(iter(files.ips_values()))
    assert "IPS en préparation (privé)" not in _others(app, uai)
    member = {"Authorization": portal.tokens["member"]}
    assert "IPS en préparation (privé)" in _others(app, uai, member)    # the organization sees it
    outsider = {"Authorization": portal.tokens["outsider"]}
    assert "IPS en préparation (privé)" not in _others(app, uai, outsider)


def test_published_dataset_is_in_search_and_in_the_dcat_catalogue(app, portal, new_dataset):
    package = new_dataset("ips-catalogue", title="Indice de position sociale des collèges haut-garonnais")
    helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                        upload=upload(files.ips_haute_garonne(), "ips.csv"))
    found = helpers.call_action("package_search", q="haut-garonnais")
    assert [d["name"] for d in found["results"]] == ["ips-catalogue"]

    g = Graph().parse(data=app.get("/dataset/ips-catalogue.ttl", status=200).get_data(as_text=True),
                      format="turtle")
    dataset = next(g.subjects(DCT.identifier, None))
    publisher = g.value(dataset, DCT.publisher)
    assert str(g.value(publisher, FOAF.name)) == "Département de la Haute-Garonne"
    assert g.value(dataset, DCT.license) == ETALAB
    assert len(list(g.objects(dataset, DCAT.distribution))) == 1


def test_xlsx_file_is_validated_and_published(app, portal, new_dataset, tmp_path):
    package = new_dataset("ips-xlsx", title="IPS des collèges (classeur)")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in files.ips_lines():
        cells = line.split(";")
        sheet.append(cells[:2] + [float(c) for c in cells[2:]] if cells[0] != "Rentrée scolaire" else cells)
    path = tmp_path / "ips.xlsx"
    workbook.save(path)

    outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                  upload=upload(path.read_bytes(), "ips.xlsx"))
    assert outcome["report"]["file"]["format"] == "xlsx" and outcome["report"]["valid"]
    assert outcome["resource"]["format"] == "XLSX"
    uai, ips = next(iter(files.ips_values().items()))
    assert "IPS des collèges (classeur)" in _others(app, uai)


def test_file_given_by_url_is_validated_and_linked(app, portal, new_dataset, tmp_path, file_server):
    (tmp_path / "ips-31.csv").write_bytes(files.ips_haute_garonne())
    report = helpers.call_action("ecarto_validate_resource", _ctx(portal), axe="etablissements",
                                 url=f"{file_server}/ips-31.csv")
    assert report["valid"] and report["file"]["url"] == f"{file_server}/ips-31.csv"

    package = new_dataset("ips-lien", title="IPS publié par lien")
    outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                  url=f"{file_server}/ips-31.csv")
    assert outcome["resource"]["url"] == f"{file_server}/ips-31.csv"
    assert outcome["ingest"]["status"] == "ok"
    uai = next(iter(files.ips_values()))
    assert "IPS publié par lien" in _others(app, uai)

    missing = f"{file_server}/absent.csv"
    with pytest.raises(logic.ValidationError) as exc:
        helpers.call_action("ecarto_validate_resource", _ctx(portal), axe="etablissements", url=missing)
    assert "Téléchargement impossible" in exc.value.error_dict["url"][0]


def test_existing_resource_is_validated_by_id(portal, new_dataset):
    package = new_dataset("ips-par-id")
    outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                  upload=upload(files.ips_haute_garonne(), "ips.csv"))
    report = helpers.call_action("ecarto_validate_resource", _ctx(portal), id=outcome["resource"]["id"])
    assert report["axe"]["id"] == "etablissements" and report["file"]["n_rows"] == len(files.ips_lines()) - 1


class _RedirectToLoopback(http.server.BaseHTTPRequestHandler):
    """Stands for a public site whose link redirects into the portal's own network."""
    target = ""

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(302)
        self.send_header("Location", self.target)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.mark.ckan_config("ckanext.ecarto.allow_private_urls", "false")
def test_urls_of_the_portals_own_network_are_refused(portal, file_server, tmp_path, monkeypatch):
    """Production setting: the server never fetches loopback/private addresses for an editor,
    not even through a redirect, and says why."""
    from ckanext.ecarto import remote

    (tmp_path / "ips-31.csv").write_bytes(files.ips_haute_garonne())
    for url in (f"{file_server}/ips-31.csv", "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.8/export.csv", "http://[::1]:5432/"):
        with pytest.raises(logic.ValidationError) as exc:
            helpers.call_action("ecarto_validate_resource", _ctx(portal), axe="etablissements", url=url)
        assert "réseau interne du portail" in exc.value.error_dict["url"][0], url

    # a redirect is checked hop by hop (the first hop is allowed here only to reach the redirect)
    _RedirectToLoopback.target = f"{file_server}/ips-31.csv"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RedirectToLoopback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        first_hop = f"http://127.0.0.1:{server.server_port}/donnees.csv"
        checked = []
        original = remote.check_url

        def allow_first_hop(url: str) -> None:
            checked.append(url)
            if url != first_hop:
                original(url)

        monkeypatch.setattr(remote, "check_url", allow_first_hop)
        with pytest.raises(remote.RemoteError, match="réseau interne"):
            with remote.open_url(first_hop):
                pass
        assert checked == [first_hop, f"{file_server}/ips-31.csv"]
    finally:
        server.shutdown()
    with pytest.raises(remote.RemoteError, match="http:// ou https://"):
        original("ftp://example.org/donnees.csv")
