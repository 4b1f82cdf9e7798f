"""The establishment directory: one row per (UAI, source resource), built from every ingested
resource that names and locates establishments (annuaire de l'éducation, géolocalisation…).

It is derived data, like the ingested tables themselves: rebuilt for a resource each time that
resource is ingested, dropped with it. Pages merge the rows of one UAI field by field, the
annuaire first, and only from datasets the visitor may read.

**Identity authority.** Any editor can publish a file that looks like a directory (a UAI, a
name, a commune…), so the public identity of an establishment (name, type, address, position,
website, contacts) is taken only from *trusted* directory sources: datasets of the organizations
listed in ``ckanext.ecarto.identity_organizations`` (default ``menj``, the ministry's directory
datasets) or harvested by the sources of ``ckanext.ecarto.identity_harvest_sources``. Trust is
decided when reading (from the dataset's current organization or harvest source), never stored,
so moving a dataset or changing the settings takes effect at once.

Rows of other publishers stay in the directory, with two uses only:

- when **no trusted source readable by the visitor knows the UAI** (an establishment missing
  from the ministry's files, a new one, a private school a collectivité documents), the page
  still exists: its identity comes from the best untrusted source alone (one dataset, never a
  field-by-field mix of publishers), marked as not verified and labelled with its producer;
- otherwise they never fill nor override a field of the identity: their columns show under their
  own source block (« Autres données ») like any other UAI-keyed data.

A statistics file that also names and locates establishments (effectifs with ``nom``,
``adresse``, ``code_postal`` per establishment and rentrée) feeds the directory like any other
under these rules, with **one row per (UAI, resource)**: its latest period's row (``_periode``,
whatever the order of the file); the identity lists each resource once (``one_per_resource``);
and the page shows its measures and flags like any other data, never its identity columns
(``identity_column_names``).

This is what a public portal of the French administration is expected to do: the ministry's
directory (Répertoire national des établissements, published in the Annuaire de l'éducation) is
the reference for who a school is; other producers add data about it, they do not rename it.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterable, Optional

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto import pgcopy
from ckanext.ecarto.core import access, tables
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import identity
from ckanext.ecarto.ingest import columns as colmodel
from ckanext.ecarto.ingest.keys import UAI
from ckanext.ecarto.ingest.report import IngestReport

log = logging.getLogger(__name__)

TABLE = tables.DIRECTORY_TABLE

FIELDS: tuple[str, ...] = (
    "nom", "type", "lycee_kind", "code_nature", "libelle_nature", "type_libelle", "secteur",
    "adresse", "lieu_dit", "code_postal", "commune_code", "commune_nom", "departement_code",
    "departement_nom", "academie_code", "academie_nom", "region_code", "region_nom",
    "education_prioritaire", "eleves", "etat", "latitude", "longitude", "telephone", "web",
    "date_ouverture",
)


def table_name() -> str:
    return tables.qualified(TABLE)


def ensure_table(conn: Connection) -> None:
    """Create the directory table and its indexes when missing (idempotent)."""
    schema = tables.schema_name()
    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    conn.execute(sa.text(f"""
        CREATE TABLE IF NOT EXISTS {table_name()} (
            uai text NOT NULL,
            resource_id text NOT NULL,
            package_id text NOT NULL,
            priority integer NOT NULL,
            millesime text,
            nom text, type text, lycee_kind text, code_nature text, libelle_nature text,
            type_libelle text, secteur text, adresse text, lieu_dit text, code_postal text,
            commune_code text, commune_nom text, departement_code text, departement_nom text,
            academie_code text, academie_nom text, region_code text, region_nom text,
            education_prioritaire text, eleves integer, etat text,
            latitude double precision, longitude double precision,
            telephone text, web text, date_ouverture text,
            sections jsonb NOT NULL DEFAULT '[]'::jsonb,
            search_text text NOT NULL DEFAULT ''
        )"""))
    conn.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS etablissement_source_uai ON {table_name()} (uai)"))
    conn.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS etablissement_source_resource ON {table_name()} (resource_id)"))
    conn.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS etablissement_source_commune ON {table_name()} (commune_code)"))
    conn.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS etablissement_source_dep ON {table_name()} (departement_code)"))
    conn.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS etablissement_source_search ON {table_name()} "
        f"USING gin (search_text gin_trgm_ops)"))


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _float(value: Any) -> Optional[float]:
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN -> None


def _int(value: Any) -> Optional[int]:
    number = _float(value)
    return int(number) if number is not None else None


def search_text(*parts: Optional[str]) -> str:
    """Lower-case, accent-free text the search matches on (`École` -> `ecole`)."""
    return " ".join(identity.normalise_header(p).replace("_", " ") for p in parts if p)


def directory_row(source: dict[str, Any], columns: dict[str, str],
                  sections: dict[str, str]) -> dict[str, Any]:
    """One directory row from one source row (`columns`: identity field -> source column)."""
    get = lambda field: source.get(columns[field]) if field in columns else None  # noqa: E731
    code_nature = _text(get("code_nature"))
    type_libelle = _text(get("type_libelle"))
    libelle_nature = _text(get("libelle_nature"))
    kind = identity.establishment_type(code_nature, type_libelle or libelle_nature)
    row = {
        "nom": _text(get("nom")),
        "type": kind,
        "lycee_kind": identity.lycee_kind(code_nature, libelle_nature) if kind == "lycee" else None,
        "code_nature": code_nature,
        "libelle_nature": libelle_nature,
        "type_libelle": type_libelle,
        "secteur": identity.sector(_text(get("secteur"))),
        "adresse": _text(get("adresse")),
        "lieu_dit": _text(get("lieu_dit")),
        "code_postal": _text(get("code_postal")),
        "commune_code": _text(get("commune_code")),
        "commune_nom": _text(get("commune_nom")),
        "departement_code": identity.departement_insee(_text(get("departement_code"))),
        "departement_nom": _text(get("departement_nom")),
        "academie_code": _text(get("academie_code")),
        "academie_nom": _text(get("academie_nom")),
        "region_code": _text(get("region_code")),
        "region_nom": _text(get("region_nom")),
        "education_prioritaire": identity.education_prioritaire(_text(get("education_prioritaire"))),
        "eleves": _int(get("eleves")),
        "etat": _text(get("etat")),
        "latitude": _float(get("latitude")),
        "longitude": _float(get("longitude")),
        "telephone": _text(get("telephone")),
        "web": _text(get("web")),
        "date_ouverture": _text(get("date_ouverture")),
    }
    row["sections"] = json.dumps(sorted(
        key for key, column in sections.items() if _text(source.get(column)) in {"1", "1.0", "True", "true"}
    ))
    return row


def rebuild_for_resource(conn: Connection, *, resource_id: str, package_id: str, data_table: str,
                         columns: list[dict[str, Any]], millesime: Optional[str]) -> int:
    """Replace the directory rows of one ingested resource. Returns the number of rows, 0 when
    the resource is not a directory (then its previous rows, if any, are removed)."""
    ensure_table(conn)
    conn.execute(sa.text(f"DELETE FROM {table_name()} WHERE resource_id = :rid"), {"rid": resource_id})
    sql_by_source = {c["source"]: c["name"] for c in columns if c["name"] not in colmodel.INTERNAL[1:]}
    if not identity.is_directory(sql_by_source):
        return 0
    mapping = {field: sql_by_source[src] for field, src in identity.map_identity_columns(sql_by_source).items()}
    sections = {key: sql_by_source[src] for key, src in identity.map_section_columns(sql_by_source).items()}
    priority = 0 if "code_nature" in mapping and "type_libelle" in mapping else 1
    wanted = sorted(set(mapping.values()) | set(sections.values()))
    select = ", ".join(f'"{c}"' for c in wanted)
    if any(c["name"] == colmodel.PERIOD_COLUMN for c in columns):
        # a multi-year file (effectifs with names and addresses…): its latest row of each UAI
        # only, so that the directory has one row per (UAI, resource)
        sql = f"SELECT DISTINCT ON (_key) _key, {select} FROM {data_table} ORDER BY _key, {colmodel.LATEST_ORDER}"
    else:
        sql = f"SELECT _key, {select} FROM {data_table}"
    rows = conn.execute(sa.text(sql)).mappings()
    batch: list[dict[str, Any]] = []
    total = 0
    for source in rows:
        row = directory_row(dict(source), mapping, sections)
        row.update(uai=source["_key"], resource_id=resource_id, package_id=package_id,
                   priority=priority, millesime=millesime,
                   search_text=search_text(source["_key"], row["nom"], row["commune_nom"], row["code_postal"]))
        batch.append(row)
        if len(batch) >= 5000:
            total += _insert(conn, batch)
            batch = []
    total += _insert(conn, batch)
    # Fresh statistics: without them the planner takes the directory for a few rows and the
    # France-level reference values (every collège of the country) take seconds instead of ms.
    conn.execute(sa.text(f"ANALYZE {table_name()}"))
    log.info("Annuaire : %s établissements depuis la ressource %s", total, resource_id)
    return total


_COLUMNS = ("uai", "resource_id", "package_id", "priority", "millesime") + FIELDS + ("sections", "search_text")


def _insert(conn: Connection, batch: list[dict[str, Any]]) -> int:
    """COPY a batch into the directory (a national annuaire is ~70,000 rows)."""
    return pgcopy.copy_rows(conn, table_name(), _COLUMNS, ([row[c] for c in _COLUMNS] for row in batch))


def remove_resource(conn: Connection, resource_id: str) -> None:
    ensure_table(conn)
    conn.execute(sa.text(f"DELETE FROM {table_name()} WHERE resource_id = :rid"), {"rid": resource_id})


def exists(conn: Connection) -> bool:
    """Whether the directory table exists (created by the first load of a directory)."""
    return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table_name()}).scalar())


def resource_ids(conn: Connection) -> set[str]:
    """The resources the directory has rows of (the table must exist)."""
    return {r[0] for r in conn.execute(sa.text(f"SELECT DISTINCT resource_id FROM {table_name()}"))}


def known_uais(conn: Connection, uais: list[str], reader: access.Reader) -> set[str]:
    """The UAIs of `uais` the directory knows from datasets `reader` may read (empty when there
    is no directory yet)."""
    if not exists(conn):
        return set()
    known: set[str] = set()
    sql = sa.text(f"""
        SELECT DISTINCT s.uai FROM {table_name()} s JOIN package p ON p.id = s.package_id
        WHERE s.uai = ANY(CAST(:uais AS text[])) AND {access.readable_packages_sql('p')}""")
    for start in range(0, len(uais), 20_000):
        part = uais[start:start + 20_000]
        known.update(r[0] for r in conn.execute(sql, {"uais": part, **access.reader_params(reader)}))
    return known


def named_uais_of(conn: Connection, data_table: str, reader: access.Reader, limit: int = 10) -> list[dict[str, Any]]:
    """(uai, nom, first_row) of the UAIs of an ingested table (`data_table`, qualified) the
    directory knows, in file order: the name is the best identity of the UAI (trusted directories
    first), never one taken from another publisher's directory-like file."""
    if not exists(conn):
        return []
    trusted, trust_params = trusted_sql(conn, "p")
    sql = sa.text(f"""
        WITH keys AS (
            SELECT _key AS uai, min(_row) AS first_row FROM {data_table}
            GROUP BY _key),
        best AS (
            SELECT DISTINCT ON (s.uai) s.uai, s.nom
            FROM {table_name()} s JOIN package p ON p.id = s.package_id
            WHERE s.uai IN (SELECT uai FROM keys) AND {access.readable_packages_sql('p')}
            ORDER BY s.uai, {best_order(trusted)})
        SELECT k.uai, b.nom, k.first_row FROM keys k JOIN best b ON b.uai = k.uai
        ORDER BY k.first_row LIMIT :limit""")
    params = {"limit": limit, **access.reader_params(reader), **trust_params}
    return [dict(r) for r in conn.execute(sql, params).mappings()]


