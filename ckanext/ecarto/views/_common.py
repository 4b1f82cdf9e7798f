"""What the portal's views share: the CSV exports (`/etablissement/<uai>.csv`,
`/territoire/….csv`), the context of the actions they call, JSON answers and the format suffix
of their addresses (`.json`, `.csv`, `.geojson`; see the end of the module).

CSV exports.

Formula injection (OWASP "CSV Injection"): a spreadsheet evaluates a cell whose text begins with
`=`, `+`, `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(…)` leaking data,
`+cmd|' /C calc'!A0` running a program through DDE). Names, labels and values come from files
any publisher uploads, so every cell, headers included, goes through `csv_cell`: such a text is
prefixed with a single quote, which spreadsheets show as text and do not evaluate. The
full-width forms of these signs (`＝＋－＠`, which some spreadsheets also accept) are treated
the same way.

Numbers stay numbers: a number of the data (int, float, Decimal) is written as a number, a
negative one included (`-3.5` stays `-3.5`); a text that is exactly a plain decimal number
(`-3.5`, `+12`, `-0,25`) stays as is too: it cannot hold a formula.

Decimal separator: the dot (`103.5`), in every export. The exports are `;`-separated so that
French spreadsheets split the columns on opening, but their numbers use the dot, as the JSON
export and the API do, and as `float()` and the establishment export's tests read them (the
territory export wrote a comma until both exports shared this module). Floats are written with
Python's shortest round-trip form, never in exponent notation nor rounded.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

import ckan.plugins.toolkit as tk
from flask import Response

DELIMITER = ";"
DECIMAL_SEPARATOR = "."
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def format_number(value: int | float | Decimal) -> str:
    """A number as a spreadsheet reads it: digits, `-` sign, `DECIMAL_SEPARATOR`; no exponent."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return ""
        text = format(value, "f")
    else:
        text = str(int(value))
    return text.replace(".", DECIMAL_SEPARATOR)


def neutralise(text: str) -> str:
    """A text that a spreadsheet would evaluate as a formula, prefixed with `'`."""
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    """One exported cell: empty for no value, numbers as numbers, any text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    if isinstance(value, (list, dict)):
        return neutralise(json.dumps(value, ensure_ascii=False))
    return neutralise(str(value))


class CsvExport:
    """A `;`-separated, UTF-8 with BOM CSV written row by row, every cell through `csv_cell`."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._out.write("\ufeff")
        self._writer = csv.writer(self._out, delimiter=DELIMITER, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def response(self, filename: str) -> Response:
        return Response(self._out.getvalue(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --------------------------------------------------------------------------- contexts and formats

def user_name() -> Optional[str]:
    """The logged-in user's name, None for a visitor."""
    return tk.current_user.name if tk.current_user.is_authenticated else None


def action_context() -> dict[str, Any]:
    """The context of an action called by a page: the current user, whose rights CKAN checks."""
    return {"user": user_name()}


def json_response(data: Any, status: int = 200, *, max_age: Optional[int] = None, compact: bool = False,
                  indent: Optional[int] = None, default: Optional[Callable[[Any], Any]] = None) -> Response:
    """`data` as JSON (UTF-8 characters as they are); `compact` without spaces (map data);
    `max_age`: seconds a browser or proxy may keep it."""
    separators = (",", ":") if compact else None
    text = json.dumps(data, ensure_ascii=False, separators=separators, indent=indent, default=default)
    response = Response(text, status=status, mimetype="application/json")
    if max_age is not None:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def split_format(ident: str, formats: Iterable[str]) -> tuple[str, str]:
    """`0311131L.json` -> (`0311131L`, `json`); no known suffix: (ident, `html`)."""
    for fmt in formats:
        if ident.lower().endswith("." + fmt):
            return ident[: -len(fmt) - 1], fmt
    return ident, "html"
