"""`;` (ministry), `,` (Arcep 2018) and tab separators are recognised; a comma inside a quoted
value or a decimal comma does not fool the detection. Variants of the real IPS file are derived
by the test."""
from __future__ import annotations

import csv
import io

import pytest

from .ingest_helpers import ARCEP_COMMUNES, IPS, derived, query, source_records


def _rewrite(header, rows, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _ips(report):
    return {r["_key"]: r["ips"] for r in query(f"SELECT _key, ips FROM {report.table_name}")}


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
def test_derived_separators_give_the_same_table(load, tmp_path, delimiter):
    header, rows = source_records(IPS, delimiter=";")
    reference = _ips(load(IPS))

    report = load(derived(tmp_path, "ips.txt", _rewrite(header, rows, delimiter)))

    assert report.status == "ok", report.message
    assert report.separator == delimiter
    assert _ips(report) == reference and len(reference) == len(rows)


def test_commas_inside_values_of_a_semicolon_file(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    header = header + ["Commentaire"]
    rows = [r + [f"collège, académie {i % 7}, \"ok\""] for i, r in enumerate(rows[:200])]

    report = load(derived(tmp_path, "ips-commentaire.csv", _rewrite(header, rows, ";")))

    assert report.separator == ";" and report.n_rows == 200
    assert query(f"SELECT commentaire FROM {report.table_name} WHERE _row = 1")[0]["commentaire"] == \
        'collège, académie 0, "ok"'


def test_arcep_comma_file(load):
    report = load(ARCEP_COMMUNES)
    assert report.separator == "," and report.key_column == "Code commune"
