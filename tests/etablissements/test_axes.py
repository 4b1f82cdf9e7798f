"""A resource whose columns are named like an axis's indicators fills that axis on the page,
with its source and millésime; indicators no source gives stay "n.c."."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")

FIXTURE = Path(__file__).parent / "data" / "etic_fixture_ecrite_a_la_main.csv"   # hand-written, see data/README.md


@pytest.fixture
def etic(portal):
    ctx = {"user": portal.sysadmin["name"]}
    pkg = helpers.call_action("package_create", ctx, name="etic-fixture", title="ETIC (fixture de test)",
                              owner_org=portal.datasets["annuaire-occitanie"]["owner_org"], axe="equipement", millesime="2018", license_id="etalab-2.0")
    helpers.call_action("resource_create", ctx, package_id=pkg["id"], name="ETIC", format="CSV",
                        upload=FileStorage(io.BytesIO(FIXTURE.read_bytes()), "etic.csv"))
    yield pkg
    helpers.call_action("dataset_purge", ctx, id=pkg["id"])


def test_columns_named_like_indicators_fill_the_axes(portal, etic):
    record = helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai="0301326D")
    indicators = {i["id"]: i for a in record["axes"] for i in a["indicateurs"]}
    assert indicators["nb_terminaux"]["valeur"] == 120 and indicators["nb_terminaux"]["nc"] is False
    assert indicators["nb_terminaux"]["source"]["dataset"] == "etic-fixture"
    assert indicators["nb_terminaux"]["millesime"] == "2018"
    assert indicators["nb_imprimantes_3d"]["valeur"] == 2
    assert indicators["wifi"]["valeur"] is True
    assert indicators["ent"]["valeur"] is None and indicators["ent"]["nc"] is True
    # the same columns are not repeated among "other data"
    others = [c["colonne"] for b in record["autres_donnees"] if b["source"]["dataset"] == "etic-fixture" for c in b["colonnes"]]
    assert "Nombre total de terminaux" not in others


FIXTURE_2017 = Path(__file__).parent / "data" / "etic_2017_fixture_ecrite_a_la_main.csv"   # hand-written


def test_latest_millesime_shown_and_earlier_ones_kept_as_history(portal, etic):
    ctx = {"user": portal.sysadmin["name"]}
    older = helpers.call_action("package_create", ctx, name="etic-fixture-2017", title="ETIC 2017 (fixture de test)",
                                owner_org=etic["owner_org"], axe="equipement", millesime="2017",
                                license_id="etalab-2.0")
    helpers.call_action("resource_create", ctx, package_id=older["id"], name="ETIC 2017", format="CSV",
                        upload=FileStorage(io.BytesIO(FIXTURE_2017.read_bytes()), "etic-2017.csv"))
    try:
        record = helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai="0301326D")
        terminals = {i["id"]: i for a in record["axes"] for i in a["indicateurs"]}["nb_terminaux"]
        assert (terminals["valeur"], terminals["millesime"]) == (120, "2018")
        assert [(h["millesime"], h["valeur"]) for h in terminals["historique"]] == [("2017", 95)]
        assert terminals["historique"][0]["source"]["dataset"] == "etic-fixture-2017"
    finally:
        helpers.call_action("dataset_purge", ctx, id=older["id"])
