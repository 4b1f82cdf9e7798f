"""« Toutes les ressources disponibles », checked against a real local HTTP server: 200, 404, a
server that refuses HEAD (GET fallback), one too slow (timeout) and a closed port (connection
refused), through `ckan ecarto qualite verifier`; each result stored with its date and HTTP
status, the score and the search index updated. Creating a resource queues the check as a
background job: nothing is fetched during the request."""
from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time
from typing import Iterator

import pytest
from click.testing import CliRunner
from ckan.tests import factories, helpers

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, with_body: bool) -> None:
        if self.path == "/lent.csv":
            time.sleep(3)
        status = {"/ok.csv": 200, "/absent.csv": 404, "/sans-head.csv": 200, "/lent.csv": 200}.get(self.path, 404)
        if self.path == "/sans-head.csv" and self.command == "HEAD":
            status = 405
        self.send_response(status)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", "4")
        self.end_headers()
        if with_body:
            self.wfile.write(b"a;b\n")

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(True)

    def log_message(self, *args) -> None:
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass   # the slow answer is written after the portal gave up (broken pipe): expected


@pytest.fixture
def server() -> Iterator[str]:
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _dataset(server: str) -> dict:
    admin = factories.Sysadmin()
    helpers.call_action("organization_create", {"user": admin["name"]}, name="commune-test", title="Commune")
    links = {"ok": f"{server}/ok.csv", "absent": f"{server}/absent.csv", "sans-head": f"{server}/sans-head.csv",
             "lent": f"{server}/lent.csv", "ferme": f"http://127.0.0.1:{_closed_port()}/fichier.csv"}
    return helpers.call_action(
        "package_create", {"user": admin["name"]}, name="liens-distants", title="Liens distants",
        owner_org="commune-test", axe="etablissements", license_id="etalab-2.0",
        resources=[{"name": name, "url": url, "format": "HTML"} for name, url in links.items()])


def test_creating_resources_queues_the_check(server):
    helpers.call_action("job_clear", {"ignore_auth": True})
    pkg = _dataset(server)
    jobs = helpers.call_action("job_list", {"ignore_auth": True})
    assert any(pkg["id"] in (job.get("title") or "") and "disponibilité" in job["title"] for job in jobs)
    # nothing was checked during the request
    quality = {c["code"]: c for c in pkg["qualite"]["criteres"]}
    assert quality["disponibles"]["ok"]   # not checked yet: udata's « unknown » counts as available


def test_cli_checks_every_remote_resource(server):
    from ckanext.ecarto.quality import commands, store

    pkg = _dataset(server)
    before = dt.datetime.utcnow()
    app = helpers._get_test_app()
    with app.flask_app.test_request_context():
        result = CliRunner().invoke(commands.qualite, ["verifier", "--dataset", "liens-distants", "--delai", "0.5"],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"disponible — HTTP 200 — ok <{server}/ok.csv>" in out
    assert f"disponible — HTTP 200 — sans-head <{server}/sans-head.csv>" in out   # HEAD 405, then GET
    assert f"INDISPONIBLE — HTTP 404 — absent <{server}/absent.csv>" in out
    assert "INDISPONIBLE — HTTP - — lent" in out and "délai de 0.5 s dépassé" in out
    assert "INDISPONIBLE — HTTP - — ferme" in out and "connexion impossible" in out
    assert "Total : 1 jeu(x), 5 ressource(s) vérifiée(s), 3 indisponible(s)." in out

    ids = {r["name"]: r["id"] for r in pkg["resources"]}
    checks = store.checks_of(ids.values())
    assert {name: (checks[i]["available"], checks[i]["http_status"]) for name, i in ids.items()} == {
        "ok": (True, 200), "sans-head": (True, 200), "absent": (False, 404), "lent": (False, None),
        "ferme": (False, None)}
    assert all(before <= c["checked_at"] <= dt.datetime.utcnow() for c in checks.values())

    shown = helpers.call_action("package_show", id="liens-distants")
    criterion = {c["code"]: c for c in shown["qualite"]["criteres"]}["disponibles"]
    assert not criterion["ok"]
    assert criterion["explanation"].startswith("3 ressource(s) injoignable(s) à la dernière vérification")
    assert "« absent » : HTTP 404 le " in criterion["explanation"]
    # the search index follows (facet of missing criteria)
    found = helpers.call_action("package_search", fq="qualite_manque:disponibles")["results"]
    assert [d["name"] for d in found] == ["liens-distants"]

    # without --dataset: every active dataset (here the only one), with the same results
    with app.flask_app.test_request_context():
        again = CliRunner().invoke(commands.qualite, ["verifier", "--delai", "0.5"], catch_exceptions=False)
    assert "Total : 1 jeu(x), 5 ressource(s) vérifiée(s), 3 indisponible(s)." in again.output


def test_a_refused_address_is_unavailable_not_an_error(monkeypatch):
    """The outbound guard's refusal (a private address when they are not allowed) marks the
    resource unavailable with the reason, without asking anything."""
    from ckan.common import config
    from ckanext.ecarto.quality import availability

    monkeypatch.setitem(config, "ckanext.ecarto.allow_private_urls", "false")
    check = availability.check_url("http://127.0.0.1:8080/donnees.csv", timeout=0.5)
    assert not check.available and check.http_status is None and check.detail