def public_directories(conn: Connection) -> list[dict[str, Any]]:
    """The public datasets the directory's rows come from: (name, title, millesime, n rows)."""
    if not exists(conn):
        return []
    sql = sa.text(f"""
        SELECT p.name, p.title, s.millesime, count(*) AS n
        FROM {table_name()} s JOIN package p ON p.id = s.package_id
        WHERE {access.readable_packages_sql('p')}
        GROUP BY p.name, p.title, s.millesime ORDER BY p.title""")
    return [dict(r) for r in conn.execute(sql, access.reader_params(access.ANONYMOUS)).mappings()]


# --------------------------------------------------------------------------- ingestion events

def on_resource_loaded(sender: str, *, connection: Connection, report: IngestReport, **_payload: Any) -> None:
    """Subscriber of ``ecarto_resource_loaded`` (ingest/events.py, wired in plugin.py): the rows
    of the loaded resource are rebuilt in the load's transaction (removed when the resource is
    not UAI-keyed any more). A failure is reported in the load's warnings and does not cost it."""
    started = time.monotonic()
    try:
        _follow_load(connection, report)
    finally:
        report.directory_seconds = time.monotonic() - started


def _follow_load(conn: Connection, report: IngestReport) -> None:
    if report.key_kind != UAI:
        savepoint = conn.begin_nested()
        try:
            remove_resource(conn, report.resource_id)
            savepoint.commit()
        except Exception:  # noqa: BLE001 - derived rows, the load is kept
            savepoint.rollback()
        return
    savepoint = conn.begin_nested()
    try:
        report.directory_rows = rebuild_for_resource(
            conn, resource_id=report.resource_id, package_id=report.package_id,
            data_table=report.table_name or "", columns=report.columns, millesime=report.millesime)
        savepoint.commit()
    except Exception as exc:  # noqa: BLE001 - reported, load kept
        savepoint.rollback()
        log.exception("Annuaire non reconstruit pour %s", report.resource_id)
        report.warnings.append(_("annuaire des établissements non mis à jour : {error}").format(error=exc))


