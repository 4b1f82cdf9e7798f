"""Load a tabular file into PostgreSQL, keyed and indexed on its UAI or commune column.

One path for every source (upload, harvest, CLI):

1. the file is read in chunks (``reader``), each value as text;
2. each chunk's key is normalised and checked; rows with an invalid key go to the resource's
   reject report (row number, value, French reason), never silently dropped;
3. the other rows are streamed with ``COPY`` into a temporary table, all text;
4. once the whole file has been seen, the column types are decided (``coltypes``) and applied in
   one ``INSERT … SELECT`` into the new table (``<table>__new``, see ``shaping.build_table``), with the column model
   (``columns``: roles, period) and the layout (``layout``: reshape); the key gets its index;
5. in the same transaction the previous table is dropped, the new one renamed and the registry
   row written. Anything failing before the commit rolls everything back: the previous version
   stays queryable and the registry keeps describing it, with the failure in ``message`` (for the
   publisher) and ``failure`` (its kind and technical detail, see ``messages``).

What PostgreSQL cannot hold is refused before anything is written (``limits``): too many columns
(the reader), rows too wide once typed; the reader also refuses over-long lines, NUL characters
and compressed files too large once decompressed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk
import pandas as pd
import psycopg2
import psycopg2.errors
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ckanext.ecarto import pgcopy
from ckanext.ecarto.core.tables import schema_name
from ckanext.ecarto.core.translation import _, ungettext
from ckanext.ecarto.ingest import coltypes, columns, events, keys, layout, messages, registry, shaping
from ckanext.ecarto.ingest.shaping import MAX_STORED_REJECTS, IngestError, ModelPreview, fmt_count, qualified
from ckanext.ecarto.ingest.model import REGISTRY
from ckanext.ecarto.ingest.report import IngestReport
from ckanext.ecarto.ingest.reader import ReadError, read_table

log = logging.getLogger(__name__)

# Bump when the loader's output changes, so that unchanged files are loaded again once.
LOADER_VERSION = "2"  # 2: column model (roles, periods, reshape; ingest/columns.py)
# Above this share of invalid keys the column is certainly not the key: refuse the version.
MAX_REJECT_SHARE = 0.5

Progress = Callable[[int, int, int], None]  # (bytes read, bytes total, rows read)




# --------------------------------------------------------------------------- helpers

def chunk_rows_setting() -> int:
    try:
        return int(tk.config.get("ckanext.ecarto.ingest_chunk_rows") or 50_000)
    except Exception:
        return 50_000


def table_basename(resource_id: str) -> str:
    """`r_` + the resource id (a UUID) with underscores; other ids are hashed."""
    rid = resource_id.lower()
    if re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", rid):
        return "r_" + rid.replace("-", "_")
    return "r_" + hashlib.sha1(resource_id.encode()).hexdigest()[:32]


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def options_hash(**options: Any) -> str:
    payload = json.dumps({"loader": LOADER_VERSION, **options}, sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()


def _engine(engine: Optional[Engine]) -> Engine:
    return registry.engine_or_default(engine)


def previous_row(conn: Connection, resource_id: str) -> Optional[dict[str, Any]]:
    return registry.row(conn, resource_id)


def table_exists(conn: Connection, qualified_name: Optional[str]) -> bool:
    if not qualified_name:
        return False
    return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": qualified_name}).scalar()


def distinct_keys(conn: Connection, qualified_name: str) -> int:
    """How many distinct keys (UAI or commune) a loaded table holds."""
    return conn.execute(sa.text(f"SELECT count(DISTINCT _key) FROM {qualified_name}")).scalar() or 0


SWAP_LOCK_TIMEOUT = "1s"
SWAP_ATTEMPTS = 20


def _swap(conn: Connection, *, schema: str, staging: str, staging_name: str, target: str,
          final_name: str) -> None:
    """Replace the previous table by the new one.

    Dropping the previous table needs an exclusive lock: while it waits behind a long reader (the
    territory aggregates' refresh reads whole tables for seconds), every page that reads the
    table queues behind the waiting DROP. So the lock is asked for with a short `lock_timeout`
    in a savepoint and asked again after a pause, letting the pages through meanwhile; the last
    attempt waits as long as it takes."""
    for attempt in range(SWAP_ATTEMPTS):
        last = attempt == SWAP_ATTEMPTS - 1
        try:
            with conn.begin_nested():
                if not last:
                    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'"))
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {target}"))
                conn.execute(sa.text(f'ALTER TABLE {staging} RENAME TO "{final_name}"'))
                conn.execute(sa.text(
                    f'ALTER INDEX "{schema}"."{staging_name}__key" RENAME TO "{final_name}__key"'))
                if not last:
                    conn.execute(sa.text("SET LOCAL lock_timeout = 0"))
            return
        except sa.exc.OperationalError as exc:
            if last or not isinstance(exc.orig, psycopg2.errors.LockNotAvailable):
                raise
            log.info("Remplacement de %s différé (table en cours de lecture), essai %d", target, attempt + 1)
            time.sleep(min(0.2 * (attempt + 1), 2.0))


def _lock(conn: Connection, resource_id: str) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"ecarto_ingest:{resource_id}"})


class _LoadedMeanwhile(Exception):
    """The same version was loaded by another process while this one waited for the lock."""

    def __init__(self, row: dict[str, Any]):
        super().__init__(row.get("resource_id"))
        self.row = row


def _check_not_loaded_meanwhile(conn: Connection, resource_id: str, sha256: str, options: str) -> None:
    """Under the resource's lock: if another job (another worker, another node) loaded these very
    bytes with these settings while this one waited, loading them again is pointless."""
    current = previous_row(conn, resource_id)
    if (current and current["status"] == "ok" and current["sha256"] == sha256
            and current["options_hash"] == options and table_exists(conn, current["table_name"])):
        raise _LoadedMeanwhile(current)


# --------------------------------------------------------------------------- loading

def _copy(conn: Connection, target: str, frame: pd.DataFrame) -> None:
    pgcopy.copy_frame(conn, target, frame)


def _record_failure(engine: Engine, report: IngestReport, previous: Optional[dict[str, Any]]) -> None:
    """Keep the previous version in place and say why the new one was refused (the message for
    the publisher, the failure's kind and technical detail in ``failure``)."""
    now = dt.datetime.utcnow()
    report.message = messages.clean_text(report.message)
    failure = messages.failure_record(report.failure_code or "unreadable", report.detail)
    with engine.begin() as conn:
        _lock(conn, report.resource_id)
        current = previous_row(conn, report.resource_id)
        if current and current["status"] == "ok" and table_exists(conn, current["table_name"]):
            loaded = current["loaded_at"].strftime("%d/%m/%Y %H:%M") if current["loaded_at"] else "?"
            message = _("Échec du chargement de la nouvelle version ({date} UTC) : {reason} La version chargée "
                        "le {loaded} reste en place.").format(
                date=now.strftime("%d/%m/%Y %H:%M"), reason=report.message, loaded=loaded)
            message = messages.clean_text(message)
            registry.update(conn, report.resource_id, message=message, failure=failure)
            report.message = message
            return
        registry.write(conn, {
            "resource_id": report.resource_id, "package_id": report.package_id, "table_name": None,
            "key_kind": report.key_kind, "key_column": report.key_column, "millesime": report.millesime,
            "columns": [], "n_rows": 0, "n_rejected": report.n_rejected, "rejects": _clean_rejects(report.rejects),
            "encoding": report.encoding, "separator": report.separator, "header_line": report.header_line,
            "sha256": report.sha256, "status": "error", "message": report.message, "loaded_at": now,
            "file_format": report.file_format, "options_hash": None, "failure": failure,
        })


def record_failure(resource_id: str, package_id: str, message: str, code: str, detail: Optional[str] = None,
                   *, engine: Optional[Engine] = None) -> IngestReport:
    """Record a failure that happened before the file could be read (missing file, download
    refused…), keeping any previous version in place. Returns the report."""
    report = IngestReport(resource_id=resource_id, package_id=package_id, status="error",
                          message=_sentence(message), failure_code=code, detail=detail)
    engine = _engine(engine)
    with engine.connect() as conn:
        previous = previous_row(conn, resource_id)
    _record_failure(engine, report, previous)
    return report


def _clean_rejects(rejects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rejected rows as stored: values and reasons without NUL nor control characters."""
    return [{**r, "value": None if r.get("value") is None else messages.clean_text(r["value"], 500),
             "reason": messages.clean_text(r.get("reason"), 500)} for r in rejects]


def ingest_file(path: str, *, resource_id: str, package_id: str, uai_column: Optional[str] = None,
                commune_column: Optional[str] = None, millesime: Optional[str] = None,
                data_dictionary: Any = None, axe: Optional[str] = None, force: bool = False,
                progress: Optional[Progress] = None, engine: Optional[Engine] = None,
                chunk_rows: Optional[int] = None, sheet: Optional[str] = None) -> IngestReport:
    """Load `path` as the table of `resource_id` (see the module docstring). Never raises for
    bad input: the report says what happened (``status``, ``message``, ``rejects``). ``sheet``:
    the sheet of a workbook (name or number; default the first)."""
    started = time.monotonic()
    engine = _engine(engine)
    schema = schema_name()
    report = IngestReport(resource_id=resource_id, package_id=package_id, millesime=millesime or None)
    report.sha256 = file_sha256(path)
    options = options_hash(uai_column=uai_column or None, commune_column=commune_column or None,
                           millesime=millesime or None, data_dictionary=data_dictionary or None, axe=axe or None,
                           **({"sheet": sheet} if sheet else {}))
    with engine.connect() as conn:
        previous = previous_row(conn, resource_id)
        in_place = bool(previous and previous["status"] == "ok" and table_exists(conn, previous["table_name"]))
    if (not force and in_place and previous["sha256"] == report.sha256
            and previous["options_hash"] == options):
        return _unchanged(report, previous, started, engine)

    final_name = table_basename(resource_id)
    target = qualified(schema, final_name)
    staging_name = f"{final_name}__new"
    staging = qualified(schema, staging_name)
    load: Optional[shaping.LoadState] = None
    try:
        table = read_table(path, chunk_rows=chunk_rows or chunk_rows_setting(), sheet=sheet)
        fmt = table.format
        report.file_format, report.encoding, report.separator, report.header_line = (
            fmt.kind, fmt.encoding, fmt.separator, fmt.header_line)
        chunks = table.chunks()
        first = next(chunks, None)
        # the key column is recognised on the first rows (enough for headers and value shapes)
        sample = first.frame.head(2000) if first is not None else pd.DataFrame(columns=table.columns)
        key = keys.detect(table.columns, sample, uai_column=uai_column, commune_column=commune_column)
        if key is None:
            if in_place:
                raise IngestError(_(
                    "aucune colonne UAI ni code commune n'a été trouvée dans ce fichier (colonnes : "
                    "{columns}…). Précisez uai_column ou commune_column.").format(
                        columns=keys.headers_hint(table.columns)), code="key-column")
            report.status = "skipped"
            report.message = _("Aucune colonne UAI ni code commune : la ressource est publiée mais "
                               "n'est pas chargée en base (précisez uai_column ou commune_column "
                               "si le fichier en contient une).")
            report.seconds = time.monotonic() - started
            return report
        report.key_kind, report.key_column = key.kind, key.column
        _entries, layout_options = columns.dictionary_parts(data_dictionary)
        reshape = layout.plan(list(table.columns), key.column, layout_options,
                              dict(zip(table.columns, coltypes.sql_names(table.columns))))
        load = shaping.LoadState(table, key, reshape)

        with engine.begin() as conn:
            # two first loads at once (two workers): IF NOT EXISTS alone races on pg_namespace
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"ecarto_schema:{schema}"})
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        with engine.connect() as conn:
            with conn.begin():
                _lock(conn, resource_id)
                if not force:
                    _check_not_loaded_meanwhile(conn, resource_id, report.sha256, options)
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {staging}"))
                # the rows as text, in a temporary table (no WAL, dropped at commit): only the typed
                # table built from it (shaping.build_table) is written for good
                column_defs = "".join(f', "{n}" text' for n in load.staging_columns())
                conn.execute(sa.text(f"CREATE TEMP TABLE {shaping.RAW_TABLE} (_key text NOT NULL, _row integer NOT NULL"
                                     f"{column_defs}) ON COMMIT DROP"))
                chunk = first
                while chunk is not None:
                    rows = load.prepare(chunk)
                    for name in load.new_columns:  # a reshape met a new field value
                        conn.execute(sa.text(f'ALTER TABLE {shaping.RAW_TABLE} ADD COLUMN "{name}" text'))
                    load.new_columns.clear()
                    if rows is not None:
                        _copy(conn, shaping.RAW_TABLE, rows)
                    if progress:
                        progress(table.bytes_read, table.size, load.n_seen)
                    chunk = next(chunks, None)
                if progress:
                    progress(table.size, table.size, load.n_seen)
                _check_rejects(load)
                description, warnings = shaping.describe_load(load, data_dictionary, axe)
                report.warnings.extend(warnings)
                model, table_layout, cell_rejects, n_rows = shaping.build_table(conn, schema, staging_name, load, description)
                report.warnings.extend(w for w in description.warnings if w not in report.warnings)
                rejects = load.rejects + cell_rejects[:max(0, MAX_STORED_REJECTS - len(load.rejects))]
                conn.execute(sa.text(f'CREATE INDEX "{staging_name}__key" ON {staging} (_key)'))
                conn.execute(sa.text(f"ANALYZE {staging} (_key)"))  # the pages query by key
                # the swap: the only moment readers of the previous table wait
                _swap(conn, schema=schema, staging=staging, staging_name=staging_name,
                      target=target, final_name=final_name)
                report.table_name = target
                report.columns = model
                report.layout = table_layout
                # rows of the file loaded (a reshaped table has its own count: layout.table_rows)
                report.n_rows, report.n_rejected, report.rejects = load.n_rows, load.n_rejected + len(cell_rejects), rejects
                # the derived data (establishment directory) follows in this transaction
                events.announce_loaded(conn, report)
                report.message = messages.clean_text(_summary(report))
                registry.write(conn, {
                    "resource_id": resource_id, "package_id": package_id, "table_name": target,
                    "key_kind": key.kind, "key_column": key.column, "millesime": report.millesime,
                    "columns": model, "layout": table_layout, "n_rows": load.n_rows, "n_rejected": report.n_rejected,
                    "rejects": _clean_rejects(rejects), "encoding": fmt.encoding, "separator": fmt.separator,
                    "header_line": fmt.header_line, "sha256": report.sha256, "status": "ok",
                    "message": report.message, "loaded_at": dt.datetime.utcnow(),
                    "file_format": fmt.kind, "options_hash": options, "failure": None,
                })
    except _LoadedMeanwhile as done:
        log.info("Chargement de %s : version déjà chargée par un autre processus", resource_id)
        return _unchanged(report, done.row, started, engine)
    except (ReadError, keys.KeyError_, IngestError, columns.ModelError) as exc:
        report.status, report.message = "error", _sentence(messages.clean_text(str(exc)))
        report.failure_code = getattr(exc, "code", None) or "key-column"
        report.detail = getattr(exc, "detail", None)
        log.info("Chargement de %s refusé (%s) : %s", resource_id, report.failure_code, report.message)
    except (sa.exc.DBAPIError, psycopg2.Error) as exc:
        log.exception("Chargement de %s : erreur PostgreSQL", resource_id)
        original = getattr(exc, "orig", exc)
        detail = messages.clean_text(str(original).strip(), messages.MAX_DETAIL_CHARS)
        report.status = "error"
        report.failure_code = _pg_failure_code(getattr(original, "pgcode", None), detail)
        report.detail = detail
        report.message = _("Erreur PostgreSQL pendant le chargement : {error}.").format(
            error=(detail.splitlines() or [""])[0])
    except Exception as exc:  # noqa: BLE001 - a load never takes the portal down
        log.exception("Chargement de %s : erreur inattendue", resource_id)
        report.status = "error"
        report.failure_code = "internal"
        report.detail = messages.clean_text(f"{type(exc).__name__}: {exc}", messages.MAX_DETAIL_CHARS)
        report.message = _("Erreur inattendue pendant le chargement : {error}.").format(
            error=messages.clean_text(exc, 300))
    if report.status == "error":
        report.table_name = None
        report.columns = []
        if load is not None:  # what was found before the failure helps the publisher fix the file
            report.n_rows, report.n_rejected, report.rejects = 0, load.n_rejected, load.rejects
        _record_failure(engine, report, previous)
    else:
        events.announce_committed(engine, resource_id)
    report.seconds = time.monotonic() - started
    return report


# SQLSTATE of PostgreSQL errors a file can cause -> failure code (see messages.PUBLIC_REASONS)
_PG_CODES = {"54011": "too-many-columns", "54000": "row-too-wide", "22021": "encoding", "22P05": "encoding"}


def _pg_failure_code(pgcode: Optional[str], text: str = "") -> str:
    if pgcode == "22021" and "0x00" in text:
        return "nul-character"
    return _PG_CODES.get(pgcode or "", "database")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _key_label(kind: Optional[str]) -> str:
    return "UAI" if kind == keys.UAI else _("code commune")


def _check_rejects(load: shaping.LoadState) -> None:
    label = _key_label(load.key.kind)
    if load.n_rows == 0:
        raise IngestError(code="invalid-keys" if load.n_rejected else "empty", message=_(
            "aucune ligne n'a de {label} valide dans la colonne « {column} » ({n} lignes rejetées ; par "
            "exemple : {example}). Rien n'a été chargé ni remplacé.").format(
                label=label, column=load.key.column, n=fmt_count(load.n_rejected),
                example=load.rejects[0]["reason"] if load.rejects else _("fichier sans données")))
    total = load.n_rows + load.n_rejected
    if total >= 20 and load.n_rejected / total > MAX_REJECT_SHARE:
        raise IngestError(_(
            "{n} lignes sur {total} ont un {label} invalide dans la colonne « {column} » : est-ce la bonne "
            "colonne ? Rien n'a été chargé ni remplacé.").format(
                n=fmt_count(load.n_rejected), total=fmt_count(total), label=label, column=load.key.column),
            code="invalid-keys")


def _summary(report: IngestReport) -> str:
    # a summary is written once at least one row is loaded (_check_rejects): n_rows >= 1
    rejected = (ungettext("{n} rejetée", "{n} rejetées", report.n_rejected).format(n=fmt_count(report.n_rejected))
                if report.n_rejected else _("aucune rejetée"))
    text = ungettext("{n} ligne chargée, {rejected} (clé {label} : colonne « {column} »).",
                     "{n} lignes chargées, {rejected} (clé {label} : colonne « {column} »).",
                     report.n_rows).format(n=fmt_count(report.n_rows), rejected=rejected,
                                           label=_key_label(report.key_kind), column=report.key_column)
    if report.n_rejected > MAX_STORED_REJECTS:
        text += " " + _("Seuls les {n} premiers rejets sont détaillés.").format(n=fmt_count(MAX_STORED_REJECTS))
    if report.warnings:
        text += " " + _("Avertissements : {warnings}.").format(warnings=" ; ".join(report.warnings))
    return text


def _unchanged(report: IngestReport, previous: dict[str, Any], started: float, engine: Engine) -> IngestReport:
    report.unchanged = True
    for name in ("table_name", "key_kind", "key_column", "millesime", "n_rows", "n_rejected", "rejects",
                 "columns", "layout", "encoding", "separator", "header_line", "file_format", "message"):
        setattr(report, name, previous.get(name))
    report.status = "ok"
    if previous.get("failure"):
        # the file in place is sent again after a refused version: the failure is over
        report.message = messages.clean_text(_summary(report))
        with engine.begin() as conn:
            registry.update(conn, report.resource_id, message=report.message, failure=None)
    report.seconds = time.monotonic() - started
    return report


def drop_table(resource_id: str, *, engine: Optional[Engine] = None) -> bool:
    """Drop the table and registry row of a resource. True when something was removed."""
    engine = _engine(engine)
    schema = schema_name()
    with engine.begin() as conn:
        _lock(conn, resource_id)
        row = previous_row(conn, resource_id)
        target = (row or {}).get("table_name") or qualified(schema, table_basename(resource_id))
        existed = table_exists(conn, target)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {target}"))
        registry.delete(conn, resource_id)
        events.announce_removed(conn, resource_id)
    if existed or row is not None:
        events.announce_committed(engine, resource_id)
    return existed or row is not None


def status(resource_id: str, *, engine: Optional[Engine] = None) -> Optional[dict[str, Any]]:
    """The registry row of a resource (None when it was never ingested)."""
    return registry.status(resource_id, engine=engine)


__all__ = ["IngestReport", "ModelPreview", "ingest_file", "drop_table", "record_failure", "status", "table_basename",
           "REGISTRY"]
