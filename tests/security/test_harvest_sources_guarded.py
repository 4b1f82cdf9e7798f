"""Harvest sources: created, edited and run by sysadmins only (by default), their URLs checked by
the outbound-fetch guard when they are saved and again at every fetch — pagination links and
data files included — and ckanext-harvest's API answering 4xx, never 500, to bad calls.

Harvests run against the fake portal of tests/harvesters (a real HTTP server on 127.0.0.1). With
the guard on, that portal is reached through a fake public name (see `dns` in
test_outbound_guard.py)."""
from __future__ import annotations

import html
import json
from typing import Any

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from ckanext.ecarto.harvesters.run import run_source
from tests.harvesters.conftest import UDATA_CONFIG, harvest_db, make_source, org, remote  # noqa: F401
from tests.security.test_outbound_guard import PUBLIC_IP, OTHER_PUBLIC_IP, FakeDns, dns  # noqa: F401

pytestmark = pytest.mark.usefixtures("with_plugins")

GUARD_ON = pytest.mark.ckan_config("ckanext.ecarto.allow_private_urls", "false")
ORG_PAGES = "/api/1/organizations/arcep/datasets/"


@pytest.fixture
def people(org) -> dict[str, dict[str, Any]]:
    """The organization's editor and a sysadmin, each with an API token; and an anonymous visitor."""
    editor = factories.User(name="editrice-menj")
    helpers.call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                        username=editor["name"], role="editor")
    sysadmin = factories.Sysadmin(name="admin-portail")
    return {
        "editor": {"user": editor, "headers": {"Authorization": factories.APIToken(user=editor["name"])["token"]}},
        "sysadmin": {"user": sysadmin,
                     "headers": {"Authorization": factories.APIToken(user=sysadmin["name"])["token"]}},
        "anonymous": {"user": None, "headers": {}},
    }


def _source(org_id: str, url: str = "https://data.education.gouv.fr", name: str = "menj-ods") -> dict[str, Any]:
    return {"name": name, "title": "Ministère (Opendatasoft)", "url": url, "source_type": "ecarto_ods",
            "frequency": "MANUAL", "owner_org": org_id,
            "config": json.dumps({"datasets": [{"id": "fr-en-annuaire-education", "axe": "etablissements"}]})}


def _api(app, action: str, who: dict[str, Any], data: Any, status: Any = None):
    return app.post(f"/api/3/action/{action}", json=data, headers=who["headers"], status=status)


def _sources() -> list[str]:
    return [s["title"] for s in helpers.call_action("harvest_source_list", {"ignore_auth": True})]


def test_an_organization_editor_cannot_create_edit_or_run_a_source(app, org, people):
    editor, sysadmin = people["editor"], people["sysadmin"]
    # the API, package_create with the harvest type, and the web form all refuse it
    refused = _api(app, "harvest_source_create", editor, _source(org["id"]), status=403).json
    assert "administrateurs du portail" in refused["error"]["message"]
    _api(app, "package_create", editor, {**_source(org["id"]), "type": "harvest"}, status=403)
    app.get("/harvest/new", headers=editor["headers"], status=403)
    app.post("/harvest/new", data={**_source(org["id"]), "save": ""}, headers=editor["headers"], status=403)
    assert _sources() == []

    # a sysadmin creates it and starts a job
    source = _api(app, "harvest_source_create", sysadmin, _source(org["id"]), status=200).json["result"]
    assert _sources() == ["Ministère (Opendatasoft)"]
    # the editor can neither start, edit, delete it nor see its jobs
    _api(app, "harvest_job_create", editor, {"source_id": source["id"]}, status=403)
    _api(app, "harvest_source_patch", editor, {"id": source["id"], "url": "http://169.254.169.254/"}, status=403)
    _api(app, "package_patch", editor, {"id": source["id"], "url": "http://169.254.169.254/"}, status=403)
    _api(app, "harvest_source_delete", editor, {"id": source["id"]}, status=403)
    _api(app, "harvest_jobs_run", editor, {"source_id": source["id"]}, status=403)
    _api(app, "harvest_job_list", editor, {"source_id": source["id"]}, status=403)
    app.get(f"/harvest/edit/{source['name']}", headers=editor["headers"], status=403)
    job = _api(app, "harvest_job_create", sysadmin, {"source_id": source["id"], "run": False}, status=200).json
    assert job["result"]["source_id"] == source["id"]
    assert helpers.call_action("harvest_source_show", {"ignore_auth": True}, id=source["id"])["url"] == \
        "https://data.education.gouv.fr"
    # the editor still reads the source's public page
    app.get(f"/harvest/{source['name']}", headers=editor["headers"], status=200)


