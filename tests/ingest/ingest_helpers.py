"""Helpers of the ingestion tests: the real sample files, and ways to read them independently of
the code under test (the csv and json modules) and to query what was loaded."""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"

OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
VAL_DE_MARNE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv"
VAL_DE_MARNE_JSON = (SAMPLE / "annuaire-education"
                     / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.exports-json.json.gz")
GEOLOC = (SAMPLE / "geolocalisation-etablissements"
          / "fr-en-adresse-et-geolocalisation-etablissements_colleges-france_2024-11.csv.gz")
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
ARCEP_COMMUNES = SAMPLE / "arcep-observatoire-thd-2018t1" / "communes.csv.gz"
ARCEP_FTTH = SAMPLE / "arcep-observatoire-thd-2018t1" / "ftthCommunes.csv.gz"
MCI_TECHNO = SAMPLE / "arcep-maconnexioninternet-2026t1" / "commune_techno_sample.csv"
MCI_DEBIT = SAMPLE / "arcep-maconnexioninternet-2026t1" / "commune_debit_filaire_sample.csv"
MCI_BEST = SAMPLE / "arcep-maconnexioninternet-2026t1" / "commune_meilleure_techno_thd_sample.csv"


def raw_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def source_records(path: Path, *, delimiter: str, preamble: int = 0,
                   encoding: str = "utf-8-sig") -> tuple[list[str], list[list[str]]]:
    """Header and data records of a CSV read with the csv module (the oracle of the tests)."""
    text = raw_bytes(path).decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    rows = rows[preamble:]
    header, data = rows[0], [r for r in rows[1:] if r]
    return header, data


def column(path: Path, name: str, **kw: Any) -> list[str]:
    header, data = source_records(path, **kw)
    i = header.index(name)
    return [r[i] for r in data]


def json_records(path: Path) -> list[dict[str, Any]]:
    return json.loads(raw_bytes(path).decode("utf-8"))


def derived(tmp_path: Path, name: str, content: bytes) -> Path:
    """A small byte-level variant of a real file, written for a test (marked derived)."""
    path = tmp_path / f"derived-{name}"
    path.write_bytes(content)
    return path


def query(sql: str, **params: Any) -> list[dict[str, Any]]:
    from ckan.model import meta
    with meta.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def scalar(sql: str, **params: Any) -> Any:
    from ckan.model import meta
    with meta.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def column_types(table: str) -> dict[str, str]:
    schema, name = [p.strip('"') for p in table.split(".")]
    rows = query("SELECT column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = :s AND table_name = :t", s=schema, t=name)
    return {r["column_name"]: r["data_type"] for r in rows}


def registry(resource_id: str) -> Optional[dict[str, Any]]:
    rows = query("SELECT * FROM ecarto_ingested_resource WHERE resource_id = :r", r=resource_id)
    return rows[0] if rows else None


def reencode(data: bytes, source: str, target: str) -> bytes:
    return codecs.decode(data, source).encode(target)
