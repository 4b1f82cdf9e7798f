"""Robust reader of the tabular files the portal meets (CSV/TSV, JSON, XLSX, optionally gzipped).

What the real files contain (see the READMEs of ``shared/data``) and how it is handled:

- separators ``;`` (ministry), ``,`` (Arcep 2018), tab, ``|``: sniffed on the first lines, the
  candidate that gives the most regular number of fields wins;
- encodings: UTF-8 with or without BOM, cp1252/latin-1 (Excel exports): a BOM decides, otherwise
  the whole (decompressed) file is checked as UTF-8 before falling back to cp1252;
- lines before the header (Arcep's title and blank ``,,,,`` lines): the header is the first line
  with the regular width whose cells are mostly filled;
- missing values spelled empty, ``-``, ``#N/A``, ``null``…: turned into None, every value stripped
  (Python's ``str.strip`` also removes non-breaking spaces: ``" 1\\u00a0406    "`` -> ``1\\u00a0406``);
- every value is read as text: nothing is cast here (``031``, ``02A``, ``2A004`` stay intact), types
  are decided later on the whole column (see ``coltypes``);
- lines with too many fields are not dropped silently: they are returned as *bad lines* that the
  loader reports.

Reading is chunked (``chunk_rows``) so that a national file never sits whole in memory.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import json
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any, Iterator, Optional

import numpy as np
import pandas as pd

from ckanext.ecarto.translation import _

# Values that mean "no value" in the real files (CSV exports, Excel copies, JSON-as-text).
MISSING_TOKENS = frozenset({
    "", "-", "--", "#N/A", "#N/D", "N/A", "n/a", "null", "NULL", "Null", "None", "NaN", "nan",
    "#VALEUR!", "#VALUE!", "#REF!", "#DIV/0!",
})

SEPARATORS = (";", ",", "\t", "|")
SAMPLE_BYTES = 256 * 1024
HEADER_SEARCH_ROWS = 50
DEFAULT_CHUNK_ROWS = 50_000

_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


class ReadError(ValueError):
    """The file cannot be read as a table; the message is French and meant for the publisher."""


@dataclass
class TableFormat:
    """How a file was read (stored in the registry so that a publisher can check it)."""

    kind: str                       # csv | json | xlsx
    encoding: Optional[str] = None  # utf-8-sig | utf-8 | cp1252 | latin-1 (csv only)
    separator: Optional[str] = None
    header_line: int = 1            # 1-based line (csv) or row (xlsx) of the header
    headers: list[str] = field(default_factory=list)
    compressed: bool = False


@dataclass
class BadLine:
    """A source line that could not be split into the header's columns."""

    line: int
    reason: str


@dataclass
class Chunk:
    """Consecutive data rows, every value a stripped ``str`` or None.

    ``rows`` holds the 1-based data row numbers (the ``_row`` of the data table)."""

    frame: pd.DataFrame
    rows: list[int]
    bad_lines: list[BadLine] = field(default_factory=list)


# --------------------------------------------------------------------------- files

class _CountingFile(io.RawIOBase):
    """Binary wrapper that remembers how many bytes of the underlying file were consumed."""

    def __init__(self, raw: IO[bytes]):
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        return n


def is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_binary(path: str) -> tuple[IO[bytes], _CountingFile]:
    """The file's (decompressed) bytes, and the counter of raw bytes read for progress bars."""
    counter = _CountingFile(open(path, "rb"))
    buffered = io.BufferedReader(counter, buffer_size=1 << 20)
    if is_gzip(path):
        return gzip.GzipFile(fileobj=buffered, mode="rb"), counter
    return buffered, counter


def _head(path: str, size: int = SAMPLE_BYTES) -> bytes:
    stream, counter = open_binary(path)
    try:
        return stream.read(size)
    finally:
        stream.close()
        counter._raw.close()


