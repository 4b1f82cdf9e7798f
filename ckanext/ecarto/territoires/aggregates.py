"""Per-territory aggregates, computed in PostgreSQL from the public data only.

Tables (schema of the ingested tables, ``ckanext.ecarto.ingest_schema``, default ``ecarto_data``):

- ``territoire_etablissement``: one row per open establishment of a **public** directory (best
  source per UAI, as on the establishment pages), with its commune, département, and the
  académie and région of the referential (``referentiel/territories.py``);
- ``territoire_commune`` / ``territoire_departement``: the referential's attachments;
- ``territoire_serie``: the series (see ``indicators``: one per measure or flag of the column
  model, whatever the number of resources publishing it), their sources (with the coverage of
  each), their periods and current period;
- ``territoire_agregat``: per series × **period** (``periode`` label, "" when unnamed, and
  ``periode_ordre`` YYYYMMDD) × territory × breakdown: ``n`` (universe), ``k`` (with a value),
  ``valeur`` and the sums the pages derive other figures from. For each establishment or
  commune, its row of that period: the table's ``_periode`` when it has one, else the
  resource's millésime; within a series and a period, the most recently loaded resource with a
  value wins;
- ``territoire_effectif``: establishments by level, code, type, lycée kind, sector, REP;
- ``territoire_etat``: the data version the tables were computed for.

Refreshed after each ingestion (``ingest/loader.py`` calls ``refresh_after_ingest``, which queues a
background job) and, lazily, whenever the version of the public data changes (a dataset made private or public, deleted…):
pages read these small indexed tables, never the ingested tables.

Private datasets never feed these tables: everyone, sysadmins included, sees the public
aggregates (a member's private data shows on the establishment pages, not here).
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Optional

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.model import meta
from sqlalchemy.engine import Connection, Engine

from ckanext.ecarto import jobs, pgcopy
from ckanext.ecarto.core import access, roles, tables
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import columns, registry
from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements import destinations, directory
from ckanext.ecarto.etablissements.identity import normalise_header
from ckanext.ecarto.etablissements.references import number_sql
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import indicators as ind_mod
from ckanext.ecarto.territoires.indicators import Series

log = logging.getLogger(__name__)

# Bump when the tables' content changes meaning: the next request recomputes them.
AGGREGATES_VERSION = "2"   # 2: per period, one series per measure (column model)
LOCK_KEY = "ecarto_territoires_refresh"
# Memory of the refresh's sorts and hashes (one refresh at a time: the advisory lock), for its
# transaction only: PostgreSQL's defaults (4 MB) make its groupings spill to disk.
REFRESH_MEMORY = (("work_mem", "128MB"), ("maintenance_work_mem", "256MB"))
_LEVEL_COLUMNS = (
    ("france", None), ("region", "region_code"), ("academie", "academie_code"),
    ("departement", "departement_code"), ("commune", "commune_code"),
)


def schema() -> str:
    return tables.schema_name()


def t(name: str) -> str:
    """Qualified name of one of the territory tables (core/tables.py names them), or of its
    ``__new`` copy while they are rebuilt."""
    if name.removesuffix("__new") not in tables.AGGREGATE_TABLES + (tables.AGGREGATE_STATE_TABLE,):
        raise ValueError(f"not a territory table: {name!r}")
    return tables.qualified(name)


# --------------------------------------------------------------------------- version

def current_version(conn: Connection) -> str:
    """A digest of everything the aggregates depend on: the ingested resources and the state,
    visibility and metadata of their datasets."""
    digest = registry.fingerprint(conn)
    if digest is None:
        return f"{AGGREGATES_VERSION}:no-registry"
    return f"{AGGREGATES_VERSION}:{digest}"


def stored_version(conn: Connection) -> Optional[str]:
    if not conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": t("territoire_etat")}).scalar():
        return None
    return conn.execute(sa.text(f"SELECT version FROM {t('territoire_etat')} WHERE id = 1")).scalar()


def is_fresh(conn: Connection) -> bool:
    return stored_version(conn) == current_version(conn)


def ensure_fresh(engine: Optional[Engine] = None, *, wait: bool = False) -> bool:
    """Recompute the aggregates when the public data changed since they were computed.
    Returns True when they are (now) up to date; False when another process is refreshing them,
    or a worker is about to (a refresh job waits in the queue or for its retry): then the
    previous tables are served meanwhile."""
    engine = _engine(engine)
    with engine.connect() as conn:
        stored = stored_version(conn)
        if stored == current_version(conn):
            return True
    if stored is not None and not wait and jobs.will_run(refresh_job):
        return False    # a worker recomputes them (a job queued, or retried): no visitor waits for it
    started = time.monotonic()
    done = refresh(engine, wait=wait or stored is None)
    if time.monotonic() - started > 1.0:
        # what `ckan ecarto veille` and the jobs worker are there to spare the visitors
        log.warning("Agrégats territoriaux recalculés pendant une requête (%.1f s) : aucun worker ne s'en "
                    "chargeait", time.monotonic() - started)
    return done


def is_up_to_date(engine: Optional[Engine] = None) -> bool:
    """Whether the tables exist and match the current public data (``ckan ecarto veille``)."""
    with _engine(engine).connect() as conn:
        return is_fresh(conn)


def tables_exist(conn: Connection) -> bool:
    return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                             {"t": t("territoire_agregat")}).scalar())


def _engine(engine: Optional[Engine]) -> Engine:
    if engine is not None:
        return engine
    return meta.engine


# --------------------------------------------------------------------------- refresh

def refresh_after_ingest(engine: Optional[Engine] = None) -> None:
    """Called by the loader once an ingestion (or a removal) is committed: queues a refresh as a
    CKAN background job (`ckan jobs worker`), so a load never waits for the aggregates. Never
    raises: without a queue, or before the tables first exist (a fresh portal, the ingestion
    tests), nothing is done here and the next territory page recomputes them (the stored data
    version no longer matches)."""
    try:
        with _engine(engine).connect() as conn:
            if not tables_exist(conn):
                return
        tk.enqueue_job(refresh_job, title="eCarto : agrégats territoriaux")
    except Exception:  # noqa: BLE001
        log.warning("Recalcul des agrégats territoriaux non programmé ; il se fera à la prochaine page",
                    exc_info=True)


def on_ingest_committed(sender: str, *, engine: Optional[Engine] = None, **_payload: Any) -> None:
    """Subscriber of ``ecarto_ingest_committed`` (ingest/events.py, wired in plugin.py): a load
    or a removal was committed, the aggregates follow (``refresh_after_ingest``)."""
    refresh_after_ingest(engine)


def refresh_job() -> None:
    """The background job: recompute unless the tables are already at the current data version."""
    refresh(wait=True)


def refresh(engine: Optional[Engine] = None, *, wait: bool = True) -> bool:
    """Recompute every territory table in one transaction (new tables swapped in at the end:
    readers keep the previous version until the commit)."""
    engine = _engine(engine)
    started = time.monotonic()
    with engine.begin() as conn:
        if wait:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": LOCK_KEY})
        elif not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": LOCK_KEY}).scalar():
            return False
        version = current_version(conn)
        if stored_version(conn) == version:
            return True
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema()}"'))
        for setting, value in REFRESH_MEMORY:
            conn.execute(sa.text("SELECT set_config(:k, :v, true)"), {"k": setting, "v": value})
        directory.ensure_table(conn)
        _build(conn)
        conn.execute(sa.text(f"""CREATE TABLE IF NOT EXISTS {t('territoire_etat')} (
            id integer PRIMARY KEY, version text NOT NULL, refreshed_at timestamp NOT NULL, seconds double precision)"""))
        conn.execute(sa.text(f"""
            INSERT INTO {t('territoire_etat')} (id, version, refreshed_at, seconds)
            VALUES (1, :v, now() AT TIME ZONE 'UTC', :s)
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, refreshed_at = EXCLUDED.refreshed_at,
                                           seconds = EXCLUDED.seconds"""),
                     {"v": version, "s": time.monotonic() - started})
    log.info("Agrégats territoriaux recalculés en %.1f s", time.monotonic() - started)
    return True


_TABLES = tables.AGGREGATE_TABLES


def _build(conn: Connection) -> None:
    for name in _TABLES:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {t(name + '__new')}"))
    _build_referential(conn)
    _build_establishments(conn)
    _build_counts(conn)
    conn.execute(sa.text(f"""CREATE TABLE {t('territoire_serie__new')} (
        serie text PRIMARY KEY, ordre integer NOT NULL, data jsonb NOT NULL)"""))
    conn.execute(sa.text(f"""CREATE TABLE {t('territoire_agregat__new')} (
        serie text NOT NULL, periode text NOT NULL, periode_ordre integer,
        niveau text NOT NULL, code text NOT NULL, dim text NOT NULL,
        n integer NOT NULL, k integer NOT NULL, valeur double precision, somme double precision,
        n_positif integer, n_seuil integer, eleves double precision, somme_e double precision)"""))
    # establishment-level series first (axis indicators, then others), then commune ratios, sums
    ranked = sorted(discover_series(conn), key=lambda s: (
        s.key_kind != "uai", s.indicateur is None, s.statistique not in ("ratio", "part", "part_communes")))
    kept: set[str] = set()
    for group in _groups(ranked):
        kept.update(s.serie for s in _aggregate_group(conn, group))
    for order, series in enumerate(s for s in ranked if s.serie in kept):
        conn.execute(sa.text(f"INSERT INTO {t('territoire_serie__new')} (serie, ordre, data) "
                             f"VALUES (:s, :o, CAST(:d AS jsonb))"),
                     {"s": series.serie, "o": order, "d": json.dumps(series.__dict__, default=str)})
    # indexes and statistics on the new tables first: readers queue behind the swap's locks
    # only for the renames, not for the index builds (issue 19: no visitor waits for a refresh)
    _index(conn)
    for name in _TABLES:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {t(name)}"))
        conn.execute(sa.text(f"ALTER TABLE {t(name + '__new')} RENAME TO {name}"))
    for index, _table, _definition in _INDEXES:
        conn.execute(sa.text(f'ALTER INDEX "{schema()}"."{index}__new" RENAME TO "{index}"'))


_INDEXES = (   # (name, table, definition)
    ("territoire_agregat_pk", "territoire_agregat", "UNIQUE INDEX {i} ON {t} (serie, niveau, dim, code, periode)"),
    ("territoire_agregat_territoire", "territoire_agregat", "INDEX {i} ON {t} (niveau, code)"),
    ("territoire_effectif_territoire", "territoire_effectif", "INDEX {i} ON {t} (niveau, code)"),
    ("territoire_etablissement_dep", "territoire_etablissement", "INDEX {i} ON {t} (departement_code)"),
    ("territoire_etablissement_commune", "territoire_etablissement", "INDEX {i} ON {t} (commune_code)"),
)


def _index(conn: Connection) -> None:
    """Indexes (named ``<index>__new`` until the swap) and statistics of the new tables."""
    for index, table, definition in _INDEXES:
        conn.execute(sa.text(f'DROP INDEX IF EXISTS "{schema()}"."{index}__new"'))
        conn.execute(sa.text("CREATE " + definition.format(i=f'"{index}__new"', t=t(table + "__new"))))
    for name in ("territoire_agregat", "territoire_effectif", "territoire_etablissement"):
        conn.execute(sa.text(f"ANALYZE {t(name + '__new')}"))


def _build_referential(conn: Connection) -> None:
    conn.execute(sa.text(f"""CREATE TABLE {t('territoire_departement__new')} (
        code text PRIMARY KEY, academie_code text, region_code text)"""))
    conn.execute(sa.text(f"""CREATE TABLE {t('territoire_commune__new')} (
        code text PRIMARY KEY, departement_code text, academie_code text, region_code text)"""))
    deps = []
    for dep in territories.all_of(territories.DEPARTEMENT):
        codes = territories.enclosing(dep.level, dep.code)
        deps.append((dep.code, codes.get("academie"), codes.get("region")))
    pgcopy.copy_rows(conn, t("territoire_departement__new"), ("code", "academie_code", "region_code"), deps)
    communes = []
    for com in territories.all_of(territories.COMMUNE):
        if com.code.startswith(("751", "6938", "132")) and _is_arrondissement(com.code):
            continue  # municipal arrondissements: their commune (75056…) is counted once
        codes = territories.enclosing(com.level, com.code)
        communes.append((com.code, codes.get("departement"), codes.get("academie"), codes.get("region")))
    pgcopy.copy_rows(conn, t("territoire_commune__new"), ("code", "departement_code", "academie_code", "region_code"),
          communes)


def _is_arrondissement(code: str) -> bool:
    return (code.startswith("751") and "75101" <= code <= "75120") or "69381" <= code <= "69389" \
        or "13201" <= code <= "13216"


def _build_establishments(conn: Connection) -> None:
    """The establishments the territories count (``directory.counted_sql``, the definition the
    establishment pages' reference values use too): best public directory row per UAI, open
    ones, with the académie and région of their département in the referential."""
    trusted, trust_params = directory.trusted_sql(conn, "p")
    counted = directory.counted_sql(trusted, """s.uai, s.nom, s.type, s.lycee_kind, s.secteur,
        coalesce(s.education_prioritaire, 'hors') AS ep, s.eleves, s.latitude, s.longitude,
        s.commune_code, s.commune_nom, s.departement_code, s.etat""")
    conn.execute(sa.text(f"""
        CREATE TABLE {t('territoire_etablissement__new')} AS
        WITH best AS ({counted})
        SELECT b.uai, b.nom, b.type, b.lycee_kind, b.secteur, b.ep, b.eleves, b.latitude, b.longitude,
               b.commune_code, b.commune_nom, coalesce(b.departement_code, c.departement_code) AS departement_code,
               d.academie_code, d.region_code
        FROM best b LEFT JOIN {t('territoire_commune__new')} c ON c.code = b.commune_code
        LEFT JOIN {t('territoire_departement__new')} d ON d.code = coalesce(b.departement_code, c.departement_code)
        """), {**trust_params, **access.reader_params(access.ANONYMOUS)})
    conn.execute(sa.text(f"ALTER TABLE {t('territoire_etablissement__new')} ADD PRIMARY KEY (uai)"))


def _levels_sql(alias: str) -> str:
    """The VALUES list putting a row at every level of its territory chain."""
    return ", ".join(f"('{lvl}', {alias + '.' + col if col else chr(39) * 2})" for lvl, col in _LEVEL_COLUMNS)


def _build_counts(conn: Connection) -> None:
    conn.execute(sa.text(f"""
        CREATE TABLE {t('territoire_effectif__new')} AS
        SELECT lv.niveau, lv.code, e.type, e.lycee_kind, e.secteur, e.ep, count(*)::integer AS n
        FROM {t('territoire_etablissement__new')} e
        CROSS JOIN LATERAL (VALUES {_levels_sql('e')}) AS lv(niveau, code)
        WHERE lv.code IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6"""))


# --------------------------------------------------------------------------- series

def _public_resources(conn: Connection, key_kind: str) -> list[dict[str, Any]]:
    return registry.readable_resources(conn, access.ANONYMOUS, key_kind)


def discover_series(conn: Connection) -> list[Series]:
    """Every series of the public ingested resources (see ``indicators``): one per measure or
    flag, whatever the number of resources it comes from (``columns.series_key``)."""
    directory_resources = directory.resource_ids(conn)
    found: dict[tuple[str, str, str], Series] = {}
    for kind in ("uai", "commune"):
        resources = [r for r in _public_resources(conn, kind)
                     if not (kind == "uai" and r["resource_id"] in directory_resources)
                     and _one_row_per_key_and_period(conn, r, kind)]
        # oldest load first: a later source of a series wins a conflict (and is its primary one)
        for res in sorted(resources, key=lambda r: _loaded_at(conn, r)):
            for item in _series_of(res, kind):
                slot = (kind, item.cle, item.statistique)
                if slot in found:
                    _add_source(found[slot], item)
                else:
                    found[slot] = item
    result = list(found.values())
    _name_series(result)
    return result


def _loaded_at(conn: Connection, res: dict[str, Any]) -> str:
    """When the resource was loaded (kept in `res`: its sources record it)."""
    if "loaded_at" not in res:
        row = registry.row(conn, res["resource_id"]) or {}
        res["loaded_at"] = str(row.get("loaded_at") or "")
    return res["loaded_at"]


def _one_row_per_key_and_period(conn: Connection, res: dict[str, Any], kind: str) -> bool:
    """Whether a table gives one value per key and period. A table with dimension rows (several
    rows per key and period: one per niveau, per champ…) has no safe sum or mean: a commune-keyed
    one with several rows per commune and period, a UAI-keyed one whose repeated rows differ by
    a dimension column. Otherwise a UAI's repeated rows are the same figure published twice: its
    last row counts. A table loaded before the column model is checked on its rows."""
    if columns.has_period_columns(res):
        several = int(columns.layout_of(res).get("rows_per_key_period") or 1) > 1
        if kind == "uai":
            return not (several and columns.by_role(res, roles.DIMENSION))
        return not several
    if kind == "uai":
        return True
    return not _several_rows_per_key(conn, res["table_name"])


def _several_rows_per_key(conn: Connection, table: str) -> bool:
    return bool(conn.execute(sa.text(f"SELECT count(*) > count(DISTINCT _key) FROM {table}")).scalar())


def _legacy_code(res: dict[str, Any], col: dict[str, Any]) -> bool:
    """Tables loaded before the column model: their columns have no role, so codes and keys
    stored as numbers are recognised by their names (the model decides for the others)."""
    if col.get("role") in roles.ROLES:
        return False
    source = col.get("source") or col["name"]
    return normalise_header(source) in axes_mod.KEY_FIELDS or ind_mod.is_code_column(source)


def _series_of(res: dict[str, Any], kind: str) -> list[Series]:
    """The series of one resource: its measures and flags (never periods, codes, labels or
    dimensions), and the ratios of two of its measures."""
    result: list[Series] = []
    by_key: dict[str, dict[str, Any]] = {}
    for col in columns.by_role(res, roles.MEASURE, roles.FLAG):
        # the validation report announces these figures with the same rule (destinations)
        if not destinations.aggregated(res, col) or _legacy_code(res, col):
            continue
        source = col.get("source") or col["name"]
        indicator = destinations.indicator_of(res, col)
        by_key[normalise_header(source)] = col
        if indicator is not None:
            by_key.setdefault(indicator.id, col)
        result.append(_series(res, kind, col, _statistic(col, kind), indicator))
    for num, den, label, unit in ind_mod.RATIOS:
        if num in by_key and den in by_key and columns.role_of(by_key[den]) == roles.MEASURE:
            x, y = by_key[num], by_key[den]
            indicator = destinations.indicator_of(res, x)
            series = _series(res, kind, x, "ratio", indicator)
            series.cle = f"{_series_key(res, x, indicator)}/{normalise_header(y.get('source') or y['name'])}"
            series.y_column, series.y_type = y["name"], y["type"]
            series.sources[0].update(y_column=y["name"], y_type=y["type"])
            series.label, series.unit = label, unit
            series.colonne = f"{x.get('source') or x['name']} / {y.get('source') or y['name']}"
            series.indicateur = num if indicator is None else indicator.id
            result.append(series)
    return result


def _statistic(col: dict[str, Any], kind: str) -> str:
    """The statistic of a measure or a flag: the column model's aggregation, else a flag's share,
    a mean per establishment, a sum over communes."""
    if columns.role_of(col) == roles.FLAG:
        aggregation = "share"
    else:
        aggregation = col.get("aggregation") if col.get("aggregation") in ("sum", "mean") else \
            ("mean" if kind == "uai" else "sum")
    return ind_mod.STATISTIC_OF[(aggregation, kind)]


def _series(res: dict[str, Any], kind: str, col: dict[str, Any], statistic: str,
            indicator: Optional[axes_mod.Indicator]) -> Series:
    source = col.get("source") or col["name"]
    axe = indicator.axe if indicator is not None else (res.get("axe") or "etablissements")
    period = columns.period_of(res) or {}
    return Series(
        serie="", key_kind=kind, resource_id=res["resource_id"],
        package_id=res["package_id"], package_name=res["package_name"], package_title=res["package_title"],
        organization=res.get("organization_title"), millesime=res.get("millesime"), axe=axe,
        indicateur=indicator.id if indicator is not None else None,
        label=(indicator.label if indicator is not None else (col.get("label") or source)),
        unit=(indicator.unit if indicator is not None else col.get("unit")),
        statistique=statistic, table_name=res["table_name"], x_column=col["name"], x_type=col["type"],
        colonne=source,
        seuil=ind_mod.THRESHOLDS.get(indicator.id) if indicator is not None else None,
        cle=_series_key(res, col, indicator),
        periode_libelle=(period.get("label") or columns.PERIOD_KIND_LABELS.get(period.get("kind") or "")) or None,
        sources=[_source(res, col)],
    )


def _series_key(res: dict[str, Any], col: dict[str, Any], indicator: Optional[axes_mod.Indicator]) -> str:
    """The identity of a measure across resources (``columns.series_key``): the axis indicator
    it feeds — declared, or an axis Table Schema field of the same name —, else its dataset and
    column."""
    if indicator is not None and not col.get("indicator"):
        return columns.series_key(res, {**col, "indicator": indicator.id})
    return columns.series_key(res, col)


def _source(res: dict[str, Any], col: dict[str, Any]) -> dict[str, Any]:
    period = columns.period_of(res) if columns.has_period_columns(res) else None
    fixed = columns.millesime_period(res.get("millesime"))
    return {
        "resource_id": res["resource_id"], "table_name": res["table_name"], "x_column": col["name"],
        "x_type": col["type"], "y_column": None, "y_type": None, "package_id": res["package_id"],
        "package_name": res["package_name"], "package_title": res["package_title"],
        "resource_name": res.get("resource_name"),
        "organization": res.get("organization_title"), "millesime": res.get("millesime"),
        "loaded_at": res.get("loaded_at"),
        # rows carry their period (_periode) or the resource's millésime is the period
        "period_column": bool(period),
        "orderable": bool(period.get("orderable", True)) if period else True,
        "reason": period.get("reason") if period else None,
        "fixed_label": None if period else (fixed.label if fixed else (res.get("millesime") or "")),
        "fixed_order": None if period or fixed is None else fixed.order,
        "periodes": [], "k": 0,
    }


def _add_source(series: Series, other: Series) -> None:
    """`other` (a later load) is one more source of `series` and becomes its primary one."""
    series.sources.extend(other.sources)
    for name in ("resource_id", "package_id", "package_name", "package_title", "organization", "millesime",
                 "table_name", "x_column", "x_type", "y_column", "y_type", "colonne"):
        setattr(series, name, getattr(other, name))
    if other.indicateur is None:
        series.label, series.unit = other.label, other.unit
    series.periode_libelle = series.periode_libelle or other.periode_libelle


def _name_series(found: list[Series]) -> None:
    """Each series' id: its key (``ind:wifi``, ``col:<dataset>:ips``), made unique when one key
    has two statistics or two key kinds."""
    used: set[str] = set()
    for series in found:
        name = series.cle
        if name in used:
            name = f"{series.cle}~{series.key_kind}~{series.statistique}"
        used.add(name)
        series.serie = name


def _num(column: Optional[str], kind: Optional[str]) -> str:
    """The column as a double precision. Measures are stored as numbers and flags as booleans
    by the column model; any other stored type (tables loaded before it) goes through the
    guarded cast of the establishment pages (a text value such as "douze" counts as no value
    instead of failing the refresh)."""
    if not column:
        return "NULL::double precision"
    return number_sql(f'"{column}"', kind)


# A row "has a value" for a series: x known, and y known for a ratio.
_BOTH = "(x IS NOT NULL AND (NOT r OR y IS NOT NULL))"
_VALUE = (f"CASE min(st) WHEN 'ratio' THEN sum(x) FILTER (WHERE {_BOTH}) / nullif(sum(y) FILTER (WHERE {_BOTH}), 0) "
          f"WHEN 'somme' THEN sum(x) FILTER (WHERE {_BOTH}) ELSE avg(x) FILTER (WHERE {_BOTH}) END")
# The values of the series being aggregated: one row per series, key and period.
VALUES_TABLE = "ecarto_serie_valeurs"


def _groups(found: list[Series]) -> list[list[Series]]:
    """Series read from the same resources (in the same order) share one pass over them."""
    groups: dict[tuple[str, ...], list[Series]] = {}
    for series in found:
        groups.setdefault(tuple(s["resource_id"] for s in series.sources), []).append(series)
    return list(groups.values())


def _aggregate_group(conn: Connection, group: list[Series]) -> list[Series]:
    """Insert the aggregates of series read from the same resources, per period. Returns the
    series that have at least one value, with their periods and per-source coverage."""
    _fill_values(conn, group)
    metas = [(s.serie, s.statistique, s.y_column is not None, s.seuil) for s in group]
    if group[0].key_kind == "uai":
        _aggregate_uai(conn, metas)
    else:
        _aggregate_communes(conn, metas)
    kept = _describe_periods(conn, group)
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {VALUES_TABLE}"))
    return kept


def _source_select(group: list[Series], j: int, params: dict[str, Any]) -> str:
    """The rows of the group's source `j`: key, period label and order, row, the series' x and y."""
    src = group[0].sources[j]
    if src["period_column"]:
        label, order = f"coalesce({columns.PERIOD_COLUMN}, '')", columns.PERIOD_ORDER_COLUMN
    else:
        params[f"pl{j}"], params[f"po{j}"] = src["fixed_label"] or "", src["fixed_order"]
        label, order = f"CAST(:pl{j} AS text)", f"CAST(:po{j} AS integer)"
    cols = []
    for i, series in enumerate(group):
        s = series.sources[j]
        cols.append(f"{_num(s['x_column'], s['x_type'])} AS x{i}, {_num(s['y_column'], s['y_type'])} AS y{i}")
    return (f"SELECT _key, {label} AS periode, {order} AS periode_ordre, {j} AS src, _row, "
            f"{', '.join(cols)} FROM {src['table_name']}")


def _fill_values(conn: Connection, group: list[Series]) -> None:
    """The temporary table of the group's values: for each series, key and period, the value of
    the latest loaded source that has one (its latest row)."""
    params: dict[str, Any] = {}
    union = " UNION ALL ".join(_source_select(group, j, params) for j in range(len(group[0].sources)))
    lateral = []
    for i, series in enumerate(group):
        lateral.append(f"(:s{i}, CAST(:r{i} AS boolean), x{i}, y{i})")
        params[f"s{i}"], params[f"r{i}"] = series.serie, series.y_column is not None
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {VALUES_TABLE}"))
    conn.execute(sa.text(f"""
        CREATE TEMPORARY TABLE {VALUES_TABLE} ON COMMIT DROP AS
        SELECT DISTINCT ON (sv.serie, w._key, w.periode)
               sv.serie, w._key, w.periode, w.periode_ordre, w.src, sv.r, sv.x, sv.y
        FROM ({union}) w
        CROSS JOIN LATERAL (VALUES {', '.join(lateral)}) AS sv(serie, r, x, y)
        ORDER BY sv.serie, w._key, w.periode, (sv.x IS NULL OR (sv.r AND sv.y IS NULL)), w.src DESC, w._row DESC"""),
                 params)
    conn.execute(sa.text(f"CREATE INDEX ON {VALUES_TABLE} (_key, serie, periode)"))
    conn.execute(sa.text(f"ANALYZE {VALUES_TABLE}"))


def _meta_values(metas: list[tuple[str, str, bool, Optional[float]]]) -> tuple[str, dict[str, Any]]:
    rows, params = [], {}
    for i, (serie, statistic, ratio, threshold) in enumerate(metas):
        rows.append(f"(:s{i}, CAST(:st{i} AS text), CAST(:r{i} AS boolean), CAST(:t{i} AS double precision))")
        params.update({f"s{i}": serie, f"st{i}": statistic, f"r{i}": ratio, f"t{i}": threshold})
    return ", ".join(rows), params


# Each period's order (one label, one order; NULL when the periods cannot be ordered).
_PERIODS = f"SELECT serie, periode, max(periode_ordre) AS periode_ordre FROM {VALUES_TABLE} GROUP BY serie, periode"


# The breakdowns of a UAI-keyed series, computed in one pass by GROUPING SETS: every level of
# the territory chain (France, région, académie, département, commune) × every dimension
# (ensemble, type, lycée kind, sector, REP); communes get the ensemble and the types only.
_GROUPED = ("region_code", "academie_code", "departement_code", "commune_code", "type", "lycee_kind", "secteur", "ep")
_GROUPING = f"GROUPING({', '.join(_GROUPED)})"
_DIMS = ((None, "'ensemble'"), ("type", "'type:' || type"), ("lycee_kind", "'lycee:' || lycee_kind"),
         ("secteur", "'secteur:' || secteur"), ("ep", "'ep:' || ep"))


def _grouping_combinations() -> list[tuple[int, str, str, str]]:
    """(GROUPING() mask, niveau, code expression, dim expression) of each grouping set."""
    found = []
    for level, column in _LEVEL_COLUMNS:
        for dim_column, dim_sql in _DIMS:
            if level == "commune" and dim_column not in (None, "type"):
                continue
            grouped = {c for c in (column, dim_column) if c}
            mask = sum(1 << (len(_GROUPED) - 1 - i) for i, c in enumerate(_GROUPED) if c not in grouped)
            found.append((mask, level, column or "''", dim_sql))
    return found


def _grouping_sets() -> str:
    sets = []
    for level, column in _LEVEL_COLUMNS:
        for dim_column, _sql in _DIMS:
            if level == "commune" and dim_column not in (None, "type"):
                continue
            sets.append("(" + ", ".join(c for c in (column, dim_column) if c) + ")")
    return ", ".join(sets)


def _grouping_case(what: str) -> str:
    index = {"niveau": 1, "code": 2, "dim": 3}[what]
    whens = " ".join(f"WHEN {combo[0]} THEN {repr(combo[1]) if what == 'niveau' else combo[index]}"
                     for combo in _grouping_combinations())
    return f"(CASE gb {whens} END)"



def _aggregate_uai(conn: Connection, metas: list[tuple[str, str, bool, Optional[float]]]) -> None:
    """Means (or sums, shares) over the establishments of the series' universe, per period: the
    types and sectors of the establishments that have a value in that period."""
    meta, params = _meta_values(metas)
    conn.execute(sa.text(f"""
        WITH m AS (SELECT * FROM (VALUES {meta}) AS m(serie, st, r, seuil)),
        po AS ({_PERIODS}),
        uni AS (
            SELECT DISTINCT s.serie, s.periode, e.type, coalesce(e.secteur, '?') AS secteur
            FROM {VALUES_TABLE} s JOIN {t('territoire_etablissement__new')} e ON e.uai = s._key
            WHERE s.x IS NOT NULL AND (NOT s.r OR s.y IS NOT NULL) AND e.type <> 'autre'),
        u AS (
            SELECT e.type, e.lycee_kind, e.secteur, e.ep, e.eleves, e.region_code, e.academie_code,
                   e.departement_code, e.commune_code, m.serie, po.periode, po.periode_ordre,
                   m.st, m.r, m.seuil, s.x, s.y
            FROM uni JOIN m ON m.serie = uni.serie
            JOIN po ON po.serie = uni.serie AND po.periode = uni.periode
            JOIN {t('territoire_etablissement__new')} e
                 ON e.type = uni.type AND coalesce(e.secteur, '?') = uni.secteur
            LEFT JOIN {VALUES_TABLE} s ON s._key = e.uai AND s.serie = uni.serie AND s.periode = uni.periode),
        g AS (
            SELECT serie, periode, periode_ordre, {_GROUPING} AS gb, {', '.join(_GROUPED)},
                   count(*) AS n, count(*) FILTER (WHERE {_BOTH}) AS k, {_VALUE} AS valeur,
                   sum(x) FILTER (WHERE {_BOTH}) AS somme, count(*) FILTER (WHERE {_BOTH} AND x > 0) AS n_positif,
                   CASE WHEN min(seuil) IS NULL THEN NULL ELSE count(*) FILTER (WHERE {_BOTH} AND x > seuil) END
                       AS n_seuil,
                   sum(eleves) FILTER (WHERE {_BOTH} AND eleves IS NOT NULL) AS eleves,
                   sum(x) FILTER (WHERE {_BOTH} AND eleves IS NOT NULL) AS somme_e
            FROM u GROUP BY serie, periode, periode_ordre, GROUPING SETS ({_grouping_sets()})),
        l AS (SELECT g.*, {_grouping_case('niveau')} AS niveau, {_grouping_case('code')} AS code,
                     {_grouping_case('dim')} AS dim FROM g)
        INSERT INTO {t('territoire_agregat__new')}
            (serie, periode, periode_ordre, niveau, code, dim, n, k, valeur, somme, n_positif, n_seuil,
             eleves, somme_e)
        SELECT serie, periode, periode_ordre, niveau, code, dim, n, k, valeur, somme, n_positif, n_seuil,
               eleves, somme_e
        FROM l WHERE code IS NOT NULL AND dim IS NOT NULL"""), params)


def _aggregate_communes(conn: Connection, metas: list[tuple[str, str, bool, Optional[float]]]) -> None:
    """Sums (or means, shares) over the communes with a row, per period; ``n`` is the number of
    communes of the territory in the referential (plus codes of the data it does not know, e.g.
    communes merged since)."""
    meta, params = _meta_values(metas)
    conn.execute(sa.text(f"""
        WITH m AS (SELECT * FROM (VALUES {meta}) AS m(serie, st, r, seuil)),
        po AS ({_PERIODS}),
        j AS (
            SELECT s.serie, s.periode, po.periode_ordre, m.st, m.r, s._key AS commune_code, s.x, s.y,
                   c.code IS NULL AS extra,
                   coalesce(c.departement_code, CASE WHEN s._key LIKE '97%' THEN left(s._key, 3)
                                                     ELSE left(s._key, 2) END) AS departement_code
            FROM {VALUES_TABLE} s JOIN m ON m.serie = s.serie
            JOIN po ON po.serie = s.serie AND po.periode = s.periode
            LEFT JOIN {t('territoire_commune__new')} c ON c.code = s._key),
        u AS (SELECT j.*, d.academie_code, d.region_code FROM j
              LEFT JOIN {t('territoire_departement__new')} d ON d.code = j.departement_code),
        l AS (SELECT u.*, lv.niveau, lv.code FROM u
              CROSS JOIN LATERAL (VALUES {_levels_sql('u')}) AS lv(niveau, code)
              WHERE lv.code IS NOT NULL),
        a AS (
            SELECT serie, periode, niveau, code, count(*) FILTER (WHERE extra) AS n_extra, count(*) AS n_rows,
                   count(*) FILTER (WHERE {_BOTH}) AS k, {_VALUE} AS valeur,
                   sum(x) FILTER (WHERE {_BOTH}) AS somme, count(*) FILTER (WHERE {_BOTH} AND x > 0) AS n_positif
            FROM l GROUP BY serie, periode, niveau, code),
        c AS (SELECT lv.niveau, lv.code
              FROM (SELECT code AS commune_code, departement_code, academie_code, region_code
                    FROM {t('territoire_commune__new')}) u
              CROSS JOIN LATERAL (VALUES {_levels_sql('u')}) AS lv(niveau, code)
              WHERE lv.code IS NOT NULL AND lv.niveau <> 'commune'),
        nc AS (SELECT niveau, code, count(*) AS n FROM c GROUP BY niveau, code),
        g AS (SELECT po.serie, po.periode, nc.niveau, nc.code, nc.n FROM po CROSS JOIN nc)
        INSERT INTO {t('territoire_agregat__new')}
            (serie, periode, periode_ordre, niveau, code, dim, n, k, valeur, somme, n_positif)
        SELECT coalesce(g.serie, a.serie), coalesce(g.periode, a.periode), po.periode_ordre,
               coalesce(g.niveau, a.niveau), coalesce(g.code, a.code), 'ensemble',
               CASE WHEN g.n IS NULL THEN a.n_rows ELSE g.n + coalesce(a.n_extra, 0) END,
               coalesce(a.k, 0), a.valeur, a.somme, coalesce(a.n_positif, 0)
        FROM g FULL JOIN a ON a.serie = g.serie AND a.periode = g.periode AND a.niveau = g.niveau
                              AND a.code = g.code
        JOIN po ON po.serie = coalesce(g.serie, a.serie) AND po.periode = coalesce(g.periode, a.periode)
        WHERE g.serie IS NOT NULL OR a.k > 0"""), params)


def _describe_periods(conn: Connection, group: list[Series]) -> list[Series]:
    """Each series' periods (oldest first, with France's n and k), its current period (the
    latest one; none when they cannot be ordered) and the coverage of each source. Returns the
    series with at least one value."""
    by_name = {s.serie: s for s in group}
    rows = conn.execute(sa.text(f"""
        SELECT serie, periode, periode_ordre, n, k FROM {t('territoire_agregat__new')}
        WHERE niveau = 'france' AND dim = 'ensemble' AND serie = ANY(CAST(:series AS text[]))
        ORDER BY serie, periode_ordre NULLS LAST, periode"""), {"series": list(by_name)}).mappings()
    for row in rows:
        by_name[row["serie"]].periodes.append({"periode": row["periode"] or None, "ordre": row["periode_ordre"],
                                               "n": row["n"], "k": row["k"]})
    known = f"JOIN {t('territoire_etablissement__new')} e ON e.uai = s._key" if group[0].key_kind == "uai" else ""
    for serie, src, periode, k in conn.execute(sa.text(f"""
            SELECT s.serie, s.src, s.periode, count(*) FROM {VALUES_TABLE} s {known}
            WHERE s.x IS NOT NULL AND (NOT s.r OR s.y IS NOT NULL)
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")):
        source = by_name[serie].sources[src]
        source["k"] = max(source["k"], int(k))
        if periode:
            source["periodes"].append(periode)
    kept = []
    for series in group:
        series.periodes = [p for p in series.periodes if p["k"]] or series.periodes
        if not any(p["k"] for p in series.periodes):
            continue
        _current_period(series)
        kept.append(series)
    return kept


