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

from ckanext.ecarto.core import access, tables
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import identity
from ckanext.ecarto.ingest import columns as colmodel
from ckanext.ecarto.ingest.keys import UAI
from ckanext.ecarto.ingest.report import IngestReport

log = logging.getLogger(__name__)

TABLE = tables.DIRECTORY_TABLE
# The trigram index of ``search_text`` of earlier versions: the finder never used it (it filters
# the best row of each UAI) and keeping it cost a national load seconds; dropped once.
FORMER_SEARCH_INDEX = "etablissement_source_search"

FIELDS: tuple[str, ...] = (
    "nom", "type", "lycee_kind", "code_nature", "libelle_nature", "type_libelle", "secteur",
    "adresse", "lieu_dit", "code_postal", "commune_code", "commune_nom", "departement_code",
    "departement_nom", "academie_code", "academie_nom", "region_code", "region_nom",
    "education_prioritaire", "eleves", "etat", "latitude", "longitude", "telephone", "web",
    "date_ouverture",
)
_COLUMNS = ("uai", "resource_id", "package_id", "priority", "millesime") + FIELDS + ("sections", "search_text")


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
    former = tables.qualified(FORMER_SEARCH_INDEX)
    if conn.execute(sa.text("SELECT to_regclass(:i) IS NOT NULL"), {"i": former}).scalar():
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {former}"))


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
    the resource is not a directory (then its previous rows, if any, are removed).

    Set-wise: the rows are computed in SQL from the loaded table (``rows_sql``, the same values
    as ``directory_row``). A resource loaded again only rewrites the UAIs whose rows changed, so
    the table and its indexes are touched only there; the statistics are refreshed in the
    load when enough rows changed for autovacuum to do it (``_refresh_statistics``)."""
    ensure_table(conn)
    sql_by_source = {c["source"]: c["name"] for c in columns if c["name"] not in colmodel.INTERNAL[1:]}
    if not identity.is_directory(sql_by_source):
        conn.execute(sa.text(f"DELETE FROM {table_name()} WHERE resource_id = :rid"), {"rid": resource_id})
        return 0
    select, params = rows_sql(conn, data_table, columns, {
        "rid": resource_id, "pid": package_id, "millesime": millesime, "priority": _priority(sql_by_source)})
    had_rows = conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {table_name()} WHERE resource_id = :rid)"),
                            {"rid": resource_id}).scalar()
    cols = ", ".join(_COLUMNS)
    jit = _without_jit(conn)
    try:
        if not had_rows:
            changed = total = conn.execute(sa.text(f"INSERT INTO {table_name()} ({cols}) {select}"), params).rowcount
        else:
            changed, total = _replace_changed(conn, select, params)
    finally:
        conn.execute(sa.text("SELECT set_config('jit', :jit, true)"), {"jit": jit})
    _refresh_statistics(conn, changed)
    log.info("Annuaire : %s établissements depuis la ressource %s (%s lignes réécrites)", total, resource_id, changed)
    return total


def _without_jit(conn: Connection) -> str:
    """Turn JIT compilation off for the statements of the rebuild; returns the setting to put
    back. Their long expressions over a table the planner has no statistics of yet make it
    compile and optimise for about a second, longer than they run on a national directory."""
    jit = conn.execute(sa.text("SELECT current_setting('jit')")).scalar() or "on"
    conn.execute(sa.text("SELECT set_config('jit', 'off', true)"))
    return jit


def _priority(sql_by_source: dict[str, str]) -> int:
    mapping = identity.map_identity_columns(sql_by_source)
    return 0 if "code_nature" in mapping and "type_libelle" in mapping else 1


def _replace_changed(conn: Connection, select: str, params: dict[str, Any]) -> tuple[int, int]:
    """Rewrite only the UAIs of the resource whose rows differ (added, removed or changed).
    Returns (rows deleted + inserted, rows of the resource)."""
    cols = ", ".join(_COLUMNS)
    conn.execute(sa.text("DROP TABLE IF EXISTS _directory_new"))
    conn.execute(sa.text(f"CREATE TEMP TABLE _directory_new ON COMMIT DROP AS {select}"), params)
    conn.execute(sa.text("DROP TABLE IF EXISTS _directory_changed"))
    # each old row against the new row of its UAI (a hash join, instead of sorting both sides
    # on their 33 columns); a UAI with several rows on either side is simply rewritten
    pairs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in _COLUMNS)
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE _directory_changed ON COMMIT DROP AS
        WITH old AS (SELECT {cols} FROM {table_name()} WHERE resource_id = :rid),
             several AS (SELECT uai FROM old GROUP BY uai HAVING count(*) > 1
                         UNION SELECT uai FROM _directory_new GROUP BY uai HAVING count(*) > 1)
        SELECT coalesce(o.uai, n.uai) AS uai FROM old o FULL JOIN _directory_new n ON n.uai = o.uai
        WHERE o.uai IS NULL OR n.uai IS NULL OR {pairs}
        UNION SELECT uai FROM several"""), params)
    deleted = conn.execute(sa.text(
        f"DELETE FROM {table_name()} WHERE resource_id = :rid AND uai IN (SELECT uai FROM _directory_changed)"),
        params).rowcount
    inserted = conn.execute(sa.text(
        f"INSERT INTO {table_name()} ({cols}) SELECT {cols} FROM _directory_new "
        f"WHERE uai IN (SELECT uai FROM _directory_changed)")).rowcount
    total = conn.execute(sa.text("SELECT count(*) FROM _directory_new")).scalar() or 0
    conn.execute(sa.text("DROP TABLE _directory_new"))
    conn.execute(sa.text("DROP TABLE _directory_changed"))
    return deleted + inserted, total