def sniff_kind(path: str, head: bytes) -> str:
    lower = path.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if head.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def detect_encoding(path: str, head: bytes) -> str:
    """``utf-8-sig`` when there is a BOM, ``utf-8`` when the whole file decodes, else cp1252
    (or latin-1 when bytes undefined in cp1252 occur)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    stream, counter = open_binary(path)
    try:
        while True:
            block = stream.read(1 << 20)
            if not block:
                decoder.decode(b"", final=True)
                return "utf-8"
            decoder.decode(block)
    except UnicodeDecodeError:
        pass
    finally:
        stream.close()
        counter._raw.close()
    return "latin-1" if re.search(rb"[\x81\x8d\x8f\x90\x9d]", head) else "cp1252"


# --------------------------------------------------------------------------- layout

def _rows_of(text: str, sep: str, limit: int = 400) -> list[tuple[int, list[str]]]:
    """(first physical line, fields) of the first complete records of a text sample."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    out: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for record in reader:
            out.append((line, record))
            line = reader.line_num + 1
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def detect_layout(text: str, truncated: bool) -> tuple[str, int, list[str]]:
    """Separator, 1-based header line and header cells of a CSV sample."""
    best: Optional[tuple[float, int, str, list[tuple[int, list[str]]], int]] = None
    for rank, sep in enumerate(SEPARATORS):
        rows = _rows_of(text, sep)
        if truncated and len(rows) > 1:
            rows = rows[:-1]  # the sample may end in the middle of a record
        rows = [(n, r) for n, r in rows if r and any(c.strip() for c in r)]
        if not rows:
            continue
        widths = Counter(len(r) for _, r in rows if len(r) > 1)
        if not widths:
            continue
        width = widths.most_common(1)[0][0]
        regular = sum(1 for _, r in rows if len(r) == width) / len(rows)
        candidate = (regular, width, sep, rows, -rank)
        if best is None or (candidate[0], candidate[1], candidate[4]) > (best[0], best[1], best[4]):
            best = candidate
    if best is None:
        rows = [(n, r) for n, r in _rows_of(text, ",") if r]
        if not rows:
            raise ReadError(_("Le fichier est vide."))
        return ",", rows[0][0], rows[0][1]
    _regular, width, sep, rows, _rank = best
    need = max(2, (width + 1) // 2)
    for line, record in rows[:HEADER_SEARCH_ROWS]:
        filled = sum(1 for c in record if c.strip())
        if len(record) >= width - 1 and filled >= min(need, width):
            return sep, line, record
    line, record = rows[0]
    return sep, line, record


def _header_names(cells: list[Any], width: int) -> list[str]:
    """Header cells made usable: stripped, BOM removed, empty and duplicate names made unique."""
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i in range(max(width, len(cells))):
        raw = cells[i] if i < len(cells) else None
        name = str(raw).replace("\ufeff", "").strip() if raw is not None else ""
        if not name:
            name = f"colonne_{i + 1}"
        seen[name] += 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        names.append(name)
    return names


# --------------------------------------------------------------------------- cleaning

_EDGE_SPACES = (" ", "\t", "\u00a0", "\u202f", "\r", "\n")


def _needs_strip(joined: str) -> bool:
    """Does any of the \x00-joined values start or end with a space? (substring search, in C)"""
    if joined[:1].isspace() or joined[-1:].isspace():
        return True
    return any(f"\x00{c}" in joined or f"{c}\x00" in joined for c in _EDGE_SPACES)


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value a stripped str, or None when missing (see MISSING_TOKENS).

    The values are str (or missing) as read. Most columns need no stripping: a substring search
    over the joined values finds those that do, and only their values are stripped one by one."""
    missing = MISSING_TOKENS
    out: dict[str, Any] = {}
    for column in frame.columns:
        values = frame[column].to_numpy(dtype=object)
        nulls = pd.isna(values)
        if nulls.all():
            out[column] = np.full(len(values), None, dtype=object)
            continue
        has_nulls = bool(nulls.any())
        if has_nulls:
            values = values.copy()
            values[nulls] = None
        present = values[~nulls].tolist() if has_nulls else values.tolist()
        if _needs_strip("\x00".join(present)) or not missing.isdisjoint(present):
            cleaned = []
            for value in values:
                if value is None:
                    cleaned.append(None)
                    continue
                text = value.strip()
                cleaned.append(None if text in missing else text)
            out[column] = np.array(cleaned, dtype=object)
        else:
            out[column] = values
    return pd.DataFrame(out, index=range(len(frame)), columns=list(frame.columns), dtype=object)


def _json_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value == value else None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _cell_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- tables

class Table:
    """A tabular file opened for chunked reading: ``format``, ``columns``, ``chunks()``."""

    def __init__(self, path: str, fmt: TableFormat, chunk_rows: int):
        self.path = path
        self.format = fmt
        self.columns = list(fmt.headers)
        self.chunk_rows = max(1, int(chunk_rows))
        self.size = os.path.getsize(path)
        self._counter: Optional[_CountingFile] = None

    @property
    def bytes_read(self) -> int:
        """Raw (possibly compressed) bytes consumed so far, for progress bars."""
        return min(self._counter.consumed, self.size) if self._counter else 0

    def chunks(self) -> Iterator[Chunk]:
        kind = self.format.kind
        if kind == "csv":
            yield from self._csv_chunks()
        elif kind == "json":
            yield from self._json_chunks()
        elif kind == "xlsx":
            yield from self._xlsx_chunks()
        else:  # pragma: no cover - guarded by read_table
            raise ReadError(_("Format {kind} non pris en charge.").format(kind=kind))

    # CSV: pandas' C parser, everything as text
    def _csv_chunks(self) -> Iterator[Chunk]:
        fmt = self.format
        stream, self._counter = open_binary(self.path)
        try:
            reader = pd.read_csv(
                stream, sep=fmt.separator, encoding=fmt.encoding, header=None,
                names=self.columns, skiprows=fmt.header_line, dtype=str, keep_default_na=False,
                na_values=sorted(MISSING_TOKENS), na_filter=True, index_col=False, chunksize=self.chunk_rows, on_bad_lines="warn",
                engine="c", quotechar='"', skip_blank_lines=True, encoding_errors="strict",
            )
            next_row = 1
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        frame = next(reader)
                    except StopIteration:
                        frame = None
                    except UnicodeDecodeError as exc:
                        raise ReadError(_(
                            "Le fichier n'est pas lisible dans l'encodage {encoding} (octet {byte})."
                        ).format(encoding=fmt.encoding, byte=exc.start)) from exc
                    except pd.errors.ParserError as exc:
                        raise ReadError(_("Fichier CSV mal formé : {reason}").format(
                            reason=_parser_message(exc))) from exc
                bad = _bad_lines(caught)
                if frame is None:
                    if bad:
                        yield Chunk(pd.DataFrame(columns=self.columns, dtype=object), [], bad)
                    break
                frame = clean_frame(frame)
                # data row numbers as in the file: a skipped bad line keeps its number
                skipped = {b.line - fmt.header_line for b in bad}
                rows: list[int] = []
                while len(rows) < len(frame):
                    if next_row not in skipped:
                        rows.append(next_row)
                    next_row += 1
                yield Chunk(frame, rows, bad)
            reader.close()
        finally:
            stream.close()
            self._counter._raw.close()

    def _json_chunks(self) -> Iterator[Chunk]:
        records = _json_records(self.path)
        self._counter = _CountingFile(io.BytesIO())
        self._counter.consumed = self.size
        columns = self.columns
        for start in range(0, len(records), self.chunk_rows):
            part = records[start:start + self.chunk_rows]
            data = {c: [_json_text(r.get(c)) if isinstance(r, dict) else None for r in part]
                    for c in columns}
            frame = clean_frame(pd.DataFrame(data, columns=columns, dtype=object))
            yield Chunk(frame, list(range(start + 1, start + 1 + len(part))))

    def _xlsx_chunks(self) -> Iterator[Chunk]:
        rows = _xlsx_rows(self.path)
        try:
            for _ in range(self.format.header_line):
                next(rows, None)
            width = len(self.columns)
            batch: list[list[Optional[str]]] = []
            next_row = 1
            for values in rows:
                cells = [_cell_text(v) for v in values][:width]
                if not any(c not in (None, "") for c in cells):
                    continue
                batch.append(cells + [None] * (width - len(cells)))
                if len(batch) >= self.chunk_rows:
                    yield self._xlsx_chunk(batch, next_row)
                    next_row += len(batch)
                    batch = []
            if batch:
                yield self._xlsx_chunk(batch, next_row)
        finally:
            rows.close()

    def _xlsx_chunk(self, batch: list[list[Optional[str]]], first: int) -> Chunk:
        frame = clean_frame(pd.DataFrame(batch, columns=self.columns, dtype=object))
        return Chunk(frame, list(range(first, first + len(batch))))


def _parser_message(exc: Exception) -> str:
    text = str(exc).strip()
    if "EOF inside string" in text:
        match = re.search(r"line (\d+)", text)
        if match:
            return _("guillemet ouvert jamais fermé (à partir de la ligne {line}) : le fichier est "
                     "probablement tronqué.").format(line=match.group(1))
        return _("guillemet ouvert jamais fermé : le fichier est probablement tronqué.")
    return text


def _bad_lines(caught: list[warnings.WarningMessage]) -> list[BadLine]:
    bad: list[BadLine] = []
    for item in caught:
        for match in _BAD_LINE.finditer(str(item.message)):
            line = int(match.group(1))  # pandas counts the file's lines, preamble included
            bad.append(BadLine(line, _(
                "Ligne {line} du fichier : {found} champs au lieu de {expected} (séparateur ou guillemet "
                "en trop ?).").format(line=line, found=match.group(3), expected=match.group(2))))
    return bad


def _json_records(path: str) -> list[Any]:
    stream, counter = open_binary(path)
    try:
        raw = stream.read()
    finally:
        stream.close()
        counter._raw.close()
    text = raw.decode("utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:  # JSON Lines (Opendatasoft /exports/jsonl)
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ReadError(_("JSON mal formé (ligne {line}, colonne {column}).").format(
                line=exc.lineno, column=exc.colno)) from exc
    if isinstance(data, dict):
        for key in ("results", "records", "data", "features"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            raise ReadError(_("Le JSON n'est pas une liste d'enregistrements "
                              "(attendu : un tableau, ou un objet avec « results »)."))
    if not isinstance(data, list):
        raise ReadError(_("Le JSON n'est pas une liste d'enregistrements."))
    records = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("fields"), dict) and "recordid" in item:
            item = item["fields"]  # Opendatasoft v1 record
        elif isinstance(item, dict) and isinstance(item.get("record"), dict):
            item = item["record"].get("fields", item["record"])  # Opendatasoft v2.0 record
        elif isinstance(item, dict) and item.get("type") == "Feature":
            item = dict(item.get("properties") or {})
        records.append(item)
    return records


def _xlsx_rows(path: str) -> Any:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is a pinned requirement
        raise ReadError(_("La lecture des fichiers XLSX nécessite openpyxl.")) from exc
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(_("Classeur XLSX illisible : {error}").format(error=exc)) from exc

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            sheet = workbook.worksheets[0]
            yield from sheet.iter_rows(values_only=True)
        finally:
            workbook.close()
    return rows()


def _json_headers(records: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            for key in record:
                seen.setdefault(str(key), None)
    return list(seen)


def read_table(path: str, *, chunk_rows: Optional[int] = None, encoding: Optional[str] = None,
               separator: Optional[str] = None, header_line: Optional[int] = None) -> Table:
    """Open a CSV/TSV/JSON/XLSX file (gzip accepted) for chunked reading.

    ``encoding``, ``separator`` and ``header_line`` (1-based) override what is sniffed.
    Raises ReadError with a French message when the file is not a table.
    """
    if not os.path.exists(path):
        raise ReadError(_("Fichier introuvable : {path}").format(path=path))
    head = _head(path)
    if not head.strip():
        raise ReadError(_("Le fichier est vide."))
    kind = sniff_kind(path, head)
    chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS
    compressed = is_gzip(path)
    if kind == "json":
        records = _json_records(path)
        headers = _json_headers(records)
        if not headers:
            raise ReadError(_("Le JSON ne contient aucun enregistrement."))
        return Table(path, TableFormat("json", "utf-8", None, 1, headers, compressed), chunk_rows)
    if kind == "xlsx":
        rows = _xlsx_rows(path)
        try:
            sample = [[_cell_text(v) or "" for v in r] for _, r in zip(range(HEADER_SEARCH_ROWS), rows)]
        finally:
            rows.close()
        if not sample:
            raise ReadError(_("La première feuille du classeur est vide."))
        widths = Counter(sum(1 for c in r if c) for r in sample)
        width = max(len(r) for r in sample)
        filled_mode = widths.most_common(1)[0][0]
        line = header_line or next(
            (i + 1 for i, r in enumerate(sample) if sum(1 for c in r if c) >= max(2, filled_mode // 2 + 1)), 1)
        cells = sample[line - 1]
        while cells and not cells[-1]:
            cells = cells[:-1]
        return Table(path, TableFormat("xlsx", None, None, line, _header_names(cells, len(cells)),
                                       compressed), chunk_rows)
    enc = encoding or detect_encoding(path, head)
    text = head.decode(enc, errors="replace")
    truncated = len(head) >= SAMPLE_BYTES
    sep, line, cells = detect_layout(text, truncated)
    if separator:
        sep = separator
    if header_line:
        line = header_line
        records = _rows_of(text, sep, limit=header_line + 1)
        cells = next((r for n, r in records if n == header_line), cells)
    widths = Counter(len(r) for n, r in _rows_of(text, sep) if n > line and r)
    width = widths.most_common(1)[0][0] if widths else len(cells)
    headers = _header_names(cells, max(width, len(cells)))
    return Table(path, TableFormat("csv", enc, sep, line, headers, compressed), chunk_rows)
