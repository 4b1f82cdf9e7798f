"""Templates a collectivité's agent can fill alone, built from the axes' Table Schemas.

For each axis (``schemas/tableschema/<axe>.json``):

- ``xlsx_template`` / ``ods_template``: a workbook whose first sheet, « Données », holds only the
  header row of the schema's column names (the portal reads the first sheet: the template
  validates as a file with no rows), and a second sheet, « Documentation », giving for each
  column its label, description, type, unit, allowed values, an example, whether it is required
  and which axis it feeds;
- ``csv_example``: the CSV template (``tableschema.csv_template``: header only) followed by one
  line of example values. The example is a separate download, named ``…-exemple.csv``: the
  header-only CSV stays the file to fill, and the example's UAI (``0000000A``, well formed but
  given to no establishment) joins no page if the example is ever published as is.

``field_docs`` is what the page ``/schemas/<axe>`` shows: the same documentation as the sheet.
Example values are the fields' ``example`` (a standard Table Schema property, as on
schema.data.gouv.fr); ``changelog`` reads ``schemas/tableschema/CHANGELOG.yaml``.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import yaml

from ckanext.ecarto.core.axes import AXIS_LABELS
from ckanext.ecarto.core.translation import N_, _
from ckanext.ecarto.ingest.schema_fields import NOT_INDICATORS
from ckanext.ecarto.validation import tableschema

# The UAI of the example lines (schemas' `example` of `uai`): well formed, given to no establishment.
EXAMPLE_UAI = "0000000A"

DATA_SHEET = N_("Données")
DOC_SHEET = N_("Documentation")
CHANGELOG_PATH = tableschema.TABLESCHEMA_DIR / "CHANGELOG.yaml"

# frictionless's default boolean values (used when a field declares none).
DEFAULT_TRUE = ("true", "True", "TRUE", "1")
DEFAULT_FALSE = ("false", "False", "FALSE", "0")

TYPE_NAMES = {   # translated when shown
    "integer": N_("nombre entier"),
    "number": N_("nombre (point décimal)"),
    "boolean": N_("oui / non"),
    "date": N_("date AAAA-MM-JJ"),
    "datetime": N_("date et heure ISO 8601"),
    "year": N_("année (4 chiffres)"),
    "string": N_("texte"),
}

# Patterns of the schemas said in words (any other pattern is shown as is).
PATTERN_WORDS = {
    "^[0-9]{7}[A-HJ-NPR-Z]$": N_("8 caractères : 7 chiffres et la lettre clé (ex. 0311131L)"),
    "^[0-9]{5}$": N_("5 chiffres"),
    "^([0-9]{5}|2[AB][0-9]{3})$": N_("code INSEE de la commune : 5 caractères (2A/2B pour la Corse)"),
}

DOC_HEADERS = (N_("Colonne"), N_("Libellé"), N_("Description"), N_("Type"), N_("Unité"),
               N_("Valeurs autorisées"), N_("Exemple"), N_("Obligatoire"), N_("Axe"))


@dataclass(frozen=True)
class FieldDoc:
    """One column of an axis template, as documented to the publisher."""

    name: str
    label: str
    description: str
    type: str
    type_label: str
    unit: str
    allowed: str
    example: Any            # the schema's value (bool, int, float or str)
    example_text: str       # the example as written in a CSV cell
    required: bool
    axis_label: str

    def doc_row(self) -> list[str]:
        """The row of the « Documentation » sheet (all text)."""
        return [self.name, self.label, self.description, self.type_label, self.unit, self.allowed,
                self.example_text, _("oui") if self.required else _("non"), self.axis_label]


def boolean_values(fdef: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(true values, false values) a boolean field accepts."""
    return (tuple(fdef.get("trueValues") or DEFAULT_TRUE), tuple(fdef.get("falseValues") or DEFAULT_FALSE))


def allowed_values(fdef: dict[str, Any]) -> str:
    """The values a field accepts, in words (enum, limits, pattern, booleans)."""
    constraints = fdef.get("constraints") or {}
    parts: list[str] = []
    if fdef.get("type") == "boolean":
        yes, no = boolean_values(fdef)
        parts.append(_("oui : {yes} ; non : {no}").format(yes=", ".join(yes), no=", ".join(no)))
    if constraints.get("enum"):
        parts.append(_("une valeur parmi : {values}").format(values=", ".join(str(v) for v in constraints["enum"])))
    low, high = constraints.get("minimum"), constraints.get("maximum")
    if low is not None and high is not None:
        parts.append(_("de {low} à {high}").format(low=low, high=high))
    elif low is not None:
        parts.append(_("{low} ou plus").format(low=low))
    elif high is not None:
        parts.append(_("{high} au plus").format(high=high))
    if constraints.get("pattern"):
        pattern = constraints["pattern"]
        parts.append(_(PATTERN_WORDS[pattern]) if pattern in PATTERN_WORDS
                     else _("de la forme {pattern}").format(pattern=pattern))
    return " ; ".join(parts)


