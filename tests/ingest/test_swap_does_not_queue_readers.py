"""While a new version waits to replace a table that a long query is reading (the territory
aggregates' refresh reads whole tables), the pages that read the previous version are not made
to queue behind the waiting swap; the new version lands once the long reader is done."""
from __future__ import annotations

import threading
import time
import uuid

import sqlalchemy as sa

from .ingest_helpers import IPS, scalar


def test_pages_keep_reading_while_the_swap_waits_for_a_long_reader(load, engine):
    resource_id = str(uuid.uuid4())
    first = load(IPS, resource_id=resource_id)
    assert first.status == "ok"
    table = first.table_name
    some_key = scalar(f"SELECT _key FROM {table} LIMIT 1")

    long_reader = engine.connect()
    long_reader.begin()
    long_reader.execute(sa.text(f"SELECT count(*) FROM {table}"))   # holds its lock until commit

    result: dict = {}
    loading = threading.Thread(target=lambda: result.update(
        report=load(IPS, resource_id=resource_id, force=True)))
    loading.start()
    try:
        time.sleep(3)                      # the load has reached its swap and is waiting
        assert loading.is_alive()
        started = time.monotonic()
        with engine.connect() as page:     # a page reading the previous version meanwhile
            page.execute(sa.text("SET statement_timeout = '5s'"))
            n = page.execute(sa.text(f"SELECT count(*) FROM {table} WHERE _key = :k"), {"k": some_key}).scalar()
        assert n >= 1
        assert time.monotonic() - started < 2.5
    finally:
        long_reader.rollback()
        long_reader.close()
        loading.join(timeout=60)

    assert result["report"].status == "ok"
    assert scalar(f"SELECT count(*) FROM {result['report'].table_name}") == first.n_rows