def on_resource_removed(sender: str, *, connection: Connection, **_payload: Any) -> None:
    """Subscriber of ``ecarto_resource_removed``: the resource's rows go with its table."""
    remove_resource(connection, sender)


def _config_list(key: str, default: tuple[str, ...] = ()) -> list[str]:
    value = tk.config.get(key, None)
    if value is None:
        return list(default)
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [str(v).strip() for v in value if str(v).strip()]


def identity_organizations() -> list[str]:
    """Names or ids of the organizations whose directory datasets are trusted."""
    return _config_list("ckanext.ecarto.identity_organizations", ("menj",))


def identity_harvest_sources() -> list[str]:
    """Names or ids of the harvest sources whose datasets are trusted."""
    return _config_list("ckanext.ecarto.identity_harvest_sources")


def _harvest_tables(conn: Connection) -> bool:
    return bool(conn.execute(sa.text(
        "SELECT to_regclass('harvest_object') IS NOT NULL AND to_regclass('harvest_source') IS NOT NULL")).scalar())


def trusted_sql(conn: Connection, alias: str = "p") -> tuple[str, dict[str, Any]]:
    """SQL boolean telling whether the dataset aliased `alias` (CKAN's `package`) is a trusted
    identity source, and its bound parameters (see the module docstring)."""
    orgs = identity_organizations()
    sources = identity_harvest_sources()
    clauses = ["FALSE"]
    if orgs:
        clauses.append(
            f"{alias}.owner_org IN (SELECT g.id FROM \"group\" g WHERE g.is_organization AND g.state = 'active' "
            f"AND (g.name = ANY(CAST(:identity_orgs AS text[])) OR g.id = ANY(CAST(:identity_orgs AS text[]))))")
    if sources and _harvest_tables(conn):
        clauses.append(
            f"{alias}.id IN (SELECT ho.package_id FROM harvest_object ho "
            f"JOIN package hs ON hs.id = ho.harvest_source_id "
            f"WHERE ho.current AND ho.package_id IS NOT NULL AND hs.state = 'active' "
            f"AND (hs.name = ANY(CAST(:identity_sources AS text[])) OR hs.id = ANY(CAST(:identity_sources AS text[]))))")
    return "(" + " OR ".join(clauses) + ")", {"identity_orgs": orgs, "identity_sources": sources}


