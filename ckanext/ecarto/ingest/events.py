"""What ingestion announces: CKAN signals (blinker, ``tk.signals.ckanext``) sent by the loader,
so that the data derived from the ingested tables follows them without ingestion knowing who
derives what. ``plugin.py`` wires the subscribers (``ISignal.get_signal_subscriptions``): the
establishment directory (``etablissements/directory.py``) and the territory aggregates
(``territoires/aggregates.py``). Ingestion imports neither.

The signals, their sender and payload (keyword arguments):

``ecarto_resource_loaded``
    sender: the resource id. ``connection``: the open SQLAlchemy ``Connection`` of the load, inside
    its transaction, after the new table replaced the previous one and before the registry row
    is written and committed — what a subscriber writes there commits or rolls back with the
    load (readers never see a new table with a stale directory). ``report``: the
    ``IngestReport`` of the load (``table_name``, ``key_kind``, ``columns``, ``millesime``…); a
    subscriber may add to ``report.warnings`` and fill its own fields (``directory_rows``).
``ecarto_resource_removed``
    sender: the resource id. ``connection``: the open ``Connection`` of the removal, inside its
    transaction (the table is dropped and the registry row deleted in it).
``ecarto_ingest_committed``
    sender: the resource id. ``engine``: the ``Engine`` the load or removal was committed on.
    Sent after the commit of a successful load or of a removal that removed something: for
    work that must see the committed data (the territory aggregates' refresh).

Each subscriber of the two in-transaction signals runs in its own savepoint: a subscriber that
fails is rolled back alone and logged, never costing the load or the removal.
"""
from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk
from blinker import Signal
from sqlalchemy.engine import Connection, Engine

from ckanext.ecarto.ingest.report import IngestReport

log = logging.getLogger(__name__)

resource_loaded: Signal = tk.signals.ckanext.signal("ecarto_resource_loaded")
resource_removed: Signal = tk.signals.ckanext.signal("ecarto_resource_removed")
ingest_committed: Signal = tk.signals.ckanext.signal("ecarto_ingest_committed")


def _deliver(signal: Signal, sender: str, conn: Connection, **payload: Any) -> None:
    """Call each subscriber in a savepoint of `conn` (see the module docstring)."""
    for receiver in list(signal.receivers_for(sender)):
        savepoint = conn.begin_nested()
        try:
            receiver(sender, connection=conn, **payload)
            savepoint.commit()
        except Exception:  # noqa: BLE001 - a subscriber never costs the load
            savepoint.rollback()
            log.exception("Abonné %r de %s en échec pour %s", receiver, signal.name, sender)


def announce_loaded(conn: Connection, report: IngestReport) -> None:
    """`ecarto_resource_loaded`, in the load's transaction."""
    _deliver(resource_loaded, report.resource_id, conn, report=report)


def announce_removed(conn: Connection, resource_id: str) -> None:
    """`ecarto_resource_removed`, in the removal's transaction."""
    _deliver(resource_removed, resource_id, conn)


def announce_committed(engine: Engine, resource_id: str) -> None:
    """`ecarto_ingest_committed`, after the commit (subscribers must not raise)."""
    try:
        ingest_committed.send(resource_id, engine=engine)
    except Exception:  # noqa: BLE001 - the load is committed whatever follows
        log.exception("Abonné de %s en échec pour %s", ingest_committed.name, resource_id)
