"""The axes' data schemas for the people who fill files (like schema.data.gouv.fr).

- ``/schemas``: the axes and their schemas;
- ``/schemas/<axe>``: a human page per schema — description, table of the columns (name, label,
  type, unit, description, allowed values, example, required, axis), example line, versions,
  download links;
- ``/schemas/<axe>.xlsx`` and ``.ods``: the templates to fill (sheet « Données »: the header
  row; sheet « Documentation »: every column explained);
- ``/schemas/<axe>.csv``: the empty CSV template (UTF-8 BOM, `;`), ``/schemas/<axe>-exemple.csv``
  the same with one line of example values;
- ``/schemas/<axe>.json``: the Table Schema (for developers and validators).

Public pages: the schemas are the same for everyone.
"""
from __future__ import annotations

from flask import Blueprint, Response

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.axes import AXIS_IDS, AXIS_LABELS
from ckanext.ecarto.validation import tableschema, templates

schemas = Blueprint("ecarto_schemas", __name__)

EXAMPLE_SUFFIX = "-exemple"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


def _axe_or_404(axe: str) -> str:
    if axe not in tableschema.available_axes():
        return tk.abort(404, tk._("Axe inconnu."))
    return axe


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@schemas.route("/schemas")
def index() -> str:
    axes = [{"id": axe, "label": tk._(AXIS_LABELS[axe]), "title": tableschema.descriptor(axe).get("title"),
             "n_fields": len(templates.column_names(axe))}
            for axe in AXIS_IDS if axe in tableschema.available_axes()]
    return tk.render("ecarto/schemas/index.html", {"axes": axes})


@schemas.route("/schemas/<axe>")
def read(axe: str) -> str:
    axe = _axe_or_404(axe)
    desc = tableschema.descriptor(axe)
    docs = templates.field_docs(axe)
    return tk.render("ecarto/schemas/read.html", {
        "axe": axe, "axe_label": tk._(AXIS_LABELS.get(axe, axe)), "schema": desc, "fields": docs,
        "version": templates.version(axe), "changelog": templates.changelog(axe),
        "primary_key": desc.get("primaryKey") or [], "missing_values": [v for v in desc.get("missingValues") or [] if v],
    })


@schemas.route("/schemas/<axe>.<fmt>")
def download(axe: str, fmt: str) -> Response:
    """A template or the schema of an axis, by extension (``<axe>-exemple.csv``: with an example line)."""
    if fmt == "csv" and axe.endswith(EXAMPLE_SUFFIX):
        axe = _axe_or_404(axe[:-len(EXAMPLE_SUFFIX)])
        return _attachment(templates.csv_example(axe), "text/csv; charset=utf-8", f"exemple-ecarto-{axe}.csv")
    axe = _axe_or_404(axe)
    if fmt == "csv":
        return _attachment(tableschema.csv_template(axe), "text/csv; charset=utf-8", f"modele-ecarto-{axe}.csv")
    if fmt == "xlsx":
        return _attachment(templates.xlsx_template(axe), XLSX_MIMETYPE, f"modele-ecarto-{axe}.xlsx")
    if fmt == "ods":
        return _attachment(templates.ods_template(axe), ODS_MIMETYPE, f"modele-ecarto-{axe}.ods")
    if fmt == "json":
        return Response(tableschema.schema_path(axe).read_bytes(), mimetype="application/json", headers={
            "Content-Disposition": f'inline; filename="schema-ecarto-{axe}.json"'})
    return tk.abort(404, tk._("Format inconnu : XLSX, ODS, CSV ou JSON."))
