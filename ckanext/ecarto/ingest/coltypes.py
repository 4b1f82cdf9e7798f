"""Column names and types of an ingested table, decided on the whole column.

Values are loaded as text and converted once the whole file has been seen, so a type is never
guessed from the first rows only. Rules (on the non-missing values of a column):

- a column whose name says it holds a code or an identifier (``Code_commune``, ``UAI``,
  ``Siren EPCI``, ``Telephone``…) stays text, and so does any column with a leading zero
  (``031``, ``09225``, ``0466253395``): codes keep their zeros;
- ``integer`` when every value is a whole number, thousands separated or not by a space, a
  non-breaking space or a narrow one (``1 406``, Arcep's Excel-formatted cells);
- ``number`` when every value is a decimal number, point or comma (``111.1``, ``12,5``), with
  French thousands separators (``1 234,5``, ``1.234,5``: a point before a decimal comma is a
  thousands separator);
- a number followed by ``%`` (``45 %``, ``12,5%``) is that number of percent: ``45``, not
  ``0.45`` — the axes' Table Schemas give shares in percent (unit ``%``, 0 to 100), the unit a
  spreadsheet shows;
- ``date`` when every value is an ISO date (``2024-11-26``) or a French one (``26/11/2024``);
- ``boolean`` for true/false, vrai/faux, oui/non, O/N, whatever the case (``0``/``1`` flags stay
  integers);

``french_cell`` turns one such French value into the canonical form a Table Schema reader
expects (``0,5`` -> ``0.5``, ``oui`` -> True, ``26/11/2024`` -> ``2024-11-26``): the validation
checks the values the loader will load.
- ``string`` otherwise. A publisher's ``data_dictionary`` can ask for another type when the
  values allow it.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import pandas as pd

from ckanext.ecarto.core.translation import _

TYPES = ("string", "integer", "number", "boolean", "date")

SQL_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
}

_SPACES = r"[ \u00a0\u202f]"
_PERCENT = rf"(?:{_SPACES}?%)?"
_GROUPED = rf"\d{{1,3}}(?:{_SPACES}\d{{3}})+"
_DOT_GROUPED = r"\d{1,3}(?:\.\d{3})+,\d+"  # 1.234,5: points group thousands before a decimal comma
_INT_SRC = rf"[+-]?(?:\d+|{_GROUPED}){_PERCENT}"
_NUM_SRC = rf"[+-]?(?:{_DOT_GROUPED}|(?:\d+|{_GROUPED})(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?{_PERCENT}"
_LEADING_ZERO_SRC = r"[+-]?0\d(?!/)"  # 031, 09225 — not a French date (01/05/1965)
_DATE_ISO_SRC = r"\d{4}-\d{2}-\d{2}"
_DATE_FR_SRC = r"\d{2}/\d{2}/\d{4}"
_SEP = "\x00"  # joins values for one regex scan per chunk (PostgreSQL text cannot hold NUL)
_NOT_PLAIN = (" ", "\u00a0", "\u202f", ",", "%")  # what cast_sql removes or rewrites in a number
_TRUE = frozenset({"true", "vrai", "oui", "o"})
_FALSE = frozenset({"false", "faux", "non", "n"})
_BOOLEANS = _TRUE | _FALSE

# Words of a header that make a column a code or an identifier, hence text whatever its values.
CODE_WORDS = frozenset({
    "code", "codes", "cod", "uai", "rne", "siren", "siret", "insee", "codgeo", "depcom", "telephone",
    "tel", "fax", "postal", "cp", "identifiant", "id", "numero", "num", "no", "epci", "zip", "iris",
})

MAX_NAME = 59  # PostgreSQL identifiers are limited to 63 bytes


def normalise_header(header: str) -> str:
    """`Code établissement` -> `code_etablissement`; `Nombre_d_eleves` -> `nombre_d_eleves`."""
    text = unicodedata.normalize("NFKD", header or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def sql_names(headers: Iterable[str]) -> list[str]:
    """SQL column names for source headers: lower-case ASCII, `_` separators, unique, never
    starting with `_` (reserved for `_key` and `_row`) nor a digit."""
    names: list[str] = []
    used: set[str] = {"_key", "_row"}
    for i, header in enumerate(headers):
        base = normalise_header(header)[:MAX_NAME] or f"colonne_{i + 1}"
        if base[0].isdigit():
            base = f"c_{base}"[:MAX_NAME]
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base[:MAX_NAME - len(str(n)) - 1]}_{n}"
        used.add(name)
        names.append(name)
    return names


def is_code_header(header: str) -> bool:
    words = set(normalise_header(header).split("_"))
    return bool(words & CODE_WORDS)


@dataclass
class ColumnProfile:
    """What the values of one column allow, accumulated chunk after chunk."""

    source: str
    name: str
    values: int = 0
    integer: bool = True
    number: bool = True
    date_iso: bool = True
    date_fr: bool = True
    boolean: bool = True
    leading_zero: bool = False
    long_integer: bool = False
    # numbers already in PostgreSQL's syntax (no thousands space, decimal comma nor percent sign):
    # cast as they are (see cast_sql)
    plain: bool = True
    examples: list[str] = field(default_factory=list)

    def update(self, series: pd.Series) -> None:
        self.update_values([v for v in series.tolist() if v is not None])

    def update_values(self, values: list[str]) -> None:
        """Profile more values of the column (non-missing, stripped: as the reader gives them)."""
        if not values:
            return
        self.values += len(values)
        if len(self.examples) < 3:
            self.examples.extend(values[:3 - len(self.examples)])
        joined = _SEP + _SEP.join(values)  # each value follows a separator
        if self.integer or self.number:
            if _any_match(joined, _LEADING_ZERO_SRC):
                self.leading_zero = True
            if self.plain:
                self.plain = not any(char in joined for char in _NOT_PLAIN)
        if self.integer:
            # digits only (\d is a Unicode decimal digit, as str.isdecimal): no regex needed
            self.integer = _only_digits(joined) or _all_match(values, joined, _INT_SRC)
            if self.integer and max(map(len, values)) > 18:
                self.long_integer = True
        if self.number and not self.integer:
            self.number = _all_match(values, joined, _NUM_SRC)
        if self.date_iso:
            self.date_iso = _all_match(values, joined, _DATE_ISO_SRC) and _real_dates(values, "%Y-%m-%d")
        if self.date_fr:
            self.date_fr = _all_match(values, joined, _DATE_FR_SRC) and _real_dates(values, "%d/%m/%Y")
        if self.boolean:
            self.boolean = all(v.lower() in _BOOLEANS for v in values[:50]) and all(
                v.lower() in _BOOLEANS for v in values)

    def allowed(self) -> set[str]:
        """Types every value of the column can be converted to."""
        allowed = {"string"}
        if not self.values:
            return allowed
        if self.integer and not self.long_integer:
            allowed |= {"integer", "number"}
        elif self.number and not self.integer:
            allowed.add("number")
        if self.date_iso or self.date_fr:
            allowed.add("date")
        if self.boolean:
            allowed.add("boolean")
        return allowed

    def inferred(self, *, key: bool = False) -> str:
        if key or not self.values or is_code_header(self.source):
            return "string"
        if self.boolean:
            return "boolean"
        if self.leading_zero and (self.integer or self.number):
            return "string"
        allowed = self.allowed()
        for kind in ("integer", "number", "date"):
            if kind in allowed:
                return kind
        return "string"


@functools.lru_cache(maxsize=32)
def _whole_value_miss(src: str) -> re.Pattern[str]:
    """Finds a value (after its separator) that is NOT entirely `src`. The pattern starts with
    the separator, a literal: the regex engine jumps from one separator to the next."""
    return re.compile(rf"{_SEP}(?!(?:{src})(?:{_SEP}|$))")


@functools.lru_cache(maxsize=32)
def _value_start(src: str) -> re.Pattern[str]:
    return re.compile(rf"{_SEP}(?:{src})")


def _all_match(values: list[str], joined: str, src: str) -> bool:
    """Every value matches `src` entirely (`joined`: the values, each after a separator): one
    C-level regex scan over the joined values, after a cheap look at the first ones (text
    columns fail there)."""
    miss = _whole_value_miss(src)
    if miss.search(_SEP + _SEP.join(values[:20])):
        return False
    return miss.search(joined) is None


def _only_digits(joined: str) -> bool:
    """Every value (each after a separator) is made of digits only, none empty."""
    return (_SEP + _SEP) not in joined and not joined.endswith(_SEP) and joined.replace(_SEP, "").isdecimal()


def _any_match(joined: str, src: str) -> bool:
    return _value_start(src).search(joined) is not None


def _real_dates(values: list[str], fmt: str) -> bool:
    parsed = pd.to_datetime(pd.Series(values, dtype=object), format=fmt, errors="coerce")
    return bool(parsed.notna().all())


def cast_sql(column: str, kind: str, profile: ColumnProfile, *, quoted: bool = False) -> str:
    """SQL expression turning the text column into `kind` (values already checked). `column`
    is a name, or an SQL reference already quoted when `quoted`."""
    col = column if quoted else f'"{column}"'
    # spaces (thousands) and the percent sign go: « 45 % » is 45 (see the module docstring)
    squeeze = f"translate({col}, ' ' || chr(160) || chr(8239) || '%', '')"
    if kind in ("integer", "number") and profile.plain:
        # nothing to remove or rewrite: the same values, cast straight away
        return f"CAST({col} AS {SQL_TYPES[kind]})"
    if kind == "integer":
        return f"CAST({squeeze} AS bigint)"
    if kind == "number":
        # a comma is the decimal mark; points before it group thousands (1.234,5)
        return (f"CAST(CASE WHEN strpos({squeeze}, ',') > 0 THEN replace(replace({squeeze}, '.', ''), ',', '.') "
                f"ELSE {squeeze} END AS double precision)")
    if kind == "date":
        fmt = "YYYY-MM-DD" if profile.date_iso else "DD/MM/YYYY"
        return f"to_date({col}, '{fmt}')"
    if kind == "boolean":
        true = ", ".join(f"'{v}'" for v in sorted(_TRUE))
        false = ", ".join(f"'{v}'" for v in sorted(_FALSE))
        return f"CASE WHEN lower({col}) IN ({true}) THEN true WHEN lower({col}) IN ({false}) THEN false END"
    return col


@functools.lru_cache(maxsize=4)
def _whole(src: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{src})")


def french_number(value: str) -> Optional[str]:
    """The canonical text of a number written the French way (``1 234,5`` -> ``1234.5``,
    ``1.234,5`` -> ``1234.5``, ``45 %`` -> ``45``), None when `value` is not a number. The same
    conversion as ``cast_sql``."""
    if not _whole(_NUM_SRC).fullmatch(value):
        return None
    text = re.sub(r"[ \u00a0\u202f%]", "", value)
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


def french_boolean(value: str) -> Optional[bool]:
    """True/False for oui/non, vrai/faux, O/N, true/false (any case), 1/0; None otherwise."""
    lowered = value.strip().lower()
    if lowered in _TRUE or lowered == "1":
        return True
    if lowered in _FALSE or lowered == "0":
        return False
    return None


def french_date(value: str) -> Optional[str]:
    """``jj/mm/aaaa`` -> ``aaaa-mm-jj`` when it is a real date, None otherwise."""
    if not _whole(_DATE_FR_SRC).fullmatch(value):
        return None
    day, month, year = value.split("/")
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def french_cell(kind: str, value: Any) -> Any:
    """`value` in the canonical form of a Table Schema `kind` when it is written the French
    way (decimal comma, thousands separators, percent sign, oui/non, jj/mm/aaaa); unchanged
    otherwise (the schema's reader then says what is wrong with it)."""
    if not isinstance(value, str):
        return value
    converted: Any = None
    if kind in ("number", "integer"):
        converted = french_number(value)
        if kind == "integer" and converted is not None and re.fullmatch(r"[+-]?\d+\.0*", converted):
            converted = converted.split(".")[0]
    elif kind == "boolean":
        converted = french_boolean(value)
    elif kind == "date":
        converted = french_date(value)
    return value if converted is None else converted


def dictionary_entries(data_dictionary: Any) -> dict[str, dict[str, Any]]:
    """The publisher's data dictionary (list of {column, label, type, unit, indicator}, or its
    JSON text), by source column and by normalised column name."""
    if isinstance(data_dictionary, str):
        try:
            data_dictionary = json.loads(data_dictionary) if data_dictionary.strip() else []
        except ValueError:
            return {}
    entries: dict[str, dict[str, Any]] = {}
    for entry in data_dictionary or []:
        if isinstance(entry, dict) and entry.get("column"):
            entries[str(entry["column"])] = entry
            entries.setdefault(normalise_header(str(entry["column"])), entry)
    return entries


def column_type(profile: ColumnProfile, entry: Optional[dict[str, Any]], *, key: bool) -> tuple[str, Optional[str]]:
    """(type, warning): the declared type when the values allow it, otherwise the inferred one."""
    inferred = profile.inferred(key=key)
    declared = (entry or {}).get("type")
    if key or not declared or declared == inferred:
        return inferred, None
    if declared not in TYPES:
        return inferred, _("type « {type} » inconnu pour la colonne « {column} »").format(
            type=declared, column=profile.source)
    if declared in profile.allowed():
        return declared, None
    return inferred, _("la colonne « {column} » est déclarée {declared} mais contient d'autres valeurs (par "
                       "exemple « {example} ») : chargée en {inferred}").format(
        column=profile.source, declared=declared, example=profile.examples[0] if profile.examples else "",
        inferred=inferred)
