"""Bad dataset input gets a clear French error and nothing is saved."""
from __future__ import annotations

import json

import pytest

import ckan.model as model
import ckan.plugins.toolkit as tk
import ckan.tests.helpers as helpers

from tests.schemas.conftest import dataset_dict

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")

POINT = json.dumps({"type": "Point", "coordinates": [1.44, 43.6]})


def _errors(org, **fields):
    with pytest.raises(tk.ValidationError) as exc:
        helpers.call_action("package_create", **dataset_dict("refuse", org["id"], **fields))
    assert model.Package.get("refuse") is None, "nothing saved"
    return exc.value.error_dict


@pytest.mark.parametrize("fields, key, message", [
    ({"axe": "numerique"}, "axe", "Axe inconnu : « numerique »"),
    ({"axe": ""}, "axe", "Choisissez l'axe du jeu de données"),
    ({"territoire_niveau": "departement", "territoire_code": "99"}, "territoire_code",
     "Le code « 99 » n'existe pas pour le niveau « département »"),
    ({"territoire_niveau": "commune", "territoire_code": "31999"}, "territoire_code",
     "Le code « 31999 » n'existe pas pour le niveau « commune »"),
    ({"territoire_niveau": "academie", "territoire_code": "76"}, "territoire_code",
     "n'existe pas pour le niveau « académie »"),
    ({"territoire_niveau": "region"}, "territoire_code", "Code du territoire manquant"),
    ({"territoire_niveau": "canton", "territoire_code": "3101"}, "territoire_niveau",
     "Niveau de territoire inconnu"),
    ({"temporal_start": "2024-09-01", "temporal_end": "2024-06-30"}, "temporal_end",
     "La fin de la période couverte (2024-06-30) est antérieure à son début (2024-09-01)"),
    ({"temporal_start": "01/09/2024"}, "temporal_start", "format attendu AAAA-MM-JJ"),
    ({"spatial": POINT}, "spatial", "Couverture géographique de type « Point » refusée"),
    ({"spatial": "pas du json"}, "spatial", "ce n'est pas du GeoJSON"),
    ({"millesime": "2023-2025"}, "millesime", "deux années consécutives"),
    ({"millesime": "rentrée 2023"}, "millesime", "une année (2024) ou une année scolaire"),
    ({"frequency": "tous les jours"}, "frequency", "Fréquence « tous les jours » inconnue"),
    ({"axe": "experimentations", "experimentations_uai": "0311131L\n0750001A"}, "experimentations_uai",
     "UAI 0750001A invalide : la lettre clé attendue est U."),
])
def test_bad_dataset_fields_are_refused_in_french(org, fields, key, message):
    errors = _errors(org, **fields)
    assert key in errors, errors
    assert any(message in e for e in errors[key]), errors[key]


def test_bad_data_dictionary_is_refused(org):
    bad = [{"column": "debit", "type": "float"}, {"label": "sans nom"},
           {"column": "x", "indicator": "n_existe_pas"}]
    errors = _errors(org, resources=[{"url": "https://example.org/a.csv", "name": "a",
                                      "data_dictionary": json.dumps(bad)}])
    text = json.dumps(errors, ensure_ascii=False)
    assert "type « float » inconnu" in text
    assert "« column » (nom de la colonne) manquant" in text
    assert "indicateur « n_existe_pas » inconnu" in text


def test_an_update_with_bad_input_changes_nothing(org, ctx):
    created = helpers.call_action("package_create", context=dict(ctx), **dataset_dict(
        "garde", org["id"], territoire_niveau="departement", territoire_code="31",
        temporal_start="2024-01-01", temporal_end="2024-12-31"))
    with pytest.raises(tk.ValidationError):
        helpers.call_action("package_patch", context=dict(ctx), id=created["id"], temporal_end="2023-01-01",
                            title="Nouveau titre")
    shown = helpers.call_action("package_show", id=created["id"])
    assert shown["title"] == "Jeu garde"
    assert shown["temporal_end"] == "2024-12-31"
