"""Codes stay text with their zeros and letters: département `031`/`02A`, commune `09225`/`2A004`,
région `06`, SIRET… A publisher who filters on `031` finds the same rows as in the file."""
from __future__ import annotations

from .ingest_helpers import ARCEP_COMMUNES, GEOLOC, MCI_TECHNO, OCCITANIE, column, column_types, query, scalar


def test_annuaire_codes_keep_leading_zeros(load):
    departements = column(OCCITANIE, "Code_departement", delimiter=";")
    communes = column(OCCITANIE, "Code_commune", delimiter=";")

    report = load(OCCITANIE)

    types = column_types(report.table_name)
    for name in ("code_departement", "code_commune", "code_postal", "code_academie", "code_region",
                 "siren_siret", "telephone", "code_nature"):
        assert types[name] == "text", name
    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE code_departement = '031'") == \
        departements.count("031") > 0
    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE code_commune = '09225'") == \
        communes.count("09225") > 0


def test_corsica_and_overseas_codes(load):
    geoloc = load(GEOLOC)
    assert scalar(f"SELECT count(*) FROM {geoloc.table_name} WHERE code_departement = '02A'") == \
        column(GEOLOC, "code_departement", delimiter=";").count("02A") > 0

    mci = load(MCI_TECHNO)
    rows = {r["_key"]: r for r in query(f"SELECT * FROM {mci.table_name}")}
    assert rows["2A004"]["code_dep"] == "2A" and rows["2A004"]["nom_com"] == "Ajaccio"
    assert rows["97611"]["code_dep"] == "976" and rows["97611"]["code_reg"] == "06"
    assert column_types(mci.table_name)["code_reg"] == "text"


def test_commune_keys_are_five_characters(load):
    codes = set(column(ARCEP_COMMUNES, "Code commune", delimiter=",", preamble=4))

    report = load(ARCEP_COMMUNES)

    loaded = {r["_key"] for r in query(f"SELECT _key FROM {report.table_name}")}
    assert loaded == codes
    assert "2A004" in loaded and any(code.startswith("0") for code in loaded)
    assert scalar(f"SELECT count(*) FROM {report.table_name} WHERE length(_key) <> 5") == 0
