"""Checking a file's columns against an axis's Table Schema with frictionless (the library behind
Validata on schema.data.gouv.fr).

The file is read by the portal's own reader (``ingest.reader``: encoding, separator, preamble,
missing values), so the values checked are exactly those the portal will load. Each cell of a
column matched to a schema field goes through that field's frictionless cell reader (type,
format, ``required``, ``minimum``/``maximum``, ``pattern``, ``enum``…); the errors keep
frictionless's error type (``type-error``, ``constraint-error``) and English message, plus a
French message for the publisher. Values repeat a lot in real files (booleans, small counts,
codes): each distinct value of a column is checked once, which keeps a 50 MB file quick.

French spreadsheet habits pass where the field's type allows them, converted as the loader
converts them (``coltypes.french_cell``) before the frictionless reader sees them: decimal comma
(``0,5``), thousands separators (``1 234``, ``1.234,5``), percentages (``45 %`` is 45, the
axes' shares being in percent), ``oui``/``non``, ``vrai``/``faux``, ``O``/``N`` (any case) and
dates ``jj/mm/aaaa``. What the schema's own ``trueValues``/``falseValues`` list is read as is.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from ckanext.ecarto.core.translation import N_, _
from ckanext.ecarto.ingest import schema_fields
from ckanext.ecarto.ingest.coltypes import french_cell, normalise_header

TABLESCHEMA_DIR = schema_fields.SCHEMA_DIR

# Distinct values remembered per column (beyond, values are checked again: only slower).
CACHE_LIMIT = 200_000

TYPE_LABELS = {   # translated when shown
    "integer": N_("un nombre entier (ex. 12)"),
    "number": N_("un nombre (ex. 12,5 ou 12.5 ; 1 234,5 ; 45 %)"),
    "boolean": N_("un booléen (oui / non, vrai / faux, O / N, 1 / 0)"),
    "date": N_("une date JJ/MM/AAAA ou AAAA-MM-JJ (ex. 02/09/2024)"),
    "datetime": N_("une date et heure ISO 8601"),
    "year": N_("une année sur 4 chiffres"),
    "string": N_("du texte"),
}


# Messages of the constraints with one limit (translated when shown).
LIMIT_MESSAGES = {
    "minimum": N_("Colonne {label} : {value} est inférieur au minimum autorisé ({limit})."),
    "maximum": N_("Colonne {label} : {value} est supérieur au maximum autorisé ({limit})."),
    "exclusiveMinimum": N_("Colonne {label} : {value} doit être strictement supérieur à {limit}."),
    "exclusiveMaximum": N_("Colonne {label} : {value} doit être strictement inférieur à {limit}."),
    "pattern": N_("Colonne {label} : « {value} » n'a pas la forme attendue (motif {limit})."),
    "minLength": N_("Colonne {label} : « {value} » compte moins de {limit} caractères."),
    "maxLength": N_("Colonne {label} : « {value} » compte plus de {limit} caractères."),
}


def available_axes() -> list[str]:
    return sorted(p.stem for p in TABLESCHEMA_DIR.glob("*.json"))


def schema_path(axe: str) -> Path:
    if axe not in available_axes():
        raise KeyError(axe)
    return TABLESCHEMA_DIR / f"{axe}.json"


@functools.lru_cache(maxsize=16)
def descriptor(axe: str) -> dict[str, Any]:
    """The axis Table Schema as JSON (raises KeyError for an unknown axis)."""
    return json.loads(schema_path(axe).read_text(encoding="utf-8"))


def frictionless_schema(axe: str) -> Any:
    """The axis schema as a frictionless Schema (the descriptor is validated on the way)."""
    from frictionless import Schema  # optional dependency: frictionless, heavy, loaded when a report needs it
    return Schema.from_descriptor(descriptor(axe))


def frictionless_version() -> str:
    try:
        import frictionless  # optional dependency: frictionless (see frictionless_schema)
        return frictionless.__version__
    except Exception:  # pragma: no cover - frictionless is a pinned requirement
        return "absent"


# --------------------------------------------------------------------------- matching

@dataclass
class FieldMatch:
    """A schema field and the file column that feeds it (None: absent from the file)."""

    name: str
    title: str
    type: str
    required: bool
    column: Optional[str]
    position: int                      # 1-based position of the column in the file (0: absent)
    constraints: dict[str, Any] = field(default_factory=dict)
    true_values: tuple[str, ...] = ("true", "True", "TRUE", "1")
    false_values: tuple[str, ...] = ("false", "False", "FALSE", "0")
    n_errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.name, "title": self.title, "type": self.type, "required": self.required,
                "column": self.column, "position": self.position, "constraints": self.constraints,
                "n_errors": self.n_errors}


def match_columns(axe: str, headers: list[str], *, key_column: Optional[str] = None,
                  key_kind: Optional[str] = None) -> tuple[list[FieldMatch], list[str]]:
    """(schema fields with their file column, file columns no field claims).

    A column matches a field by name or by one of the field's ``x-aliases`` (compared without
    case, accents or punctuation); the UAI column the portal found feeds the ``uai`` field
    whatever its header."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), header)
    position = {h: i + 1 for i, h in enumerate(headers)}
    used: set[str] = set()
    matches: list[FieldMatch] = []
    for fdef in descriptor(axe).get("fields", []):
        name = fdef["name"]
        column = None
        if name == "uai" and key_kind == "uai" and key_column:
            column = key_column
        else:
            for candidate in [name, *(fdef.get("x-aliases") or [])]:
                found = by_norm.get(normalise_header(candidate))
                if found is not None and found not in used:
                    column = found
                    break
        if column is not None:
            used.add(column)
        constraints = dict(fdef.get("constraints") or {})
        matches.append(FieldMatch(
            name=name, title=fdef.get("title") or name, type=fdef.get("type", "string"),
            required=bool(constraints.get("required")), column=column,
            position=position.get(column, 0) if column else 0, constraints=constraints,
            **({"true_values": tuple(fdef["trueValues"])} if fdef.get("trueValues") else {}),
            **({"false_values": tuple(fdef["falseValues"])} if fdef.get("falseValues") else {})))
    unknown = [h for h in headers if h not in used and h != key_column]
    return matches, unknown


