"""A line with more fields than the header (a stray separator) cannot be split into columns: it is
not loaded, but it is reported with its line number; the following rows keep their numbers."""
from __future__ import annotations

from .ingest_helpers import IPS, derived, query, raw_bytes, source_records


def test_stray_separator_line_is_reported(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    lines = raw_bytes(IPS).decode("utf-8-sig").split("\n")
    lines[7] = lines[7] + ";en trop"

    report = load(derived(tmp_path, "ips-champ-en-trop.csv", "\n".join(lines).encode("utf-8")))

    assert report.status == "ok", report.message
    assert report.n_rows == len(rows) - 1 and report.n_rejected == 1
    reject = report.rejects[0]
    assert reject["row"] == 7
    assert reject["reason"].startswith("Ligne 8 du fichier : 5 champs au lieu de 4")
    assert query(f"SELECT _key FROM {report.table_name} WHERE _row = 8")[0]["_key"] == rows[7][1]
    assert query(f"SELECT count(*) AS n FROM {report.table_name} WHERE _row = 7")[0]["n"] == 0