def _current_period(series: Series) -> None:
    ordered = [p for p in series.periodes if p["ordre"] is not None]
    if ordered:
        series.periode_courante = ordered[-1]["periode"] or ""
    elif len(series.periodes) == 1 and all(s["orderable"] for s in series.sources):
        series.periode_courante = series.periodes[0]["periode"] or ""      # one period, named or not
    else:
        series.periode_courante = None
        reasons = [s["reason"] for s in series.sources if s.get("reason")]
        series.periode_raison = reasons[0] if reasons else \
            _("Les périodes de cette série ne peuvent pas être ordonnées : aucune valeur n'est la plus récente.")


# --------------------------------------------------------------------------- reading

def series(conn: Connection) -> list[Series]:
    if not tables_exist(conn):
        return []
    rows = conn.execute(sa.text(f"SELECT data FROM {t('territoire_serie')} ORDER BY ordre")).scalars()
    return [Series(**(json.loads(r) if isinstance(r, str) else r)) for r in rows]


def _territories_filter(keys: list[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    """A WHERE clause matching the territories `keys` [(niveau, code)], with its bound parameters."""
    clauses = " OR ".join(f"(niveau = :n{i} AND code = :c{i})" for i in range(len(keys)))
    params: dict[str, Any] = {}
    for i, (level, code) in enumerate(keys):
        params[f"n{i}"], params[f"c{i}"] = level, code
    return clauses, params


def values(conn: Connection, keys: list[tuple[str, str]], serie: Optional[str] = None) -> list[dict[str, Any]]:
    """Aggregate rows of the territories `keys` [(niveau, code)] (all series, or one)."""
    if not keys or not tables_exist(conn):
        return []
    clauses, params = _territories_filter(keys)
    where_serie = ""
    if serie:
        where_serie, params["serie"] = "AND serie = :serie", serie
    sql = sa.text(f"SELECT * FROM {t('territoire_agregat')} WHERE ({clauses}) {where_serie}")
    return [dict(r) for r in conn.execute(sql, params).mappings()]


def children_values(conn: Connection, serie: str, level: str, codes: list[str], dim: str = "ensemble",
                    periode: str = "") -> list[dict[str, Any]]:
    """Aggregate rows of one series for the territories `codes` of `level`, in one period (its
    label; "" for a series whose period is not named)."""
    if not codes or not tables_exist(conn):
        return []
    sql = sa.text(f"""SELECT code, periode, periode_ordre, n, k, valeur, somme, n_positif, n_seuil, eleves, somme_e
                      FROM {t('territoire_agregat')}
                      WHERE serie = :serie AND niveau = :level AND dim = :dim AND periode = :periode
                        AND code = ANY(CAST(:codes AS text[]))""")
    return [dict(r) for r in conn.execute(sql, {"serie": serie, "level": level, "dim": dim, "codes": codes,
                                                "periode": periode or ""}).mappings()]


def counts(conn: Connection, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    if not keys or not tables_exist(conn):
        return []
    clauses, params = _territories_filter(keys)
    return [dict(r) for r in conn.execute(sa.text(
        f"SELECT * FROM {t('territoire_effectif')} WHERE {clauses}"), params).mappings()]


def children_counts(conn: Connection, level: str, codes: list[str]) -> dict[str, int]:
    """Schools, collèges and lycées per child territory."""
    if not codes or not tables_exist(conn):
        return {}
    rows = conn.execute(sa.text(f"""SELECT code, sum(n) FROM {t('territoire_effectif')}
        WHERE niveau = :level AND code = ANY(CAST(:codes AS text[])) AND type <> 'autre' GROUP BY code"""),
                        {"level": level, "codes": codes})
    return {code: int(n) for code, n in rows}


def establishments(conn: Connection, level: str, code: str, limit: int = 20000) -> list[dict[str, Any]]:
    """Located establishments of a département or a commune (public directories)."""
    if level not in ("departement", "commune") or not tables_exist(conn):
        return []
    column = "departement_code" if level == "departement" else "commune_code"
    sql = sa.text(f"""SELECT uai, nom, type, lycee_kind, secteur, ep, commune_code, commune_nom, latitude, longitude
                      FROM {t('territoire_etablissement')}
                      WHERE {column} = :code AND latitude IS NOT NULL AND longitude IS NOT NULL
                      ORDER BY uai LIMIT :limit""")
    return [dict(r) for r in conn.execute(sql, {"code": code, "limit": limit}).mappings()]


def located_values(conn: Connection, data_table: str, column: Optional[str],
                   limit: int = 30_000) -> list[dict[str, Any]]:
    """The located (public directory) establishments of an ingested UAI-keyed table
    (`data_table`, qualified) with the value of its column `column` (SQL name; None: no value),
    the table's latest row per UAI (latest period, then last row). Empty before the aggregates
    first exist."""
    if not tables_exist(conn):
        return []
    value_sql = f'v."{column}"' if column else "NULL"
    latest = columns.LATEST_ORDER if _has_period_columns(conn, data_table) else "_row DESC"
    sql = sa.text(f"""
        WITH v AS (SELECT DISTINCT ON (_key) * FROM {data_table} ORDER BY _key, {latest})
        SELECT e.uai, e.nom, e.type, e.latitude, e.longitude, {value_sql} AS valeur
        FROM v JOIN {t('territoire_etablissement')} e ON e.uai = v._key
        WHERE e.latitude IS NOT NULL AND e.longitude IS NOT NULL
        ORDER BY e.uai LIMIT :limit""")
    return [dict(r) for r in conn.execute(sql, {"limit": limit}).mappings()]


def _has_period_columns(conn: Connection, data_table: str) -> bool:
    """Whether an ingested table (qualified name) has ``_periode_ordre`` (tables loaded with the
    column model; not those loaded before it)."""
    return bool(conn.execute(sa.text("""
        SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = :c
                       AND NOT attisdropped)"""), {"t": data_table, "c": columns.PERIOD_ORDER_COLUMN}).scalar())


def refreshed_at(conn: Connection) -> Optional[Any]:
    if not conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": t("territoire_etat")}).scalar():
        return None
    return conn.execute(sa.text(f"SELECT refreshed_at FROM {t('territoire_etat')} WHERE id = 1")).scalar()
