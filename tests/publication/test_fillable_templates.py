"""Templates an agent can fill alone: for each axis an XLSX and an ODS workbook (sheet « Données »:
the header row; sheet « Documentation »: label, description, unit, allowed values, example,
required, axis of each column), the header-only CSV and a CSV with one example line. Read by the
portal's own validation (the `ecarto_validate_resource` action), the templates are files with no
rows, and once filled with the example values they are valid. The page `/schemas/<axe>` shows
every column with its label, unit and example, and the download links."""
from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
import pandas as pd
import pytest

import ckan.tests.helpers as helpers

from ckanext.ecarto.core import uai as uai_rule
from ckanext.ecarto.validation import tableschema, templates
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")

AXES = tableschema.available_axes()
EMPTY = {"xlsx": templates.xlsx_template, "ods": templates.ods_template,
         "csv": tableschema.csv_template}


def _filled(axe: str, fmt: str) -> bytes:
    if fmt == "csv":
        return templates.csv_example(axe)
    return EMPTY[fmt](axe, [templates.example_values(axe)])


def _validate(portal, axe: str, content: bytes, filename: str) -> dict:
    return helpers.call_action("ecarto_validate_resource", {"user": portal.editor["name"], "ignore_auth": False},
                               axe=axe, upload=upload(content, filename))


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
@pytest.mark.parametrize("axe", AXES)
def test_each_template_validates_as_an_empty_file_of_the_schema(portal, axe, fmt):
    report = _validate(portal, axe, EMPTY[fmt](axe), f"modele-{axe}.{fmt}")
    assert report["file"]["columns"] == templates.column_names(axe)
    assert report["schema"]["unknown_columns"] == []
    assert all(f["column"] == f["field"] for f in report["schema"]["fields"])
    assert {e["code"] for e in report["errors"]} == {"no-rows"}          # fill it first


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
@pytest.mark.parametrize("axe", AXES)
def test_each_template_filled_with_the_example_is_valid(portal, axe, fmt):
    report = _validate(portal, axe, _filled(axe, fmt), f"exemple-{axe}.{fmt}")
    assert report["valid"], [e["message"] for e in report["errors"]]
    assert report["file"]["n_rows"] == 1
    assert report["schema"]["n_errors"] == 0
    assert report["uai"]["n_valid"] == 1
    # the example's UAI is well formed but fictitious: it joins no establishment page
    assert report["uai"]["not_in_directory"]["uais"] == ["0000000A"]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_the_documentation_sheet_explains_every_column(fmt):
    axe = "equipement"
    content = EMPTY[fmt](axe)
    sheets = pd.read_excel(io.BytesIO(content), sheet_name=None, dtype=str,
                           engine="openpyxl" if fmt == "xlsx" else "odf")
    assert list(sheets) == ["Données", "Documentation"]
    assert list(sheets["Données"].columns) == templates.column_names(axe) and sheets["Données"].empty
    doc = sheets["Documentation"].fillna("")
    assert list(doc.columns) == ["Colonne", "Libellé", "Description", "Type", "Unité", "Valeurs autorisées",
                                 "Exemple", "Obligatoire", "Axe"]
    rows = {r["Colonne"]: r for r in doc.to_dict("records")}
    tbi = rows["part_classes_tbi"]
    assert tbi["Libellé"] == "Part des classes équipées d'un TBI"
    assert tbi["Unité"] == "%" and tbi["Valeurs autorisées"] == "de 0 à 100" and tbi["Exemple"] == "75"
    assert tbi["Axe"] == "Équipement" and tbi["Obligatoire"] == "non" and tbi["Type"] == "nombre (point décimal)"
    assert rows["uai"]["Obligatoire"] == "oui" and "7 chiffres" in rows["uai"]["Valeurs autorisées"]
    assert rows["uai"]["Axe"] == "tous les axes (identifiant ou période)"
    assert "true" in rows["maintenance_collectivite"]["Valeurs autorisées"]
    assert all(rows[name]["Libellé"] and rows[name]["Exemple"] for name in templates.column_names(axe))


def test_the_xlsx_template_keeps_codes_as_text_and_offers_the_allowed_values():
    book = openpyxl.load_workbook(io.BytesIO(templates.xlsx_template("etablissements")))
    data = book["Données"]
    names = [c.value for c in data[1]]
    assert names == templates.column_names("etablissements")
    column = openpyxl.utils.get_column_letter(names.index("code_departement") + 1)
    assert data.column_dimensions[column].number_format == "@"           # 094 stays 094
    lists = [v.formula1 for v in data.data_validations.dataValidation]
    assert '"REP,REP+,Hors REP"' in lists
    assert "Exemple" in data.cell(row=1, column=1).comment.text


@pytest.mark.parametrize("axe", AXES)
def test_the_schema_page_shows_every_column_with_label_unit_and_example(app, axe):
    page = _text(app.get(f"/schemas/{axe}", status=200))
    body = re.sub(r"\s+", " ", page)
    for doc in templates.field_docs(axe):
        row = re.search(rf'<tr id="colonne-{re.escape(doc.name)}"[^>]*>(.*?)</tr>', body)
        assert row, doc.name
        cells = row.group(1)
        assert doc.label in cells and doc.example_text in cells and doc.axis_label in cells
        if doc.unit:
            assert f'<td class="ecarto-field-unit">{doc.unit}</td>' in cells
    for fmt in ("xlsx", "ods", "csv", "json"):
        assert f'href="/schemas/{axe}.{fmt}"' in page
    assert f'href="/schemas/{axe}-exemple.csv"' in page
    assert "Versions" in page and templates.version(axe) in page


def test_the_schema_index_and_unknown_axes(app):
    page = _text(app.get("/schemas", status=200))
    for axe in AXES:
        assert f'href="/schemas/{axe}"' in page
    app.get("/schemas/inconnu", status=404)
    app.get("/schemas/inconnu.xlsx", status=404)
    app.get("/schemas/inconnu-exemple.csv", status=404)
    app.get("/schemas/equipement.pdf", status=404)


@pytest.mark.parametrize("fmt,mimetype", [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"), ("csv", "text/csv"), ("json", "application/json")])
def test_the_downloads(app, fmt, mimetype):
    res = app.get(f"/schemas/connectivite.{fmt}", status=200)
    assert res.headers["Content-Type"].startswith(mimetype)
    if fmt != "json":
        assert f'filename="modele-ecarto-connectivite.{fmt}"' in res.headers["Content-Disposition"]
    example = app.get("/schemas/connectivite-exemple.csv", status=200).get_data().decode("utf-8-sig")
    header, line = example.splitlines()
    assert header.split(";") == templates.column_names("connectivite")
    assert line.split(";")[:3] == ["0000000A", "2023-2024", "1000"]


def test_the_example_uai_is_well_formed_but_fictitious():
    assert uai_rule.check(templates.EXAMPLE_UAI).valid
    for axe in AXES:
        line = dict(zip(templates.column_names(axe), templates.example_texts(axe)))
        assert templates.is_example_line(axe, line)
    assert not templates.is_example_line("equipement", {"uai": "0311131L"})
