"""Excel-formatted numbers: non-breaking-space (and plain space) thousands separators and
decimal commas are read as numbers; codes that look like numbers are not touched."""
from __future__ import annotations

from .ingest_helpers import ARCEP_COMMUNES, IPS, column, column_types, derived, query, raw_bytes


def test_nbsp_thousands_in_arcep_counts(load):
    raw = dict(zip(column(ARCEP_COMMUNES, "Code commune", delimiter=",", preamble=4),
                   column(ARCEP_COMMUNES, "Logements", delimiter=",", preamble=4)))
    assert raw["80001"].strip() == "12\u00a0218"

    report = load(ARCEP_COMMUNES)

    rows = {r["_key"]: r["logements"] for r in query(f"SELECT _key, logements FROM {report.table_name}")}
    assert rows["80001"] == 12218 and rows["78003"] == 1291
    expected = {k: int(v.strip().replace("\u00a0", "")) for k, v in raw.items() if v.strip() not in ("", "-")}
    assert {k: v for k, v in rows.items() if v is not None} == expected


def test_derived_decimal_commas_and_space_thousands(load, tmp_path):
    text = raw_bytes(IPS).decode("utf-8-sig")
    head, *body = text.split("\n")
    body = [line.replace(".", ",") for line in body if line]
    body[0] = body[0].replace("2023", "2\u202f023")  # narrow no-break space, as LibreOffice writes
    content = ("\n".join([head] + body) + "\n").encode("utf-8")

    report = load(derived(tmp_path, "ips-virgules.csv", content))

    assert report.status == "ok", report.message
    types = column_types(report.table_name)
    assert types["ips"] == "double precision" and types["rentree_scolaire"] == "bigint"
    first = query(f"SELECT * FROM {report.table_name} WHERE _key = '0010026Y'")[0]
    assert (first["ips"], first["ecart_type_de_l_ips"], first["rentree_scolaire"]) == (111.1, 32.8, 2023)
