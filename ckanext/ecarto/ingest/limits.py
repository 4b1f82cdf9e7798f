"""What a file may hold to be ingested: one place for the validation report and the ingestion.

The validation report (``validation.report``) refuses before publication exactly what the
ingestion (``ingest.reader`` / ``ingest.loader``) would refuse, so a file reported valid is a
file PostgreSQL can hold, and a file sent through CKAN's ordinary upload (which skips the
report) is refused by the ingestion with the same French message.

- columns: PostgreSQL tables hold at most 1,600 columns, two of which are the loader's own
  (``_key``, ``_row``, ``_periode``, ``_periode_ordre``); ``ckanext.ecarto.ingest_max_columns`` may lower the limit;
- line length (``ckanext.ecarto.ingest_max_line_bytes``): a CSV whose first line has no end
  within the limit is not a readable CSV (one huge line), a longer line is refused;
- decompressed size (``ckanext.ecarto.ingest_max_decompressed_bytes``): a gzip file is
  decompressed as a stream and refused as soon as it goes past the limit (a "gzip bomb" costs a
  fraction of a second, never gigabytes); the declared sizes of a ZIP (XLSX) are checked before
  opening it;
- row width: PostgreSQL stores a row in one 8 kB page (8,160 bytes); values too short to be
  moved out of the row (TOAST) and fixed-width typed values count in full.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

import ckan.plugins.toolkit as tk
import numpy as np

from ckanext.ecarto.core.translation import _

PG_MAX_COLUMNS = 1600
# The loader's technical columns (see loader.ingest_file: CREATE TABLE … (_key, _row, …)).
TECHNICAL_COLUMNS = ("_key", "_row", "_periode", "_periode_ordre")
MAX_COLUMNS = PG_MAX_COLUMNS - len(TECHNICAL_COLUMNS)

DEFAULT_MAX_LINE_BYTES = 1024 * 1024
DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024

# PostgreSQL's largest row (MaxHeapTupleSize with 8 kB pages), its tuple header (23 bytes,
# aligned), and the size of a TOAST pointer (a value longer than this may leave the row).
PG_MAX_ROW_BYTES = 8160
PG_ROW_HEADER_BYTES = 24
PG_TOAST_POINTER_BYTES = 18
# Bytes of a typed value in the row (coltypes kinds); text is variable (see text_value_bytes).
FIXED_TYPE_BYTES = {"integer": 8, "number": 8, "date": 4, "boolean": 1}
# Values up to this size always stay in the row (TOAST only moves larger ones).
PG_TOAST_MIN_BYTES = 24
# Below this many columns no row can reach PG_MAX_ROW_BYTES (each value then takes at most 25
# bytes in the row, or 8 typed): the wide-row checks are skipped.
WIDE_ROW_COLUMNS = 300


def _setting(key: str, default: int) -> int:
    try:
        value = tk.config.get(key)
    except Exception:  # noqa: BLE001 - outside a CKAN app (scripts, bench)
        value = None
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def max_columns() -> int:
    """Largest number of columns of an ingested file (never above what PostgreSQL can hold)."""
    return max(1, min(MAX_COLUMNS, _setting("ckanext.ecarto.ingest_max_columns", MAX_COLUMNS)))


def max_line_bytes() -> int:
    """Longest physical line of a CSV file, in bytes (as decoded to UTF-8)."""
    return max(1024, _setting("ckanext.ecarto.ingest_max_line_bytes", DEFAULT_MAX_LINE_BYTES))


def max_decompressed_bytes() -> int:
    """Largest decompressed size of a gzip or ZIP (XLSX) file, in bytes."""
    return max(1024, _setting("ckanext.ecarto.ingest_max_decompressed_bytes", DEFAULT_MAX_DECOMPRESSED_BYTES))


def size_label(n_bytes: int) -> str:
    """`256 Mo`, `1 Mo`, `64 ko` (French units, decimal comma)."""
    if n_bytes >= 1024 * 1024:
        value, unit = n_bytes / (1024 * 1024), "Mo"
    else:
        value, unit = n_bytes / 1024, "ko"
    text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} {unit}"


def first_bytes_label(n_bytes: int) -> str:
    """`le premier Mo`, `les 2 premiers Mo`, `les 64 premiers ko`."""
    number, unit = size_label(n_bytes).split(" ")
    if number == "1":
        return f"le premier {unit}"
    return f"les {number} premiers {unit}"


def text_value_bytes(n_bytes: int) -> int:
    """Smallest room a text value of `n_bytes` can take in a row: values longer than 24 bytes
    may be moved to TOAST and leave an 18-byte pointer."""
    stored = n_bytes + (1 if n_bytes < 127 else 4)
    return PG_TOAST_POINTER_BYTES if stored > PG_TOAST_MIN_BYTES else stored


def typed_row_bytes(kinds: Iterable[str], key_bytes: int = 10) -> int:
    """Least bytes of a row whose typed columns are all filled: what fixed-width types cost
    (text columns counted as empty, no alignment). Above PG_MAX_ROW_BYTES the table cannot be
    typed."""
    fixed = sum(FIXED_TYPE_BYTES.get(k, 0) for k in kinds)
    return PG_ROW_HEADER_BYTES + key_bytes + 4 + fixed


def text_row_bytes(value_lengths: Iterable[int], key_bytes: int = 10) -> int:
    """Least bytes of a row whose values (in the all-text staging table) have these UTF-8
    lengths (None: missing)."""
    return PG_ROW_HEADER_BYTES + key_bytes + 4 + sum(text_value_bytes(n) for n in value_lengths)


def row_bytes_lower_bound(frame: Any, key_bytes: int = 10) -> Any:
    """Per row of a frame of text values (None: missing), the least bytes the row takes in the
    all-text staging table (a numpy array); character counts stand for UTF-8 lengths."""
    total = np.full(len(frame), PG_ROW_HEADER_BYTES + key_bytes + 4, dtype=np.int64)
    for column in frame.columns:
        lengths = frame[column].str.len().to_numpy(dtype=float, na_value=np.nan)
        stored = np.where(lengths < 127, lengths + 1, lengths + 4)
        stored = np.where(stored > PG_TOAST_MIN_BYTES, PG_TOAST_POINTER_BYTES, stored)
        total += np.nan_to_num(stored, nan=0.0).astype(np.int64)
    return total


def row_too_wide_message(n_bytes: int, typed: bool) -> str:
    """French reason for a row PostgreSQL cannot hold."""
    if typed:
        return _("les lignes sont trop larges pour la base de données : une fois les colonnes numériques "
                 "et les dates typées, une ligne occuperait au moins {n} octets, au-delà des {limit} "
                 "octets qu'une ligne PostgreSQL peut contenir. Découpez le fichier en plusieurs fichiers "
                 "de moins de colonnes.").format(n=n_bytes, limit=PG_MAX_ROW_BYTES)
    return _("les lignes sont trop larges pour la base de données : une ligne occuperait au moins {n} "
             "octets, au-delà des {limit} octets qu'une ligne PostgreSQL peut contenir. Découpez le fichier "
             "en plusieurs fichiers de moins de colonnes.").format(n=n_bytes, limit=PG_MAX_ROW_BYTES)


def too_many_columns_message(n_columns: int, limit: Optional[int] = None) -> str:
    limit = limit or max_columns()
    return _("trop de colonnes : le fichier en a {n}, la base de données du portail en accepte au plus "
             "{limit} par fichier. Découpez-le en plusieurs fichiers (chacun avec la colonne des UAI ou "
             "des codes commune).").format(n=_n(n_columns), limit=_n(limit))


def _n(value: Any) -> str:
    return f"{int(value):,}".replace(",", "\u00a0")
