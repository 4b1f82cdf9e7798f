"""Reference values beside an establishment's numeric indicators: the mean for establishments
of the same type in its commune, département, académie and in France (the loaded data), each
with the number of establishments counted and the n.c. rate (share without a value).

No ranking: a reference is a context value, never a position in a list.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import access
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.ingest import registry

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
    packages = tuple(conn.execute(sa.text(
        "SELECT (SELECT max(metadata_modified) FROM package), (SELECT count(*) FROM package)")).one())
    return (registry.last_loaded_at(conn),) + packages


# A text value PostgreSQL can read as a double precision without error (no exponent, bounded
# digits): anything else ("douze", "12,5", "1e999") counts as having no value.
NUMBER_PATTERN = "^[+-]?([0-9]{1,18}([.][0-9]{0,18})?|[.][0-9]{1,18})$"
NUMERIC_STORED = {"integer", "number"}


def number_sql(ref: str, stored_type: Optional[str]) -> str:
    """SQL reading the column reference `ref` (already quoted) as a double precision that never
    fails: a plain cast for columns stored as numbers (or booleans, as 0/1), a guarded cast of
    the trimmed text otherwise. The loader stores measures as numbers when every value is one;
    a column with one "douze" stays text and must not break a query that averages it."""
    if stored_type in NUMERIC_STORED:
        return f"CAST({ref} AS double precision)"
    if stored_type == "boolean":
        return f"CAST(CAST({ref} AS integer) AS double precision)"
    text = f"btrim(CAST({ref} AS text))"
    return f"(CASE WHEN {text} ~ '{NUMBER_PATTERN}' THEN CAST({text} AS double precision) END)"


def _level_values(conn: Connection, table: str, columns: list[str], kind: str, column: str,
                  code: Any, reader: access.Reader,
                  types: Optional[dict[str, Optional[str]]] = None) -> dict[str, tuple[int, int, Any]]:
    """column -> (establishments of that type in the territory, with a value, mean), counting
    each readable UAI once with its best directory row — among its trusted directory rows when
    a trusted source knows it (an editor's directory-like file never moves a school)."""
    types = types or {}
    trusted, trust_params = directory.trusted_sql(conn, "p")
    params: dict[str, Any] = {"type": kind, "code": code, **trust_params, **access.reader_params(reader)}
    where_code = f"AND {column} = :code" if column else ""
    value_cols = ", ".join(f'"{c}"' for c in columns)
    numbers = [number_sql(f'v."{c}"', types.get(c)) for c in columns]
    aggregates = ", ".join(f"count({expr}) AS k_{i}, avg({expr}) AS m_{i}" for i, expr in enumerate(numbers))
    sql = sa.text(f"""
        WITH candidates AS (
            SELECT DISTINCT uai FROM {directory.table_name()} WHERE type = :type {where_code}),
        known AS (
            SELECT s.uai, s.type, s.commune_code, s.departement_code, s.academie_code, s.priority,
                   s.millesime, {trusted} AS trusted
            FROM {directory.table_name()} s JOIN package p ON p.id = s.package_id
            WHERE s.uai IN (SELECT uai FROM candidates) AND {access.readable_packages_sql('p')}),
        tiers AS (SELECT uai, bool_or(trusted) AS trusted FROM known GROUP BY uai),
        best AS (
            SELECT DISTINCT ON (r.uai) r.uai, r.commune_code, r.departement_code, r.academie_code
            FROM known r JOIN tiers t ON t.uai = r.uai AND t.trusted = r.trusted
            WHERE r.type = :type
            ORDER BY r.uai, r.priority, r.millesime DESC NULLS LAST),
        d AS (SELECT uai FROM best WHERE TRUE {where_code}),
        vals AS (
            SELECT DISTINCT ON (_key) _key, {value_cols} FROM {table}
            WHERE _key IN (SELECT uai FROM d) ORDER BY _key, _row DESC)
        SELECT count(*) AS n, {aggregates} FROM d LEFT JOIN vals v ON v._key = d.uai""")
    row = conn.execute(sql, params).mappings().one()
    return {c: (row["n"], row[f"k_{i}"], row[f"m_{i}"]) for i, c in enumerate(columns)}


def compute(conn: Connection, ident: dict[str, Any], table: str, columns: list[str],
            reader: access.Reader, version: tuple[Any, ...] = (),
            types: Optional[dict[str, Optional[str]]] = None) -> dict[str, dict[str, Any]]:
    """column -> {level: {"label", "code", "moyenne", "n_etablissements", "n_valeurs", "taux_nc"}}
    (`types`: stored type of each column, see `number_sql`)."""
    kind = ident.get("type") or "autre"
    types = types or {}
    result: dict[str, dict[str, Any]] = {c: {} for c in columns}
    trust = (tuple(directory.identity_organizations()), tuple(directory.identity_harvest_sources()))
    for level, column, label in LEVELS:
        code = ident.get(column) if column else None
        if column and not code:
            continue
        key = (table, tuple(columns), tuple(types.get(c) for c in columns), kind, level, code, reader,
               version, trust)
        values = _CACHE.get(key) if version else None
        if values is None:
            values = _level_values(conn, table, columns, kind, column, code, reader, types)
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


Guard = Callable[..., tuple[Any, bool]]


def attach(conn: Connection, ident: dict[str, Any], jobs: list[tuple[dict[str, Any], dict[str, Any], str]],
           reader: access.Reader, guard: Optional[Guard] = None) -> None:
    """Fill `references` of each (slot, resource, column) job, one query per resource. With
    `guard` (see `record._guarded`), a resource whose references cannot be computed gets
    `references` None and `references_erreur` True, and the others are still computed."""
    by_table: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    resources: dict[str, dict[str, Any]] = {}
    for slot, res, column in jobs:
        by_table[res["table_name"]].append((slot, column))
        resources[res["table_name"]] = res
    version = data_version(conn)
    for table, items in by_table.items():
        columns = sorted({column for _slot, column in items})
        res = resources[table]
        types = {c["name"]: c.get("type") for c in res.get("columns") or []}
        step = lambda table=table, columns=columns, types=types: compute(  # noqa: E731
            conn, ident, table, columns, reader, version, types)
        if guard is None:
            values, ok = step(), True
        else:
            values, ok = guard(conn, "valeurs de référence", res, step)
        for slot, column in items:
            slot["references"] = values.get(column) if ok else None
            if not ok:
                slot["references_erreur"] = True
