"""Missing values spelled empty, `-` (Arcep), `#N/A` (Excel), `null` (JSON-as-text) become SQL
NULL — never the text "-" — and do not stop a numeric column from being numeric."""
from __future__ import annotations

from .ingest_helpers import (ARCEP_COMMUNES, IPS, OCCITANIE, VAL_DE_MARNE_JSON, column, column_types, derived,
                             json_records, query, raw_bytes, scalar)


def test_arcep_dash_is_null_and_counts_stay_integers(load):
    dashes = sum(1 for v in column(ARCEP_COMMUNES, "Établissements", delimiter=",", preamble=4) if v.strip() == "-")

    report = load(ARCEP_COMMUNES)

    assert column_types(report.table_name)["etablissements"] == "bigint"
    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE etablissements IS NULL") == dashes > 0
    assert query(f"SELECT etablissements FROM {report.table_name} WHERE _key = '55001'")[0]["etablissements"] == 14


def test_derived_missing_spellings_in_a_numeric_column(load, tmp_path):
    lines = raw_bytes(IPS).decode("utf-8-sig").split("\n")
    spellings = ["#N/A", "null", "-", "", "NULL", " - "]
    for i, spelling in enumerate(spellings, start=1):
        cells = lines[i].split(";")
        cells[2] = spelling
        lines[i] = ";".join(cells)

    report = load(derived(tmp_path, "ips-missing.csv", "\n".join(lines).encode("utf-8")))

    assert report.status == "ok", report.message
    assert column_types(report.table_name)["ips"] == "double precision"
    nulls = [r["_row"] for r in query(f"SELECT _row FROM {report.table_name} WHERE ips IS NULL ORDER BY _row")]
    assert nulls == list(range(1, len(spellings) + 1))


def test_empty_fields_of_the_annuaire(load):
    empty = sum(1 for v in column(OCCITANIE, "Nombre_d_eleves", delimiter=";") if v == "")

    report = load(OCCITANIE)

    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE nombre_d_eleves IS NULL") == empty > 0
    assert column_types(report.table_name)["nombre_d_eleves"] == "bigint"


def test_json_null_is_null(load):
    records = json_records(VAL_DE_MARNE_JSON)
    report = load(VAL_DE_MARNE_JSON)
    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE adresse_2 IS NULL") == \
        sum(1 for r in records if r["adresse_2"] is None)
