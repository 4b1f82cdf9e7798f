"""The ingestion registry's owner: every query on ``ecarto_ingested_resource`` (one row per
ingested resource: its table, key, columns, rows, rejects, status, last failure). The table is
declared in ``model``; the loader writes it through ``write``/``update``/``delete``; the pages,
the directory and the aggregates read it through ``status``, ``readable_resources``,
``last_loaded_at`` and ``fingerprint``."""
from __future__ import annotations

import json
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from ckan.model import meta
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine

from ckanext.ecarto.core import access
from ckanext.ecarto.ingest.model import REGISTRY, registry_table

TABLE = REGISTRY


def engine_or_default(engine: Optional[Engine]) -> Engine:
    """`engine`, or CKAN's."""
    return engine if engine is not None else meta.engine


def exists(conn: Connection) -> bool:
    """Whether the registry table exists (a fresh database before ``ckan db upgrade -p ecarto``)."""
    return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": TABLE}).scalar())


def row(conn: Connection, resource_id: str) -> Optional[dict[str, Any]]:
    """The registry row of a resource (None when it was never ingested)."""
    found = conn.execute(sa.select(registry_table).where(registry_table.c.resource_id == resource_id)
                         ).mappings().first()
    return dict(found) if found else None


def status(resource_id: str, *, engine: Optional[Engine] = None) -> Optional[dict[str, Any]]:
    """The registry row of a resource, on a connection of its own."""
    with engine_or_default(engine).connect() as conn:
        return row(conn, resource_id)


def statuses(resource_ids: Iterable[str], *, engine: Optional[Engine] = None) -> dict[str, dict[str, Any]]:
    """The registry rows of these resources by id, in one query (those never ingested are absent)."""
    ids = [i for i in resource_ids if i]
    if not ids:
        return {}
    with engine_or_default(engine).connect() as conn:
        rows = conn.execute(sa.select(registry_table).where(registry_table.c.resource_id.in_(ids))).mappings()
        return {row["resource_id"]: dict(row) for row in rows}


def write(conn: Connection, values: dict[str, Any]) -> None:
    """Insert or replace the row of ``values["resource_id"]``."""
    stmt = pg_insert(registry_table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[registry_table.c.resource_id],
        set_={k: stmt.excluded[k] for k in values if k != "resource_id"},
    )
    conn.execute(stmt)


def update(conn: Connection, resource_id: str, **values: Any) -> None:
    """Change some fields of a resource's row (its message and failure)."""
    conn.execute(registry_table.update().where(registry_table.c.resource_id == resource_id).values(**values))


def delete(conn: Connection, resource_id: str) -> None:
    conn.execute(registry_table.delete().where(registry_table.c.resource_id == resource_id))


def readable_resources(conn: Connection, reader: access.Reader, key_kind: str) -> list[dict[str, Any]]:
    """Ingested resources of readable datasets keyed on `key_kind` (`uai` or `commune`), with
    their dataset, resource and producer, latest millésime first."""
    sql = sa.text(f"""
        SELECT r.resource_id, r.package_id, r.table_name, r.key_column, r.millesime, r.columns, r.layout,
               p.name AS package_name, p.title AS package_title,
               res.name AS resource_name, res.url AS resource_url,
               p.extras ->> 'axe' AS axe,
               g.title AS organization_title
        FROM {TABLE} r
        JOIN package p ON p.id = r.package_id
        JOIN resource res ON res.id = r.resource_id AND res.state = 'active'
        LEFT JOIN "group" g ON g.id = p.owner_org
        WHERE r.key_kind = :kind AND r.status = 'ok' AND {access.readable_packages_sql('p')}
        ORDER BY r.millesime DESC NULLS LAST, p.title""")
    rows = conn.execute(sql, {"kind": key_kind, **access.reader_params(reader)}).mappings()
    result = []
    for found in rows:
        item = dict(found)
        for name in ("columns", "layout"):
            if isinstance(item[name], str):
                item[name] = json.loads(item[name])
        result.append(item)
    return result


def last_loaded_at(conn: Connection) -> Any:
    """When the latest load was recorded (None when nothing was)."""
    return conn.execute(sa.text(f"SELECT max(loaded_at) FROM {TABLE}")).scalar()


def fingerprint(conn: Connection) -> Optional[str]:
    """A digest of the loaded resources and of the state, visibility and metadata of their
    datasets and resources: changes whenever what the pages derive from them may change. None
    when the registry table does not exist."""
    if not exists(conn):
        return None
    return conn.execute(sa.text(f"""
        SELECT md5(coalesce(string_agg(concat_ws('|', r.resource_id, r.loaded_at, r.millesime, r.table_name,
                                                 p.private, p.state, p.metadata_modified, res.state),
                                       ',' ORDER BY r.resource_id), ''))
        FROM {TABLE} r
        JOIN package p ON p.id = r.package_id
        LEFT JOIN resource res ON res.id = r.resource_id
        WHERE r.status = 'ok'""")).scalar()