def cell_text(fdef: dict[str, Any], value: Any) -> str:
    """A value of the field as typed in a CSV cell (booleans as the field's first true/false value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = boolean_values(fdef)
        return yes[0] if value else no[0]
    return str(value)


def axis_of(axe: str, name: str) -> str:
    """Which axis a column feeds: the identifiers and the period join every axis."""
    if name in NOT_INDICATORS:
        return _("tous les axes (identifiant ou période)")
    return _(AXIS_LABELS.get(axe, axe))


def field_docs(axe: str) -> list[FieldDoc]:
    """The documentation of every column of the axis, in the schema's order (KeyError: unknown axis)."""
    docs = []
    for fdef in tableschema.descriptor(axe).get("fields", []):
        ftype = fdef.get("type", "string")
        example = fdef.get("example")
        docs.append(FieldDoc(
            name=fdef["name"], label=fdef.get("title") or fdef["name"], description=fdef.get("description") or "",
            type=ftype, type_label=_(TYPE_NAMES.get(ftype, ftype)),
            unit=str(fdef.get("unit") or fdef.get("x-unit") or ""), allowed=allowed_values(fdef),
            example=example, example_text=cell_text(fdef, example),
            required=bool((fdef.get("constraints") or {}).get("required")), axis_label=axis_of(axe, fdef["name"])))
    return docs


def column_names(axe: str) -> list[str]:
    return [f["name"] for f in tableschema.descriptor(axe).get("fields", [])]


def example_values(axe: str) -> list[Any]:
    """The example of each column, typed as the schema gives it (for a filled workbook)."""
    return [f.get("example") for f in tableschema.descriptor(axe).get("fields", [])]


def example_texts(axe: str) -> list[str]:
    return [cell_text(f, f.get("example")) for f in tableschema.descriptor(axe).get("fields", [])]


def notes(axe: str) -> list[str]:
    """The lines of advice under the documentation table."""
    return [
        _("Remplissez la feuille « {sheet} » : une ligne par établissement (et par millésime), sans modifier "
          "la ligne d'en-tête.").format(sheet=_(DATA_SHEET)),
        _("Seule la première feuille est lue par le portail ; cette feuille de documentation est ignorée."),
        _("Une cellule vide, « n.c. » ou « NC » signifie : valeur non communiquée."),
        _("Les exemples utilisent l'UAI fictif {uai} : remplacez-le par les UAI de vos établissements.").format(
            uai=EXAMPLE_UAI),
        _("Axe du modèle : {axe}. Schéma et explications : /schemas/{id}").format(
            axe=_(AXIS_LABELS.get(axe, axe)), id=axe),
    ]


# --------------------------------------------------------------------------- CSV

def csv_example(axe: str) -> bytes:
    """The CSV template followed by one line of example values (UTF-8 with BOM, `;`)."""
    line = ";".join(_csv_cell(v) for v in example_texts(axe))
    return tableschema.csv_template(axe) + (line + "\r\n").encode("utf-8")


