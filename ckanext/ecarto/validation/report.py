"""One validation report for a file and an axis: what a collectivité sees before publishing.

The file is read exactly as the ingestion will read it (``ingest.reader``), chunk by chunk, so
the report describes what will be loaded: encoding, separator, header line, the UAI (or commune)
column, every invalid UAI with its line and expected check letter, the valid UAIs the
establishment directory does not know, the columns matched to the axis's Table Schema with
frictionless's type and constraint errors per line and column, what the portal understands of
the columns (``modele``: the column model the ingestion will give the file — roles, types,
periods, reshape —, with the publisher's corrections of the roles) and a preview of the first rows.

Verdict: ``blocking`` errors (unreadable file, no rows, no key column, invalid keys, lines
that do not split into the header's columns, schema type or constraint errors, a declared role
the data contradict (``column-model``: a measure mostly made of text…), file too large,
and whatever the ingestion cannot hold — see ``ingest.limits``: too many columns, rows too wide,
a line too long, a compressed file too large once decompressed, a NUL character) mean nothing
is published; ``warnings`` (non-UTF-8 encoding, lines before the header, UAIs
unknown to the directory, columns the schema does not know, duplicate keys) are shown but do
not prevent publication.

The report is a plain dict (JSON-serialisable): the shape is documented in ``validate_file``.
"""
from __future__ import annotations

import logging
import os
import re
import time
import zipfile
from typing import Any, Optional

import numpy as np
import pandas as pd
from ckan.model import meta

from ckanext.ecarto.core import access
from ckanext.ecarto.core import uai as uai_mod
from ckanext.ecarto.core.axes import AXIS_LABELS
from ckanext.ecarto.core import roles
from ckanext.ecarto.core.translation import N_, _, ungettext
from ckanext.ecarto.etablissements import destinations, directory, record
from ckanext.ecarto.ingest import coltypes, columns, keys, limits, shaping
from ckanext.ecarto.ingest.coltypes import normalise_header
from ckanext.ecarto.ingest.loader import ModelPreview
from ckanext.ecarto.ingest.reader import ReadError, is_ods, read_table, wide_encoding
from ckanext.ecarto.validation import tableschema

log = logging.getLogger(__name__)

REPORT_VERSION = 1
PREVIEW_ROWS = 10
PREVIEW_UAIS = 4            # establishments whose page lines the report previews
PREVIEW_ROWS_PER_UAI = 60
MAX_LISTED = 1000           # invalid UAIs / schema errors / bad lines listed (all are counted)
MAX_LISTED_PER_FIELD = 200
MAX_NOT_IN_DIRECTORY = 500
MAX_DISTINCT_KEYS = 1_000_000
CHUNK_ROWS = 50_000

# Labels below (and core/axes.AXIS_LABELS) are msgids, translated when the report is built (see _label).
ENCODING_LABELS = {
    "utf-8": "UTF-8", "utf-8-sig": N_("UTF-8 (avec BOM)"), "cp1252": "Windows-1252 (Excel)",
    "latin-1": "Latin-1 (ISO-8859-1)", "utf-16": N_("UTF-16 (texte Unicode, avec BOM)"),
    "utf-16-le": N_("UTF-16 LE (texte Unicode, sans BOM)"), "utf-16-be": N_("UTF-16 BE (texte Unicode, sans BOM)"),
    "utf-32": N_("UTF-32 (avec BOM)"),
}
# Reader failures that are limits of the ingestion (their message is shown as is).
LIMIT_CODES = frozenset({"too-many-columns", "line-too-long", "decompressed-too-large", "nul-character",
                         "row-too-wide"})
SEPARATOR_LABELS = {";": N_("point-virgule (;)"), ",": N_("virgule (,)"), "\t": N_("tabulation"),
                    "|": N_("barre verticale (|)")}

# Magic numbers of files that are certainly not tables.
_NOT_TABLES = (
    (b"%PDF", "PDF"), (b"\x89PNG", N_("image PNG")), (b"\xff\xd8\xff", N_("image JPEG")),
    (b"GIF8", N_("image GIF")),
    (b"\xd0\xcf\x11\xe0", N_("classeur Excel 97-2003 (XLS) ou document Office ancien")),
    (b"Rar!", N_("archive RAR")), (b"7z\xbc\xaf", N_("archive 7-Zip")), (b"<?xml", "XML"),
    (b"<!DOCTYPE html", N_("page HTML")), (b"<html", N_("page HTML")), (b"{\\rtf", N_("document RTF")),
)


def _label(labels: dict[str, str], key: Optional[str]) -> Optional[str]:
    """The translated label of `key` (`key` itself when it has none)."""
    return _(labels[key]) if key in labels else key


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


class _Report:
    """The report being built."""

    def __init__(self, path: str, axe: str, filename: Optional[str]):
        size = os.path.getsize(path) if os.path.exists(path) else 0
        self.data: dict[str, Any] = {
            "version": REPORT_VERSION,
            "valid": False, "blocking": False, "verdict": "ok", "summary": "",
            "axe": {"id": axe, "label": _label(AXIS_LABELS, axe)},
            "file": {"name": filename or os.path.basename(path), "size": size, "format": None,
                     "encoding": None, "encoding_label": None, "bom": False, "separator": None,
                     "separator_label": None, "header_line": None, "columns": [], "n_rows": 0},
            "key": {"kind": None, "column": None, "declared": False, "candidates": []},
            "uai": {"n_valid": 0, "n_invalid": 0, "n_distinct": 0, "invalid": [],
                    "not_in_directory": {"checked": False, "n": 0, "uais": []}},
            "schema": {"name": None, "title": None, "validator": f"frictionless {tableschema.frictionless_version()}",
                       "fields": [], "unknown_columns": [], "n_errors": 0, "errors": []},
            "bad_lines": {"n": 0, "lines": []},
            "duplicates": {"n": 0, "examples": []},
            "preview": {"columns": [], "rows": []},
            "modele": None, "destinations": [], "apercu": [],
            "errors": [], "warnings": [], "infos": [],
            "seconds": 0.0,
        }

    def error(self, code: str, message: str, **extra: Any) -> None:
        self.data["errors"].append({"code": code, "message": message, **extra})

    def warning(self, code: str, message: str, **extra: Any) -> None:
        self.data["warnings"].append({"code": code, "message": message, **extra})

    def info(self, code: str, message: str, **extra: Any) -> None:
        self.data["infos"].append({"code": code, "message": message, **extra})


# --------------------------------------------------------------------------- helpers