@pytest.mark.ckan_config("ckanext.ecarto.harvest.sysadmin_only", "false")
def test_the_option_gives_organization_editors_back_ckanext_harvests_rules(app, org, people):
    editor = people["editor"]
    source = _api(app, "harvest_source_create", editor, _source(org["id"]), status=200).json["result"]
    _api(app, "harvest_job_create", editor, {"source_id": source["id"], "run": False}, status=200)
    # anonymous visitors and bad calls still get a 4xx
    _api(app, "harvest_job_create", people["anonymous"], {"source_id": source["id"]}, status=403)
    _api(app, "harvest_jobs_run", people["anonymous"], {}, status=403)
    _api(app, "harvest_job_create", editor, {}, status=409)


BAD_SOURCE_URLS = {
    "http://169.254.169.254/latest/meta-data/": "réseau interne du portail",
    "http://[::ffff:169.254.169.254]/": "réseau interne du portail",
    "http://127.0.0.1/": "réseau interne du portail",
    "http://10.0.0.8/api/": "réseau interne du portail",
    "file:///etc/passwd": "http:// ou https://",
    "gopher://127.0.0.1:6379/_FLUSHALL": "http:// ou https://",
    "http://db.example:5432/": "port 5432",
    "http://cache.example:6379/": "port 6379",
    "http://127.0.0.1:8000\\@data.education.gouv.fr/": "barre oblique inverse",
    "http://admin:secret@data.education.gouv.fr/": "identifiant ou un mot de passe",
    "http://0x7f.1/": "adresse IP mal écrite",
}


@GUARD_ON
def test_source_urls_are_checked_when_the_source_is_saved(app, org, people):
    sysadmin = people["sysadmin"]
    for n, (url, expected) in enumerate(BAD_SOURCE_URLS.items()):
        error = _api(app, "harvest_source_create", sysadmin, _source(org["id"], url, f"s{n}"), status=409).json
        assert expected in error["error"]["url"][0], (url, error)
        page = app.post("/harvest/new", data={**_source(org["id"], url, f"f{n}"), "save": ""},
                        headers=sysadmin["headers"]).get_data(as_text=True)
        assert expected in html.unescape(page), url
    assert _sources() == []

    # a good source; then an edit to a bad URL is refused and changes nothing
    source = _api(app, "harvest_source_create", sysadmin, _source(org["id"]), status=200).json["result"]
    error = _api(app, "harvest_source_patch", sysadmin, {"id": source["id"], "url": "http://169.254.169.254/"},
                 status=409).json
    assert "réseau interne du portail" in error["error"]["url"][0]
    page = app.post(f"/harvest/edit/{source['name']}", headers=sysadmin["headers"],
                    data={**_source(org["id"], "file:///etc/passwd"), "save": ""}).get_data(as_text=True)
    assert "http:// ou https://" in html.unescape(page)
    assert helpers.call_action("harvest_source_show", {"ignore_auth": True}, id=source["id"])["url"] == \
        "https://data.education.gouv.fr"


# --------------------------------------------------------------------------- during a harvest

@pytest.fixture
def public_portal(remote, dns: FakeDns):
    """The fake portal reached as http://portail.example:<port> (a public address for the guard)."""
    port = remote.server.server_port
    remote.url = f"http://portail.example:{port}"
    dns.add("portail.example", [PUBLIC_IP])
    dns.add("autre.example", [OTHER_PUBLIC_IP])
    return remote


def _hostile_next_page(portal, target: str) -> None:
    """The organization's first page links its next page to `target` (same path and query)."""
    original = portal._page

    def page(path: str, q: dict[str, str], found: list[dict[str, Any]]) -> dict[str, Any]:
        answer = original(path, q, found)
        if path == ORG_PAGES and answer["next_page"]:
            answer["next_page"] = answer["next_page"].replace(portal.url, target)
        return answer
    portal._page = page


@GUARD_ON
@pytest.mark.parametrize("target, expected", [
    ("http://127.0.0.1:{port}", "Lien de page suivante refusé"),
    ("http://autre.example:{port}", "Lien de page suivante refusé"),
    ("http://127.0.0.1:{port}\\@portail.example:{port}", "barre oblique inverse"),
])
def test_a_next_page_link_off_the_source_is_not_followed(make_source, public_portal, dns, target, expected):
    port = public_portal.server.server_port
    source = make_source("ecarto_udata", public_portal.url, {**UDATA_CONFIG, "tags": []})
    _hostile_next_page(public_portal, target.format(port=port))
    summary = run_source(source["name"])
    assert public_portal.count(f"{ORG_PAGES}?page_size=2") == 1                 # page 1 read…
    assert public_portal.count("page=2") == 0                                    # …page 2 never asked for
    assert any(expected in error for error in summary.gather_errors), summary.gather_errors
    assert {address for address, _port in dns.connected} == {PUBLIC_IP}        # only the source's address
    assert summary.created == 2                                                  # what page 1 listed is kept


