"""The CSV exports never hand a spreadsheet a formula (issue 12, probe 6).

`/etablissement/<uai>.csv` and `/territoire/….csv` wrote cells and headers beginning with `=`,
`+`, `-`, `@` unchanged: opening the export of a school in a spreadsheet ran
`=HYPERLINK(…)` or `+cmd|' /C calc'!A0` published by any editor. Every cell now goes through
`views/_common.csv_cell` (OWASP: a leading `'`); numbers, negative ones included, stay numbers.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from ckanext.ecarto.views._common import csv_cell

from tests.security.payload_portal import FORMULAS, NUMBERS, NUMERIC_HEADER, payload_portal  # noqa: F401

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def _unsafe_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate: text beginning with a formula sign that is not a number."""
    unsafe = []
    for row in rows:
        for cell in row:
            if cell.startswith(DANGEROUS):
                try:
                    float(cell)
                except ValueError:
                    unsafe.append(cell)
    return unsafe


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("＝1+1", "'＝1+1"),
    ("Collège Jean Jaurès", "Collège Jean Jaurès"),
    ("-3.5", "-3.5"),                 # a number written as text stays a number
    ("+12", "+12"),
    (-3.5, "-3.5"),
    (-2, "-2"),
    (12.0, "12"),
    (103.45, "103.45"),
    (1234567.891, "1234567.891"),     # never rounded nor in exponent notation
    (1e-7, "0.0000001"),
    (Decimal("-0.25"), "-0.25"),
    (None, ""),
    (["a", "=b"], '["a", "=b"]'),
])
def test_cell_formatter(value, expected):
    assert csv_cell(value) == expected


@pytest.mark.usefixtures("with_plugins")
def test_establishment_export_neutralises_formulas(app, payload_portal):
    found = {}
    for uai in payload_portal.uais:
        res = app.get(f"/etablissement/{uai}.csv")
        assert res.status_code == 200
        rows = _rows(res.data)
        assert rows[0][:3] == ["uai", "section", "indicateur"]
        assert not _unsafe_cells(rows), uai
        found[uai] = rows
    cells = {cell for rows in found.values() for row in rows for cell in row}
    # the publishers' formulas are still there, as text a spreadsheet shows
    for formula in FORMULAS.values():
        # (the ingestion trims cells: the tab-leading one is stored as "=1+1"; the unit test
        # above checks a tab-leading text)
        assert "'" + formula.strip() in cells, formula
    # the numeric column: its header as a label, its values unchanged numbers (negative too)
    labels = {row[3] for rows in found.values() for row in rows}
    assert "'" + NUMERIC_HEADER in labels and "'" + FORMULAS["hyperlink"] in labels
    values = [row[4] for rows in found.values() for row in rows if row[3] == "'" + NUMERIC_HEADER]
    assert sorted(float(v) for v in values) == sorted(NUMBERS)
    assert "-3.5" in values and "-2" in values


@pytest.mark.usefixtures("with_plugins")
def test_territory_export_neutralises_formulas(app, payload_portal):
    res = app.get(f"/territoire/departement/{payload_portal.departement}.csv")
    assert res.status_code == 200
    rows = _rows(res.data)
    assert not _unsafe_cells(rows)
    header = rows[0]
    labels = [r[header.index("libelle")] for r in rows[1:]]
    # the collectivité's numeric column header `@SUM(1) …` is a series label: neutralised
    assert "'" + NUMERIC_HEADER in labels
    # the mean of the numeric column over the département: a (negative) number, as written
    line = next(r for r in rows[1:] if r[header.index("libelle")] == "'" + NUMERIC_HEADER
                and r[header.index("ventilation")] == "Ensemble")
    value = line[header.index("valeur")]
    assert float(value) == pytest.approx(sum(NUMBERS) / len(NUMBERS), abs=0.01)
    assert value.startswith("-") and "," not in value


@pytest.mark.usefixtures("with_plugins")
def test_schema_templates_hold_no_formula(app, payload_portal):
    """The other CSV the portal writes, `/schemas/<axe>.csv`: column names of the bundled
    Table Schemas (not publisher text), checked all the same."""
    from ckanext.ecarto.validation import tableschema
    for axe in tableschema.available_axes():
        res = app.get(f"/schemas/{axe}.csv")
        assert res.status_code == 200
        rows = _rows(res.data)
        assert rows[0] and not _unsafe_cells(rows), axe
