"""Rows whose UAI is invalid (wrong check letter, wrong shape, missing) are not loaded but listed
in the resource's reject report with their row number, value and a French reason — never
silently dropped. The faulty rows are written by the test into a copy of the real IPS file."""
from __future__ import annotations

from .ingest_helpers import IPS, derived, query, raw_bytes, registry, scalar, source_records


def _break(lines, row, value):
    cells = lines[row].split(";")
    cells[1] = value
    lines[row] = ";".join(cells)


def test_invalid_uais_are_reported_with_row_numbers(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    lines = raw_bytes(IPS).decode("utf-8-sig").split("\n")
    _break(lines, 3, "0750001A")    # check letter should be U
    _break(lines, 10, "075001")     # not 7 digits + letter
    _break(lines, 25, "")           # missing
    _break(lines, 40, " 0010026y ")  # valid once trimmed and upper-cased

    report = load(derived(tmp_path, "ips-uai-invalides.csv", "\n".join(lines).encode("utf-8")))

    assert report.status == "ok", report.message
    assert report.n_rejected == 3 and report.n_rows == len(rows) - 3
    by_row = {r["row"]: r for r in report.rejects}
    assert set(by_row) == {3, 10, 25}
    assert by_row[3]["value"] == "0750001A"
    assert by_row[3]["reason"] == "UAI 0750001A invalide : la lettre clé attendue est U."
    assert "7 chiffres suivis d'une lettre clé" in by_row[10]["reason"]
    assert by_row[25]["reason"] == "UAI manquant."
    stored = registry(report.resource_id)
    assert stored["n_rejected"] == 3 and {r["row"] for r in stored["rejects"]} == {3, 10, 25}
    assert "3 rejetées" in stored["message"]
    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE _key = '0750001A'") == 0
    assert query(f"SELECT _key FROM {report.table_name} WHERE _row = 40")[0]["_key"] == "0010026Y"
    assert scalar(f"SELECT max(_row) FROM {report.table_name}") == len(rows)


def test_a_column_of_mostly_invalid_uais_is_refused(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    lines = raw_bytes(IPS).decode("utf-8-sig").split("\n")
    for i in range(1, 40):
        cells = lines[i].split(";")
        cells[1] = cells[1][:7] + ("A" if cells[1][7] != "A" else "B")
        lines[i] = ";".join(cells)
    short = "\n".join(lines[:60])

    report = load(derived(tmp_path, "ips-mauvaise-colonne.csv", short.encode("utf-8")), uai_column="UAI")

    assert report.status == "error"
    assert "est-ce la bonne colonne" in report.message
    assert registry(report.resource_id)["status"] == "error"
