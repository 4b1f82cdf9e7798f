"""Two jobs loading the same file of a resource at once (two workers, issue 19): the second waits
for the resource's lock, then finds the same bytes loaded meanwhile and loads nothing again; a
forced reload still loads. On a fresh portal both also create the data schema at once (that
raced: « duplicate key … pg_namespace »). Real threads on the real database, the lock held by the test until both
loads are waiting on it."""
from __future__ import annotations

import concurrent.futures
import time
import uuid

import sqlalchemy as sa

from .ingest_helpers import IPS, registry, scalar

WAITING = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
           "AND objid = hashtext(:k)::oid")


def _wait_for_waiters(key: str, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while scalar(WAITING, k=key) < n:
        assert time.monotonic() < deadline, f"{n} chargements n'attendent pas le verrou"
        time.sleep(0.05)


def _two_loads_behind_the_lock(load, engine, resource_id: str, **kw) -> list:
    key = f"ecarto_ingest:{resource_id}"
    with engine.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(load, IPS, resource_id=resource_id, **kw) for _ in range(2)]
            _wait_for_waiters(key, 2)
            holder.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
            holder.commit()
            return [f.result(timeout=120) for f in futures]


def test_the_second_of_two_simultaneous_loads_loads_nothing_again(load, engine):
    resource_id = str(uuid.uuid4())
    reports = _two_loads_behind_the_lock(load, engine, resource_id)
    assert all(r.status == "ok" for r in reports), [(r.status, r.message) for r in reports]
    assert sorted(r.unchanged for r in reports) == [False, True]
    assert reports[0].table_name == reports[1].table_name
    assert registry(resource_id)["n_rows"] == reports[0].n_rows > 0


def test_forced_loads_both_load(load, engine):
    resource_id = str(uuid.uuid4())
    reports = _two_loads_behind_the_lock(load, engine, resource_id, force=True)
    assert [r.unchanged for r in reports] == [False, False]
