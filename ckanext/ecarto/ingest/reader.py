"""Robust reader of the tabular files the portal meets (CSV/TSV, JSON, XLSX, ODS, optionally gzipped).

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
  loader reports;
- UTF-16 (Excel's « texte Unicode », tab-separated, with or without BOM) is decoded to UTF-8 as a
  stream before anything else reads it;
- what PostgreSQL or the portal cannot hold is refused with a French reason (``limits``): more
  columns than a table may have, a line longer than the limit (a file of one huge line is not a
  CSV), a compressed file larger than the limit once decompressed (the decompression stops at
  the limit), a NUL character.

Workbooks (XLSX, and OpenDocument ODS through odfpy) are read on their first sheet, or on the
sheet chosen by its name or number (``sheet``: the resource's ``feuille``). A cell is read as the
spreadsheet shows it: a number formatted as a percentage (stored 0.45, shown « 45 % ») is read
``45``, like the CSV text « 45 % » (the axes give shares in percent).

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
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any, Iterator, Optional

import numpy as np
import pandas as pd

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import limits

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
    """The file cannot be read as a table; the message is French and meant for the publisher.

    ``code`` names the kind of problem (the public ingestion status says it in general terms,
    see ``messages``); ``detail`` is technical text (a library's own message) for editors."""

    def __init__(self, message: str, code: str = "unreadable", detail: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.detail = detail


@dataclass
class TableFormat:
    """How a file was read (stored in the registry so that a publisher can check it)."""

    kind: str                       # csv | json | xlsx | ods
    encoding: Optional[str] = None  # utf-8-sig | utf-8 | cp1252 | latin-1 (csv only)
    separator: Optional[str] = None
    header_line: int = 1            # 1-based line (csv) or row (xlsx) of the header
    headers: list[str] = field(default_factory=list)
    compressed: bool = False
    sheet: Optional[str] = None     # the sheet read (workbooks)


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

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _Guard(io.RawIOBase):
    """Pass-through of a byte stream that refuses, as it goes, what ingestion cannot hold:

    - more than ``cap`` bytes (a compressed file's decompressed size: the decompression stops
      there, so a "gzip bomb" costs a fraction of a second);
    - a NUL character (``check_nul``; PostgreSQL refuses it in text);
    - a physical line longer than ``max_line`` bytes (CR, LF or CRLF end a line).
    """

    def __init__(self, source: IO[bytes], *, cap: Optional[int] = None, check_nul: bool = False,
                 max_line: Optional[int] = None):
        self._source = source
        self.cap = cap
        self.check_nul = check_nul
        self.max_line = max_line
        self.total = 0
        self.lines = 0          # line ends seen so far
        self.since_end = 0      # bytes since the last line end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        n = len(data)
        if n:
            self._check(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()

    def _check(self, data: bytes) -> None:
        self.total += len(data)
        if self.cap is not None and self.total > self.cap:
            raise ReadError(too_large_once_decompressed(self.cap), code="decompressed-too-large")
        if self.check_nul:
            at = data.find(b"\x00")
            if at >= 0:
                line = self.lines + data.count(b"\n", 0, at) + 1
                raise ReadError(_(
                    "le fichier contient un caractère nul (octet 0x00) à la ligne {line} : ce n'est pas un "
                    "fichier texte CSV valide (fichier binaire, ou enregistré dans un encodage non pris en "
                    "charge ?).").format(line=line), code="nul-character")
        if self.max_line is not None:
            self._check_lines(data)
        elif self.check_nul:
            self.lines += data.count(b"\n")

    def _check_lines(self, data: bytes) -> None:
        limit = self.max_line
        first = _first_end(data)
        if first < 0:
            self.since_end += len(data)
            if self.since_end > limit:
                self._too_long(self.lines + 1)
            return
        if self.since_end + first > limit:
            self._too_long(self.lines + 1)
        if len(data) > limit:  # a line entirely inside this block may be too long
            parts = data.replace(b"\r", b"\n").split(b"\n")
            offset = len(parts[0]) + 1
            for part in parts[1:-1]:
                if len(part) > limit:
                    self._too_long(self.lines + data.count(b"\n", 0, offset) + 1)
                offset += len(part) + 1
        self.lines += data.count(b"\n")
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        self.since_end = len(data) - last - 1

    def _too_long(self, line: int) -> None:
        size = limits.size_label(self.max_line)
        if line <= 1:
            raise ReadError(_(
                "aucune fin de ligne trouvée dans {first} : ce n'est pas un fichier CSV lisible (une seule "
                "ligne géante, ou un fichier qui n'est pas un tableau ?).").format(
                    first=limits.first_bytes_label(self.max_line)), code="line-too-long")
        raise ReadError(_(
            "la ligne {line} dépasse {size}, la longueur maximale d'une ligne : fin de ligne manquante ou "
            "fichier qui n'est pas un tableau CSV ?").format(line=line, size=size), code="line-too-long")


def _first_end(data: bytes) -> int:
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    return min(ends) if ends else -1


def too_large_once_decompressed(cap: int) -> str:
    return _("fichier compressé trop volumineux une fois décompressé (limite {size}) : envoyez-le "
             "découpé, ou demandez un chargement à l'équipe du portail.").format(size=limits.size_label(cap))


class _Transcoder(io.RawIOBase):
    """UTF-16/UTF-32 bytes decoded as a stream and given out as UTF-8."""

    def __init__(self, source: IO[bytes], codec: str):
        self._source = source
        self.codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._pending = b""
        self._offset = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._offset >= len(self._pending) and not self._eof:
            raw = self._source.read(1 << 18)
            try:
                text = self._decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise ReadError(_("Le fichier n'est pas lisible en {encoding} : octets invalides.").format(
                    encoding=encoding_name(self.codec)), code="encoding", detail=str(exc)) from exc
            self._eof = not raw
            self._pending, self._offset = text.encode("utf-8"), 0
        n = min(len(buffer), len(self._pending) - self._offset)
        buffer[:n] = self._pending[self._offset:self._offset + n]
        self._offset += n
        return n

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


def wide_encoding(head: bytes) -> Optional[str]:
    """``utf-32``/``utf-16`` (with a BOM), ``utf-16-le``/``utf-16-be`` (without: recognised by
    the zero bytes of mostly Latin text), or None."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    sample = sample[:len(sample) - len(sample) % 2]
    half = len(sample) // 2
    if half < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= 0.3 * half and even <= 0.02 * half:
        return "utf-16-le"
    if even >= 0.3 * half and odd <= 0.02 * half:
        return "utf-16-be"
    return None


def encoding_name(codec: Optional[str]) -> str:
    return {"utf-16": "UTF-16", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
            "utf-32": "UTF-32"}.get(codec or "", codec or "?")


def is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


@dataclass
class _Opened:
    """A file opened for reading as text bytes (decompressed, UTF-16 turned into UTF-8)."""

    stream: IO[bytes]
    counter: _CountingFile
    wide: Optional[str] = None      # the UTF-16/32 codec the bytes were decoded from
    decompressed: Optional[IO[bytes]] = None  # a gzip file's decompressed bytes (size-capped)

    def close(self) -> None:
        self.stream.close()
        self.counter.close()

    def size_first(self, error: ReadError) -> ReadError:
        """The error to report when `error` stopped the reading of a compressed file: its
        decompressed size comes first (a "bomb" of zeros has NUL characters and no line end, but
        what is wrong with it is its size), so the rest is decompressed, up to the limit."""
        if self.decompressed is None or error.code == "decompressed-too-large":
            return error
        try:
            while _read_all_from(self.decompressed, 1 << 20):
                pass
        except ReadError as size_error:
            return size_error
        return error


def open_text(path: str, *, check_nul: bool = True, max_line: Optional[int] = None) -> _Opened:
    """The file's bytes, decompressed (gzip, up to ``limits.max_decompressed_bytes``), UTF-16
    decoded to UTF-8, and checked as they are read (see _Guard)."""
    counter = _CountingFile(open(path, "rb"))
    stream: IO[bytes] = io.BufferedReader(counter, buffer_size=1 << 20)
    decompressed = None
    if is_gzip(path):
        unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
        stream = decompressed = io.BufferedReader(_Guard(unzipped, cap=limits.max_decompressed_bytes()),
                                                  buffer_size=1 << 16)
    try:
        wide = wide_encoding(stream.peek(4096)[:4096])
    except (OSError, EOFError, zlib.error) as exc:
        stream.close()
        counter.close()
        raise ReadError(_("Fichier compressé (gzip) illisible : il est probablement tronqué ou abîmé."),
                        code="compressed-unreadable", detail=str(exc)) from exc
    except ReadError:
        stream.close()
        counter.close()
        raise
    if wide:
        stream = _Transcoder(stream, wide)
    if check_nul or max_line or wide:
        stream = io.BufferedReader(_Guard(stream, check_nul=check_nul, max_line=max_line), buffer_size=1 << 20)
    return _Opened(stream, counter, wide, decompressed)


def open_binary(path: str) -> tuple[IO[bytes], _CountingFile]:
    """The file's (decompressed) text bytes, and the counter of raw bytes read for progress bars."""
    opened = open_text(path, check_nul=False)
    return opened.stream, opened.counter


def _read_all(opened: _Opened, size: int = -1) -> bytes:
    """Read from an opened file, turning decompression failures into ReadError."""
    return _read_all_from(opened.stream, size)


def _read_all_from(stream: IO[bytes], size: int = -1) -> bytes:
    try:
        return stream.read(size)
    except ReadError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise ReadError(_("Fichier compressé (gzip) illisible : il est probablement tronqué ou abîmé."),
                        code="compressed-unreadable", detail=str(exc)) from exc


def _head(path: str, size: int = SAMPLE_BYTES) -> tuple[bytes, Optional[str]]:
    """The first `size` text bytes and the UTF-16/32 codec they were decoded from, if any."""
    opened = open_text(path, check_nul=False)
    try:
        return _read_all(opened, size), opened.wide
    finally:
        opened.close()


def sniff_kind(path: str, head: bytes) -> str:
    lower = path.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith(".ods") or (head.startswith(b"PK\x03\x04") and is_ods(path)):
        return "ods"
    if head.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def detect_encoding(path: str, head: bytes, wide: Optional[str] = None) -> str:
    """``utf-8-sig`` when there is a BOM, ``utf-8`` when the whole file decodes, else cp1252
    (or latin-1 when bytes undefined in cp1252 occur); the UTF-16/32 codec of a wide file.

    The whole file is read once here, through the limits of ``open_text`` (NUL characters,
    line length, decompressed size): a file ingestion cannot hold fails now, before anything
    is loaded."""
    opened = open_text(path, check_nul=True, max_line=limits.max_line_bytes())
    decoder = None if wide or head.startswith(codecs.BOM_UTF8) else codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    try:
        while True:
            try:
                block = _read_all(opened, 1 << 20)
            except ReadError as exc:
                raise opened.size_first(exc) from None
            if decoder is not None and utf8:
                try:
                    decoder.decode(block, final=not block)
                except UnicodeDecodeError:
                    utf8 = False
            if not block:
                break
    finally:
        opened.close()
    if wide:
        return wide
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if utf8:
        return "utf-8"
    return "latin-1" if re.search(rb"[\x81\x8d\x8f\x90\x9d]", head) else "cp1252"


# --------------------------------------------------------------------------- layout

def _rows_of(text: str, sep: str, limit: int = 400) -> list[tuple[int, list[str]]]:
    """(first physical line, fields) of the first complete records of a text sample."""
    if csv.field_size_limit() < limits.max_line_bytes():
        csv.field_size_limit(limits.max_line_bytes())  # a field may be as long as a line
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
            raise ReadError(_("Le fichier est vide."), code="empty")
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
    # one fast character search first: most columns hold none of these characters
    return any(c in joined and (f"\x00{c}" in joined or f"{c}\x00" in joined) for c in _EDGE_SPACES)


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value a stripped str, or None when missing (see MISSING_TOKENS).

    The values are str (or missing) as read. Most columns need no stripping: a substring search
    over the joined values finds those that do, and only their values are stripped one by one."""
    missing = MISSING_TOKENS
    # one block of objects, filled column by column (a frame built from a dict of columns
    # copies them all once more)
    out = np.full((len(frame), len(frame.columns)), None, dtype=object)
    for i, column in enumerate(frame.columns):
        values = frame.iloc[:, i].to_numpy(dtype=object)
        nulls = pd.isna(values)
        if nulls.all():
            continue
        has_nulls = bool(nulls.any())
        present = values[~nulls].tolist() if has_nulls else values.tolist()
        if _needs_strip("\x00".join(present)) or not missing.isdisjoint(present):
            cleaned = []
            for value in present:
                text = value.strip()
                cleaned.append(None if text in missing else text)
            present = cleaned
        if has_nulls:
            out[~nulls, i] = present
        else:
            out[:, i] = present
    return pd.DataFrame(out, index=range(len(frame)), columns=list(frame.columns), dtype=object, copy=False)


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
        elif kind in ("xlsx", "ods"):
            yield from self._xlsx_chunks()
        else:  # pragma: no cover - guarded by read_table
            raise ReadError(_("Format {kind} non pris en charge.").format(kind=kind))

    # CSV: pandas' C parser, everything as text
    def _csv_chunks(self) -> Iterator[Chunk]:
        fmt = self.format
        opened = open_text(self.path, check_nul=True, max_line=limits.max_line_bytes())
        self._counter = opened.counter
        # a UTF-16 file is decoded to UTF-8 by open_text
        encoding = "utf-8" if opened.wide else fmt.encoding
        try:
            # dtype=object: the parser's own str values (a pandas string array would be built,
            # then turned back into objects by clean_frame)
            reader = pd.read_csv(
                opened.stream, sep=fmt.separator, encoding=encoding, header=None,
                names=self.columns, skiprows=fmt.header_line, dtype=object, keep_default_na=False,
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
                    except ReadError:
                        raise
                    except UnicodeDecodeError as exc:
                        raise ReadError(_(
                            "Le fichier n'est pas lisible dans l'encodage {encoding} (octet {byte})."
                        ).format(encoding=fmt.encoding, byte=exc.start), code="encoding", detail=str(exc)) from exc
                    except pd.errors.ParserError as exc:
                        raise ReadError(_("Fichier CSV mal formé : {reason}").format(
                            reason=_parser_message(exc)), code="malformed", detail=str(exc)) from exc
                    except (OSError, EOFError, zlib.error) as exc:
                        raise ReadError(_("Fichier compressé (gzip) illisible : il est probablement tronqué ou "
                                          "abîmé."), code="compressed-unreadable", detail=str(exc)) from exc
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
            opened.close()

    def _json_chunks(self) -> Iterator[Chunk]:
        records = _json_records(self.path)
        self._counter = _CountingFile(io.BytesIO())
        self._counter.consumed = self.size
        columns = self.columns
        for start in range(0, len(records), self.chunk_rows):
            part = records[start:start + self.chunk_rows]
            data = {c: [_json_text(r.get(c)) if isinstance(r, dict) else None for r in part]
                    for c in columns}
            _refuse_nul(data, start)
            frame = clean_frame(pd.DataFrame(data, columns=columns, dtype=object))
            yield Chunk(frame, list(range(start + 1, start + 1 + len(part))))

    def _xlsx_chunks(self) -> Iterator[Chunk]:
        rows = workbook_rows(self.path, self.format.kind, self.format.sheet)[1]
        try:
            for _skipped in range(self.format.header_line):
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
    opened = open_text(path, check_nul=True)
    try:
        raw = _read_all(opened)
    finally:
        opened.close()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(_("Le fichier JSON n'est pas en UTF-8 (octet {byte}).").format(byte=exc.start),
                        code="encoding", detail=str(exc)) from exc
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise ReadError(_("JSON trop imbriqué pour être lu comme un tableau."), code="malformed") from exc
    except json.JSONDecodeError:
        try:  # JSON Lines (Opendatasoft /exports/jsonl)
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except RecursionError as exc:
            raise ReadError(_("JSON trop imbriqué pour être lu comme un tableau."), code="malformed") from exc
        except json.JSONDecodeError as exc:
            raise ReadError(_("JSON mal formé (ligne {line}, colonne {column}).").format(
                line=exc.lineno, column=exc.colno), code="malformed", detail=str(exc)) from exc
    if isinstance(data, dict):
        for key in ("results", "records", "data", "features"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            raise ReadError(_("Le JSON n'est pas une liste d'enregistrements "
                              "(attendu : un tableau, ou un objet avec « results »)."), code="not-a-table")
    if not isinstance(data, list):
        raise ReadError(_("Le JSON n'est pas une liste d'enregistrements."), code="not-a-table")
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


def check_zip_size(path: str) -> None:
    """Refuse a ZIP (XLSX) whose members, as declared in its directory, are larger than the
    decompressed size limit (Python's zipfile never inflates a member past its declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl says what is wrong
    cap = limits.max_decompressed_bytes()
    if declared > cap:
        raise ReadError(too_large_once_decompressed(cap), code="decompressed-too-large")


ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def is_ods(path: str) -> bool:
    """An OpenDocument spreadsheet: a ZIP whose ``mimetype`` member says so."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read("mimetype").strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False


def pick_sheet(names: list[str], sheet: Optional[str]) -> int:
    """The index of the chosen sheet: its name (case and spaces ignored) or its 1-based number;
    the first one when none is chosen. ReadError (French, listing the sheets) otherwise."""
    if not names:
        raise ReadError(_("Le classeur ne contient aucune feuille."), code="empty")
    wanted = (sheet or "").strip()
    if not wanted:
        return 0
    for i, name in enumerate(names):
        if name.strip().lower() == wanted.lower():
            return i
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):
        return int(wanted) - 1
    raise ReadError(_("Feuille « {sheet} » introuvable dans le classeur (feuilles : {names}).").format(
        sheet=wanted, names=", ".join(f"« {n} »" for n in names)), code="not-a-table")


def _percent_shown(value: Any, number_format: Optional[str]) -> Any:
    """A number formatted as a percentage, as shown: 0.45 -> 45 (see the module docstring)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (number_format or ""):
        shown = round(value * 100, 10)
        return int(shown) if float(shown).is_integer() else shown
    return value


def _xlsx_rows(path: str, sheet: Optional[str] = None) -> tuple[str, Iterator[tuple[Any, ...]]]:
    try:
        import openpyxl  # optional dependency: only XLSX files need it (a pinned requirement)
    except ImportError as exc:  # pragma: no cover - openpyxl is a pinned requirement
        raise ReadError(_("La lecture des fichiers XLSX nécessite openpyxl.")) from exc
    check_zip_size(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(_("Classeur XLSX illisible : {error}").format(error=exc), code="not-a-table",
                        detail=repr(exc)) from exc
    try:
        index = pick_sheet(workbook.sheetnames, sheet)
    except ReadError:
        workbook.close()
        raise

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            for row in workbook.worksheets[index].iter_rows():
                yield tuple(_percent_shown(getattr(c, "value", None), getattr(c, "number_format", None))
                            for c in row)
        finally:
            workbook.close()
    return workbook.sheetnames[index], rows()


def _ods_value(cell: Any) -> Any:
    """The value of an ODS cell as the spreadsheet shows it (typed by ``office:value-type``)."""
    from odf.namespaces import OFFICENS  # optional dependency: odfpy, only ODS files need it (pinned)
    kind = cell.attributes.get((OFFICENS, "value-type"))
    if kind is None:
        return None
    if kind in ("float", "currency", "percentage"):
        number = float(cell.attributes.get((OFFICENS, "value")))
        if kind == "percentage":
            number = round(number * 100, 10)
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    if kind == "boolean":
        return (cell.attributes.get((OFFICENS, "boolean-value")) or "").lower() == "true"
    if kind == "date":
        text = cell.attributes.get((OFFICENS, "date-value")) or ""
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    return _ods_text(cell)


def _ods_text(element: Any) -> str:
    """The text of an ODS cell: paragraphs on separate lines, ``text:s`` runs of spaces."""
    from odf.element import Element  # optional dependency: odfpy (see _ods_value)
    from odf.namespaces import OFFICENS, TEXTNS  # optional dependency: odfpy (see _ods_value)
    parts: list[str] = []
    for node in element.childNodes:
        if isinstance(node, Element):
            if node.qname == (TEXTNS, "s"):
                parts.append(" " * int(node.attributes.get((TEXTNS, "c"), 1)))
            elif node.qname == (TEXTNS, "line-break"):
                parts.append("\n")
            elif node.qname == (OFFICENS, "annotation"):
                continue
            else:
                if node.qname == (TEXTNS, "p") and parts:
                    parts.append("\n")
                parts.append(_ods_text(node))
        else:
            parts.append(str(node))
    return "".join(parts)


def _ods_sheet_rows(table: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of an ODS table, repeated rows and cells expanded (trailing empty ones, which
    LibreOffice repeats up to the sheet's last row and column, are not)."""
    from odf.namespaces import TABLENS  # optional dependency: odfpy (see _ods_value)
    from odf.table import CoveredTableCell, TableCell, TableRow  # optional dependency: odfpy (see _ods_value)
    cell_names = {TableCell().qname, CoveredTableCell().qname}
    empty_rows = 0
    for row in table.getElementsByType(TableRow):
        values: list[Any] = []
        pending = 0
        for cell in row.childNodes:
            if getattr(cell, "qname", None) not in cell_names:
                continue
            value = _ods_value(cell)
            repeat = int(cell.attributes.get((TABLENS, "number-columns-repeated"), 1))
            if value is None or value == "":
                pending += repeat
                continue
            values.extend([None] * pending)
            pending = 0
            values.extend([value] * min(repeat, limits.max_columns() + 1))
        repeat = int(row.attributes.get((TABLENS, "number-rows-repeated"), 1))
        if not values:
            empty_rows += repeat
            continue
        for _blank in range(empty_rows):
            yield ()
        empty_rows = 0
        for _copy in range(repeat):
            yield tuple(values)


def _ods_rows(path: str, sheet: Optional[str] = None) -> tuple[str, Iterator[tuple[Any, ...]]]:
    try:
        from odf.opendocument import load as load_ods  # optional dependency: odfpy (see _ods_value)
        from odf.table import Table as OdsTable  # optional dependency: odfpy (see _ods_value)
    except ImportError as exc:  # pragma: no cover - odfpy is a pinned requirement
        raise ReadError(_("La lecture des fichiers ODS nécessite odfpy.")) from exc
    check_zip_size(path)
    try:
        document = load_ods(path)
    except Exception as exc:
        raise ReadError(_("Classeur ODS illisible : {error}").format(error=exc), code="not-a-table",
                        detail=repr(exc)) from exc
    from odf.namespaces import TABLENS  # optional dependency: odfpy (see _ods_value)
    tables = document.spreadsheet.getElementsByType(OdsTable)
    names = [str(t.attributes.get((TABLENS, "name")) or f"Feuille{i + 1}") for i, t in enumerate(tables)]
    index = pick_sheet(names, sheet)
    return names[index], _ods_sheet_rows(tables[index])


def workbook_rows(path: str, kind: str, sheet: Optional[str] = None) -> tuple[str, Iterator[tuple[Any, ...]]]:
    """(name of the sheet read, its rows as tuples of cell values) of an XLSX or ODS workbook."""
    if kind == "ods":
        return _ods_rows(path, sheet)
    return _xlsx_rows(path, sheet)


def _json_headers(records: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            for key in record:
                seen.setdefault(str(key), None)
    if any("\x00" in key for key in seen):
        raise ReadError(_("le fichier contient un caractère nul (\\u0000) dans un nom de champ : ce n'est pas "
                          "un tableau valide."), code="nul-character")
    return list(seen)


def _refuse_nul(data: dict[str, list[Optional[str]]], start: int) -> None:
    """A JSON string may hold a NUL character (\\u0000), which PostgreSQL refuses in text."""
    for values in data.values():
        for i, value in enumerate(values):
            if value is not None and "\x00" in value:
                raise ReadError(_("l'enregistrement {row} contient un caractère nul (\\u0000) : PostgreSQL ne "
                                  "peut pas le stocker.").format(row=start + i + 1), code="nul-character")


def _check_width(n_columns: int) -> None:
    limit = limits.max_columns()
    if n_columns > limit:
        raise ReadError(limits.too_many_columns_message(n_columns, limit), code="too-many-columns")


def _trim_trailing_blank_rows(sample: list[list[str]]) -> list[list[str]]:
    while sample and not any(sample[-1]):
        sample = sample[:-1]
    return sample


def _csv_head(path: str, head: bytes, wide: Optional[str]) -> bytes:
    """The sample the layout is sniffed on: the first SAMPLE_BYTES, more when they hold only
    a few lines (long lines: up to a few times the line limit)."""
    if len(head) < SAMPLE_BYTES or head.count(b"\n") >= 10:
        return head
    longer, _wide = _head(path, min(4 * limits.max_line_bytes(), 16 << 20))
    return longer


def read_table(path: str, *, chunk_rows: Optional[int] = None, encoding: Optional[str] = None,
               separator: Optional[str] = None, header_line: Optional[int] = None,
               sheet: Optional[str] = None) -> Table:
    """Open a CSV/TSV/JSON/XLSX/ODS file (gzip accepted) for chunked reading.

    ``encoding``, ``separator`` and ``header_line`` (1-based) override what is sniffed; ``sheet``
    (a name or a 1-based number) chooses the sheet of a workbook (default: the first).
    Raises ReadError with a French message when the file is not a table, or holds what the
    ingestion cannot (see ``limits``): too many columns, a line too long, too large once
    decompressed, a NUL character.
    """
    if not os.path.exists(path):
        raise ReadError(_("Fichier introuvable : {path}").format(path=path), code="missing")
    head, wide = _head(path)
    if not head.strip():
        raise ReadError(_("Le fichier est vide."), code="empty")
    kind = sniff_kind(path, head)
    chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS
    compressed = is_gzip(path)
    if kind == "json":
        records = _json_records(path)
        headers = _json_headers(records)
        if not headers:
            raise ReadError(_("Le JSON ne contient aucun enregistrement."), code="empty")
        _check_width(len(headers))
        return Table(path, TableFormat("json", wide or "utf-8", None, 1, headers, compressed), chunk_rows)
    if kind in ("xlsx", "ods"):
        sheet_name, rows = workbook_rows(path, kind, sheet)
        try:
            sample = [[_cell_text(v) or "" for v in r] for _, r in zip(range(HEADER_SEARCH_ROWS), rows)]
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
        sample = _trim_trailing_blank_rows(sample)
        if not sample:
            raise ReadError(_("La feuille « {sheet} » du classeur est vide.").format(sheet=sheet_name), code="empty")
        widths = Counter(sum(1 for c in r if c) for r in sample)
        width = max(len(r) for r in sample)
        filled_mode = widths.most_common(1)[0][0]
        line = header_line or next(
            (i + 1 for i, r in enumerate(sample) if sum(1 for c in r if c) >= max(2, filled_mode // 2 + 1)), 1)
        cells = sample[line - 1]
        while cells and not cells[-1]:
            cells = cells[:-1]
        _check_width(len(cells))
        return Table(path, TableFormat(kind, None, None, line, _header_names(cells, len(cells)),
                                       compressed, sheet=sheet_name), chunk_rows)
    # the whole file is read once (encoding, and the limits: NUL, line length, decompressed size)
    detected = detect_encoding(path, head, wide)
    enc = wide or encoding or detected
    head = _csv_head(path, head, wide)
    text = head.decode("utf-8" if wide else enc, errors="replace")
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
    _check_width(max(width, len(cells)))
    headers = _header_names(cells, max(width, len(cells)))
    return Table(path, TableFormat("csv", enc, sep, line, headers, compressed), chunk_rows)
