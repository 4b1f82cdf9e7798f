"""Batched writes of the search index: one statement and one commit per batch.

CKAN writes its index one document at a time. When it says the write may wait (`commit=False`:
its `defer_commit`, used by `ckan search-index rebuild` and by the harvesters' reindex), the
rows are kept in this process and written `ckanext.ecarto.search_batch_size` at a time, in a
single `INSERT … SELECT FROM jsonb_to_recordset(…) ON CONFLICT` whose weighted tsvectors are
computed by PostgreSQL for the whole set. Whatever is pending is written before this process
searches or deletes (it always reads what it wrote), at `commit()` (CKAN's end of bulk work) and
at exit. Inside `deferred()`, every write of this thread waits for the end of the block (bulk
imports such as harvests).

With `ckan.search.solr_commit = false`, CKAN passes `commit=False` on every write: nothing is
deferred then, every write is immediate as before.
"""
from __future__ import annotations

import atexit
import json
import logging
import math
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ckan.common import config
from ckan.lib.search.common import SearchIndexError

from ckanext.ecarto.search.model import SORT_TITLE, TABLE
from ckanext.ecarto.search.results import ts_config

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# Columns of a row as PostgreSQL reads them from the batch's JSON (jsonb_to_recordset).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("index_id", "text"), ("id", "text"), ("name", "text"), ("site_id", "text"),
    ("entity_type", "text"), ("dataset_type", "text"), ("state", "text"), ("capacity", "text"),
    ("owner_org", "text"), ("title_string", "text"), ("metadata_created", "timestamptz"),
    ("metadata_modified", "timestamptz"), ("permission_labels", "text[]"), ("facet_values", "text[]"),
    ("bbox_minx", "float8"), ("bbox_miny", "float8"), ("bbox_maxx", "float8"), ("bbox_maxy", "float8"),
    ("doc", "jsonb"), ("data_dict", "text"), ("validated_data_dict", "text"),
)
WEIGHT_COLUMNS = ("wA", "wB", "wC", "wD")
BBOX_COLUMNS = ("bbox_minx", "bbox_miny", "bbox_maxx", "bbox_maxy")

_pending: dict[Engine, dict[str, dict[str, Any]]] = {}
_lock = threading.RLock()
_local = threading.local()


def batch_size() -> int:
    return max(1, int(config.get("ckanext.ecarto.search_batch_size") or DEFAULT_BATCH_SIZE))


def deferrable() -> bool:
    """`commit=False` means « may wait » only when CKAN commits its writes otherwise."""
    return bool(config.get("ckan.search.solr_commit", True))


def forced() -> bool:
    """Inside `deferred()`: this thread's writes wait for the end of the block."""
    return getattr(_local, "depth", 0) > 0


def pending_count(engine: Optional[Engine] = None) -> int:
    with _lock:
        if engine is not None:
            return len(_pending.get(engine, {}))
        return sum(len(rows) for rows in _pending.values())


def defer(engine: Engine, rows: Iterable[dict[str, Any]]) -> None:
    """Keep rows for the next batch; write the batch once it is full."""
    with _lock:
        pending = _pending.setdefault(engine, {})
        for row in rows:
            pending.pop(row["index_id"], None)   # the last version of a document wins
            pending[row["index_id"]] = row
        full = len(pending) >= batch_size()
    if full:
        flush(engine)


def flush(engine: Engine, extra: Iterable[dict[str, Any]] = (), strict: bool = True) -> None:
    """Write what is pending for `engine` (and `extra`) in batches of `search_batch_size`.
    A batch PostgreSQL refuses is written again row by row, so that only the faulty documents
    are missing; they are logged, and reported by a SearchIndexError when `strict`."""
    with _lock:
        rows = _pending.pop(engine, {})
        for row in extra:
            rows.pop(row["index_id"], None)
            rows[row["index_id"]] = row
        if not rows:
            return
        values = list(rows.values())
        size = batch_size()
        failed: list[str] = []
        for start in range(0, len(values), size):
            failed += _write(engine, values[start:start + size])
    if failed and strict:
        raise SearchIndexError("Index de recherche : documents refusés par PostgreSQL : " + ", ".join(failed[:20]))


def flush_all(strict: bool = False) -> None:
    with _lock:
        engines = list(_pending)
    for engine in engines:
        flush(engine, strict=strict)


@contextmanager
def deferred() -> Iterator[None]:
    """Batch every index write of this thread until the end of the block (then written,
    even if the block failed: the datasets were saved by then)."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1
        if not _local.depth:
            flush_all(strict=False)


def _json_value(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in BBOX_COLUMNS:
        value = out.get(name)
        if isinstance(value, float) and not math.isfinite(value):   # JSON has no NaN: as text
            out[name] = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return out


def _upsert_sql() -> str:
    names = [name for name, _ in COLUMNS]
    record = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS + tuple((w, "text") for w in WEIGHT_COLUMNS))
    tsv = " || ".join(f"setweight(to_tsvector(CAST(:cfg AS regconfig), coalesce(r.\"w{w}\", '')), '{w}')"
                      for w in "ABCD")
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name != "index_id")
    return (f"INSERT INTO {TABLE} ({', '.join(names)}, {SORT_TITLE}, tsv) "
            f"SELECT {', '.join(f'r.{name}' for name in names)}, unaccent(lower(r.title_string)), {tsv} "
            f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({record}) "
            f"ON CONFLICT (index_id) DO UPDATE SET {updates}, "
            f"{SORT_TITLE} = EXCLUDED.{SORT_TITLE}, tsv = EXCLUDED.tsv")


def _write(engine: Engine, rows: list[dict[str, Any]]) -> list[str]:
    """Upsert rows in one statement and one transaction; on refusal, row by row. The names of
    the documents that could not be written."""
    sql = sa.text(_upsert_sql())
    try:
        payload = json.dumps([_json_value(r) for r in rows], default=str)
        with engine.begin() as conn:
            conn.execute(sql, {"rows": payload, "cfg": ts_config()})
        return []
    except (sa.exc.DBAPIError, ValueError) as error:
        if len(rows) == 1:
            log.error("Index de recherche : document %s refusé : %s", rows[0].get("name"), error)
            return [str(rows[0].get("name") or rows[0]["index_id"])]
    failed: list[str] = []
    for row in rows:
        failed += _write(engine, [row])
    return failed


atexit.register(flush_all)
