"""Ingestion announces what it loaded and removed (ckanext/ecarto/ingest/events.py); the
establishment directory and the territory aggregates follow through the subscriptions the plugin
wires, ingestion importing neither. What a visitor notices: the directory knows the
establishments of a loaded annuaire as soon as the load is committed, never before and never a
stale version of it, and forgets them with the resource; a subscriber that fails never costs a
load. The annuaire is the real Val-de-Marne file of data/sample."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
ANNUAIRE = (ROOT / "data" / "sample" / "annuaire-education"
            / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv")


@pytest.fixture
def ingest_db(with_plugins, clean_db, migrate_db_for):
    """Plugins loaded (their signal subscriptions connected), empty ecarto tables and data schema."""
    from ckan.model import meta

    from ckanext.ecarto.core.tables import schema_name

    migrate_db_for("activity")
    migrate_db_for("ecarto")
    with meta.engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))
    yield meta.engine


@pytest.fixture
def subscribe():
    """subscribe(signal, receiver): connected for the test only."""
    connected = []

    def run(signal, receiver):
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
    yield run
    for signal, receiver in connected:
        signal.disconnect(receiver)


def _directory_rows(engine, resource_id: str) -> int:
    from ckanext.ecarto.etablissements import directory

    with engine.connect() as conn:
        if not directory.exists(conn):
            return 0
        return conn.execute(sa.text(f"SELECT count(*) FROM {directory.table_name()} WHERE resource_id = :r"),
                            {"r": resource_id}).scalar()


def test_the_plugin_wires_the_directory_and_the_aggregates():
    from ckanext.ecarto.etablissements import directory
    from ckanext.ecarto.ingest import events
    from ckanext.ecarto import pagecache, quality
    from ckanext.ecarto.plugin import EcartoPlugin
    from ckanext.ecarto.territoires import aggregates

    subscriptions = EcartoPlugin().get_signal_subscriptions()
    assert subscriptions[events.resource_loaded] == [directory.on_resource_loaded]
    assert subscriptions[events.resource_removed] == [directory.on_resource_removed]
    # after the commit: the territory aggregates, the quality score (re-indexes the dataset), then
    # the anonymous page cache's version (pagecache.py)
    assert subscriptions[events.ingest_committed] == [aggregates.on_ingest_committed, quality.on_ingest_committed,
                                                      pagecache.on_ingest_committed]
    assert events.resource_loaded.name == "ecarto_resource_loaded"


def test_a_loaded_annuaire_is_in_the_directory_once_committed(ingest_db, subscribe):
    from ckanext.ecarto.ingest import events, ingest_file, registry

    engine = ingest_db
    resource_id = str(uuid.uuid4())
    seen: dict[str, Any] = {}

    def observer(sender, *, connection, report, **_):
        seen.update(sender=sender, table=report.table_name, key=report.key_kind,
                    in_transaction=connection.in_transaction(),
                    table_rows=connection.execute(sa.text(f"SELECT count(*) FROM {report.table_name}")).scalar())
        # from any other connection, nothing of the load is visible yet
        with engine.connect() as other:
            seen["registry_elsewhere"] = registry.row(other, sender)

    def committed(sender, *, engine, **_):
        seen["committed_row"] = registry.status(sender, engine=engine)

    subscribe(events.resource_loaded, observer)
    subscribe(events.ingest_committed, committed)
    report = ingest_file(str(ANNUAIRE), resource_id=resource_id, package_id="annuaire-94")

    assert report.status == "ok" and report.key_kind == "uai"
    assert seen["sender"] == resource_id and seen["table"] == report.table_name and seen["key"] == "uai"
    assert seen["in_transaction"] and seen["table_rows"] == report.n_rows
    assert seen["registry_elsewhere"] is None
    assert seen["committed_row"]["status"] == "ok" and seen["committed_row"]["table_name"] == report.table_name
    # one directory row per establishment row of the annuaire (613 schools, none rejected)
    assert report.n_rows == 613 and report.n_rejected == 0
    assert report.directory_rows == report.n_rows
    assert _directory_rows(engine, resource_id) == report.n_rows


def test_a_failing_subscriber_costs_neither_the_load_nor_the_directory(ingest_db, subscribe):
    from ckanext.ecarto.ingest import events, ingest_file

    engine = ingest_db

    def vandal(sender, *, connection, report, **_):
        connection.execute(sa.text(f"DELETE FROM {report.table_name}"))
        raise RuntimeError("abonné en panne")

    subscribe(events.resource_loaded, vandal)
    resource_id = str(uuid.uuid4())
    report = ingest_file(str(ANNUAIRE), resource_id=resource_id, package_id="annuaire-94")

    assert report.status == "ok"
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {report.table_name}")).scalar() == report.n_rows
    assert _directory_rows(engine, resource_id) == report.n_rows == 613


def test_a_removed_resource_leaves_the_directory(ingest_db, subscribe):
    from ckanext.ecarto.ingest import drop_table, events, ingest_file

    engine = ingest_db
    resource_id = str(uuid.uuid4())
    assert ingest_file(str(ANNUAIRE), resource_id=resource_id, package_id="annuaire-94").status == "ok"
    assert _directory_rows(engine, resource_id) > 0
    removed: list[str] = []
    subscribe(events.resource_removed, lambda sender, **_: removed.append(sender))

    assert drop_table(resource_id) is True

    assert removed == [resource_id]
    assert _directory_rows(engine, resource_id) == 0
