"""The establishment directory is built set-wise in SQL from the loaded table
(``directory.rows_sql``); its rows must be exactly those the Python reading of each row gives
(``directory.directory_row`` + ``search_text``, the former row-by-row build, kept as the
reference). Checked on the real directories of data/sample and on a file written to hit every
edge of the conversions (Unicode spaces and letters, typed and text coordinates, French
numbers, section flags, nature codes and labels). A resource loaded again rewrites only the
UAIs whose rows changed."""
from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.ingest.conftest import engine, ingest_db  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
DIRECTORIES = [
    SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz",
    SAMPLE / "annuaire-education" / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv",
    SAMPLE / "geolocalisation-etablissements"
    / "fr-en-adresse-et-geolocalisation-etablissements_colleges-france_2024-11.csv.gz",
]
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@pytest.fixture
def directory_db(ingest_db, engine):
    """The ingestion tests' empty database (tests/ingest/conftest.py), as its engine."""
    return engine


def uai(n: int) -> str:
    digits = 310000 + n
    return f"{digits:07d}{LETTERS[digits % 23]}"


def python_rows(conn, report) -> list[dict[str, Any]]:
    """The directory rows as the row-by-row Python build made them."""
    from ckanext.ecarto.etablissements import directory, identity
    from ckanext.ecarto.ingest import columns as colmodel

    sql_by_source = {c["source"]: c["name"] for c in report.columns if c["name"] not in colmodel.INTERNAL[1:]}
    mapping = {f: sql_by_source[s] for f, s in identity.map_identity_columns(sql_by_source).items()}
    sections = {k: sql_by_source[s] for k, s in identity.map_section_columns(sql_by_source).items()}
    priority = 0 if "code_nature" in mapping and "type_libelle" in mapping else 1
    select = ", ".join(f'"{c}"' for c in sorted(set(mapping.values()) | set(sections.values())))
    if any(c["name"] == colmodel.PERIOD_COLUMN for c in report.columns):
        sql = (f"SELECT DISTINCT ON (_key) _key, {select} FROM {report.table_name} "
               f"ORDER BY _key, {colmodel.LATEST_ORDER}")
    else:
        sql = f"SELECT _key, {select} FROM {report.table_name}"
    out = []
    for source in conn.execute(sa.text(sql)).mappings():
        row = directory.directory_row(dict(source), mapping, sections)
        row.update(uai=source["_key"], resource_id=report.resource_id, package_id=report.package_id,
                   priority=priority, millesime=report.millesime,
                   search_text=directory.search_text(source["_key"], row["nom"], row["commune_nom"],
                                                     row["code_postal"]))
        row["sections"] = json.loads(row["sections"])
        out.append(row)
    return out


def sql_rows(conn, resource_id: str) -> list[dict[str, Any]]:
    from ckanext.ecarto.etablissements import directory

    return [dict(r) for r in conn.execute(sa.text(
        f"SELECT {', '.join(directory._COLUMNS)} FROM {directory.table_name()} WHERE resource_id = :r"),
        {"r": resource_id}).mappings()]


def assert_same_rows(engine, report) -> None:
    with engine.connect() as conn:
        expected = python_rows(conn, report)
        found = sql_rows(conn, report.resource_id)
    key = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
    assert len(found) == len(expected) == report.directory_rows
    by_key = sorted(expected, key=key)
    for want, got in zip(by_key, sorted(found, key=key)):
        assert got == want


@pytest.mark.parametrize("path", DIRECTORIES, ids=lambda p: p.name[:40])
def test_the_real_directories_give_the_rows_of_the_python_build(directory_db, path):
    from ckanext.ecarto.ingest import ingest_file

    report = ingest_file(str(path), resource_id=str(uuid.uuid4()), package_id="annuaire", millesime="2024")
    assert report.status == "ok" and report.directory_rows > 100
    assert_same_rows(directory_db, report)


EDGE_HEADER = ["Identifiant_de_l_etablissement", "Nom_etablissement", "Type_etablissement", "libelle_nature",
               "code_nature", "Statut_public_prive", "Code_commune", "Nom_commune", "Code_postal",
               "Code_departement", "Appartenance_Education_Prioritaire", "Nombre_d_eleves", "latitude",
               "longitude", "Restauration", "Hebergement", "ULIS", "Etat", "Date_ouverture", "Web"]
