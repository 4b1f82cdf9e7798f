"""One CKAN type `dataset` for every axis: the `axe` field selects the axis-specific fields,
normalises what publishers type, derives `spatial` from the territory, and a package_show →
package_update round trip of an unchanged dataset succeeds."""
from __future__ import annotations

import json

import pytest
from shapely.geometry import Point, shape

import ckan.plugins.toolkit as tk
import ckan.tests.helpers as helpers

from tests.schemas.conftest import AXES, dataset_dict

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")

AXIS_FIELDS = {
    "etablissements": {"etablissements_types": ["ecole", "college"], "etablissements_secteur": "public"},
    "connectivite": {"connectivite_source": "arcep", "connectivite_technologies": ["ftth", "4g"],
                     "connectivite_indicateurs": ["debit_max", "wifi"]},
    "equipement": {"equipement_source": "etic", "equipement_indicateurs": ["nb_terminaux", "nb_tni"]},
    "services_ressources": {"services_ressources_ent": "ENT Occitanie"},
    "experimentations": {"experimentations_programme": "college-lab",
                         "experimentations_uai": "0311131L, 6200733c"},
}


def _create(ctx, name, org, **fields):
    return helpers.call_action("package_create", context=dict(ctx), **dataset_dict(name, org["id"], **fields))


@pytest.mark.parametrize("axe", AXES)
def test_each_axis_keeps_its_own_fields_as_type_dataset(ctx, org, axe):
    created = _create(ctx, f"jeu-{axe.replace('_', '-')}", org, axe=axe, **AXIS_FIELDS[axe])
    shown = helpers.call_action("package_show", id=created["id"])
    assert shown["type"] == "dataset"
    assert shown["axe"] == axe
    for key, value in AXIS_FIELDS[axe].items():
        assert key in shown, key
    if axe == "experimentations":
        assert json.loads(shown["experimentations_uai"]) == ["0311131L", "6200733C"]


def test_fields_of_another_axis_are_not_stored(ctx, org):
    created = _create(ctx, "jeu-equipement", org, axe="equipement", equipement_source="etic",
                      connectivite_source="arcep", experimentations_uai="0750001A")
    shown = helpers.call_action("package_show", id=created["id"])
    assert shown["equipement_source"] == "etic"
    assert "connectivite_source" not in shown
    assert "experimentations_uai" not in shown


def test_publisher_spellings_are_normalised(ctx, org):
    created = _create(ctx, "jeu-normalise", org, territoire_niveau="departement", territoire_code="031",
                      millesime="2023/2024", frequency="annual", temporal_start="2023-09",
                      temporal_end="2024-07-05")
    assert created["territoire_code"] == "31"
    assert created["millesime"] == "2023-2024"
    assert created["frequency"] == "http://publications.europa.eu/resource/authority/frequency/ANNUAL"
    assert created["temporal_start"] == "2023-09-01"
    corse = _create(ctx, "jeu-corse", org, territoire_niveau="departement", territoire_code="02a")
    assert corse["territoire_code"] == "2A"
    france = _create(ctx, "jeu-france", org, territoire_niveau="france", territoire_code="")
    assert france["territoire_code"] == ""


@pytest.mark.parametrize("level, code, inside, outside", [
    ("region", "76", (1.444, 43.604), (2.35, 48.85)),          # Toulouse in Occitanie, not Paris
    ("departement", "94", (2.44, 48.79), (1.444, 43.604)),     # Créteil in Val-de-Marne
    ("academie", "16", (1.444, 43.604), (3.876, 43.611)),      # Toulouse, not Montpellier
    ("commune", "31555", (1.444, 43.604), (3.876, 43.611)),    # commune: its département (31)
    ("france", "", (2.35, 48.85), (-0.13, 51.5)),               # Paris, not London
    ("region", "04", (55.45, -20.88), (2.35, 48.85)),          # La Réunion
])
def test_spatial_is_the_territory_polygon_when_absent(ctx, org, level, code, inside, outside):
    created = _create(ctx, f"jeu-spatial-{level}-{code or 'fr'}", org, territoire_niveau=level,
                      territoire_code=code)
    geometry = json.loads(created["spatial"])
    assert geometry["type"] in ("Polygon", "MultiPolygon")
    polygon = shape(geometry)
    assert polygon.contains(Point(*inside))
    assert not polygon.contains(Point(*outside))