# The directory's columns queries filter, join or group on: the statistics the planner needs.
ANALYZED_COLUMNS = ("uai", "resource_id", "package_id", "priority", "millesime", "type", "lycee_kind", "secteur",
                    "commune_code", "departement_code", "academie_code", "region_code", "education_prioritaire",
                    "etat", "latitude", "longitude", "search_text")


def _refresh_statistics(conn: Connection, changed: int) -> None:
    """Fresh statistics when the rows changed enough to make them stale: without them the
    planner takes the directory for a few rows and the France-level reference values (every
    collège of the country) take seconds instead of ms. The threshold is autovacuum's (50 rows
    + 10 % of the table): below it, the statistics in place still describe the table. Only the
    columns queries select rows on (``ANALYZED_COLUMNS``); autovacuum analyses the others."""
    if not changed:
        return
    known = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                         {"t": table_name()}).scalar()
    if known is None or known < 0 or changed > 50 + 0.1 * known:
        conn.execute(sa.text(f"ANALYZE {table_name()} ({', '.join(ANALYZED_COLUMNS)})"))


# --------------------------------------------------------------------------- rows in SQL
#
# The SQL twin of ``directory_row`` (tests/etablissements/test_directory_sql.py compares them
# value by value): the same fields from the typed columns of the loaded table.

# What Python's str.strip() removes (str.isspace()), for `_text`.
PY_SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
             "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# A number `float()` reads once the commas are points, small enough never to overflow a double.
_FLOAT_CELL = r"^[+-]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9]{1,2})?$"
_INFINITY_CELL = r"^[+-]?(inf|infinity)$"
_TRUE_TEXT = ("1", "1.0", "True", "true")


def normalise_sql(expr: str) -> str:
    """SQL of ``identity.normalise_header`` (NFKD, non-ASCII dropped, lower case, `_` runs);
    ASCII text skips the Unicode steps, which would leave it as it is."""
    def plain(text: str) -> str:
        return f"btrim(regexp_replace(lower({text} COLLATE \"C\"), '[^a-z0-9]+', '_', 'g'), '_')"
    ascii_only = f"regexp_replace(normalize({expr}, NFKD), '[^\\x01-\\x7f]+', '', 'g')"
    return f"CASE WHEN {expr} ~ '^[\\x01-\\x7f]*$' THEN {plain(expr)} ELSE {plain(ascii_only)} END"


