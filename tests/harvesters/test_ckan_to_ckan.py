"""CKAN-to-CKAN harvesting with ckanext-harvest's own `ckan` harvester still works on this
portal: another eCarto portal's catalogue (here: this portal's real API answers, recorded, then
served by a local HTTP server after the datasets were purged) comes back in the axis schemas,
and a second run creates no duplicate."""
from __future__ import annotations

import http.server
import json
import threading
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from ckanext.ecarto.harvesters.run import run_source

pytestmark = pytest.mark.usefixtures("with_plugins")


class RecordedCkan(http.server.BaseHTTPRequestHandler):
    """Answers package_search like the remote CKAN did: the recorded first page, then an empty one."""
    search_result: dict[str, Any] = {}
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        self.requests.append(self.path)
        if parts.path != "/api/3/action/package_search":
            self.send_error(404)
            return
        start = int(parse_qs(parts.query).get("start", ["0"])[0])
        result = dict(self.search_result)
        if start:
            result = {**result, "results": []}
        body = json.dumps({"success": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def remote_ckan() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordedCkan)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_ckan_harvester_brings_back_ecarto_datasets(harvest_db, org, app, remote_ckan):
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    specs = {
        "thd-occitanie-2018": dict(axe="connectivite", territoire_niveau="region", territoire_code="76",
                                   millesime="2018", connectivite_source="arcep"),
        "equipement-haute-garonne-2024": dict(axe="equipement", territoire_niveau="departement",
                                              territoire_code="031", millesime="2023-2024"),
    }
    for name, fields in specs.items():
        helpers.call_action("package_create", dict(ctx), name=name, title=name.replace("-", " ").capitalize(),
                            owner_org=org["id"], license_id="etalab-2.0",
                            resources=[{"url": "https://www.data.gouv.fr/fr/datasets/r/exemple.csv",
                                        "name": "Fichier", "format": "CSV"}], **fields)
    # The remote portal's answer, as CKAN's API gives it, then the datasets leave this portal.
    RecordedCkan.search_result = app.get("/api/3/action/package_search?rows=100&start=0&sort=id+asc").json["result"]
    assert RecordedCkan.search_result["count"] == 2
    for name in specs:
        helpers.call_action("dataset_purge", dict(ctx), id=name)

    helpers.call_action("harvest_source_create", dict(ctx), name="portail-ecarto-voisin", title="Portail voisin",
                        url=remote_ckan, source_type="ckan", owner_org=org["id"], frequency="MANUAL")
    summary = run_source("portail-ecarto-voisin")
    assert summary.errors == 0, (summary.gather_errors, summary.object_errors)

    for name, fields in specs.items():
        shown = helpers.call_action("package_show", id=name)
        assert shown["type"] == "dataset" and shown["axe"] == fields["axe"]
        assert shown["territoire_code"] == fields["territoire_code"].lstrip("0")
        assert shown["millesime"] == fields["millesime"] and shown["license_id"] == "etalab-2.0"
        assert shown["resources"][0]["url"] == "https://www.data.gouv.fr/fr/datasets/r/exemple.csv"
    assert shown["organization"]["name"] == org["name"]

    run_source("portail-ecarto-voisin")
    found = helpers.call_action("package_search", q="*:*", fq="axe:connectivite OR axe:equipement")
    assert found["count"] == 2
