"""Reference values beside an establishment's measures and flags: the mean (a flag: the share of
« oui ») for establishments of the same type in its commune, département, académie and in France
(the loaded data), each with the number of establishments counted and the n.c. rate (share
without a value), **on the same period** as the establishment's value (a multi-year file: the
rows of that rentrée only, each school's latest row of it). Codes, labels, dimensions and periods
get no reference: they are never averaged (``record`` only asks for measures and flags).

No ranking: a reference is a context value, never a position in a list.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import access, roles
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.ingest import columns as colmodel
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


PERIOD_KEY = "per"


def _inner_select(res: dict[str, Any], columns: list[str], types: dict[str, Optional[str]],
                  with_period: bool) -> str:
    """One value per (UAI, period) of each column, as double precision: the latest row of the
    pair (a flag counts 1 for « oui »)."""
    table = res["table_name"]
    period = colmodel.PERIOD_COLUMN if with_period else "CAST(NULL AS text)"
    filters = f"AND {colmodel.PERIOD_COLUMN} = ANY(CAST(:periods AS text[]))" if with_period else ""
    numbers = [number_sql(f'"{c}"', types.get(c)) for c in columns]
    values = ", ".join(f"{expr} AS c_{i}" for i, expr in enumerate(numbers))
    order = colmodel.LATEST_ORDER if with_period else "_row DESC"
    return f"""SELECT DISTINCT ON (_key, {PERIOD_KEY}) _key, {period} AS {PERIOD_KEY}, {values} FROM {table}
            WHERE _key IN (SELECT uai FROM d) {filters} ORDER BY _key, {PERIOD_KEY}, {order}"""


def _level_values(conn: Connection, res: dict[str, Any], columns: list[str], kind: str, column: str,
                  code: Any, reader: access.Reader, periods: tuple[Optional[str], ...],
                  types: dict[str, Optional[str]]) -> dict[tuple[str, Optional[str]], tuple[int, int, Any]]:
    """(column, period) -> (establishments of that type in the territory, with a value, mean),
    counting each readable UAI once with its best directory row — among its trusted directory
    rows when a trusted source knows it (an editor's directory-like file never moves a school)
    — and once per period with its latest row of that period."""
    with_period = colmodel.has_period_columns(res) and any(p is not None for p in periods)
    trusted, trust_params = directory.trusted_sql(conn, "p")
    params: dict[str, Any] = {"type": kind, "code": code, **trust_params, **access.reader_params(reader),
                              "periods": [p for p in periods if p is not None]}
    where_code = f"AND {column} = :code" if column else ""
    aggregates = ", ".join(f"count(v.c_{i}) AS k_{i}, avg(v.c_{i}) AS m_{i}" for i in range(len(columns)))
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
        vals AS ({_inner_select(res, columns, types, with_period)}),
        counted AS (SELECT count(*) AS n FROM d)
        SELECT counted.n, v.{PERIOD_KEY} AS periode, {aggregates}
        FROM counted LEFT JOIN vals v ON TRUE GROUP BY counted.n, v.{PERIOD_KEY}""")
    found = {row["periode"]: row for row in conn.execute(sql, params).mappings()}
    n = next(iter(found.values()))["n"] if found else 0
    result: dict[tuple[str, Optional[str]], tuple[int, int, Any]] = {}
    for period in (periods if with_period else (None,)):
        row = found.get(period)
        for i, c in enumerate(columns):
            result[(c, period)] = (n, row[f"k_{i}"], row[f"m_{i}"]) if row is not None else (n, 0, None)
    return result


def _reference(label: str, code: Any, n: int, k: int, mean: Any, statistic: str) -> dict[str, Any]:
    return {
        "label": label,
        "code": code,
        "statistique": statistic,
        "moyenne": round(float(mean), 4) if mean is not None else None,
        "n_etablissements": n,
        "n_valeurs": k,
        "taux_nc": round(1 - k / n, 4),
    }


def compute(conn: Connection, ident: dict[str, Any], res: dict[str, Any], columns: list[str],
            reader: access.Reader, version: tuple[Any, ...] = (),
            periods: tuple[Optional[str], ...] = (None,)) -> dict[tuple[str, Optional[str]], dict[str, Any]]:
    """(column, period) -> {level: {"label", "code", "statistique", "moyenne", "n_etablissements",
    "n_valeurs", "taux_nc"}}: for each period asked, the mean of the establishments of the
    same type (a flag's share of « oui »: `statistique` "part_oui") on that same period.
    Tables without a period: the period is None."""
    kind = ident.get("type") or "autre"
    by_name = {c["name"]: c for c in res.get("columns") or []}
    types = {c: by_name.get(c, {}).get("type") for c in columns}
    statistics = {c: ("part_oui" if colmodel.role_of(by_name.get(c, {})) == roles.FLAG else "moyenne")
                  for c in columns}
    result: dict[tuple[str, Optional[str]], dict[str, Any]] = {}
    trust = (tuple(directory.identity_organizations()), tuple(directory.identity_harvest_sources()))
    for level, column, label in LEVELS:
        code = ident.get(column) if column else None
        if column and not code:
            continue
        key = (res["table_name"], tuple(columns), tuple(types.values()),
               periods, kind, level, code, reader, version, trust)
        values = _CACHE.get(key) if version else None
        if values is None:
            values = _level_values(conn, res, columns, kind, column, code, reader, periods, types)
            if version:
                if len(_CACHE) >= _CACHE_MAX:
                    _CACHE.clear()
                _CACHE[key] = values
        for (name, period), (n, k, mean) in values.items():
            if not n:
                continue
            result.setdefault((name, period), {})[level] = _reference(label, code, n, k, mean, statistics[name])
    return result


Guard = Callable[..., tuple[Any, bool]]
# a reference job: the resource, its column and, per period (None: the table has no period),
# the dicts whose `references` are to be filled
Job = tuple[dict[str, Any], str, dict[Optional[str], list[dict[str, Any]]]]


def attach(conn: Connection, ident: dict[str, Any], jobs: list[Job], reader: access.Reader,
           guard: Optional[Guard] = None) -> None:
    """Fill `references` of each job's targets, one query per resource and level. With `guard`
    (see `record._guarded`), a resource whose references cannot be computed gets `references`
    None and `references_erreur` True, and the others are still computed."""
    by_table: dict[str, list[tuple[str, dict[Optional[str], list[dict[str, Any]]]]]] = defaultdict(list)
    resources: dict[str, dict[str, Any]] = {}
    for res, column, targets in jobs:
        by_table[res["table_name"]].append((column, targets))
        resources[res["table_name"]] = res
    version = data_version(conn)
    for table, items in by_table.items():
        columns = sorted({column for column, _targets in items})
        periods = tuple(sorted({p for _c, targets in items for p in targets}, key=lambda p: (p is None, p or "")))
        res = resources[table]
        step = lambda res=res, columns=columns, periods=periods: compute(  # noqa: E731
            conn, ident, res, columns, reader, version, periods)
        if guard is None:
            values, ok = step(), True
        else:
            values, ok = guard(conn, "valeurs de référence", res, step)
        for column, targets in items:
            for period, slots in targets.items():
                for slot in slots:
                    slot["references"] = values.get((column, period)) if ok else None
                    if not ok:
                        slot["references_erreur"] = True
