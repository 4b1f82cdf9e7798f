"""Per-territory aggregates, computed in PostgreSQL from the public data only.

Tables (schema of the ingested tables, ``ckanext.ecarto.ingest_schema``, default ``ecarto_data``):

- ``territoire_etablissement``: one row per open establishment of a **public** directory (best
  source per UAI, as on the establishment pages), with its commune, département, and the
  académie and région of the referential (``referentiel/territories.py``);
- ``territoire_commune`` / ``territoire_departement``: the referential's attachments;
- ``territoire_serie``: the series (see ``indicators``) and their source;
- ``territoire_agregat``: per series × territory × breakdown: ``n`` (universe), ``k`` (with a
  value), ``valeur`` and the sums the pages derive other figures from;
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

from ckanext.ecarto import pgcopy
from ckanext.ecarto.core import access, tables
from ckanext.ecarto.ingest import registry
from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.etablissements.identity import normalise_header
from ckanext.ecarto.etablissements.references import number_sql
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import indicators as ind_mod
from ckanext.ecarto.territoires.indicators import Series

log = logging.getLogger(__name__)

# Bump when the tables' content changes meaning: the next request recomputes them.
AGGREGATES_VERSION = "1"
LOCK_KEY = "ecarto_territoires_refresh"
NUMERIC_TYPES = {"integer", "number", "boolean"}
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
    Returns True when they are (now) up to date; False when another process is refreshing them
    (then the previous tables are served meanwhile, when they exist)."""
    engine = _engine(engine)
    with engine.connect() as conn:
        stored = stored_version(conn)
        if stored == current_version(conn):
            return True
    return refresh(engine, wait=wait or stored is None)


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
        serie text NOT NULL, niveau text NOT NULL, code text NOT NULL, dim text NOT NULL,
        n integer NOT NULL, k integer NOT NULL, valeur double precision, somme double precision,
        n_positif integer, n_seuil integer, eleves double precision, somme_e double precision)"""))
    groups: dict[str, list[Series]] = {}
    # establishment-level series first (axis indicators, then others), then commune ratios, sums
    ranked = sorted(discover_series(conn), key=lambda s: (
        s.key_kind != "uai", s.indicateur is None, s.statistique not in ("ratio", "part", "part_communes")))
    for series in ranked:
        groups.setdefault(series.resource_id, []).append(series)
    order = 0
    for group in groups.values():
        for series in _aggregate_resource(conn, group):
            conn.execute(sa.text(f"INSERT INTO {t('territoire_serie__new')} (serie, ordre, data) "
                                 f"VALUES (:s, :o, CAST(:d AS jsonb))"),
                         {"s": series.serie, "o": order, "d": json.dumps(series.__dict__)})
            order += 1
    for name in _TABLES:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {t(name)}"))
        conn.execute(sa.text(f"ALTER TABLE {t(name + '__new')} RENAME TO {name}"))
    _index(conn)


def _index(conn: Connection) -> None:
    statements = (
        "CREATE UNIQUE INDEX territoire_agregat_pk ON {s}.territoire_agregat (serie, niveau, dim, code)",
        "CREATE INDEX territoire_agregat_territoire ON {s}.territoire_agregat (niveau, code)",
        "CREATE INDEX territoire_effectif_territoire ON {s}.territoire_effectif (niveau, code)",
        "CREATE INDEX territoire_etablissement_dep ON {s}.territoire_etablissement (departement_code)",
        "CREATE INDEX territoire_etablissement_commune ON {s}.territoire_etablissement (commune_code)",
    )
    for statement in statements:
        conn.execute(sa.text(statement.format(s=f'"{schema()}"')))
    for name in ("territoire_agregat", "territoire_effectif", "territoire_etablissement"):
        conn.execute(sa.text(f"ANALYZE {t(name)}"))


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
    """Best public directory row per UAI (same order as the establishment pages: a trusted
    directory's row whenever one knows the UAI), open ones."""
    trusted, trust_params = directory.trusted_sql(conn, "p")
    conn.execute(sa.text(f"""
        CREATE TABLE {t('territoire_etablissement__new')} AS
        WITH best AS (
            SELECT DISTINCT ON (s.uai) s.uai, s.nom, s.type, s.lycee_kind, s.secteur,
                   coalesce(s.education_prioritaire, 'hors') AS ep, s.eleves, s.latitude, s.longitude,
                   s.commune_code, s.commune_nom, coalesce(s.departement_code, c.departement_code) AS departement_code,
                   s.etat
            FROM {directory.table_name()} s
            JOIN package p ON p.id = s.package_id
            JOIN resource res ON res.id = s.resource_id AND res.state = 'active'
            LEFT JOIN {t('territoire_commune__new')} c ON c.code = s.commune_code
            WHERE {access.readable_packages_sql('p')}
            ORDER BY s.uai, {directory.best_order(trusted)}, p.metadata_modified DESC,
                     s.type DESC, s.resource_id)  -- a cité scolaire (one UAI, two rows) counts as its lycée
        SELECT b.uai, b.nom, b.type, b.lycee_kind, b.secteur, b.ep, b.eleves, b.latitude, b.longitude,
               b.commune_code, b.commune_nom, b.departement_code, d.academie_code, d.region_code
        FROM best b LEFT JOIN {t('territoire_departement__new')} d ON d.code = b.departement_code
        WHERE b.etat IS NULL OR upper(b.etat) LIKE 'OUVERT%'"""), {**trust_params, **access.reader_params(access.ANONYMOUS)})
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
    """Every series of the public ingested resources (see ``indicators``)."""
    directory_resources = directory.resource_ids(conn)
    found: list[Series] = []
    for kind in ("uai", "commune"):
        for res in _public_resources(conn, kind):
            if kind == "uai" and res["resource_id"] in directory_resources:
                continue
            if kind == "commune" and _several_rows_per_key(conn, res["table_name"]):
                continue  # long tables (one row per commune and field): no safe sum
            found.extend(_series_of(res, kind))
    return found


def _several_rows_per_key(conn: Connection, table: str) -> bool:
    return bool(conn.execute(sa.text(f"SELECT count(*) > count(DISTINCT _key) FROM {table}")).scalar())


def _series_of(res: dict[str, Any], kind: str) -> list[Series]:
    result: list[Series] = []
    columns = [c for c in res["columns"]
               if not c["name"].startswith("_") and c.get("type") in NUMERIC_TYPES
               and c.get("source") != res.get("key_column")]
    by_key: dict[str, dict[str, Any]] = {}
    for col in columns:
        source = col.get("source") or col["name"]
        if normalise_header(source) in axes_mod.KEY_FIELDS or ind_mod.is_code_column(source):
            continue
        indicator = axes_mod.indicator_for_column(res.get("axe"), source, col.get("indicator"))
        by_key[normalise_header(source)] = col
        if indicator is not None:
            by_key.setdefault(indicator.id, col)
        if col["type"] == "boolean":
            statistic = "part" if kind == "uai" else "part_communes"
        else:
            statistic = "moyenne" if kind == "uai" else "somme"
        result.append(_series(res, kind, col, statistic, indicator))
    for num, den, label, unit in ind_mod.RATIOS:
        if num in by_key and den in by_key and by_key[den]["type"] != "boolean":
            x, y = by_key[num], by_key[den]
            indicator = axes_mod.indicator_for_column(res.get("axe"), x.get("source") or x["name"], x.get("indicator"))
            series = _series(res, kind, x, "ratio", indicator)
            series.serie = f"{res['resource_id']}:{x['name']}/{y['name']}"
            series.y_column, series.y_type = y["name"], y["type"]
            series.label, series.unit = label, unit
            series.colonne = f"{x.get('source') or x['name']} / {y.get('source') or y['name']}"
            series.indicateur = num if indicator is None else indicator.id
            result.append(series)
    return result


def _series(res: dict[str, Any], kind: str, col: dict[str, Any], statistic: str,
            indicator: Optional[axes_mod.Indicator]) -> Series:
    source = col.get("source") or col["name"]
    axe = indicator.axe if indicator is not None else (res.get("axe") or "etablissements")
    return Series(
        serie=f"{res['resource_id']}:{col['name']}", key_kind=kind, resource_id=res["resource_id"],
        package_id=res["package_id"], package_name=res["package_name"], package_title=res["package_title"],
        organization=res.get("organization_title"), millesime=res.get("millesime"), axe=axe,
        indicateur=indicator.id if indicator is not None else None,
        label=(indicator.label if indicator is not None else (col.get("label") or source)),
        unit=(indicator.unit if indicator is not None else col.get("unit")),
        statistique=statistic, table_name=res["table_name"], x_column=col["name"], x_type=col["type"],
        colonne=source,
        seuil=ind_mod.THRESHOLDS.get(indicator.id) if indicator is not None else None,
    )


def _num(column: Optional[str], kind: Optional[str]) -> str:
    """The column as a double precision. Series only take columns stored as numbers or
    booleans; any other stored type goes through the guarded cast of the establishment pages
    (a text value such as "douze" counts as no value instead of failing the refresh)."""
    if not column:
        return "NULL::double precision"
    return number_sql(f'"{column}"', kind)


# A row "has a value" for a series: x known, and y known for a ratio.
_BOTH = "(x IS NOT NULL AND (NOT r OR y IS NOT NULL))"
_VALUE = (f"CASE min(st) WHEN 'ratio' THEN sum(x) FILTER (WHERE {_BOTH}) / nullif(sum(y) FILTER (WHERE {_BOTH}), 0) "
          f"WHEN 'somme' THEN sum(x) FILTER (WHERE {_BOTH}) ELSE avg(x) FILTER (WHERE {_BOTH}) END")


def _aggregate_resource(conn: Connection, group: list[Series]) -> list[Series]:
    """Insert the aggregates of the series of one resource (one pass over its table).
    Returns the series that have at least one value."""
    table = group[0].table_name
    params: dict[str, Any] = {}
    cols, lateral = [], []
    for i, series in enumerate(group):
        cols.append(f"{_num(series.x_column, series.x_type)} AS x{i}, {_num(series.y_column, series.y_type)} AS y{i}")
        lateral.append(f"(:s{i}, x{i}, y{i})")
        params[f"s{i}"] = series.serie
        params[f"st{i}"] = series.statistique
        params[f"r{i}"] = series.y_column is not None
        params[f"t{i}"] = series.seuil
    if group[0].key_kind == "uai":
        values = f"SELECT DISTINCT ON (_key) _key, {', '.join(cols)} FROM {table} ORDER BY _key, _row DESC"
    else:
        values = f"SELECT _key, {', '.join(cols)} FROM {table}"
    long = f"""SELECT v._key, sv.serie, sv.x, sv.y FROM v
               CROSS JOIN LATERAL (VALUES {', '.join(lateral)}) AS sv(serie, x, y)"""
    if group[0].key_kind == "uai":
        kept = _aggregate_uai(conn, group, values, long, params)
    else:
        kept = _aggregate_communes(conn, group, values, long, params)
    return [s for s in group if s.serie in kept]


def _meta_values(group: list[Series], with_universe: bool) -> str:
    rows = []
    for i, _series in enumerate(group):
        universe = f", CAST(:u{i} AS text[])" if with_universe else ""
        rows.append(f"(:s{i}, CAST(:st{i} AS text), CAST(:r{i} AS boolean), CAST(:t{i} AS double precision){universe})")
    return ", ".join(rows)


def _aggregate_uai(conn: Connection, group: list[Series], values: str, long: str,
                   params: dict[str, Any]) -> set[str]:
    universes: dict[str, list[str]] = {}
    meta = _meta_values(group, False)
    for serie, kind, sector in conn.execute(sa.text(f"""
            WITH v AS ({values}), s AS ({long}),
            m AS (SELECT * FROM (VALUES {meta}) AS m(serie, st, r, seuil))
            SELECT DISTINCT s.serie, e.type, coalesce(e.secteur, '?')
            FROM s JOIN m ON m.serie = s.serie
            JOIN {t('territoire_etablissement__new')} e ON e.uai = s._key
            WHERE s.x IS NOT NULL AND (NOT m.r OR s.y IS NOT NULL) AND e.type <> 'autre'"""), params):
        universes.setdefault(serie, []).append(f"{kind}|{sector}")
    if not universes:
        return set()
    for i, series in enumerate(group):
        series.universe = sorted(universes.get(series.serie, []))
        params[f"u{i}"] = series.universe
    conn.execute(sa.text(f"""
        WITH v AS ({values}), s AS ({long}),
        m AS (SELECT * FROM (VALUES {_meta_values(group, True)}) AS m(serie, st, r, seuil, universe)),
        u AS (
            SELECT e.type, e.lycee_kind, e.secteur, e.ep, e.eleves, e.region_code, e.academie_code,
                   e.departement_code, e.commune_code, m.serie, m.st, m.r, m.seuil, s.x, s.y
            FROM m JOIN {t('territoire_etablissement__new')} e
                 ON (e.type || '|' || coalesce(e.secteur, '?')) = ANY(m.universe)
            LEFT JOIN s ON s._key = e.uai AND s.serie = m.serie),
        l AS (
            SELECT u.serie, u.st, u.r, u.seuil, u.x, u.y, u.eleves, lv.niveau, lv.code, dm.dim FROM u
            CROSS JOIN LATERAL (VALUES {_levels_sql('u')}) AS lv(niveau, code)
            CROSS JOIN LATERAL unnest(ARRAY[
                'ensemble', 'type:' || u.type,
                CASE WHEN u.lycee_kind IS NOT NULL THEN 'lycee:' || u.lycee_kind END,
                CASE WHEN u.secteur IS NOT NULL THEN 'secteur:' || u.secteur END,
                'ep:' || u.ep]) AS dm(dim)
            WHERE lv.code IS NOT NULL AND dm.dim IS NOT NULL
              AND (lv.niveau <> 'commune' OR dm.dim = 'ensemble' OR dm.dim LIKE 'type:%'))
        INSERT INTO {t('territoire_agregat__new')}
            (serie, niveau, code, dim, n, k, valeur, somme, n_positif, n_seuil, eleves, somme_e)
        SELECT serie, niveau, code, dim, count(*), count(*) FILTER (WHERE {_BOTH}), {_VALUE},
               sum(x) FILTER (WHERE {_BOTH}), count(*) FILTER (WHERE {_BOTH} AND x > 0),
               CASE WHEN min(seuil) IS NULL THEN NULL ELSE count(*) FILTER (WHERE {_BOTH} AND x > seuil) END,
               sum(eleves) FILTER (WHERE {_BOTH} AND eleves IS NOT NULL),
               sum(x) FILTER (WHERE {_BOTH} AND eleves IS NOT NULL)
        FROM l GROUP BY serie, niveau, code, dim"""), params)
    return set(universes)


def _aggregate_communes(conn: Connection, group: list[Series], values: str, long: str,
                        params: dict[str, Any]) -> set[str]:
    """Sums over the communes with a row; ``n`` is the number of communes of the territory in
    the referential (plus codes of the data it does not know, e.g. communes merged since)."""
    rows = conn.execute(sa.text(f"""
        WITH v AS ({values}), s AS ({long}),
        m AS (SELECT * FROM (VALUES {_meta_values(group, False)}) AS m(serie, st, r, seuil)),
        j AS (
            SELECT s.serie, m.st, m.r, s._key AS commune_code, s.x, s.y, c.code IS NULL AS extra,
                   coalesce(c.departement_code, CASE WHEN s._key LIKE '97%' THEN left(s._key, 3)
                                                     ELSE left(s._key, 2) END) AS departement_code
            FROM s JOIN m ON m.serie = s.serie
            LEFT JOIN {t('territoire_commune__new')} c ON c.code = s._key),
        u AS (SELECT j.*, d.academie_code, d.region_code FROM j
              LEFT JOIN {t('territoire_departement__new')} d ON d.code = j.departement_code),
        l AS (SELECT u.*, lv.niveau, lv.code FROM u
              CROSS JOIN LATERAL (VALUES {_levels_sql('u')}) AS lv(niveau, code)
              WHERE lv.code IS NOT NULL),
        a AS (
            SELECT serie, niveau, code, count(*) FILTER (WHERE extra) AS n_extra, count(*) AS n_rows,
                   count(*) FILTER (WHERE {_BOTH}) AS k, {_VALUE} AS valeur,
                   sum(x) FILTER (WHERE {_BOTH}) AS somme, count(*) FILTER (WHERE {_BOTH} AND x > 0) AS n_positif
            FROM l GROUP BY serie, niveau, code),
        c AS (SELECT lv.niveau, lv.code
              FROM (SELECT code AS commune_code, departement_code, academie_code, region_code
                    FROM {t('territoire_commune__new')}) u
              CROSS JOIN LATERAL (VALUES {_levels_sql('u')}) AS lv(niveau, code)
              WHERE lv.code IS NOT NULL AND lv.niveau <> 'commune'),
        nc AS (SELECT niveau, code, count(*) AS n FROM c GROUP BY niveau, code),
        g AS (SELECT m.serie, nc.niveau, nc.code, nc.n FROM m CROSS JOIN nc)
        INSERT INTO {t('territoire_agregat__new')} (serie, niveau, code, dim, n, k, valeur, somme, n_positif)
        SELECT coalesce(g.serie, a.serie), coalesce(g.niveau, a.niveau), coalesce(g.code, a.code), 'ensemble',
               CASE WHEN g.n IS NULL THEN a.n_rows ELSE g.n + coalesce(a.n_extra, 0) END,
               coalesce(a.k, 0), a.valeur, a.somme, coalesce(a.n_positif, 0)
        FROM g FULL JOIN a ON a.serie = g.serie AND a.niveau = g.niveau AND a.code = g.code
        WHERE g.serie IS NOT NULL OR a.k > 0
        RETURNING serie, k"""), params)
    return {serie for serie, k in rows if k}


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


def children_values(conn: Connection, serie: str, level: str, codes: list[str], dim: str = "ensemble") -> list[dict[str, Any]]:
    if not codes or not tables_exist(conn):
        return []
    sql = sa.text(f"""SELECT code, n, k, valeur, somme, n_positif, n_seuil, eleves, somme_e
                      FROM {t('territoire_agregat')}
                      WHERE serie = :serie AND niveau = :level AND dim = :dim AND code = ANY(CAST(:codes AS text[]))""")
    return [dict(r) for r in conn.execute(sql, {"serie": serie, "level": level, "dim": dim, "codes": codes}).mappings()]


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
    the table's last row per UAI. Empty before the aggregates first exist."""
    if not tables_exist(conn):
        return []
    value_sql = f'v."{column}"' if column else "NULL"
    sql = sa.text(f"""
        WITH v AS (SELECT DISTINCT ON (_key) * FROM {data_table} ORDER BY _key, _row DESC)
        SELECT e.uai, e.nom, e.type, e.latitude, e.longitude, {value_sql} AS valeur
        FROM v JOIN {t('territoire_etablissement')} e ON e.uai = v._key
        WHERE e.latitude IS NOT NULL AND e.longitude IS NOT NULL
        ORDER BY e.uai LIMIT :limit""")
    return [dict(r) for r in conn.execute(sql, {"limit": limit}).mappings()]


def refreshed_at(conn: Connection) -> Optional[Any]:
    if not conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": t("territoire_etat")}).scalar():
        return None
    return conn.execute(sa.text(f"SELECT refreshed_at FROM {t('territoire_etat')} WHERE id = 1")).scalar()
