"""While PostgreSQL (or Redis, for a job to queue) cannot be reached, the portal answers 503 with
Retry-After — JSON on the API and JSON URLs, a French page elsewhere — and logs one line per
failed request (issue 19). The errors are real: connections to a loopback port nobody listens on.
The whole portal served by gunicorn through a real PostgreSQL stop is replayed by
tests/faults/test_faults.py."""
from __future__ import annotations

import json
import logging
import socket

import psycopg2
import pytest
import redis
import sqlalchemy as sa
from ckan.lib import jobs as ckan_jobs
from ckan.lib import redis as ckan_redis
from ckan.model import meta
from ckan.tests import factories

from ckanext.ecarto.operations import outage

pytestmark = pytest.mark.usefixtures("with_plugins")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_error() -> Exception:
    engine = sa.create_engine(f"postgresql://nobody:x@127.0.0.1:{_closed_port()}/nothing")
    try:
        engine.connect()
    except sa.exc.OperationalError as exc:
        return exc
    raise AssertionError("a closed port accepted a connection")


def test_connection_errors_are_told_from_other_database_errors():
    assert outage.kind_of(_database_error()) == "database"
    with pytest.raises(psycopg2.OperationalError) as raw:
        psycopg2.connect(host="127.0.0.1", port=_closed_port(), user="x", dbname="x", connect_timeout=2)
    assert outage.kind_of(raw.value) == "database"
    with pytest.raises(redis.exceptions.ConnectionError) as queue:
        redis.Redis(port=_closed_port(), socket_connect_timeout=2).ping()
    assert outage.kind_of(queue.value) == "queue"
    # a statement timeout is an OperationalError of PostgreSQL, not a lost database
    with pytest.raises(sa.exc.OperationalError) as timeout:
        with meta.engine.connect() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 1"))
            conn.execute(sa.text("SELECT pg_sleep(1)"))
    assert outage.kind_of(timeout.value) is None


def test_the_answers(app):
    with app.flask_app.test_request_context("/api/3/action/package_search"):
        api = outage.response("database", "/api/3/action/package_search")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    body = json.loads(api.get_data())
    assert body["success"] is False and body["error"]["__type"] == "Service Unavailable"
    assert "momentanément indisponible" in body["error"]["message"]
    with app.flask_app.test_request_context("/territoire/departement/31.json"):
        assert outage.response("database", "/territoire/departement/31.json").mimetype == "application/json"
    with app.flask_app.test_request_context("/territoire/france"):
        page = outage.response("database", "/territoire/france")
    text = page.get_data(as_text=True)
    assert page.status_code == 503 and page.mimetype == "text/html" and page.headers["Retry-After"] == "5"
    assert '<html lang="fr">' in text and "Service momentanément indisponible" in text


def test_a_view_that_loses_the_database_answers_503_with_one_log_line(app, caplog, monkeypatch):
    # a CLI test of the session may have loaded the configuration again, which disables loggers
    monkeypatch.setattr(outage.log, "disabled", False)
    error = _database_error()

    def lost() -> str:
        raise error

    app.flask_app.add_url_rule("/ecarto-test-base-perdue.json", "ecarto_test_lost_json", lost)
    app.flask_app.add_url_rule("/ecarto-test-base-perdue", "ecarto_test_lost", lost)
    with caplog.at_level(logging.INFO):
        resp = app.get("/ecarto-test-base-perdue.json", status=503)
    assert resp.headers["Retry-After"] == "5" and resp.json["error"]["__type"] == "Service Unavailable"
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is None
    assert "503 GET /ecarto-test-base-perdue.json" in caplog.records[0].getMessage()
    assert "injoignable" in caplog.records[0].getMessage()
    page = app.get("/ecarto-test-base-perdue", status=503)
    assert "Service momentanément indisponible" in page.body


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_a_background_ingestion_without_redis_is_a_503_not_a_500(app, ckan_config, monkeypatch, caplog):
    sysadmin = factories.SysadminWithToken()
    org = factories.Organization()
    dataset = factories.Dataset(owner_org=org["id"], axe="etablissements")
    resource = factories.Resource(package_id=dataset["id"], url="https://example.org/ips.csv", format="CSV")
    monkeypatch.setitem(ckan_config, "ckan.redis.url", f"redis://127.0.0.1:{_closed_port()}/0")
    monkeypatch.setattr(ckan_redis, "_connection_pool", None)   # CKAN keeps its Redis pool and queues
    monkeypatch.setattr(ckan_jobs, "_queues", {})
    with caplog.at_level(logging.INFO):
        resp = app.post("/api/3/action/ecarto_ingest_resource",
                        json={"id": resource["id"], "background": True},
                        headers={"Authorization": sysadmin["token"]})
    assert resp.status_code == 503, (resp.body, caplog.text)
    assert resp.headers["Retry-After"] == "5"
    assert resp.json["success"] is False and "file des tâches" in resp.json["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
