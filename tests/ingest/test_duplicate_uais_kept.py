"""Legitimately duplicated UAIs (a cité scolaire described by a collège row and a lycée row,
`multi_uai = 1`) are all kept, each with its own row number."""
from __future__ import annotations

from collections import Counter

from .ingest_helpers import OCCITANIE, query, source_records


def test_every_duplicate_row_is_kept(load):
    header, rows = source_records(OCCITANIE, delimiter=";")
    uai = header.index("Identifiant_de_l_etablissement")
    duplicates = {k: n for k, n in Counter(r[uai] for r in rows).items() if n > 1}
    assert len(duplicates) == 3

    report = load(OCCITANIE)

    assert report.n_rows == len(rows) and report.n_rejected == 0
    loaded = query(f"SELECT _key, count(*) AS n, array_agg(_row ORDER BY _row) AS rows_, "
                   f"array_agg(multi_uai) AS multi FROM {report.table_name} GROUP BY _key HAVING count(*) > 1")
    assert {r["_key"]: r["n"] for r in loaded} == duplicates
    for r in loaded:
        assert set(r["multi"]) == {"1"}
        expected_rows = [i + 1 for i, row in enumerate(rows) if row[uai] == r["_key"]]
        assert r["rows_"] == expected_rows