def best_order(trusted: str = "trusted", alias: str = "s") -> str:
    """ORDER BY terms (after the UAI) of the best directory row of a UAI: trusted sources first,
    then the full annuaire before partial directories, the latest millésime."""
    return f"{trusted} DESC, {alias}.priority, {alias}.millesime DESC NULLS LAST"


# An establishment counted in a territory's figures is open: no state known, or « OUVERT ».
OPEN_SQL = "({alias}.etat IS NULL OR upper({alias}.etat) LIKE 'OUVERT%')"


def counted_sql(trusted: str, columns: str, *, restrict: str = "") -> str:
    """The establishments a territory counts, **one definition** for the territory pages
    (``territoires/aggregates``: ``territoire_etablissement``) and the reference values of the
    establishment pages (``references``): one row per UAI — its best directory row among the
    readable datasets (trusted sources first, the full annuaire before partial directories, the
    latest millésime, the latest dataset; a cité scolaire, one UAI with a collège row and a
    lycée row, counts as its lycée) —, open establishments only (``OPEN_SQL``).

    `trusted`: SQL of ``trusted_sql`` over the package alias ``p``; `columns`: the columns of
    the directory row (alias ``s``) to select, ``etat`` included; `restrict`: an extra condition
    on ``s`` that keeps or drops every row of a UAI alike (e.g. UAIs having a row in a commune),
    to read fewer rows. Uses the reader parameters (``access.reader_params``)."""
    where = f" AND ({restrict})" if restrict else ""
    best = f"""SELECT DISTINCT ON (s.uai) {columns}
               FROM {table_name()} s JOIN package p ON p.id = s.package_id
               JOIN resource res ON res.id = s.resource_id AND res.state = 'active'
               WHERE {access.readable_packages_sql('p')}{where}
               ORDER BY s.uai, {best_order(trusted)}, p.metadata_modified DESC, s.type DESC, s.resource_id"""
    return f"SELECT * FROM ({best}) b WHERE {OPEN_SQL.format(alias='b')}"


