"""Two nodes never recompute the territory aggregates at the same time.

`aggregates.refresh` runs in one transaction that first takes the transaction-level advisory
lock `pg_advisory_xact_lock(hashtext('ecarto_territoires_refresh'))`: one key for the whole
refresh, because one refresh rebuilds every territory's tables at once (the establishment
directory is rebuilt per resource inside the load's transaction, under the loader's own
per-resource key `ecarto_ingest:<resource id>`). A waiting refresh (`wait=True`, the background
job) re-reads the data version once it has the lock and does nothing if the other node already
computed it; a page's lazy refresh (`ensure_fresh`, `wait=False`) does not wait, it serves the
previous tables.

Real PostgreSQL sessions: each "node" is a thread with its own connection from the engine.
"""
from __future__ import annotations

import logging
import threading
import time

import pytest
import sqlalchemy as sa

import ckan.model as model

from ckanext.ecarto.core.tables import schema_name
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.ingest import loader
from ckanext.ecarto.territoires import aggregates

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db", "no_aggregates")

LOGGER = "ckanext.ecarto.territoires.aggregates"
DONE = "Agrégats territoriaux recalculés"


@pytest.fixture
def refresh_log(caplog, monkeypatch) -> pytest.LogCaptureFixture:
    """The refresh's INFO line, one per computation (CKAN's logging set-up disables loggers
    created before it: this one is enabled again for the test)."""
    monkeypatch.setattr(logging.getLogger(LOGGER), "disabled", False)
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def _computations(log: pytest.LogCaptureFixture) -> int:
    return len([r for r in log.records if r.name == LOGGER and r.getMessage().startswith(DONE)])


@pytest.fixture
def no_aggregates() -> None:
    """No territory tables yet (`ecarto_db` empties CKAN's tables, not the ingested schema)."""
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))


def _waiting_for_the_lock(key: str = aggregates.LOCK_KEY) -> int:
    """Sessions of this database waiting for the advisory lock `hashtext(key)` (a bigint key:
    its low 32 bits in `objid`) that another session holds."""
    with model.meta.engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND objid::bigint = (hashtext(:k)::bigint & 4294967295)"""), {"k": key}).scalar()


def _until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _stored() -> str | None:
    with model.meta.engine.connect() as conn:
        return aggregates.stored_version(conn)


def test_a_refresh_in_progress_makes_the_others_skip_or_wait(refresh_log):
    engine = model.meta.engine
    # node A is refreshing: it holds the lock in its open transaction
    node_a = engine.connect()
    transaction = node_a.begin()
    node_a.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": aggregates.LOCK_KEY})
    try:
        # a page's lazy refresh on node B does not wait and computes nothing
        started = time.monotonic()
        assert aggregates.refresh(engine, wait=False) is False
        assert time.monotonic() - started < 5
        assert _stored() is None

        # node B's background job waits for A
        outcome: dict[str, object] = {}
        node_b = threading.Thread(target=lambda: outcome.setdefault("b", aggregates.refresh(engine, wait=True)))
        node_b.start()
        assert _until(lambda: _waiting_for_the_lock() >= 1), "node B did not wait for the lock"
        assert node_b.is_alive() and "b" not in outcome
    finally:
        transaction.rollback()      # A ends: its lock is released with its transaction
        node_a.close()
    node_b.join(timeout=300)
    assert outcome.get("b") is True
    assert _stored() is not None
    assert _computations(refresh_log) == 1


def test_two_concurrent_jobs_compute_once(refresh_log):
    engine = model.meta.engine
    gate = threading.Barrier(2)
    results: list[bool] = []

    def job() -> None:
        gate.wait()
        results.append(aggregates.refresh(engine, wait=True))

    nodes = [threading.Thread(target=job) for _ in range(2)]
    for node in nodes:
        node.start()
    for node in nodes:
        node.join(timeout=300)
    assert results == [True, True]
    # the second one found the tables at the current version once it had the lock
    assert _computations(refresh_log) == 1
    with engine.connect() as conn:
        assert aggregates.is_fresh(conn)


def test_the_directory_rows_of_one_resource_are_rebuilt_by_one_node_at_a_time():
    """A load rebuilds its resource's directory rows in its own transaction under the key
    `ecarto_ingest:<resource id>`: a removal of the same resource on another node waits for it,
    a removal of another resource does not."""
    engine = model.meta.engine
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name()}"'))
        directory.ensure_table(conn)
    node_a = engine.connect()
    transaction = node_a.begin()
    node_a.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "ecarto_ingest:ressource-a"})
    outcome: dict[str, object] = {}
    try:
        started = time.monotonic()
        assert loader.drop_table("ressource-b", engine=engine) is False     # another key: no wait
        assert time.monotonic() - started < 5
        node_b = threading.Thread(target=lambda: outcome.setdefault("b", loader.drop_table("ressource-a", engine=engine)))
        node_b.start()
        assert _until(lambda: _waiting_for_the_lock("ecarto_ingest:ressource-a") >= 1), \
            "node B did not wait for node A's load"
        assert node_b.is_alive() and "b" not in outcome
    finally:
        transaction.rollback()
        node_a.close()
    node_b.join(timeout=60)
    assert outcome.get("b") is False      # nothing was loaded: nothing to remove, but it ran after A
