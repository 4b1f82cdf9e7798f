"""Every query on the availability table (``model.AVAILABILITY_TABLE``): the last check of
each resource, written by the background check, read when a dataset's quality is computed."""
from __future__ import annotations

from typing import Any, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from ckan.model import meta

from ckanext.ecarto.quality.model import AVAILABILITY_TABLE, availability_table


def _engine(engine: Optional[Engine]) -> Engine:
    return engine if engine is not None else meta.engine


def table_exists(engine: Optional[Engine] = None) -> bool:
    """Whether the table exists (a database not yet upgraded with ``ckan db upgrade -p ecarto``)."""
    with _engine(engine).connect() as conn:
        return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": AVAILABILITY_TABLE}).scalar())


def checks_of(resource_ids: Iterable[str], engine: Optional[Engine] = None) -> dict[str, dict[str, Any]]:
    """The last check of each of these resources (those never checked are absent)."""
    ids = [i for i in resource_ids if i]
    if not ids:
        return {}
    with _engine(engine).connect() as conn:
        rows = conn.execute(sa.select(availability_table).where(availability_table.c.resource_id.in_(ids)))
        return {row.resource_id: dict(row._mapping) for row in rows}


def record(values: dict[str, Any], engine: Optional[Engine] = None) -> None:
    """Insert or replace the last check of ``values["resource_id"]``."""
    stmt = pg_insert(availability_table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=[availability_table.c.resource_id],
                                      set_={k: stmt.excluded[k] for k in values if k != "resource_id"})
    with _engine(engine).begin() as conn:
        conn.execute(stmt)


def forget(resource_ids: Iterable[str], engine: Optional[Engine] = None) -> None:
    """Drop the checks of resources that no longer exist or are no longer remote."""
    ids = [i for i in resource_ids if i]
    if ids:
        with _engine(engine).begin() as conn:
            conn.execute(availability_table.delete().where(availability_table.c.resource_id.in_(ids)))
