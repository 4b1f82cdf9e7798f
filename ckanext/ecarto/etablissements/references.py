"""Reference values beside an establishment's measures and flags: the mean (a flag: the share of
« oui ») for establishments of the same type in its commune, département, académie and in France
(the loaded data), each with the number of establishments counted and the n.c. rate (share
without a value), **on the same period** as the establishment's value. The establishments
counted are those of the territory pages (``directory.counted_sql``: best directory row, open
establishments) of the same type and of the sectors the column covers on that period, so that
an establishment's commune reference and its commune's page (breakdown by type) give the same
« k sur n » and n.c. rate. A multi-year file: the rows of that rentrée only, each school's latest
row of it. Codes, labels, dimensions and periods
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


_CACHE: dict[tuple[Any, ...], Any] = {}
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


# Per sector of one territory: (establishments counted, {(column, period): (with a value, sum)}).
SectorCounts = dict[str, tuple[int, dict[tuple[str, Optional[str]], tuple[int, Any]]]]


def _level_values(conn: Connection, res: dict[str, Any], columns: list[str], kind: str, column: str,
                  code: Any, reader: access.Reader, periods: tuple[Optional[str], ...],
                  types: dict[str, Optional[str]]) -> SectorCounts:
    """Per sector (« ? » when the directory does not say), the establishments of type `kind` the
    territory counts (``directory.counted_sql``: the definition of the territory pages) and, for
    each column and period, how many have a value and their sum — each UAI once per period,
    with its latest row of that period."""
    with_period = colmodel.has_period_columns(res) and any(p is not None for p in periods)
    trusted, trust_params = directory.trusted_sql(conn, "p")
    params: dict[str, Any] = {"type": kind, "code": code, **trust_params, **access.reader_params(reader),
                              "periods": [p for p in periods if p is not None]}
    # only UAIs with a row of that type in the territory can count (their best row is one): fewer rows to read
    restrict = (f"s.uai IN (SELECT uai FROM {directory.table_name()} WHERE type = :type"
                f"{f' AND {column} = :code' if column else ''})")
    where_code = f"AND b.{column} = :code" if column else ""
    counted = directory.counted_sql(trusted, f"s.uai, s.type, s.secteur, s.etat{', s.' + column if column else ''}",
                                    restrict=restrict)
    aggregates = ", ".join(f"count(v.c_{i}) AS k_{i}, sum(v.c_{i}) AS s_{i}" for i in range(len(columns)))
    picked = ", ".join(f"a.k_{i}, a.s_{i}" for i in range(len(columns)))
    sql = sa.text(f"""
        WITH d AS (SELECT b.uai, coalesce(b.secteur, '?') AS secteur FROM ({counted}) b
                   WHERE b.type = :type {where_code}),
        vals AS ({_inner_select(res, columns, types, with_period)}),
        counted AS (SELECT secteur, count(*) AS n FROM d GROUP BY secteur),
        a AS (SELECT d.secteur, v.{PERIOD_KEY} AS periode, {aggregates}
              FROM vals v JOIN d ON d.uai = v._key GROUP BY d.secteur, v.{PERIOD_KEY})
        SELECT c.secteur, c.n, a.periode, {picked}
        FROM counted c LEFT JOIN a ON a.secteur = c.secteur""")
    result: SectorCounts = {}
    for row in conn.execute(sql, params).mappings():
        n, found = result.setdefault(row["secteur"], (int(row["n"]), {}))
        if all(row[f"k_{i}"] is None for i in range(len(columns))):
            continue        # no row of this resource in the sector
        period = row["periode"] if with_period else None
        for i, c in enumerate(columns):
            found[(c, period)] = (int(row[f"k_{i}"] or 0), row[f"s_{i}"])
    return result


def covered_sectors(national: SectorCounts, name: str, period: Optional[str]) -> set[str]:
    """The sectors in which a column has values on a period, in the whole readable data: the
    universe of its figures (as on the territory pages: a source of public collèges only is not
    « n.c. » for every private one)."""
    return {sector for sector, (_n, found) in national.items() if found.get((name, period), (0, None))[0]}


def _figure(counts: SectorCounts, sectors: set[str], name: str, period: Optional[str]) -> tuple[int, int, Any]:
    """(establishments counted, with a value, mean) of one territory over the covered sectors."""
    n = k = 0
    total = 0.0
    for sector in sectors:
        if sector not in counts:
            continue
        n_sector, found = counts[sector]
        k_sector, s_sector = found.get((name, period), (0, None))
        n += n_sector
        k += k_sector
        total += float(s_sector or 0)
    return n, k, (total / k if k else None)


def _reference(label: str, code: Any, n: int, k: int, mean: Any, statistic: str, kind: str,
               sectors: set[str]) -> dict[str, Any]:
    return {
        "label": label,
        "code": code,
        "statistique": statistic,
        "moyenne": round(float(mean), 4) if mean is not None else None,
        "n_etablissements": n,
        "n_valeurs": k,
        "taux_nc": round(1 - k / n, 4),
        "type": kind,
        "secteurs": sorted(sectors),
    }


def _cached_level(conn: Connection, res: dict[str, Any], columns: list[str], types: dict[str, Optional[str]],
                  kind: str, level: str, column: str, code: Any, reader: access.Reader,
                  periods: tuple[Optional[str], ...], version: tuple[Any, ...]) -> SectorCounts:
    trust = (tuple(directory.identity_organizations()), tuple(directory.identity_harvest_sources()))
    key = (res["table_name"], tuple(columns), tuple(types.values()), periods, kind, level, code, reader, version, trust)
    values = _CACHE.get(key) if version else None
    if values is None:
        values = _level_values(conn, res, columns, kind, column, code, reader, periods, types)
        if version:
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = values
    return values


def compute(conn: Connection, ident: dict[str, Any], res: dict[str, Any], columns: list[str],
            reader: access.Reader, version: tuple[Any, ...] = (),
            periods: tuple[Optional[str], ...] = (None,)) -> dict[tuple[str, Optional[str]], dict[str, Any]]:
    """(column, period) -> {level: {"label", "code", "statistique", "moyenne", "n_etablissements",
    "n_valeurs", "taux_nc", "type", "secteurs"}}: for each period asked, the mean of the
    establishments of the same type (a flag's share of « oui »: `statistique` "part_oui") on
    that same period, over the establishments the territory pages count (``directory.counted_sql``)
    of the sectors the column covers on that period (``covered_sectors``). Tables without a
    period: the period is None."""
    kind = ident.get("type") or "autre"
    by_name = {c["name"]: c for c in res.get("columns") or []}
    types = {c: by_name.get(c, {}).get("type") for c in columns}
    statistics = {c: ("part_oui" if colmodel.role_of(by_name.get(c, {})) == roles.FLAG else "moyenne")
                  for c in columns}
    with_period = colmodel.has_period_columns(res) and any(p is not None for p in periods)
    asked = periods if with_period else (None,)
    national = _cached_level(conn, res, columns, types, kind, "france", "", None, reader, periods, version)
    result: dict[tuple[str, Optional[str]], dict[str, Any]] = {}
    for level, column, label in LEVELS:
        code = ident.get(column) if column else None
        if column and not code:
            continue
        counts = national if not column else _cached_level(conn, res, columns, types, kind, level, column, code,
                                                           reader, periods, version)
        for name in columns:
            for period in asked:
                sectors = covered_sectors(national, name, period)
                n, k, mean = _figure(counts, sectors, name, period)
                if not n:
                    continue
                result.setdefault((name, period), {})[level] = _reference(
                    label, code, n, k, mean, statistics[name], kind, sectors)
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