def test_a_given_polygon_is_kept(ctx, org):
    square = {"type": "Polygon", "coordinates": [[[1, 43], [2, 43], [2, 44], [1, 44], [1, 43]]]}
    created = _create(ctx, "jeu-carre", org, territoire_niveau="region", territoire_code="76",
                      spatial=json.dumps(square))
    assert json.loads(created["spatial"]) == square


def test_changing_the_territory_updates_a_derived_spatial(ctx, org):
    created = _create(ctx, "jeu-change", org, territoire_niveau="departement", territoire_code="31")
    shown = helpers.call_action("package_show", id=created["id"])
    shown.update(territoire_code="34")
    updated = helpers.call_action("package_update", context=dict(ctx), **shown)
    assert shape(json.loads(updated["spatial"])).contains(Point(3.876, 43.611))  # Montpellier


def test_package_show_exposes_temporal_frequency_spatial_as_extras(ctx, org):
    created = _create(ctx, "jeu-extras", org, territoire_niveau="region", territoire_code="76",
                      temporal_start="2024-01-01", temporal_end="2024-12-31", frequency="ANNUAL")
    shown = helpers.call_action("package_show", id=created["id"])
    extras = {e["key"]: e["value"] for e in shown["extras"]}
    assert extras["temporal_start"] == "2024-01-01"
    assert extras["temporal_end"] == "2024-12-31"
    assert extras["frequency"].endswith("/frequency/ANNUAL")
    assert json.loads(extras["spatial"])["type"] == "MultiPolygon"
    # the fields themselves stay top-level (scheming)
    assert shown["temporal_start"] == "2024-01-01"


@pytest.mark.parametrize("action", ["package_update", "package_patch"])
def test_round_trip_of_an_unchanged_dataset(ctx, org, action):
    created = _create(ctx, f"jeu-aller-retour-{action[8:]}", org, axe="experimentations",
                      territoire_niveau="commune", territoire_code="31555",
                      temporal_start="2024-01-01", temporal_end="2024-12-31", frequency="ANNUAL",
                      experimentations_uai="0311131L", extras=[{"key": "source_interne", "value": "x"}])
    shown = helpers.call_action("package_show", id=created["id"])
    again = helpers.call_action(action, context=dict(ctx), **shown)
    after = helpers.call_action("package_show", id=created["id"])
    for key in ("axe", "territoire_code", "temporal_start", "temporal_end", "frequency", "spatial",
                "experimentations_uai"):
        assert after[key] == shown[key], key
    extras = [e["key"] for e in after["extras"]]
    assert sorted(extras) == sorted(["source_interne", "temporal_start", "temporal_end", "frequency", "spatial"])
    assert len(extras) == len(set(extras))
    assert again["id"] == created["id"]


def test_classic_ckan_clients_sending_extras_only(ctx, org):
    """A harvester written for plain CKAN sends temporal coverage as extras: it lands in the field."""
    created = _create(ctx, "jeu-extras-seuls", org, extras=[
        {"key": "temporal_start", "value": "2020-01-01"}, {"key": "frequency", "value": "MONTHLY"}])
    assert created["temporal_start"] == "2020-01-01"
    assert created["frequency"].endswith("/MONTHLY")


def test_resource_fields(ctx, org):
    dictionary = [{"column": "Débit max", "label": "Débit maximal", "type": "number", "unit": "Mbit/s",
                   "indicator": "debit_max"}]
    created = _create(ctx, "jeu-ressource", org, resources=[{
        "url": "https://example.org/debits.csv", "name": "Débits", "format": "CSV",
        "uai_column": " numero_uai ", "millesime": "2018", "data_dictionary": dictionary}])
    res = created["resources"][0]
    assert res["uai_column"] == "numero_uai"
    assert res["millesime"] == "2018"
    assert json.loads(res["data_dictionary"]) == dictionary
