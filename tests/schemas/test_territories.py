"""The territory referential: codes as publishers write them, names, parents up to France, and
real boundaries (never a point; a commune gets its département's)."""
from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from ckanext.ecarto.referentiel import territories as t


@pytest.mark.parametrize("level, typed, canonical, name", [
    ("departement", "031", "31", "Haute-Garonne"),
    ("departement", "31", "31", "Haute-Garonne"),
    ("departement", "02A", "2A", "Corse-du-Sud"),
    ("departement", "2a", "2A", "Corse-du-Sud"),
    ("departement", "971", "971", "Guadeloupe"),
    ("departement", "1", "01", "Ain"),
    ("region", "76", "76", "Occitanie"),
    ("academie", "16", "16", "Toulouse"),
    ("academie", "70", "70", "Normandie"),
    ("commune", "31555", "31555", "Toulouse"),
    ("commune", "1001", "01001", "L'Abergement-Clémenciat"),
    ("commune", "2A004", "2A004", "Ajaccio"),
])
def test_codes_are_normalised_and_named(level, typed, canonical, name):
    territory = t.get(level, typed)
    assert territory is not None
    assert territory.code == canonical
    assert territory.name == name


@pytest.mark.parametrize("level, code", [("departement", "99"), ("region", "31"), ("academie", "05"),
                                         ("commune", "31999"), ("canton", "3101")])
def test_unknown_codes(level, code):
    assert not t.exists(level, code)


def test_parents_up_to_france():
    chain = [(x.level, x.code) for x in t.ancestors("commune", "31555")]
    assert chain == [("departement", "31"), ("academie", "16"), ("region", "76"), ("france", "")]
    assert [(x.level, x.code) for x in t.ancestors("departement", "2B")] == [
        ("academie", "27"), ("region", "94"), ("france", "")]


def test_children():
    assert {x.code for x in t.children("academie", "16")} == {"09", "12", "31", "32", "46", "65", "81", "82"}
    assert len(t.children("region", "76")) == 2  # académies of Toulouse and Montpellier


def test_referential_sizes():
    assert len(t.all_of("region")) == 18
    assert len([d for d in t.all_of("departement")]) >= 101
    assert len(t.all_of("commune")) > 34000


@pytest.mark.parametrize("level, code, inside", [
    ("france", "", (2.35, 48.85)), ("france", "", (55.45, -20.88)),  # métropole and La Réunion
    ("region", "11", (2.35, 48.85)), ("academie", "24", (2.44, 48.79)),
    ("departement", "976", (45.17, -12.78)), ("commune", "75056", (2.35, 48.85)),
])
def test_geometries_are_real_polygons(level, code, inside):
    geometry = t.geometry(level, code)
    assert geometry["type"] in ("Polygon", "MultiPolygon")
    assert shape(geometry).contains(Point(*inside))


def test_no_boundary_no_geometry():
    assert t.geometry("departement", "975") is None  # Saint-Pierre-et-Miquelon: not shipped
    assert t.geometry("commune", "31999") is None