def sources_for(conn: Connection, uai: str, reader: access.Reader) -> list[dict[str, Any]]:
    """Directory rows of one UAI from readable datasets, best source first, each with its
    producer (`organization_title`) and `trusted` flag."""
    trusted, trust_params = trusted_sql(conn, "p")
    sql = sa.text(f"""
        SELECT s.*, p.name AS package_name, p.title AS package_title,
               g.title AS organization_title, {trusted} AS trusted
        FROM {table_name()} s JOIN package p ON p.id = s.package_id
        LEFT JOIN "group" g ON g.id = p.owner_org
        WHERE s.uai = :uai AND {access.readable_packages_sql('p')}
        ORDER BY {best_order()}, p.metadata_modified DESC""")
    params = {"uai": uai, **trust_params, **access.reader_params(reader)}
    return [dict(r) for r in conn.execute(sql, params).mappings()]


def identity_sources(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows allowed to make the identity of one UAI (`sources` best first, as given by
    `sources_for`): every trusted row when there is one; otherwise the rows of the best
    untrusted dataset only (one producer, never a mix)."""
    trusted = [s for s in sources if s.get("trusted")]
    if trusted or not sources:
        return trusted
    best = sources[0]["package_id"]
    return [s for s in sources if s["package_id"] == best]


def one_per_resource(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The identity sources listed once per resource (best row first), whatever the number of
    directory rows a resource has for the UAI."""
    seen: set[str] = set()
    kept = []
    for source in sources:
        if source["resource_id"] not in seen:
            seen.add(source["resource_id"])
            kept.append(source)
    return kept


# Columns of a directory that locate or identify an establishment without being one of the
# identity fields (projected coordinates, their projection, registry numbers): never shown as
# measures of the establishment.
LOCATION_HEADERS = frozenset({
    "coordx_origine", "coordy_origine", "epsg_origine", "coordonnee_x", "coordonnee_y", "epsg",
    "position", "precision_localisation", "localisation", "appariement", "siren_siret", "code_postal",
    "etat_etablissement", "nature_uai", "code_ministere", "secteur_prive_code_type_contrat",
})


def identity_column_names(columns: list[dict[str, Any]]) -> set[str]:
    """SQL names of the columns of a resource that make the identity (identity fields, sections,
    location): the page shows a directory's other measures and flags, never these."""
    sql_by_source = {c.get("source") or c["name"]: c["name"] for c in columns if c.get("name") != "_key"}
    used = set(identity.map_identity_columns(sql_by_source).values())
    used |= set(identity.map_section_columns(sql_by_source).values())
    used |= {src for src in sql_by_source if identity.normalise_header(src) in LOCATION_HEADERS}
    return {sql_by_source[src] for src in used}


def merge(sources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Field by field, the first source that knows wins (give it `identity_sources` only)."""
    merged: dict[str, Any] = {}
    for source in sources:
        for field in FIELDS + ("sections",):
            if merged.get(field) in (None, [], "") and source.get(field) not in (None, [], ""):
                merged[field] = source[field]
    return merged
