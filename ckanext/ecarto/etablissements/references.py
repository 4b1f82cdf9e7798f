"""Reference values beside an establishment's numeric indicators: the mean for establishments
of the same type in its commune, département, académie and in France (the loaded data), each
with the number of establishments counted and the n.c. rate (share without a value).

No ranking: a reference is a context value, never a position in a list.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.logic import access

LEVELS: tuple[tuple[str, str, str], ...] = (
    # level, directory column, label
    ("commune", "commune_code", "Commune"),
    ("departement", "departement_code", "Département"),
    ("academie", "academie_code", "Académie"),
    ("france", "", "France (données chargées)"),
)


_CACHE: dict[tuple[Any, ...], dict[str, tuple[int, int, Any]]] = {}
_CACHE_MAX = 2000


def data_version(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever an ingestion or any dataset (visibility included) changes: cached
    aggregates of an older version are never served."""
    return tuple(conn.execute(sa.text(
        "SELECT (SELECT max(loaded_at) FROM ecarto_ingested_resource), "
        "(SELECT max(metadata_modified) FROM package), (SELECT count(*) FROM package)")).one())


def _level_values(conn: Connection, table: str, columns: list[str], kind: str, column: str,
                  code: Any, reader: access.Reader) -> dict[str, tuple[int, int, Any]]:
    """column -> (establishments of that type in the territory, with a value, mean), counting
    each readable UAI once with its best directory row."""
    params: dict[str, Any] = {"type": kind, "code": code, **access.reader_params(reader)}
    where_code = f"AND {column} = :code" if column else ""
    value_cols = ", ".join(f'"{c}"' for c in columns)
    aggregates = ", ".join(f'count(v."{c}") AS k_{i}, avg(CAST(v."{c}" AS double precision)) AS m_{i}'
                           for i, c in enumerate(columns))
    sql = sa.text(f"""
        WITH candidates AS (
            SELECT DISTINCT uai FROM {directory.table_name()} WHERE type = :type {where_code}),
        best AS (
            SELECT DISTINCT ON (s.uai) s.uai, s.commune_code, s.departement_code, s.academie_code
            FROM {directory.table_name()} s JOIN package p ON p.id = s.package_id
            WHERE s.uai IN (SELECT uai FROM candidates) AND s.type = :type
              AND {access.readable_packages_sql('p')}
            ORDER BY s.uai, s.priority, s.millesime DESC NULLS LAST),
        d AS (SELECT uai FROM best WHERE TRUE {where_code}),
        vals AS (
            SELECT DISTINCT ON (_key) _key, {value_cols} FROM {table}
            WHERE _key IN (SELECT uai FROM d) ORDER BY _key, _row DESC)
        SELECT count(*) AS n, {aggregates} FROM d LEFT JOIN vals v ON v._key = d.uai""")
    row = conn.execute(sql, params).mappings().one()
    return {c: (row["n"], row[f"k_{i}"], row[f"m_{i}"]) for i, c in enumerate(columns)}


def compute(conn: Connection, ident: dict[str, Any], table: str, columns: list[str],
            reader: access.Reader, version: tuple[Any, ...] = ()) -> dict[str, dict[str, Any]]:
    """column -> {level: {"label", "code", "moyenne", "n_etablissements", "n_valeurs", "taux_nc"}}"""
    kind = ident.get("type") or "autre"
    result: dict[str, dict[str, Any]] = {c: {} for c in columns}
    for level, column, label in LEVELS:
        code = ident.get(column) if column else None
        if column and not code:
            continue
        key = (table, tuple(columns), kind, level, code, reader, version)
        values = _CACHE.get(key) if version else None
        if values is None:
            values = _level_values(conn, table, columns, kind, column, code, reader)
            if version:
                if len(_CACHE) >= _CACHE_MAX:
                    _CACHE.clear()
                _CACHE[key] = values
        for name, (n, k, mean) in values.items():
            if not n:
                continue
            result[name][level] = {
                "label": label,
                "code": code,
                "moyenne": round(float(mean), 4) if mean is not None else None,
                "n_etablissements": n,
                "n_valeurs": k,
                "taux_nc": round(1 - k / n, 4),
            }
    return result


def attach(conn: Connection, ident: dict[str, Any], jobs: list[tuple[dict[str, Any], dict[str, Any], str]],
           reader: access.Reader) -> None:
    """Fill `references` of each (slot, resource, column) job, one query per resource."""
    by_table: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for slot, res, column in jobs:
        by_table[res["table_name"]].append((slot, column))
    version = data_version(conn)
    for table, items in by_table.items():
        columns = sorted({column for _slot, column in items})
        values = compute(conn, ident, table, columns, reader, version)
        for slot, column in items:
            slot["references"] = values.get(column)