@GUARD_ON
def test_a_data_file_on_the_portals_network_is_not_downloaded(make_source, public_portal, dns):
    port = public_portal.server.server_port
    dataset = public_portal.udata_dataset("fixture-arcep-mci-2026t1")
    resource = next(r for r in dataset["resources"] if r["url"].endswith("commune_techno_sample.csv"))
    resource["url"] = f"http://127.0.0.1:{port}/files/arcep/commune_techno_sample.csv"
    source = make_source("ecarto_udata", public_portal.url, UDATA_CONFIG)
    summary = run_source(source["name"])
    errors = [message for guid, message in summary.object_errors if guid == "fixture-arcep-mci-2026t1"]
    assert errors and "réseau interne du portail" in errors[0], summary.object_errors
    assert public_portal.count("/files/arcep/commune_techno_sample.csv") == 0
    assert {address for address, _port in dns.connected} == {PUBLIC_IP}


@GUARD_ON
def test_the_source_url_is_checked_again_when_it_is_harvested(make_source, public_portal, dns):
    """Saved while the name was public, the name now points to loopback: nothing is fetched."""
    source = make_source("ecarto_udata", public_portal.url, UDATA_CONFIG)
    dns.add("portail.example", ["127.0.0.1"])
    summary = run_source(source["name"])
    assert summary.created == 0 and public_portal.requests == []
    assert any("réseau interne du portail" in error for error in summary.gather_errors), summary.gather_errors


# --------------------------------------------------------------------------- 4xx, not 500

def test_ckanext_harvest_api_answers_4xx_to_bad_calls(app, org, people):
    anonymous, editor, sysadmin = people["anonymous"], people["editor"], people["sysadmin"]
    for who in (anonymous, editor):
        _api(app, "harvest_jobs_run", who, {}, status=403)
        _api(app, "harvest_sources_reindex", who, {}, status=403)
        app.get("/api/3/action/harvest_log_list", headers=who["headers"], status=403)
        status = app.get("/api/3/action/harvest_job_list", headers=who["headers"]).status_code
        assert status in (403, 409)
    assert app.get("/api/3/action/harvest_log_list", headers=sysadmin["headers"], status=200).json["success"]
    for query, field in (("level=bavard", "level"), ("limit=abc", "limit"), ("offset=-1", "offset")):
        error = app.get(f"/api/3/action/harvest_log_list?{query}", headers=sysadmin["headers"], status=409).json
        assert field in error["error"]
    assert app.get("/api/3/action/harvest_job_list", headers=sysadmin["headers"], status=200).json["result"] == []
    error = _api(app, "harvest_job_create", sysadmin, {}, status=409).json
    assert "Paramètre obligatoire" in error["error"]["source_id"][0]


HARVEST_ACTIONS = (
    "harvest_source_show", "harvest_source_show_status", "harvest_source_list", "harvest_source_create",
    "harvest_source_update", "harvest_source_patch", "harvest_source_delete", "harvest_source_clear",
    "harvest_source_reindex", "harvest_source_job_history_clear", "harvest_source_index_clear",
    "harvest_sources_job_history_clear", "harvest_sources_reindex", "harvest_job_create",
    "harvest_job_create_all", "harvest_job_show", "harvest_job_report", "harvest_job_list", "harvest_job_abort",
    "harvest_jobs_run", "harvest_send_job_to_gather_queue", "harvest_object_show", "harvest_object_list",
    "harvest_objects_import", "harvest_log_list", "harvesters_info_show", "harvest_abort_failed_jobs",
    "harvest_get_notifications_recipients",
    # module helpers that ckanext-harvest registers as actions by mistake
    "send_mail", "send_summary_email", "send_error_email", "prepare_summary_mail", "prepare_error_mail",
    "get_mail_extra_vars", "InactiveSource",
)
PAYLOADS = ({}, {"id": ["x"], "source_id": {"a": 1}, "url": 3}, {"id": "a\x00b", "source_id": "a\x00b"},
            {"id": "inconnu", "source_id": "inconnu"})


@pytest.mark.parametrize("who", ["anonymous", "editor", "sysadmin"])
def test_no_harvest_action_answers_500(app, org, people, who):
    caller = people[who]
    answers = {}
    for action in HARVEST_ACTIONS:
        for payload in PAYLOADS:
            if who == "sysadmin" and action in ("harvest_sources_job_history_clear", "harvest_job_create_all") \
                    and payload:
                continue
            response = _api(app, action, caller, payload)
            answers[(action, json.dumps(payload))] = response.status_code
    assert {key: status for key, status in answers.items() if status >= 500} == {}
