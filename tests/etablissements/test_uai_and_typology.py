"""UAI checking and the establishment typology, on real values of the ministry's files."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from ckanext.ecarto.core.uai import check, check_letter
from ckanext.ecarto.etablissements import identity

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.mark.parametrize("uai", ["0311131L", "6200733C", "9830313Y", "0311131l "])
def test_real_uais_are_valid(uai):
    assert check(uai).valid


def test_wrong_check_letter_names_the_expected_one():
    verdict = check("0750001A")
    assert not verdict.valid
    assert verdict.message == "UAI 0750001A invalide : la lettre clé attendue est U."


def test_malformed_value_explains_the_format():
    verdict = check("075001")
    assert not verdict.valid and "7 chiffres suivis d'une lettre clé" in verdict.message
    assert check("0750001").expected_letter == "U"


def test_check_letter_table_skips_i_o_q():
    assert check_letter("0311131") == "L"
    assert set("IOQ").isdisjoint({check_letter(f"{n:07d}") for n in range(23)})


@pytest.mark.parametrize("code_nature, label, expected", [
    ("101", "Ecole", "ecole"), ("151", "Ecole", "ecole"), ("340", "COLLEGE", "college"),
    ("320", "Lycée", "lycee"), ("306", "Lycée", "lycee"), ("", "Collège", "college"),
    ("809", "Service Administratif", "autre"), (None, "EREA", "autre"),
])
def test_typology_from_nature_code(code_nature, label, expected):
    assert identity.establishment_type(code_nature, label) == expected


def test_lycee_kinds():
    assert identity.lycee_kind("320", "LYCEE PROFESSIONNEL") == "LP"
    assert identity.lycee_kind("306", "LYCEE POLYVALENT") == "LGT"


@pytest.mark.parametrize("menj, insee", [("031", "31"), ("02A", "2A"), ("971", "971"), ("094", "94")])
def test_departement_codes(menj, insee):
    assert identity.departement_insee(menj) == insee


def test_identity_columns_of_both_real_vocabularies():
    annuaire = identity.map_identity_columns(
        ["Identifiant_de_l_etablissement", "Nom_etablissement", "Code_commune", "Statut_public_prive"])
    geoloc = identity.map_identity_columns(
        ["numero_uai", "appellation_officielle", "code_commune", "secteur_public_prive_libe"])
    assert annuaire["uai"] == "Identifiant_de_l_etablissement" and geoloc["uai"] == "numero_uai"
    assert annuaire["secteur"] == "Statut_public_prive" and geoloc["secteur"] == "secteur_public_prive_libe"
    assert identity.is_directory(["numero_uai", "appellation_officielle", "code_commune"])
    assert not identity.is_directory(["UAI", "IPS", "Rentrée scolaire"])