# --------------------------------------------------------------------------- cell checks

def french_message(ftype: str, note_key: str, value: Optional[str], match: FieldMatch) -> str:
    """The publisher's message for one frictionless cell error."""
    shown = "" if value is None else str(value)
    label = _("« {column} »").format(column=match.column)
    c = match.constraints
    if note_key == "type" and match.type == "boolean":
        return _("Colonne {label} : « {value} » n'est pas un booléen (valeurs acceptées, majuscules ou "
                 "minuscules : oui / non, vrai / faux, O / N, true / false, 1 / 0).").format(label=label, value=shown)
    if note_key == "type":
        expected = _(TYPE_LABELS[match.type]) if match.type in TYPE_LABELS else match.type
        return _("Colonne {label} : « {value} » n'est pas {expected}.").format(
            label=label, value=shown, expected=expected)
    if note_key == "required":
        return _("Colonne {label} : valeur obligatoire manquante.").format(label=label)
    if note_key in LIMIT_MESSAGES:
        return _(LIMIT_MESSAGES[note_key]).format(label=label, value=shown, limit=c.get(note_key))
    if note_key == "enum":
        allowed = ", ".join(str(v) for v in c.get("enum") or [])
        return _("Colonne {label} : « {value} » n'est pas une valeur autorisée ({allowed}).").format(
            label=label, value=shown, allowed=allowed)
    return _("Colonne {label} : « {value} » ne respecte pas la contrainte {constraint} du schéma.").format(
        label=label, value=shown, constraint=note_key)


@dataclass
class CellChecker:
    """One matched field: its frictionless cell reader and a cache of verdicts per value."""

    match: FieldMatch
    reader: Any
    cache: dict[Any, Optional[tuple[str, str, str]]] = field(default_factory=dict)

    def verdict(self, value: Any) -> Optional[tuple[str, str, str]]:
        """None when the value passes, else (frictionless error type, note key, note)."""
        try:
            return self.cache[value]
        except KeyError:
            pass
        _cell, notes = self.reader(self.canonical(value))
        result: Optional[tuple[str, str, str]] = None
        if notes:
            key = next(iter(notes))
            result = ("type-error" if key == "type" else "constraint-error", key, notes[key])
        if len(self.cache) < CACHE_LIMIT:
            self.cache[value] = result
        return result

    def canonical(self, value: Any) -> Any:
        """The value as the schema's reader expects it (French forms converted, see the module
        docstring); a value the field lists among its own true/false values stays as is."""
        if self.match.type == "boolean" and value in self.match.true_values + self.match.false_values:
            return value
        return french_cell(self.match.type, value)

    def failing(self, values: pd.Series) -> pd.Series:
        """Boolean mask of the values that fail (each distinct value checked once)."""
        distinct = pd.unique(values.to_numpy(dtype=object))
        bad = [v for v in distinct if self.verdict(v) is not None]
        if not bad:
            return pd.Series(False, index=values.index)
        if any(v is None for v in bad):
            return values.isna() | values.isin([v for v in bad if v is not None])
        return values.isin(bad)


def checkers(axe: str, matches: list[FieldMatch], *, skip: set[str]) -> list[CellChecker]:
    """Cell checkers of the matched fields, except those in `skip` (the UAI field is checked
    by the UAI section of the report, with the expected check letter)."""
    schema = frictionless_schema(axe)
    result = []
    for match in matches:
        if match.column is None or match.name in skip:
            continue
        fl_field = schema.get_field(match.name)
        result.append(CellChecker(match, fl_field.create_cell_reader()))
    return result


def frictionless_message(ftype: str, note: str, *, cell: str, row_number: int, match: FieldMatch) -> str:
    """The English message frictionless gives for this error (as in its validation reports)."""
    from frictionless import errors  # optional dependency: frictionless (see frictionless_schema)
    cls = errors.TypeError if ftype == "type-error" else errors.ConstraintError
    error = cls(note=note, cells=[], row_number=row_number, cell=cell,
                field_name=match.column or match.name, field_number=match.position)
    return error.message


def csv_template(axe: str) -> bytes:
    """An empty CSV file of the axis: UTF-8 with BOM, `;`, the schema's field names."""
    names = [f["name"] for f in descriptor(axe).get("fields", [])]
    return ("\ufeff" + ";".join(names) + "\r\n").encode("utf-8")
