"""Reading an ingested table for its preview (the resource view ``ecarto_tableau``): one page of
rows, in the file's order or sorted by a column, and the number of rows.

The table is only ever the one the registry names for the resource, and only when that name is
the resource's own (``<ingest schema>.r_<resource id>``): identifiers come from the registry and
``core/tables.py``, never from a request, and SQLAlchemy quotes them; the page size, the offset
and the sort column are bound parameters or checked against the table's actual columns. A
statement timeout bounds a sort on a large table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ckanext.ecarto.core.tables import schema_name
from ckanext.ecarto.ingest import registry
from ckanext.ecarto.ingest.columns import PERIOD_ORDER_COLUMN
from ckanext.ecarto.ingest.loader import table_basename
from ckanext.ecarto.ingest.shaping import qualified

#: the most rows one page may hold
MAX_LIMIT = 100
#: how long one page's query may take (a sort on a large table)
STATEMENT_TIMEOUT_MS = 5000
#: technical columns used for a stable order, never shown
ROW_COLUMN = "_row"
KEY_COLUMN = "_key"


@dataclass
class Page:
    """One page of a table: the shown columns (SQL names, in order), their values, the total."""

    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    total: int = 0


def table_identity(row: dict[str, Any]) -> Optional[tuple[str, str]]:
    """(schema, table) of a registry row's table when it is the resource's own table, else None."""
    if not row.get("table_name") or not row.get("resource_id"):
        return None
    schema, name = schema_name(), table_basename(row["resource_id"])
    if row["table_name"] != qualified(schema, name):
        return None
    return schema, name


def table_columns(conn: Connection, schema: str, name: str) -> list[str]:
    """The columns the table actually has, in order (empty when it does not exist)."""
    found = conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t "
        "ORDER BY ordinal_position"), {"s": schema, "t": name})
    return [r[0] for r in found]


def shown_columns(model: list[dict[str, Any]], existing: list[str]) -> list[dict[str, Any]]:
    """The registry's column model reduced to what a preview shows: columns of the table, the
    normalised key ``_key`` only when the file's key column is not kept beside it."""
    present = set(existing)
    entries = [c for c in model if c.get("name") in present]
    kept_sources = {c.get("source") for c in entries if c.get("name") != KEY_COLUMN}
    return [c for c in entries if c.get("name") != KEY_COLUMN or c.get("source") not in kept_sources]


def _order(table: sa.TableClause, existing: list[str], sort: Optional[str], descending: bool) -> list[Any]:
    order: list[Any] = []
    if sort:
        column = table.c[sort]
        order.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    for stable in (ROW_COLUMN, KEY_COLUMN, PERIOD_ORDER_COLUMN):
        if stable in existing and stable != sort:
            order.append(table.c[stable])
    return order


def read_page(conn: Connection, schema: str, name: str, columns: list[str], existing: list[str], *,
              limit: int, offset: int, sort: Optional[str] = None, descending: bool = False,
              total: Optional[int] = None) -> Page:
    """`limit` rows from `offset` of the table, `columns` only (names checked against
    `existing`). `total` when known (the registry's count), else counted."""
    if not 0 < limit <= MAX_LIMIT or offset < 0:
        raise ValueError("limit/offset hors bornes")
    wanted = [c for c in columns if c in existing]
    if sort is not None and sort not in wanted:
        raise ValueError("colonne de tri inconnue")
    needed = list(dict.fromkeys(wanted + [c for c in (ROW_COLUMN, KEY_COLUMN, PERIOD_ORDER_COLUMN)
                                          if c in existing]))
    table = sa.table(name, *[sa.column(c) for c in needed], schema=schema)
    conn.execute(sa.text("SELECT set_config('statement_timeout', :v, true)"), {"v": str(STATEMENT_TIMEOUT_MS)})
    if total is None:
        total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0
    query = (sa.select(*[table.c[c] for c in wanted]).select_from(table)
             .order_by(*_order(table, existing, sort, descending)).limit(limit).offset(offset))
    rows = [tuple(r) for r in conn.execute(query)]
    return Page(columns=wanted, rows=rows, total=int(total))


def loaded_rows(row: dict[str, Any]) -> Optional[int]:
    """Rows of the table as the registry counts them (a reshaped table has its own count)."""
    layout = row.get("layout") or {}
    count = layout.get("table_rows") if isinstance(layout, dict) else None
    if isinstance(count, int):
        return count
    return None


def registry_row(resource_id: str, *, engine: Optional[Engine] = None) -> Optional[dict[str, Any]]:
    """The registry row of a resource (None when never ingested or before the migrations)."""
    with registry.engine_or_default(engine).connect() as conn:
        if not registry.exists(conn):
            return None
        return registry.row(conn, resource_id)


def page_of(row: dict[str, Any], *, limit: int, offset: int, sort: Optional[str] = None,
            descending: bool = False, engine: Optional[Engine] = None) -> Optional[tuple[list[dict[str, Any]], Page]]:
    """(shown column model, page) of a loaded resource's table, None when its table is not
    there (not the resource's own name, dropped meanwhile)."""
    identity = table_identity(row)
    if identity is None:
        return None
    schema, name = identity
    with registry.engine_or_default(engine).connect() as conn:
        with conn.begin():
            existing = table_columns(conn, schema, name)
            if not existing:
                return None
            model = shown_columns(list(row.get("columns") or []), existing)
            if sort is not None and sort not in {c["name"] for c in model}:
                sort = None
            page = read_page(conn, schema, name, [c["name"] for c in model], existing, limit=limit,
                             offset=offset, sort=sort, descending=descending, total=loaded_rows(row))
    return model, page
