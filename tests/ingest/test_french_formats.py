"""The loader reads French spreadsheet habits as the validation does (issue 15): ``1.234,5``
(points grouping thousands before a decimal comma), ``45 %`` (45: the axes' shares are in
percent), ``O``/``N`` booleans, dates ``jj/mm/aaaa`` whose day starts with 0 (a date, not a
code with a leading zero), and an ODS workbook read like its CSV — first sheet, or the one
chosen. The validation's converter (``coltypes.french_cell``) gives the same values.

Real data: the IPS file (sample data) rewritten the French way at test time."""
from __future__ import annotations

import pandas as pd
import pytest

from ckanext.ecarto.ingest import ReadError, read_table
from ckanext.ecarto.ingest.coltypes import french_cell

from .ingest_helpers import IPS, column_types, derived, query, raw_bytes


def _ips_rows(limit: int = 30) -> list[list[str]]:
    text = raw_bytes(IPS).decode("utf-8-sig")
    return [line.split(";") for line in text.splitlines()[1:limit + 1]]


def test_grouped_thousands_percentages_and_o_n(load, tmp_path):
    rows = _ips_rows()
    lines = ["Rentrée scolaire;UAI;IPS;Part;Cantine;Ouverture"]
    for i, (year, uai, ips, ecart) in enumerate(rows):
        # IPS × 10 with a point grouping thousands (1.111,0); the écart-type as a percentage
        grouped = f"{float(ips) * 10:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        lines.append(";".join([year, uai, grouped, f"{ecart.replace('.', ',')} %", "O" if i % 2 else "n",
                               f"0{1 + i % 9}/09/20{10 + i % 10}"]))
    report = load(derived(tmp_path, "ips-fr.csv", ("\n".join(lines) + "\n").encode("utf-8")))

    assert report.status == "ok", report.message
    types = column_types(report.table_name)
    assert (types["ips"], types["part"], types["cantine"], types["ouverture"]) == (
        "double precision", "double precision", "boolean", "date")
    loaded = {r["_key"]: r for r in query(f"SELECT * FROM {report.table_name}")}
    for i, (_year, uai, ips, ecart) in enumerate(rows):
        row = loaded[uai]
        assert row["ips"] == pytest.approx(float(ips) * 10) and row["part"] == float(ecart)
        assert row["cantine"] is bool(i % 2)
        assert row["ouverture"].isoformat() == f"20{10 + i % 10}-09-0{1 + i % 9}"


def test_the_validation_converts_like_the_loader():
    assert french_cell("number", "1.111,0") == "1111.0" and french_cell("number", "32,8 %") == "32.8"
    assert french_cell("integer", "1\u00a0406") == "1406" and french_cell("integer", "45 %") == "45"
    assert french_cell("boolean", "o") is True and french_cell("boolean", "NON") is False
    assert french_cell("date", "08/05/1967") == "1967-05-08"
    assert french_cell("date", "31/02/2024") == "31/02/2024"      # not a date: left for the schema to refuse
    assert french_cell("number", "douze") == "douze"


def test_ods_reads_like_the_csv_on_the_chosen_sheet(load, tmp_path):
    rows = _ips_rows()
    header = ["Rentrée scolaire", "UAI", "IPS", "Ecart-type de l'IPS"]
    path = tmp_path / "ips.ods"
    with pd.ExcelWriter(path, engine="odf") as writer:
        pd.DataFrame({"À lire": ["Source : IPS des collèges, rentrée 2023"]}).to_excel(writer, sheet_name="Notice",
                                                                                      index=False)
        pd.DataFrame([[int(y), u, float(i), float(e)] for y, u, i, e in rows], columns=header).to_excel(
            writer, sheet_name="IPS", index=False)

    table = read_table(str(path), sheet="IPS")
    assert (table.format.kind, table.format.sheet, table.columns) == ("ods", "IPS", header)
    with pytest.raises(ReadError) as exc:
        read_table(str(path), sheet="Effectifs")
    assert "Feuille « Effectifs » introuvable" in str(exc.value) and "« Notice », « IPS »" in str(exc.value)

    report = load(path, sheet="2")
    assert report.status == "ok" and report.file_format == "ods" and report.n_rows == len(rows)
    loaded = {r["_key"]: r for r in query(f"SELECT * FROM {report.table_name}")}
    assert {u: loaded[u]["ips"] for _y, u, _i, _e in rows} == {u: float(i) for _y, u, i, _e in rows}

    first = load(path)                      # the first sheet: a notice, no UAI column
    assert first.status in ("skipped", "error")
