"""Every real file of the sample loads whole: the row counts match the source files read
independently with the csv/json modules, and nothing is rejected (all their keys are valid)."""
from __future__ import annotations

import pytest

from .ingest_helpers import (ARCEP_COMMUNES, ARCEP_FTTH, GEOLOC, IPS, MCI_BEST, MCI_DEBIT, MCI_TECHNO,
                        OCCITANIE, VAL_DE_MARNE, VAL_DE_MARNE_JSON, json_records, query, registry, scalar,
                        source_records)

CSV_FILES = [
    # path, separator, preamble lines, key header, key kind
    (OCCITANIE, ";", 0, "Identifiant_de_l_etablissement", "uai"),
    (VAL_DE_MARNE, ";", 0, "Identifiant_de_l_etablissement", "uai"),
    (GEOLOC, ";", 0, "numero_uai", "uai"),
    (IPS, ";", 0, "UAI", "uai"),
    (ARCEP_COMMUNES, ",", 4, "Code commune", "commune"),
    (ARCEP_FTTH, ",", 4, "Code commune", "commune"),
    (MCI_TECHNO, ";", 0, "code_insee", "commune"),
    (MCI_DEBIT, ";", 0, "code_insee", "commune"),
    (MCI_BEST, ";", 0, "code_insee", "commune"),
]


@pytest.mark.parametrize("path, sep, preamble, key, kind", CSV_FILES, ids=lambda v: getattr(v, "name", None))
def test_csv_file_loads_every_row(load, path, sep, preamble, key, kind):
    header, rows = source_records(path, delimiter=sep, preamble=preamble)
    keys = {r[header.index(key)] for r in rows}

    report = load(path)

    assert report.status == "ok", report.message
    assert (report.key_kind, report.key_column) == (kind, key)
    assert report.n_rows == len(rows) and report.n_rejected == 0
    reshape = report.layout["reshape"]
    if reshape is None:
        assert scalar(f"SELECT count(*) FROM {report.table_name}") == len(rows)
    else:  # Arcep's quarters in columns and « Champ »: one row per commune and quarter (issue #14)
        assert scalar(f"SELECT count(*) FROM {report.table_name}") == len(keys) * len(reshape["periods_from_columns"])
    assert scalar(f"SELECT count(DISTINCT _key) FROM {report.table_name}") == len(keys)
    assert report.header_line == preamble + 1 and report.separator == sep
    row = registry(report.resource_id)
    assert row["status"] == "ok" and row["n_rows"] == len(rows) and row["table_name"] == report.table_name
    assert "lignes chargées" in row["message"]


def test_json_export_loads_every_record(load):
    records = json_records(VAL_DE_MARNE_JSON)

    report = load(VAL_DE_MARNE_JSON)

    assert report.status == "ok", report.message
    assert report.file_format == "json" and report.key_column == "identifiant_de_l_etablissement"
    assert report.n_rows == len(records) == 613
    uais = sorted(r["identifiant_de_l_etablissement"] for r in records)
    assert [r["_key"] for r in query(f"SELECT _key FROM {report.table_name} ORDER BY _key")] == uais