def not_a_table(path: str) -> Optional[str]:
    """What the file is when it is certainly not a CSV/XLSX/JSON table (None otherwise)."""
    with open(path, "rb") as f:
        head = f.read(8192)
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    for magic, label in _NOT_TABLES:
        if stripped[:len(magic)].lower() == magic.lower():
            return _(label)
    if head.startswith(b"PK\x03\x04"):
        names = _zip_names(path)
        if b"xl/workbook.xml" in names or is_ods(path):
            return None  # an XLSX or ODS workbook
        return _("archive ZIP (ou classeur OpenDocument ODS, ou document Word)")
    if head.startswith(b"\x1f\x8b"):
        return None  # gzip: the reader decompresses it
    if wide_encoding(head):
        return None  # UTF-16 (Excel's « texte Unicode »): the reader decodes it
    if head.count(b"\x00") > len(head) // 20:
        return _("fichier binaire")
    return None  # a few NUL characters: the reader says where


def _zip_names(path: str) -> bytes:
    try:
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.namelist()).encode()
    except Exception:  # noqa: BLE001
        return b""


def _line(header_line: Optional[int], row: int) -> int:
    """The line of the file (or of the sheet) holding data row `row` (1-based)."""
    return (header_line or 1) + int(row)


def key_candidates(headers: list[str], sample: pd.DataFrame) -> list[dict[str, Any]]:
    """Columns a publisher might mean as the UAI column, the likeliest first."""
    found = []
    for header in headers:
        if header not in sample:
            continue
        values = sample[header].dropna()
        if values.empty:
            continue
        text = keys.normalise_uai(values)
        shape = float(text.str.match(r"^[0-9]{7}[A-Z]$").mean())
        valid = float(keys.valid_uai(text).mean())
        norm = normalise_header(header)
        named = any(w in norm for w in ("uai", "rne", "etablissement", "etab"))
        if shape > 0 or named:
            found.append({"column": header, "share_uai_shape": round(shape, 3), "share_valid_uai": round(valid, 3)})
    found.sort(key=lambda c: (-c["share_valid_uai"], -c["share_uai_shape"]))
    return found


def _directory_known(uais: list[str], reader: Any) -> Optional[set[str]]:
    """The UAIs of `uais` the establishment directory knows (from datasets `reader` may read);
    None when the check is impossible (no database, no directory yet)."""
    reader = reader or access.ANONYMOUS
    try:
        with meta.engine.connect() as conn:
            return directory.known_uais(conn, uais, reader)
    except Exception:  # noqa: BLE001 - the report must still come out
        log.exception("Vérification des UAI dans l'annuaire impossible")
        return None


# --------------------------------------------------------------------------- main

def validate_file(path: str, axe: str, *, filename: Optional[str] = None, uai_column: Optional[str] = None,
                  commune_column: Optional[str] = None, reader: Any = None, max_bytes: Optional[int] = None,
                  check_directory: bool = True, preview_rows: int = PREVIEW_ROWS,
                  chunk_rows: int = CHUNK_ROWS, data_dictionary: Any = None,
                  millesime: Optional[str] = None, sheet: Optional[str] = None) -> dict[str, Any]:
    """Validate `path` for the axis `axe` and return the report (a JSON-serialisable dict).

    Keys: ``valid``/``blocking``/``verdict`` (ok | warnings | blocking) and ``summary`` (French
    sentence); ``file`` (name, size, format, encoding, bom, separator, header_line, columns,
    n_rows); ``key`` (kind uai|commune, column, declared, candidates); ``uai`` (n_valid,
    n_invalid, invalid [{line, row, value, expected_letter, message}], not_in_directory);
    ``schema`` (name, validator, fields [{field, column, type, required, n_errors}],
    unknown_columns, n_errors, errors [{line, row, column, field, value, type, note, message,
    message_frictionless}]); ``bad_lines``; ``duplicates``; ``preview`` (columns, rows [{line,
    values}]); ``modele`` (what the portal understands of the columns, see ``_Model``: columns
    [{source, role, type, aggregation, label, origin, choice, editable}], period {source, values,
    kind, summary}, reshape {..., summary}, error, warnings; None without a key column);
    ``errors`` / ``warnings`` / ``infos`` ([{code, message}]); ``destinations`` (where each
    column of the file will appear, computed by the pages' own rule, see
    ``etablissements/destinations``: [{column, kind, kind_label, label, axe, axe_label,
    indicateur, unit, role, references, territoire, raison}], file order) and ``apercu`` (the
    lines of the establishment pages of a few UAIs of the file, read by the page's own code, see
    ``etablissements.record.preview_lines``: [{uai, lignes}]); both empty without a column model.

    ``millesime`` (the dataset's) is the period of the values of a file without a period column,
    as on the pages.

    ``data_dictionary`` (the resource's, or the roles the publisher corrected in the report:
    a list of {column, role, …}) overrides the inferred roles as the ingestion will.

    ``reader`` (core.access.Reader) decides which directory datasets count; ``max_bytes``
    makes a larger file blocking (its content is still checked and reported).
    """
    started = time.monotonic()
    rep = _Report(path, axe, filename)
    try:
        _validate(rep, path, axe, uai_column=uai_column, commune_column=commune_column, reader=reader,
                  max_bytes=max_bytes, check_directory=check_directory, preview_rows=preview_rows,
                  chunk_rows=chunk_rows, data_dictionary=data_dictionary, millesime=millesime, sheet=sheet)
    except Exception as exc:  # noqa: BLE001 - a report always comes out
        log.exception("Validation de %s : erreur inattendue", path)
        rep.error("internal-error", _("Erreur inattendue pendant la validation : {error}.").format(error=exc))
    _conclude(rep)
    rep.data["seconds"] = round(time.monotonic() - started, 3)
    return rep.data