def _text_sql(ref: str, kind: str) -> str:
    """``_text`` of a cell: Python's ``str(value).strip()`` or NULL."""
    if kind == "text":
        # most cells have no space at either end: only those (and "") go through btrim
        return (f"CASE WHEN strpos(:ws, left({ref}, 1)) > 0 OR strpos(:ws, right({ref}, 1)) > 0 "
                f"THEN NULLIF(btrim({ref}, :ws), '') ELSE {ref} END")
    if kind == "boolean":
        return f"CASE WHEN {ref} THEN 'True' WHEN NOT {ref} THEN 'False' END"
    if kind == "date":
        return f"to_char({ref}, 'YYYY-MM-DD')"
    if kind == "double precision":
        return (f"CASE WHEN {ref} = 'NaN' THEN 'nan' WHEN {ref} = 'Infinity' THEN 'inf' "
                f"WHEN {ref} = '-Infinity' THEN '-inf' "
                f"WHEN {ref} = trunc({ref}) AND abs({ref}) < 1e16 THEN trunc({ref})::numeric::text || '.0' "
                f"ELSE {ref}::text END")
    return f"{ref}::text"


def _float_sql(ref: str, kind: str) -> str:
    """``_float`` of a cell (NaN and what is not a number: NULL)."""
    if kind == "double precision":
        return f"NULLIF({ref}, 'NaN')"
    if kind in ("bigint", "integer", "smallint"):
        return f"CAST({ref} AS double precision)"
    if kind != "text":
        return "CAST(NULL AS double precision)"
    cell = f"btrim(replace({ref}, ',', '.'), :ws)"
    return (f"CASE WHEN {cell} ~* '{_INFINITY_CELL}' THEN CAST({cell} AS double precision) "
            f"WHEN length({cell}) <= 40 AND {cell} ~ '{_FLOAT_CELL}' "
            f"THEN CAST(replace({cell}, '_', '') AS double precision) END")


def _section_sql(ref: str, kind: str) -> str:
    """Whether a section cell says yes (``_text`` in 1, 1.0, True, true)."""
    if kind == "boolean":
        return f"({ref} IS TRUE)"
    if kind in ("bigint", "integer", "smallint", "double precision"):
        return f"({ref} = 1)"
    if kind == "text":
        return f"coalesce({_text_sql(ref, kind)} IN ({', '.join(repr(v) for v in _TRUE_TEXT)}), false)"
    return "false"


