"""The same ingestion path reads Opendatasoft JSON exports and Excel workbooks. The workbook is
written by the test from the real IPS rows (derived file); a commune code stored as a number by
Excel gets its leading zero back."""
from __future__ import annotations

import openpyxl

from .ingest_helpers import IPS, VAL_DE_MARNE, VAL_DE_MARNE_JSON, column_types, query, source_records


def test_json_and_csv_exports_of_the_same_records_agree(load):
    csv_report = load(VAL_DE_MARNE)
    json_report = load(VAL_DE_MARNE_JSON)

    assert json_report.n_rows == csv_report.n_rows == 613
    csv_rows = {r["_key"]: r for r in query(f"SELECT _key, nom_etablissement, code_postal, latitude FROM {csv_report.table_name}")}
    json_rows = {r["_key"]: r for r in query(f"SELECT _key, nom_etablissement, code_postal, latitude FROM {json_report.table_name}")}
    assert csv_rows == json_rows
    assert column_types(json_report.table_name)["position"] == "text"  # {"lon", "lat"} kept as JSON text
    position = query(f"SELECT position FROM {json_report.table_name} WHERE _key = '0940176F'")[0]["position"]
    assert '"lat": 48.75113972238502' in position


def test_xlsx_workbook_with_a_title_row(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["IPS des collèges, rentrée 2023"])
    sheet.append([])
    sheet.append(header)
    for r in rows[:500]:
        sheet.append([int(r[0]), r[1], float(r[2]), float(r[3])])
    path = tmp_path / "derived-ips.xlsx"
    workbook.save(path)

    report = load(path)

    assert report.status == "ok", report.message
    assert report.file_format == "xlsx" and report.header_line == 3 and report.n_rows == 500
    first = query(f"SELECT * FROM {report.table_name} WHERE _row = 1")[0]
    # « Rentrée scolaire » 2023 is the row's period (issue #14): the school year it starts
    assert (first["_key"], first["ips"], first["_periode"]) == (rows[0][1], float(rows[0][2]), "2023-2024")


def test_xlsx_numeric_commune_codes_get_their_zero_back(load, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Code commune", "Nom commune", "Logements"])
    sheet.append([1001, "L'Abergement-Clémenciat", 388])  # 01001 typed as a number in Excel
    sheet.append(["2A004", "Ajaccio", 40000])
    path = tmp_path / "derived-communes.xlsx"
    workbook.save(path)

    report = load(path)

    assert report.key_kind == "commune"
    assert sorted(r["_key"] for r in query(f"SELECT _key FROM {report.table_name}")) == ["01001", "2A004"]