def _validate(rep: _Report, path: str, axe: str, *, uai_column: Optional[str], commune_column: Optional[str],
              reader: Any, max_bytes: Optional[int], check_directory: bool, preview_rows: int,
              chunk_rows: int, data_dictionary: Any, millesime: Optional[str] = None,
              sheet: Optional[str] = None) -> None:
    data = rep.data
    if axe not in tableschema.available_axes():
        rep.error("unknown-axis", _("Axe inconnu : « {axe} ». Axes possibles : {axes}.").format(
            axe=axe, axes=", ".join(tableschema.available_axes())))
        return
    desc = tableschema.descriptor(axe)
    data["schema"]["name"], data["schema"]["title"] = desc.get("name"), desc.get("title")

    if not os.path.exists(path):
        rep.error("file-not-found", _("Fichier introuvable."))
        return
    size = data["file"]["size"]
    if max_bytes and size > max_bytes:
        rep.error("file-too-large", _(
            "Fichier trop volumineux : {size} Mo ou plus, au-delà de la limite de {limit} Mo du portail. "
            "Découpez-le (par exemple par département) ou demandez un chargement à l'équipe du portail."
        ).format(size=round(size / 1048576, 1), limit=round(max_bytes / 1048576)))
        return  # the content is not read: the file may have been cut at the limit
    if size == 0:
        rep.error("empty-file", _("Le fichier est vide."))
        return
    what = not_a_table(path)
    if what:
        rep.error("not-a-table", _(
            "Ce fichier n'est pas un tableau CSV, XLSX ou JSON (contenu détecté : {what}). "
            "Enregistrez vos données au format CSV (UTF-8, séparateur « ; ») ou XLSX."
        ).format(what=what))
        return
    try:
        table = read_table(path, chunk_rows=chunk_rows, sheet=sheet)  # sheet: of a workbook (issue 15)
    except ReadError as exc:
        _read_error(rep, exc)
        return
    fmt = table.format
    f = data["file"]
    f.update(format=fmt.kind, encoding=fmt.encoding, encoding_label=_label(ENCODING_LABELS, fmt.encoding),
             bom=fmt.encoding == "utf-8-sig", separator=fmt.separator,
             separator_label=_label(SEPARATOR_LABELS, fmt.separator),
             header_line=fmt.header_line, columns=list(table.columns))
    _describe_format(rep, fmt)

    chunks = table.chunks()
    try:
        first = next(chunks, None)
    except ReadError as exc:
        _read_error(rep, exc)
        return
    sample = first.frame.head(2000) if first is not None else pd.DataFrame(columns=table.columns)
    try:
        key = keys.detect(table.columns, sample, uai_column=uai_column, commune_column=commune_column)
    except keys.KeyError_ as exc:
        key = None
        rep.error("key-column-missing", str(exc))
    data["key"]["declared"] = bool(uai_column or commune_column)
    if key is None and sample.empty and not data["errors"]:
        # no rows to recognise the key on: a UAI header is enough, the error is « no rows »
        key = _key_by_header(list(table.columns))
    if key is None and sample.empty:
        pass
    elif key is None:
        data["key"]["candidates"] = key_candidates(list(table.columns), sample)
        if not data["errors"] or data["errors"][-1]["code"] != "key-column-missing":
            rep.error("no-key-column", _(
                "Aucune colonne d'UAI n'a été trouvée (colonnes lues : {columns}). Indiquez la colonne "
                "qui contient les UAI des établissements, ou vérifiez le séparateur."
            ).format(columns=", ".join(f"« {c} »" for c in table.columns[:15])
                     + ("…" if len(table.columns) > 15 else "")))
    else:
        data["key"].update(kind=key.kind, column=key.column)
        if key.kind == keys.COMMUNE:
            rep.info("commune-key", _(
                "Données par commune (colonne « {column} ») : elles alimenteront le contexte communal des "
                "pages d'établissement et les pages de territoire, pas la fiche d'un établissement."
            ).format(column=key.column))

    matches, unknown = tableschema.match_columns(axe, list(table.columns), key_column=key.column if key else None,
                                                 key_kind=key.kind if key else None)
    data["schema"]["unknown_columns"] = unknown
    cell_checkers = tableschema.checkers(axe, matches, skip={"uai"})
    scan = _Scan(rep, table, key, matches, cell_checkers, desc.get("primaryKey") or [])
    model = _Model(rep, table, key, data_dictionary, axe, millesime) if key is not None else None

    data["preview"]["columns"] = list(table.columns)
    if first is not None:
        head = first.frame.head(preview_rows)
        data["preview"]["rows"] = [
            {"line": _line(fmt.header_line, first.rows[i]), "values": [None if v is None else str(v) for v in row]}
            for i, row in enumerate(head.itertuples(index=False, name=None))]
    chunk = first
    try:
        while chunk is not None:
            scan.chunk(chunk)
            if model is not None:
                model.chunk(chunk)
            chunk = next(chunks, None)
    except ReadError as exc:
        if exc.code in LIMIT_CODES:
            _read_error(rep, exc)
        else:
            rep.error("not-a-table", _("Lecture interrompue : {reason}").format(reason=str(exc)))
    scan.finish(check_directory=check_directory, reader=reader,
                period_column=model.period_source() if model is not None and scan.n_rows else None)
    if model is not None and scan.n_rows:
        model.finish()
    data["schema"]["fields"] = [m.as_dict() for m in matches]
    _describe_schema(rep, matches, unknown, key)


def _read_error(rep: _Report, exc: ReadError) -> None:
    """A file the reader refused: what the ingestion cannot hold is said as is (its code is the
    report's), anything else is an unreadable table."""
    if exc.code in LIMIT_CODES:
        text = str(exc).strip()
        rep.error(exc.code, _("Fichier refusé : {reason}").format(reason=text))
        return
    code = "empty-file" if exc.code == "empty" or _is_empty(exc) else "not-a-table"
    rep.error(code, _("Fichier illisible comme tableau : {reason}").format(reason=str(exc)))


def _is_empty(exc: ReadError) -> bool:
    """An empty file or sheet (the reader's French messages say « vide »; their translation too)."""
    text = str(exc)
    return "vide" in text or text in (_("Le fichier est vide."), _("La première feuille du classeur est vide."))


def _key_by_header(headers: list[str]) -> Optional[keys.KeySpec]:
    by_norm = {normalise_header(h): h for h in headers}
    for alias in keys.UAI_HEADERS:
        if alias in by_norm:
            return keys.KeySpec(keys.UAI, by_norm[alias])
    return None