def _column_kinds(conn: Connection, data_table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(sa.text(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"), {"t": data_table})}


def _quoted(alias: str, column: str) -> str:
    return f'{alias}."{column}"'


def _typology(conn: Connection, cells: str, params: dict[str, Any]) -> dict[str, Any]:
    """The portal's typology and sector of each distinct (code nature, type label, nature label,
    sector) of the rows (`cells`: SELECT of their ``_text``), computed by ``identity`` itself:
    {"types": {code: {type label: {nature label: [type, lycee kind]}}}, "sectors": {sector:
    public|prive}}, None written as "" (``_text`` never gives "")."""
    types: dict[str, Any] = {}
    sectors: dict[str, Optional[str]] = {}
    distinct = conn.execute(sa.text(
        f"SELECT DISTINCT c.code_nature, c.type_libelle, c.libelle_nature, c.secteur FROM ({cells}) c"), params)
    for code, type_libelle, libelle_nature, secteur in distinct:
        kind = identity.establishment_type(code, type_libelle or libelle_nature)
        lycee = identity.lycee_kind(code, libelle_nature) if kind == "lycee" else None
        types.setdefault(code or "", {}).setdefault(type_libelle or "", {})[libelle_nature or ""] = [kind, lycee]
        sectors[secteur or ""] = identity.sector(secteur)
    return {"types": json.dumps(types), "sectors": json.dumps(sectors)}


def rows_sql(conn: Connection, data_table: str, columns: list[dict[str, Any]],
             params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SELECT of the directory rows (``_COLUMNS``) of a loaded directory table, and its bound
    parameters (`params`: rid, pid, priority, millesime, plus those added here)."""
    params = {**params, "ws": PY_SPACES}
    kinds = _column_kinds(conn, data_table)
    sql_by_source = {c["source"]: c["name"] for c in columns if c["name"] not in colmodel.INTERNAL[1:]}
    mapping = {field: sql_by_source[src] for field, src in identity.map_identity_columns(sql_by_source).items()}
    sections = {key: sql_by_source[src] for key, src in identity.map_section_columns(sql_by_source).items()}
    wanted = sorted(set(mapping.values()) | set(sections.values()))
    select = "".join(f', "{c}"' for c in wanted)
    if any(c["name"] == colmodel.PERIOD_COLUMN for c in columns):
        # a multi-year file (effectifs with names and addresses…): its latest row of each UAI
        # only, so that the directory has one row per (UAI, resource)
        source = f"SELECT DISTINCT ON (_key) _key{select} FROM {data_table} ORDER BY _key, {colmodel.LATEST_ORDER}"
    else:
        source = f"SELECT _key{select} FROM {data_table}"

    def ref(field: str) -> Optional[str]:
        return _quoted("src", mapping[field]) if field in mapping else None

    def text(field: str) -> str:
        r = ref(field)
        return _text_sql(r, kinds.get(mapping[field], "text")) if r else "CAST(NULL AS text)"

    def number(field: str) -> str:
        r = ref(field)
        return _float_sql(r, kinds.get(mapping[field], "text")) if r else "CAST(NULL AS double precision)"

    text_fields = [f for f in FIELDS if f not in ("type", "lycee_kind", "latitude", "longitude", "eleves")]
    section_terms = [f"CASE WHEN {_section_sql(_quoted('src', sections[k]), kinds.get(sections[k], 'text'))} "
                     f"THEN '{k}' END" for k in sorted(sections)]
    sections_sql = (f"to_jsonb(array_remove(ARRAY[{', '.join(section_terms)}]::text[], NULL))"
                    if section_terms else "'[]'::jsonb")
    # 1: the cells as directory_row reads them (_text, _float, sections)
    cells = ", ".join([f"{text(f)} AS {f}" for f in text_fields] + [
        f"{number('latitude')} AS latitude", f"{number('longitude')} AS longitude",
        f"{number('eleves')} AS eleves_number", f"{sections_sql} AS sections"])
    step1 = f"SELECT src._key AS uai, {cells} FROM ({source}) src"
    params.update(_typology(conn, step1, params))
    # 2: the typology of each row, looked up in the one computed by identity (_typology)
    typology = ("CAST(:types AS jsonb) -> coalesce(c.code_nature, '') -> coalesce(c.type_libelle, '') "
                "-> coalesce(c.libelle_nature, '')")
    step2 = (f"SELECT c.*, {typology} AS typology, CAST(:sectors AS jsonb) ->> coalesce(c.secteur, '') AS sector "
             f"FROM ({step1} OFFSET 0) c OFFSET 0")
    rep = "upper(replace(t.education_prioritaire, ' ', '') COLLATE \"C\")"
    dep = "upper(t.departement_code)"
    departement = (f"CASE WHEN {dep} IS NULL THEN NULL "
                   f"WHEN length({dep}) = 3 AND left({dep}, 1) = '0' THEN substr({dep}, 2) "
                   f"WHEN length({dep}) = 1 AND {dep} ~ '^[0-9]$' THEN '0' || {dep} ELSE {dep} END")

    def words(expr: str) -> str:
        return f"replace({normalise_sql(expr)}, '_', ' ')"

    # a valid UAI (7 digits, a letter) normalises to itself in lower case
    uai_words = f"CASE WHEN t.uai ~ '^[0-9]{{7}}[A-Z]$' THEN lower(t.uai) ELSE {words('t.uai')} END"
    search = f"concat_ws(' ', {uai_words}, {words('t.nom')}, {words('t.commune_nom')}, {words('t.code_postal')})"
    out = {field: f"t.{field}" for field in FIELDS}
    out.update(type="t.typology ->> 0", lycee_kind="t.typology ->> 1", secteur="t.sector",
               departement_code=departement,
               education_prioritaire=f"CASE WHEN {rep} IN ('REP+', 'REP') THEN {rep} END",
               eleves="CAST(trunc(t.eleves_number) AS integer)")
    values = ", ".join(f"{out[f]} AS {f}" for f in FIELDS)
    sql = (f"SELECT t.uai, CAST(:rid AS text) AS resource_id, CAST(:pid AS text) AS package_id, "
           f"CAST(:priority AS integer) AS priority, CAST(:millesime AS text) AS millesime, {values}, "
           f"t.sections, {search} AS search_text FROM ({step2}) t")
    return sql, params


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
