"""Licence, frequency, territory and ETIC mappings of the harvesters (no network, no database)."""
from __future__ import annotations

import csv
import io

import pytest

from ckanext.ecarto.harvesters import etic, mapping

from .portal import DATA, ETIC_FIXTURE

FREQ = "http://publications.europa.eu/resource/authority/frequency/"


@pytest.mark.parametrize("value, url, expected", [
    ("lov2", None, "etalab-2.0"), ("fr-lo", None, "etalab-2.0"), ("odc-odbl", None, "odc-odbl"),
    ("cc-by", None, "cc-by"), ("notspecified", None, "notspecified"),
    ("Licence Ouverte v2.0 (Etalab)", None, "etalab-2.0"), ("Licence ouverte / Open Licence", None, "etalab-2.0"),
    ("Open Database License (ODbL)", None, "odc-odbl"), ("ODbL", None, "odc-odbl"),
    ("CC BY-SA 4.0", None, "cc-by-sa"), ("", "https://www.etalab.gouv.fr/licence-ouverte-open-licence/", "etalab-2.0"),
    ("Licence maison", None, None),
])
def test_licences(value, url, expected):
    assert mapping.license_id(value, url) == expected


@pytest.mark.parametrize("value, expected", [
    ("annual", "ANNUAL"), ("quarterly", "QUARTERLY"), ("daily", "DAILY"), ("punctual", "IRREG"),
    ("semiannual", "ANNUAL"), ("bimonthly", "QUARTERLY"), ("hourly", "DAILY"), ("continuous", "CONT"),
    ("Annuelle", "ANNUAL"), ("Trimestrielle", "QUARTERLY"), ("irrégulière", "IRREG"),
    (FREQ + "MONTHLY", "MONTHLY"), ("unknown", "UNKNOWN"),
])
def test_frequencies(value, expected):
    assert mapping.frequency(value) == FREQ + expected


def test_unknown_frequency_is_left_out():
    assert mapping.frequency("toutes les lunes") is None


def test_spatial_zones_to_territory():
    assert mapping.territory_from_zones([{"id": "fr:departement:31@1860-07-01"}]) == ("departement", "31")
    assert mapping.territory_from_zones(["fr:commune:31555"]) == ("commune", "31555")
    # two départements of Occitanie: their region
    assert mapping.territory_from_zones(["fr:departement:31", "fr:departement:34"]) == ("region", "76")
    assert mapping.territory_from_zones([{"id": "country:fr"}]) == ("france", "")
    assert mapping.territory_from_zones([], "country") == ("france", "")
    assert mapping.territory_from_zones([{"id": "fr:epci:200054781"}]) is None


def test_temporal_coverage_and_millesime():
    assert mapping.iso_date("2018-03-31T00:00:00+00:00") == "2018-03-31"
    assert mapping.millesime_from_period("2018-01-01", "2018-03-31") == "2018"
    assert mapping.millesime_from_period("2023-09-01", "2024-07-05") == "2023-2024"
    assert mapping.millesime_from_period("2019-01-01", "2024-12-31") is None


def test_html_descriptions_become_text():
    text = mapping.html_to_text("<p>Liste des <b>établissements</b>&nbsp;:</p><ul><li>écoles</li><li>collèges</li></ul>")
    assert "<" not in text and "établissements" in text and "- écoles" in text


def test_etic_fixture_columns_map_to_axis_indicators():
    """The hand-written ETIC fixture's header (documented ETIC variables) -> indicators of the
    equipment, services and connectivity axes."""
    header = next(csv.reader(io.StringIO(ETIC_FIXTURE.read_text(encoding="utf-8")), delimiter=";"))
    fields = [{"name": h.lower(), "label": h, "type": "text"} for h in header]
    by_column = {e["column"]: e for e in etic.data_dictionary(fields, "equipement")}
    assert by_column["Nombre total de terminaux"]["indicator"] == "nb_terminaux"
    assert by_column["NbTerminauxMoins5"]["indicator"] == "nb_terminaux_moins_5_ans"
    assert by_column["Nb imprimantes 3D"]["indicator"] == "nb_imprimantes_3d"
    assert by_column["Accès ADSL"]["indicator"] == "acces_adsl"
    assert by_column["Accès câble-fibre"]["indicator"] == "acces_fibre_cable"
    assert by_column["Espace numérique de travail"]["indicator"] == "ent"
    assert by_column["Enseignant référent"]["indicator"] == "enseignant_referent"
    assert by_column["Wifi"]["indicator"] == "wifi" and by_column["Wifi"]["type"] == "boolean"
    assert "indicator" not in by_column["UAI"]


def test_etic_technical_names_map_too():
    assert etic.indicator_for("equipement", "maintperscom").id == "maintenance_collectivite"
    assert etic.indicator_for("connectivite", "AccesRTC").id == "acces_rtc"
    assert etic.indicator_for("equipement", "nom_etablissement") is None