def _describe_format(rep: _Report, fmt: Any) -> None:
    f = rep.data["file"]
    if fmt.kind == "csv":
        rep.info("format", _("Fichier CSV lu en {encoding}, séparateur {separator}, en-tête ligne {line}.").format(
            encoding=f["encoding_label"], separator=f["separator_label"], line=fmt.header_line))
        if fmt.encoding in ("cp1252", "latin-1", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            rep.warning("encoding", _(
                "Le fichier n'est pas en UTF-8 mais en {encoding} : il a été converti (les accents sont "
                "lus correctement). Pour la prochaine version, enregistrez-le en « CSV UTF-8 »."
            ).format(encoding=f["encoding_label"]))
        if fmt.encoding == "utf-8-sig":
            rep.info("bom", _("Marque d'ordre des octets (BOM) UTF-8 détectée : acceptée et retirée."))
        if fmt.separator not in (";", ","):
            rep.info("separator", _("Séparateur inhabituel : {separator}.").format(separator=f["separator_label"]))
    elif fmt.kind in ("xlsx", "ods"):
        rep.info("format", _("Classeur {kind} : feuille « {sheet} », en-tête ligne {line}.").format(
            kind=fmt.kind.upper(), sheet=fmt.sheet or "1", line=fmt.header_line))
    else:
        rep.info("format", _("Fichier JSON : liste d'enregistrements."))
    if fmt.header_line and fmt.header_line > 1:
        rep.warning("preamble", _(
            "{n} ligne(s) avant l'en-tête ont été ignorées : l'en-tête est la ligne {line}. Vérifiez "
            "l'aperçu ci-dessous.").format(n=fmt.header_line - 1, line=fmt.header_line))


class _Duplicates:
    """Rows repeating the values of `columns` seen on an earlier row."""

    def __init__(self, columns_: list[str]):
        self.columns = columns_
        self.seen: set[int] = set()
        self.n = 0
        self.examples: list[dict[str, Any]] = []

    def update(self, frame: pd.DataFrame, rows: np.ndarray, header_line: Optional[int],
               uai_column: Optional[str]) -> None:
        parts = [frame[c].fillna("").astype(str) for c in self.columns]
        if uai_column in self.columns:
            idx = self.columns.index(uai_column)
            parts[idx] = parts[idx].str.strip().str.upper()
        joined = parts[0] if len(parts) == 1 else parts[0].str.cat(parts[1:], sep="\x1f")
        hashes = pd.util.hash_pandas_object(joined, index=False).to_numpy()
        for i, h in enumerate(hashes.tolist()):
            if h in self.seen:
                self.n += 1
                if len(self.examples) < 20:
                    self.examples.append({"line": _line(header_line, rows[i]),
                                          "key": joined.iat[i].replace("\x1f", " / ")})
            elif len(self.seen) < MAX_DISTINCT_KEYS:
                self.seen.add(h)


class _Scan:
    """Whole-file pass: keys, bad lines, schema cells, duplicates."""

    def __init__(self, rep: _Report, table: Any, key: Optional[keys.KeySpec], matches: list[Any],
                 cell_checkers: list[tableschema.CellChecker], primary_key: list[str]):
        self.rep = rep
        self.table = table
        self.header_line = table.format.header_line
        self.key = key
        self.checkers = cell_checkers
        self.n_rows = 0
        self.n_invalid_keys = 0
        self.invalid: list[dict[str, Any]] = []
        self.distinct: set[str] = set()
        self.distinct_overflow = False
        self.schema_errors: list[dict[str, Any]] = []
        self.n_schema_errors = 0
        self.listed_per_field: dict[str, int] = {}
        self.bad_lines: list[dict[str, Any]] = []
        self.n_bad_lines = 0
        # duplicates of the schema's primary key, when every one of its fields is in the file
        by_field = {m.name: m.column for m in matches}
        pk_columns = [by_field.get(name) for name in primary_key]
        self.pk_columns = pk_columns if pk_columns and all(pk_columns) else None
        # …and of the key with each column that may be the period (one row per key and period)
        self.duplicates = {None: _Duplicates(self.pk_columns or [])}
        if self.pk_columns:
            for column in [c for c in table.columns if columns.period_header(c) and c not in self.pk_columns][:3]:
                self.duplicates[column] = _Duplicates(self.pk_columns + [column])
        # rows PostgreSQL could not store (only wide files can have one): see ingest.limits
        self.wide = len(table.columns) >= limits.WIDE_ROW_COLUMNS
        self.profiles = ({c: coltypes.ColumnProfile(c, n) for c, n in
                          zip(table.columns, coltypes.sql_names(table.columns))} if self.wide else {})
        self.too_wide: Optional[dict[str, int]] = None

    def chunk(self, chunk: Any) -> None:
        for bad in chunk.bad_lines:
            self.n_bad_lines += 1
            if len(self.bad_lines) < MAX_LISTED:
                self.bad_lines.append({"line": bad.line, "message": bad.reason})
        frame = chunk.frame
        if frame.empty:
            return
        self.n_rows += len(frame)
        rows = np.asarray(chunk.rows, dtype=np.int64)
        if self.wide:
            self._width(frame, rows)
        if self.key is not None:
            self._keys(frame, rows)
        for checker in self.checkers:
            self._cells(checker, frame, rows)
        if self.pk_columns:
            self._duplicates(frame, rows)

    def _width(self, frame: pd.DataFrame, rows: np.ndarray) -> None:
        for column, profile in self.profiles.items():
            profile.update(frame[column])
        if self.too_wide is not None:
            return
        widths = limits.row_bytes_lower_bound(frame)
        over = np.flatnonzero(widths > limits.PG_MAX_ROW_BYTES)
        if len(over):
            self.too_wide = {"line": _line(self.header_line, rows[over[0]]), "bytes": int(widths[over[0]])}

    def _finish_width(self) -> None:
        if not self.wide:
            return
        if self.too_wide is not None:
            self.rep.error("row-too-wide", _("Fichier refusé : ligne {line} : {reason}").format(
                line=self.too_wide["line"], reason=limits.row_too_wide_message(self.too_wide["bytes"], typed=False)),
                line=self.too_wide["line"])
            return
        key_column = self.key.column if self.key else None
        kinds = [coltypes.column_type(p, None, key=c == key_column)[0] for c, p in self.profiles.items()]
        width = limits.typed_row_bytes(kinds)
        if width > limits.PG_MAX_ROW_BYTES:
            self.rep.error("row-too-wide", _("Fichier refusé : {reason}").format(
                reason=limits.row_too_wide_message(width, typed=True)))

    def _keys(self, frame: pd.DataFrame, rows: np.ndarray) -> None:
        raw = frame[self.key.column]
        if self.key.kind == keys.UAI:
            normalised = keys.normalise_uai(raw)
            valid = keys.valid_uai(normalised)
        else:
            normalised = keys.normalise_commune(raw)
            valid = keys.valid_commune(normalised)
        for i in np.flatnonzero(~valid):
            self.n_invalid_keys += 1
            if len(self.invalid) >= MAX_LISTED:
                continue
            value = raw.iat[i]
            entry = {"line": _line(self.header_line, rows[i]), "row": int(rows[i]),
                     "value": value, "expected_letter": None}
            if self.key.kind == keys.UAI:
                if value is None:
                    entry["message"] = _("UAI manquant.")
                else:
                    check = uai_mod.check(value)
                    entry["expected_letter"] = check.expected_letter
                    entry["message"] = check.message
            else:
                entry["message"] = keys.commune_reason(normalised.iat[i])
            self.invalid.append(entry)
        if not self.distinct_overflow:
            self.distinct.update(normalised[valid].tolist())
            if len(self.distinct) > MAX_DISTINCT_KEYS:
                self.distinct_overflow = True
                self.distinct.clear()

    def _cells(self, checker: tableschema.CellChecker, frame: pd.DataFrame, rows: np.ndarray) -> None:
        match = checker.match
        values = frame[match.column]
        failing = checker.failing(values)
        if not failing.any():
            return
        positions = np.flatnonzero(failing.to_numpy())
        match.n_errors += len(positions)
        self.n_schema_errors += len(positions)
        listed = self.listed_per_field.get(match.name, 0)
        for i in positions:
            if listed >= MAX_LISTED_PER_FIELD or len(self.schema_errors) >= MAX_LISTED:
                break
            value = values.iat[i]
            ftype, note_key, note = checker.verdict(value)
            line = _line(self.header_line, rows[i])
            self.schema_errors.append({
                "line": line, "row": int(rows[i]), "column": match.column, "field": match.name,
                "value": value, "type": ftype, "constraint": None if ftype == "type-error" else note_key,
                "note": note, "message": tableschema.french_message(ftype, note_key, value, match),
                "message_frictionless": tableschema.frictionless_message(
                    ftype, note, cell="" if value is None else str(value), row_number=line, match=match),
            })
            listed += 1
        self.listed_per_field[match.name] = listed

    def _duplicates(self, frame: pd.DataFrame, rows: np.ndarray) -> None:
        uai_key = self.key.column if self.key is not None and self.key.kind == keys.UAI else None
        for duplicates in self.duplicates.values():
            duplicates.update(frame, rows, self.header_line, uai_key)

    def finish(self, *, check_directory: bool, reader: Any, period_column: Optional[str] = None) -> None:
        """``period_column``: the period of the column model (duplicates are then keys
        repeated within one period)."""
        rep, data = self.rep, self.rep.data
        data["file"]["n_rows"] = self.n_rows
        data["bad_lines"] = {"n": self.n_bad_lines, "lines": self.bad_lines}
        data["schema"]["n_errors"] = self.n_schema_errors
        data["schema"]["errors"] = self.schema_errors
        duplicates = self.duplicates.get(period_column) or self.duplicates[None]
        data["duplicates"] = {"n": duplicates.n, "examples": duplicates.examples,
                              "columns": duplicates.columns or None}
        if self.n_rows == 0:
            rep.error("no-rows", _("Le fichier ne contient aucune ligne de données sous l'en-tête."))
        self._finish_width()
        if self.n_bad_lines:
            rep.error("bad-lines", _(
                "{n} ligne(s) ne se découpent pas selon les colonnes de l'en-tête (séparateur ou guillemet "
                "en trop ?) : elles seraient perdues. Première : ligne {line}.").format(
                n=_n(self.n_bad_lines), line=self.bad_lines[0]["line"] if self.bad_lines else "?"))
        if self.key is not None:
            self._finish_keys(check_directory=check_directory, reader=reader)
        if self.n_schema_errors:
            rep.error("schema-errors", _(
                "{n} valeur(s) ne respectent pas le schéma de l'axe (type ou contrainte) : voir le détail "
                "par ligne et par colonne.").format(n=_n(self.n_schema_errors)))
        if duplicates.n and len(duplicates.columns) > len(self.pk_columns or []):
            rep.warning("duplicate-key", _(
                "{n} ligne(s) répètent une clé et une période ({columns}) déjà vues plus haut : vérifiez qu'il "
                "ne s'agit pas de doublons.").format(
                n=_n(duplicates.n), columns=" + ".join(f"« {c} »" for c in duplicates.columns)))
        elif duplicates.n:
            rep.warning("duplicate-key", _(
                "{n} ligne(s) répètent une clé ({columns}) déjà vue plus haut : vérifiez qu'il ne s'agit "
                "pas de doublons (la page de l'établissement montre la dernière ligne).").format(
                n=_n(duplicates.n), columns=" + ".join(f"« {c} »" for c in duplicates.columns)))

    def _finish_keys(self, *, check_directory: bool, reader: Any) -> None:
        rep, data = self.rep, self.rep.data
        is_uai = self.key.kind == keys.UAI
        n_valid = self.n_rows - self.n_invalid_keys
        data["uai"].update(n_valid=n_valid, n_invalid=self.n_invalid_keys, invalid=self.invalid,
                           n_distinct=len(self.distinct))
        if self.n_invalid_keys:
            first = self.invalid[0] if self.invalid else None
            if is_uai:
                rep.error("invalid-uai", _(
                    "{n} ligne(s) ont un UAI invalide dans la colonne « {column} » (la liste donne pour chacune "
                    "la lettre clé attendue). Corrigez-les : aucune ligne n'est publiée tant qu'il en reste."
                ).format(n=_n(self.n_invalid_keys), column=self.key.column),
                    first_line=first["line"] if first else None)
            else:
                rep.error("invalid-commune", _(
                    "{n} ligne(s) ont un code commune invalide dans la colonne « {column} »."
                ).format(n=_n(self.n_invalid_keys), column=self.key.column))
        if not is_uai or not check_directory or not self.distinct:
            return
        if self.distinct_overflow:
            rep.info("directory-not-checked", _("Trop d'UAI distincts : présence dans l'annuaire non vérifiée."))
            return
        known = _directory_known(sorted(self.distinct), reader)
        if known is None:
            rep.info("directory-not-checked", _("Présence des UAI dans l'annuaire non vérifiée (base indisponible)."))
            return
        missing = sorted(self.distinct - known)
        data["uai"]["not_in_directory"] = {"checked": True, "n": len(missing), "uais": missing[:MAX_NOT_IN_DIRECTORY]}
        if missing:
            rep.warning("not-in-directory", _(
                "{n} UAI valide(s) sur {total} sont absents de l'annuaire des établissements du portail "
                "(établissement fermé, nouveau ou hors du territoire couvert ?) : leurs lignes sont publiées "
                "mais n'apparaîtront sur aucune fiche d'établissement tant que l'annuaire ne les connaît pas."
            ).format(n=_n(len(missing)), total=_n(len(self.distinct))), uais=missing[:20])


# --------------------------------------------------------------------------- column model

# Roles a publisher may give a column in the report's form (and editors on the resource page):
# a measure's choice carries its aggregation. Labels are msgids (translated by ``role_label``).
MEASURE_SUM, MEASURE_MEAN = f"{roles.MEASURE}:sum", f"{roles.MEASURE}:mean"
ROLE_CHOICES: tuple[str, ...] = (roles.PERIOD, MEASURE_SUM, MEASURE_MEAN, roles.FLAG, roles.DIMENSION,
                                 roles.LABEL, roles.CODE)
ROLE_LABELS = {
    roles.PERIOD: N_("période"), MEASURE_SUM: N_("mesure (somme)"), MEASURE_MEAN: N_("mesure (moyenne)"),
    roles.MEASURE: N_("mesure"), roles.FLAG: N_("oui/non"), roles.DIMENSION: N_("catégorie"),
    roles.LABEL: N_("libellé"), roles.CODE: N_("code"), roles.KEY: N_("clé"),
}
TYPE_LABELS = {"string": N_("texte"), "integer": N_("nombre entier"), "number": N_("nombre"),
               "boolean": N_("oui/non"), "date": N_("date")}
ORIGIN_LABELS = {"inferred": N_("déduit"), "dictionary": N_("déclaré"), "schema": N_("schéma de l'axe"),
                 "reshape": N_("mise en forme")}
# a declared measure's cell once its spaces are removed (as the loader reads it)
# the loader's own test of a number cell (ingest/shaping.py), so report and load agree
_NUMBER_CELL = re.compile(shaping.NUMBER_CELL)
_CELL_SPACES = r"[ \u00a0\u202f]"


def role_choice(role: Optional[str], aggregation: Optional[str]) -> str:
    """The form's value of a column's role: ``measure:sum``, ``measure:mean``, or the role."""
    if role == roles.MEASURE and aggregation in ("sum", "mean"):
        return f"{roles.MEASURE}:{aggregation}"
    return role or roles.LABEL


def parse_role_choice(choice: Any) -> Optional[tuple[str, Optional[str]]]:
    """(role, aggregation) of a value of the form, None when it is not one of ``ROLE_CHOICES``."""
    if choice not in ROLE_CHOICES:
        return None
    role, _sep, aggregation = str(choice).partition(":")
    if role == roles.FLAG:
        return role, "share"
    return role, aggregation or None


def role_label(choice: str) -> str:
    return _label(ROLE_LABELS, choice) or ""


def role_options() -> list[dict[str, str]]:
    """The options of a role <select>: [{value, label}]."""
    return [{"value": c, "label": role_label(c)} for c in ROLE_CHOICES]


# (singular, plural) of a count of periods of each kind
PERIOD_COUNTS: dict[Optional[str], tuple[str, str]] = {
    columns.RENTREE: ("{n} rentrée", "{n} rentrées"), columns.ANNEE: ("{n} année", "{n} années"),
    columns.TRIMESTRE: ("{n} trimestre", "{n} trimestres"), columns.SEMESTRE: ("{n} semestre", "{n} semestres"),
    columns.MOIS: ("{n} mois", "{n} mois"), columns.DATE: ("{n} date", "{n} dates"),
}


def _period_count(kind: Optional[str], n: int) -> str:
    singular, plural = PERIOD_COUNTS.get(kind, ("{n} période", "{n} périodes"))
    return ungettext(singular, plural, n).format(n=n)


def period_kind(values: list[str], source: Optional[str] = None) -> Optional[str]:
    """The kind of periods (rentree, annee, trimestre…) the labels `values` name, when they
    are all of one kind."""
    school_year = columns.school_year_header(source) if source else False
    kinds = {p.kind for v in values if (p := columns.parse_period(v, school_year=school_year)) is not None}
    return kinds.pop() if len(kinds) == 1 else None


def period_summary(values: list[str], kind: Optional[str]) -> str:
    """« 6 rentrées : 2016-2017 … 2021-2022 » (values ordered oldest first)."""
    if not values:
        return _("aucune période lue")
    shown = ", ".join(values) if len(values) <= 3 else f"{values[0]} … {values[-1]}"
    return _("{count} : {values}").format(count=_period_count(kind, len(values)), values=shown)


def reshape_summary(reshape: Optional[dict[str, Any]]) -> str:
    """« colonnes T3 2017, T4 2017, T1 2018 transformées en périodes ; colonne Champ : une mesure
    par valeur »."""
    if not reshape:
        return ""
    parts = []
    if reshape.get("periods_from_columns"):
        parts.append(_("colonnes {columns} transformées en périodes").format(
            columns=", ".join(reshape["periods_from_columns"])))
    if reshape.get("field_column") and reshape.get("value_column"):
        parts.append(_("colonne {column} : une mesure par valeur, lue dans la colonne {values}").format(
            column=reshape["field_column"], values=reshape["value_column"]))
    elif reshape.get("field_column"):
        parts.append(_("colonne {column} : une mesure par valeur").format(column=reshape["field_column"]))
    return " ; ".join(parts)


def model_column(col: dict[str, Any]) -> dict[str, Any]:
    """A column of a model as the pages show it: with its role's form value (``choice``), the
    French labels of its role, type and origin, and whether its role may be changed."""
    role = columns.role_of(col)  # tables loaded before the column model: from the type
    choice = role_choice(role, col.get("aggregation"))
    return {**col, "role": role, "choice": choice, "role_label": role_label(choice),
            "type_label": _label(TYPE_LABELS, col.get("type")),
            "origin_label": _label(ORIGIN_LABELS, col.get("origin")),
            "editable": role != roles.KEY}


def _sentence(text: str) -> str:
    text = (text or "").strip()
    return text[:1].upper() + text[1:]


class _MeasureCheck:
    """Cells of a column declared a measure that are not numbers."""

    def __init__(self) -> None:
        self.total = 0
        self.bad = 0
        self.examples: list[str] = []

    def update(self, values: pd.Series) -> None:
        values = values.dropna().astype(str)
        if values.empty:
            return
        squeezed = values.str.replace(_CELL_SPACES, "", regex=True)
        bad = values[~squeezed.str.match(_NUMBER_CELL)]
        self.total += len(values)
        self.bad += len(bad)
        for value in bad.unique()[:3].tolist():
            if len(self.examples) < 3 and value not in self.examples:
                self.examples.append(value)


class _Model:
    """What the portal understands of the columns: the column model the ingestion will give the
    file (``ingest.loader.ModelPreview``, fed every chunk of the scan), and the declared measures
    whose cells are not numbers (the ingestion refuses a measure mostly made of text)."""

    def __init__(self, rep: _Report, table: Any, key: keys.KeySpec, data_dictionary: Any, axe: Optional[str],
                 millesime: Optional[str] = None):
        self.rep = rep
        self.table = table
        self.key = key
        self.axe = axe
        self.millesime = millesime
        self.data_dictionary = data_dictionary
        self.preview = ModelPreview(table, key, data_dictionary, axe)
        self.sample = _Sample()
        self._result: Optional[dict[str, Any]] = None
        entries, _layout = columns.dictionary_parts(data_dictionary)
        self.declared = [e for e in entries if isinstance(e, dict)]
        by_column = coltypes.dictionary_entries(self.declared)
        self.measures = {c: _MeasureCheck() for c in table.columns if c != key.column
                         and columns.entry_for(by_column, c).get("role") == roles.MEASURE}

    def chunk(self, chunk: Any) -> None:
        self.sample.add(self._prepare(chunk))
        if chunk.frame.empty:
            return
        for column, check in self.measures.items():
            check.update(chunk.frame[column])

    def _prepare(self, chunk: Any) -> Optional[pd.DataFrame]:
        """The chunk's rows as the ingestion stages them (``ModelPreview``'s step, whose frame is
        kept here for the preview of the pages)."""
        preview = self.preview
        if preview.error is not None or preview.skipped:
            return None
        try:
            return preview.load.prepare(chunk)
        except shaping.IngestError:
            preview.skipped = True  # a limit the validation report states itself (row too wide…)
        except columns.ModelError as exc:
            preview.error = str(exc)
        finally:
            preview.load.new_columns.clear()
        return None

    def result(self) -> dict[str, Any]:
        if self._result is None:
            self._result = self.preview.result()
        return self._result

    def period_source(self) -> Optional[str]:
        """The period column of the model (None without one, or after a reshape)."""
        period = self.result().get("period")
        return period.get("source") if period and not self.result().get("reshape") else None

    def finish(self) -> None:
        rep = self.rep
        result = self.result()
        if result.get("error"):
            rep.error("column-model", _("Rôles des colonnes refusés : {error}").format(
                error=_sentence(result["error"])))
        for column, check in self.measures.items():
            self._measure_verdict(column, check)
        for warning in result.get("warnings") or []:
            rep.warning("column-model", _("Rôles des colonnes : {warning}.").format(warning=warning))
        period = result.get("period")
        if period:
            kind = period_kind(period.get("values") or [], period.get("source"))
            period = {**period, "kind": kind, "summary": period_summary(period.get("values") or [], kind)}
        reshape = result.get("reshape")
        if reshape:
            reshape = {**reshape, "summary": reshape_summary(reshape)}
        rep.data["modele"] = {
            "columns": [model_column(c) for c in result.get("columns") or []],
            "period": period, "reshape": reshape, "error": result.get("error"),
            "warnings": result.get("warnings") or [], "declared": self.declared, "choices": role_options(),
        }
        if not result.get("error"):
            try:
                self._pages()
            except Exception:  # noqa: BLE001 - the report still comes out, without this part
                log.exception("Validation : destinations des colonnes non calculées")

    def _pages(self) -> None:
        """Where each column will appear and the lines of a few establishment pages, computed by
        the pages' own code on the resource the ingestion will describe."""
        load = self.preview.load
        description, _warnings = shaping.describe_load(load, self.data_dictionary, self.axe)
        resource = _resource(load, description, self.axe, self.millesime)
        found = {d.column: d for d in destinations.destinations(resource)}
        if description.period_source is not None:   # not a column of the stored table: its rows' period
            found[description.period_source] = destinations.column_destination(resource, {
                "name": columns.PERIOD_COLUMN, "source": description.period_source, "role": roles.PERIOD})
        melted = set(load.reshape.period_columns) if load.reshape is not None else set()
        self.rep.data["destinations"] = [
            (found[c].as_dict() if c in found else _reshaped_destination(c, c in melted))
            for c in self.table.columns] + [d.as_dict() for c, d in found.items() if c not in self.table.columns]
        if load.reshape is None and self.key.kind == keys.UAI:
            self.rep.data["apercu"] = [
                {"uai": uai, "lignes": record.preview_lines(resource, typed_rows(rows, load, description, resource))}
                for uai, rows in self.sample.by_key().items()]

    def _measure_verdict(self, column: str, check: _MeasureCheck) -> None:
        if not check.bad:
            return
        examples = columns.examples(check.examples)
        if check.bad * 2 > check.total:
            self.rep.error("column-model", _(
                "La colonne « {column} » est déclarée mesure (nombre) mais {bad} valeurs sur {total} ne sont pas "
                "des nombres (par exemple {examples}) : choisissez un autre rôle.").format(
                column=column, bad=_n(check.bad), total=_n(check.total), examples=examples), column=column)
        else:
            self.rep.warning("column-model", ungettext(
                "{n} cellule de la colonne « {column} », déclarée mesure, n'est pas un nombre ({examples}) : "
                "elle sera laissée vide.",
                "{n} cellules de la colonne « {column} », déclarée mesure, ne sont pas des nombres ({examples}) : "
                "elles seront laissées vides.", check.bad).format(n=_n(check.bad), column=column, examples=examples),
                column=column)


class _Sample:
    """The staged rows of the first few keys of the file (all their rows, every period)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.frames: list[pd.DataFrame] = []

    def add(self, frame: Optional[pd.DataFrame]) -> None:
        if frame is None or frame.empty:
            return
        if len(self.keys) < PREVIEW_UAIS:
            for key in frame["_key"].tolist():
                if key not in self.keys:
                    self.keys.append(key)
                    if len(self.keys) >= PREVIEW_UAIS:
                        break
        kept = frame[frame["_key"].isin(self.keys)]
        if not kept.empty:
            self.frames.append(kept)

    def by_key(self) -> dict[str, list[dict[str, Any]]]:
        if not self.frames:
            return {}
        rows = pd.concat(self.frames, ignore_index=True).to_dict("records")
        found: dict[str, list[dict[str, Any]]] = {k: [] for k in self.keys}
        for row in rows:
            if len(found[row["_key"]]) < PREVIEW_ROWS_PER_UAI:
                found[row["_key"]].append(row)
        return found


def _resource(load: Any, description: columns.Description, axe: Optional[str],
              millesime: Optional[str]) -> dict[str, Any]:
    """The resource the registry will describe once the file is loaded: column model (key
    first), axis, key, period layout."""
    cols = [shaping.key_entry(load)] + list(description.columns)
    period = None
    if description.period_source is not None:
        period = {"source": description.period_source, "label": description.period_source,
                  "orderable": True, "reason": None}
    return {"resource_id": "apercu", "table_name": None, "package_id": None, "package_name": None,
            "package_title": None, "resource_name": None, "organization_title": None, "columns": cols, "axe": axe,
            "key_column": load.key.column, "key_kind": load.key.kind, "millesime": millesime,
            "layout": {"period": period} if period else {"period": None, "rows_per_key_period": 1}}


def _reshaped_destination(column: str, period: bool) -> dict[str, Any]:
    """A column of the file the reshape turned into rows (its header is a period or its values
    are measures of other columns)."""
    if period:
        return destinations.Destination(column, destinations.PERIODE, column, role=roles.PERIOD, raison=_(
            "colonne transformée en période : ses valeurs sont celles de la période qu'elle nomme")).as_dict()
    return destinations.Destination(column, destinations.IGNOREE, column, raison=_(
        "mise en forme : ses valeurs deviennent des mesures d'autres colonnes")).as_dict()


def typed_rows(rows: list[dict[str, Any]], load: Any, description: columns.Description,
               resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Staged rows (all text) typed as the ingestion stores them: measures as numbers (a cell
    that is not one left empty), flags as booleans, the period as ``_periode`` / ``_periode_ordre``."""
    period_source = description.period_source
    school_year = columns.school_year_header(period_source) if period_source else False
    orderable = True
    typed = []
    for row in rows:
        out: dict[str, Any] = {"_key": row["_key"], "_row": int(row["_row"])}
        if period_source is not None:
            raw = row.get(load.out[period_source])
            found = columns.parse_period(raw, school_year=school_year)
            orderable = orderable and (found is not None or raw is None)
            out[columns.PERIOD_COLUMN] = found.label if found else raw
            out[columns.PERIOD_ORDER_COLUMN] = found.order if found else None
        for col in description.columns:
            out[col["name"]] = _typed_cell(row.get(col["name"]), col, col["source"] in description.missing_means_no)
        typed.append(out)
    period = (resource.get("layout") or {}).get("period")
    if period is not None and not orderable:
        period["orderable"] = False
    return typed


_FLAG_TRUE = frozenset(columns.FLAG_TRUE)
_FLAG_FALSE = frozenset(columns.FLAG_FALSE)


def _typed_cell(value: Any, col: dict[str, Any], missing_means_no: bool) -> Any:
    """One cell as the ingestion stores it (``shaping.build_table``'s casts)."""
    role = col.get("role")
    text = None if value is None else str(value)
    if role == roles.FLAG:
        lowered = (text or "").strip().lower()
        if lowered in _FLAG_TRUE:
            return True
        if lowered in _FLAG_FALSE:
            return False
        return False if missing_means_no else None
    if role == roles.MEASURE or col.get("type") in ("integer", "number"):
        if text is None:
            return None
        squeezed = re.sub(_CELL_SPACES, "", text)
        if not _NUMBER_CELL.match(squeezed):
            return None
        number = float(squeezed.replace(",", "."))
        return int(number) if col.get("type") == "integer" and number.is_integer() else number
    return text


def _describe_schema(rep: _Report, matches: list[Any], unknown: list[str], key: Optional[keys.KeySpec]) -> None:
    found = [m for m in matches if m.column]
    absent = [m for m in matches if not m.column]
    for m in absent:
        if m.required and not (m.name == "uai" and key is not None and key.kind == keys.COMMUNE):
            if m.name == "uai" and key is None:
                continue  # already said: no key column
            rep.error("missing-label", _("Colonne obligatoire du schéma absente : « {field} » ({title}).").format(
                field=m.name, title=m.title))
    rep.info("schema-match", _("{n} colonne(s) du fichier correspondent au schéma de l'axe ({fields}).").format(
        n=len(found), fields=", ".join(f"{m.column} → {m.name}" for m in found) or _("aucune")))
    where = {d["column"]: d for d in rep.data.get("destinations") or []}
    elsewhere = [c for c in unknown if where.get(c, {}).get("kind") == destinations.INDICATEUR]
    for column in elsewhere:
        dest = where[column]
        rep.info("other-axis-indicator", _(
            "La colonne « {column} » n'est pas dans le schéma de cet axe mais alimente l'indicateur « {label} » "
            "de l'axe {axe} (fiches des établissements et, pour les données publiques, pages des territoires)."
        ).format(column=column, label=dest["label"], axe=dest["axe_label"]), column=column)
    unknown = [c for c in unknown if c not in elsewhere and (not where or where.get(c, {}).get("kind") in (
        destinations.AUTRES, destinations.CONTEXTE, None))]
    if unknown:
        rep.warning("unknown-columns", _(
            "{n} colonne(s) inconnues du schéma de l'axe : {columns}. Elles sont publiées telles quelles "
            "(rubrique « Autres données » des fiches) ; renommez-les comme dans le modèle pour qu'elles "
            "alimentent les indicateurs de l'axe.").format(
            n=len(unknown), columns=", ".join(f"« {c} »" for c in unknown[:20]) + ("…" if len(unknown) > 20 else "")),
            columns=unknown)


def _conclude(rep: _Report) -> None:
    data = rep.data
    blocking = bool(data["errors"])
    data["blocking"] = blocking
    data["valid"] = not blocking
    data["verdict"] = "blocking" if blocking else ("warnings" if data["warnings"] else "ok")
    rows = data["file"]["n_rows"]
    if blocking:
        data["summary"] = _(
            "Fichier refusé : {n} erreur(s) bloquante(s). Rien n'est publié ; la version en ligne, s'il y "
            "en a une, reste en place. Corrigez le fichier et déposez-le à nouveau.").format(n=len(data["errors"]))
    elif data["warnings"]:
        data["summary"] = _("Fichier valide ({rows} lignes), avec {n} avertissement(s) : il peut être publié.").format(
            rows=_n(rows), n=len(data["warnings"]))
    else:
        data["summary"] = _("Fichier valide ({rows} lignes) : il peut être publié.").format(rows=_n(rows))
