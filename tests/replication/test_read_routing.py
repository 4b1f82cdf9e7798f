"""Which server a read goes to (replicas.py), without building clusters: the statements that
count as writes, no change at all without `ckanext.ecarto.read_urls`, and a configured server
that is not a hot standby (here the test database itself) skipped with one log line."""
from __future__ import annotations

import logging

import pytest

import ckan.model as model
from ckan.common import config

from ckanext.ecarto import replicas


@pytest.mark.parametrize("statement", [
    "SELECT 1", "  select * from package", "\n WITH m AS MATERIALIZED (SELECT 1) SELECT * FROM m",
    "SELECT pg_try_advisory_xact_lock(1)", "SET LOCAL statement_timeout = 1000", "SHOW search_path",
    "SELECT 'delete' AS word",
])
def test_plain_reads_are_reads(statement):
    assert replicas.is_read_only(statement)


@pytest.mark.parametrize("statement", [
    "INSERT INTO t VALUES (1)", "UPDATE package SET state = 'deleted'", "DELETE FROM t",
    "CREATE TABLE x (a int)", "DROP TABLE x", "ALTER TABLE x RENAME TO y", "TRUNCATE x", "ANALYZE x",
    "COPY x FROM STDIN", "SELECT * FROM package FOR UPDATE", "SELECT nextval('s')", "SELECT a INTO b FROM c",
    "WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone", "VACUUM x",
])
def test_anything_else_is_a_write(statement):
    assert not replicas.is_read_only(statement)


@pytest.fixture
def replica_state():
    replicas.reset()
    yield
    replicas.reset()


@pytest.mark.usefixtures("with_plugins", "replica_state")
def test_without_read_urls_reads_use_the_session_as_before(app):
    assert not replicas.configured_urls()
    with app.flask_app.test_request_context():
        with replicas.read_connection() as conn:
            assert conn is model.Session.connection()
        with replicas.read_connection(model.meta.engine) as conn:
            assert conn.engine is model.meta.engine


@pytest.mark.ckan_config("ckanext.ecarto.read_check_seconds", "60")
@pytest.mark.usefixtures("with_plugins", "replica_state")
def test_a_server_that_is_not_a_standby_is_skipped_once_logged(app, ckan_config, caplog, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.read_urls", config["sqlalchemy.url"])
    # CKAN's logging set-up (run by tests that load a config file) disables the loggers that existed
    monkeypatch.setattr(logging.getLogger("ckanext.ecarto.replicas"), "disabled", False)
    caplog.set_level(logging.INFO, logger="ckanext.ecarto.replicas")
    for _ in range(3):
        assert app.get("/api/3/action/package_search?q=ecole", status=200).json["success"]
    skipped = [r for r in caplog.records if "écarté" in r.getMessage()]
    assert len(skipped) == 1 and "pas en réplication" in skipped[0].getMessage()
    assert "fallback" in skipped[0].getMessage() and ":***@" in skipped[0].getMessage()   # no password


@pytest.mark.usefixtures("with_plugins", "replica_state")
def test_posts_and_cli_contexts_never_look_at_replicas(app, ckan_config, caplog, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.read_urls", config["sqlalchemy.url"])
    # CKAN's logging set-up (run by tests that load a config file) disables the loggers that existed
    monkeypatch.setattr(logging.getLogger("ckanext.ecarto.replicas"), "disabled", False)
    caplog.set_level(logging.INFO, logger="ckanext.ecarto.replicas")
    assert app.post("/api/3/action/package_search", json={"q": "ecole"}, status=200).json["success"]
    with app.flask_app.test_request_context():             # what `ckan ecarto …` commands run in
        assert not replicas.request_may_use_replica()
    assert not [r for r in caplog.records if r.name == "ckanext.ecarto.replicas"]