EDGE_VALUES = [
    # name, type label, nature label, nature code, sector, commune name, postal code, département,
    # éducation prioritaire, pupils, latitude, longitude, restauration, hébergement, ulis
    ["École  élémentaire Jean-Jaurès", "Ecole", "ECOLE DE NIVEAU ELEMENTAIRE", "151", "Public", "Toulouse",
     "31000", "031", "REP+", "212", "43,6", "1.44", "1", "0", "", "OUVERT", "1965-09-01", "http://a.fr"],
    ["Lycée professionnel « Les Œillets » ½", "Lycée", "LYCEE PROFESSIONNEL", "320", "PRIVÉ", "Saint-Étienne",
     "42000", "2a", "rep", "12.7", "abc", "-0.5", "True", "1", "1", "A FERMER", "", ""],
    ["\u2003Collège\u00a0Ｆｕｌｌ ﬁ ß 東京 Ελλάδα\u2003", "Collège", "COLLEGE", "340", " prive sous contrat",
     "L'Haÿ-les-Roses", "94240", "9", "Hors REP", "-3", "1_0", "inf", "true", "1.0", "0", "", "", ""],
    ["ECOLES COMPOSEES UNIQT DE STS ET OU CPGE", "", "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE", "400", "",
     "Paris", "75005", "975", "REP +", "n.c.", "nan", "1e5", "oui", "", "", "", "", ""],
    ["Lycée général", "LYCEE", "LYCEE D ENSEIGNEMENT GENERAL", "", "public", "Albi", "81000", "081", "",
     "1 406", "4.3e1", ".5", "", "", "", "", "", ""],
    ["—", "Autre", "", " 1A2", "Privé", "—", "", "", "", "", "", "", "", "", "", "", "", ""],
]


def write_edge_file(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(EDGE_HEADER)
        for i, values in enumerate(rows):
            writer.writerow([uai(i)] + values[:5] + [f"31{i:03d}"] + values[5:])


def test_every_edge_of_the_conversions_gives_the_rows_of_the_python_build(directory_db, tmp_path):
    from ckanext.ecarto.ingest import ingest_file

    path = tmp_path / "annuaire-bords.csv"
    write_edge_file(path, EDGE_VALUES)
    report = ingest_file(str(path), resource_id=str(uuid.uuid4()), package_id="bords")
    assert report.status == "ok" and report.directory_rows == len(EDGE_VALUES)
    kinds = {c["source"]: c["type"] for c in report.columns}
    assert kinds["latitude"] == kinds["longitude"] == kinds["Nombre_d_eleves"] == "string"
    assert_same_rows(directory_db, report)
    # typed columns this time: coordinates and pupils as numbers, flags as yes/no
    typed = [row[:9] + ["12", "43.5", "1.25", "1", "0", "1"] + row[14:] for row in EDGE_VALUES]
    write_edge_file(path, typed)
    report = ingest_file(str(path), resource_id=str(uuid.uuid4()), package_id="bords-types")
    assert report.status == "ok"
    kinds = {c["source"]: c["type"] for c in report.columns}
    assert kinds["latitude"] == "number" and kinds["Nombre_d_eleves"] == "integer"
    assert_same_rows(directory_db, report)


def test_a_resource_loaded_again_rewrites_only_the_uais_that_changed(directory_db, tmp_path):
    from ckanext.ecarto.etablissements import directory
    from ckanext.ecarto.ingest import ingest_file

    path = tmp_path / "annuaire.csv"
    rows = [[f"École {i}", "Ecole", "ECOLE MATERNELLE", "101", "Public", "Albi", "81000", "081", "",
             str(i), "43.9", "2.1", "1", "0", "", "OUVERT", "", ""] for i in range(200)]
    write_edge_file(path, rows)
    resource_id = str(uuid.uuid4())
    first = ingest_file(str(path), resource_id=resource_id, package_id="annuaire")
    with directory_db.connect() as conn:
        ctids = dict(conn.execute(sa.text(
            f"SELECT uai, ctid::text FROM {directory.table_name()} WHERE resource_id = :r"), {"r": resource_id}).all())
    rows[7][0] = "École renommée"
    write_edge_file(path, rows[:150])
    again = ingest_file(str(path), resource_id=resource_id, package_id="annuaire")
    assert first.directory_rows == 200 and again.directory_rows == 150
    assert_same_rows(directory_db, again)
    with directory_db.connect() as conn:
        now = dict(conn.execute(sa.text(
            f"SELECT uai, ctid::text FROM {directory.table_name()} WHERE resource_id = :r"), {"r": resource_id}).all())
    # the renamed school is a new row version; the 149 others were not touched
    assert now[uai(7)] != ctids[uai(7)]
    assert all(now[uai(i)] == ctids[uai(i)] for i in range(150) if i != 7)
