"""Lines before the header (Arcep's title, subtitle and blank `,,,,` lines) are skipped: the
header is found on line 5 and the first commune is the first data row."""
from __future__ import annotations

from .ingest_helpers import ARCEP_COMMUNES, IPS, derived, query, raw_bytes, registry, source_records


def test_arcep_header_on_line_five(load):
    header, rows = source_records(ARCEP_COMMUNES, delimiter=",", preamble=4)

    report = load(ARCEP_COMMUNES)

    assert report.header_line == 5 and registry(report.resource_id)["header_line"] == 5
    assert [c["source"] for c in report.columns[1:]] == header
    first = query(f"SELECT * FROM {report.table_name} WHERE _row = 1")[0]
    assert (first["_key"], first["nom_commune"]) == (rows[0][0], rows[0][1]) == ("64001", "Aast")


def test_derived_title_lines_above_a_semicolon_header(load, tmp_path):
    text = raw_bytes(IPS).decode("utf-8-sig")
    content = ("Indice de position sociale des collèges\nSource : MENJ-DEPP\n;;;\n\n" + text).encode("utf-8")
    header, rows = source_records(IPS, delimiter=";")

    report = load(derived(tmp_path, "ips-with-title.csv", content))

    assert report.status == "ok", report.message
    assert report.header_line == 5 and report.n_rows == len(rows)
    assert report.key_column == "UAI"