def _csv_cell(text: str) -> str:
    if any(c in text for c in ';"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


# --------------------------------------------------------------------------- XLSX

def _text_cell(cell: Any, value: str) -> None:
    """A text cell, never read as a formula even when it starts with « = »."""
    cell.value = value
    cell.data_type = "s"


def xlsx_template(axe: str, rows: Sequence[Sequence[Any]] = ()) -> bytes:
    """The XLSX template of the axis; `rows` (tests, examples) are written under the header."""
    from openpyxl import Workbook  # optional dependency: openpyxl (pinned), loaded when a workbook is asked
    from openpyxl.comments import Comment  # optional dependency: openpyxl (see above)
    from openpyxl.styles import Font  # optional dependency: openpyxl (see above)
    from openpyxl.utils import get_column_letter  # optional dependency: openpyxl (see above)
    from openpyxl.worksheet.datavalidation import DataValidation  # optional dependency: openpyxl

    docs = field_docs(axe)
    book = Workbook()
    data = book.active
    data.title = _(DATA_SHEET)
    for position, doc in enumerate(docs, start=1):
        cell = data.cell(row=1, column=position)
        _text_cell(cell, doc.name)
        cell.font = Font(bold=True)
        hint = doc.label + (f" ({doc.unit})" if doc.unit else "") + "\n" + _("Exemple : {value}").format(
            value=doc.example_text)
        cell.comment = Comment(hint, "eCarto")
        letter = get_column_letter(position)
        data.column_dimensions[letter].width = max(12, min(40, len(doc.name) + 4))
        if doc.type == "string":
            data.column_dimensions[letter].number_format = "@"   # keeps leading zeros (094, 0311131L)
        choices = _choices(axe, doc.name)
        if choices:
            check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            check.add(f"{letter}2:{letter}10000")
            data.add_data_validation(check)
    data.freeze_panes = "A2"
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if isinstance(value, str):
                _text_cell(data.cell(row=r, column=c), value)
            else:
                data.cell(row=r, column=c, value=value)

    sheet = book.create_sheet(_(DOC_SHEET))
    for c, title in enumerate(DOC_HEADERS, start=1):
        _text_cell(sheet.cell(row=1, column=c), _(title))
        sheet.cell(row=1, column=c).font = Font(bold=True)
    for r, doc in enumerate(docs, start=2):
        for c, text in enumerate(doc.doc_row(), start=1):
            _text_cell(sheet.cell(row=r, column=c), text)
    for r, text in enumerate(notes(axe), start=len(docs) + 3):
        _text_cell(sheet.cell(row=r, column=1), text)
    for letter, width in zip("ABCDEFGHI", (28, 36, 50, 18, 10, 40, 28, 12, 30)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _choices(axe: str, name: str) -> list[str]:
    """The drop-down list of a column in the XLSX template (enum values), empty for free input."""
    for fdef in tableschema.descriptor(axe).get("fields", []):
        if fdef["name"] == name:
            values = [str(v) for v in (fdef.get("constraints") or {}).get("enum") or []]
            return values if values and all("," not in v and '"' not in v for v in values) else []
    return []


# --------------------------------------------------------------------------- ODS

def ods_template(axe: str, rows: Sequence[Sequence[Any]] = ()) -> bytes:
    """The ODS template of the axis (same sheets as the XLSX one); `rows` are written under the header."""
    from odf.opendocument import OpenDocumentSpreadsheet  # optional dependency: odfpy (pinned)
    from odf.table import Table  # optional dependency: odfpy (see above)

    docs = field_docs(axe)
    doc = OpenDocumentSpreadsheet()
    data = Table(name=_(DATA_SHEET))
    data.addElement(_ods_row([d.name for d in docs]))
    for row in rows:
        data.addElement(_ods_row(list(row)))
    doc.spreadsheet.addElement(data)
    sheet = Table(name=_(DOC_SHEET))
    sheet.addElement(_ods_row([_(t) for t in DOC_HEADERS]))
    for d in docs:
        sheet.addElement(_ods_row(d.doc_row()))
    sheet.addElement(_ods_row([]))
    for text in notes(axe):
        sheet.addElement(_ods_row([text]))
    doc.spreadsheet.addElement(sheet)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def _ods_row(values: list[Any]) -> Any:
    from odf.table import TableCell, TableRow  # optional dependency: odfpy (see ods_template)
    from odf.text import P  # optional dependency: odfpy (see ods_template)

    row = TableRow()
    for value in values:
        if value is None or value == "":
            row.addElement(TableCell())
            continue
        if isinstance(value, bool):
            cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
            text = "VRAI" if value else "FAUX"
        elif isinstance(value, (int, float)):
            cell = TableCell(valuetype="float", value=value)
            text = str(value)
        elif isinstance(value, dt.date):
            cell = TableCell(valuetype="date", datevalue=value.isoformat())
            text = value.isoformat()
        else:
            cell = TableCell(valuetype="string")
            text = str(value)
        cell.addElement(P(text=text))
        row.addElement(cell)
    return row


# --------------------------------------------------------------------------- changelog

@functools.lru_cache(maxsize=1)
def _changelog_entries() -> tuple[dict[str, Any], ...]:
    if not CHANGELOG_PATH.exists():
        return ()
    return tuple(yaml.safe_load(CHANGELOG_PATH.read_text(encoding="utf-8")) or ())


def changelog(axe: str) -> list[dict[str, Any]]:
    """The versions of the axis's schema, newest first: [{version, date, changes}]."""
    return [{"version": str(e.get("version")), "date": str(e.get("date") or ""), "changes": list(e.get("changes") or [])}
            for e in _changelog_entries() if not e.get("axes") or axe in e["axes"]]


def version(axe: str) -> Optional[str]:
    return tableschema.descriptor(axe).get("version")


def is_example_line(axe: str, values: dict[str, Any]) -> bool:
    """Whether a line of a file (column → text) is the templates' example line left in place: its
    UAI is the fictitious ``EXAMPLE_UAI``. For a report that wants to say so; the line itself
    joins no establishment page (no establishment has this UAI)."""
    return str(values.get("uai") or "").strip().upper() == EXAMPLE_UAI and axe in tableschema.available_axes()
