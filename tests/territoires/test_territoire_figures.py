"""Counts and indicator values of real territories of the sample (Haute-Garonne, Occitanie,
académie de Toulouse, France) against figures computed from the source files."""
from __future__ import annotations

import math

import pytest

from tests.territoires.conftest import indicator, number, show

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_counts_of_haute_garonne_by_type_and_sector(portal):
    record = show("departement", "31")
    expected = portal.expected.counts("31")
    by_type = {row["type"]: row for row in record["effectifs"]["par_type"]}
    for kind in ("ecole", "college", "lycee"):
        assert by_type[kind]["public"] == expected.get((kind, "public"), 0), kind
        assert by_type[kind]["prive"] == expected.get((kind, "prive"), 0), kind
    assert record["effectifs"]["ecoles_colleges_lycees"] == sum(
        n for (kind, _s), n in expected.items() if kind in ("ecole", "college", "lycee"))
    assert record["nom"] == "Haute-Garonne"
    assert [p["nom"] for p in record["parents"]] == ["Toulouse", "Occitanie", "France"]


def test_france_counts_collèges_of_every_région_from_the_geolocation_file(portal):
    record = show("france")
    colleges = next(r for r in record["effectifs"]["par_type"] if r["type"] == "college")
    exp = portal.expected.establishments
    assert colleges["total"] == int((exp.type == "college").sum())
    children = {c["code"]: c["n_etablissements"] for c in record["enfants"]["territoires"]}
    assert record["enfants"]["niveau"] == "region" and len(children) == 18
    bretagne = exp[(exp.region == "53") & exp.type.isin(["ecole", "college", "lycee"])]
    assert children["53"] == len(bretagne) > 0


@pytest.mark.parametrize("niveau, code, column", [
    ("departement", "31", "dep"), ("region", "76", "region"), ("france", "", ""),
])
def test_ips_mean_and_nc_share_against_the_source_files(portal, niveau, code, column):
    record = show(niveau, code)
    block = indicator(record, "ips-colleges-2023", "IPS")
    exp = portal.expected.ips_figure(column, code)
    assert block["n_etablissements"] == exp["n"]
    assert block["n_valeurs"] == exp["k"]
    assert block["valeur"] == pytest.approx(exp["mean"], abs=0.01)
    assert block["taux_nc"] == pytest.approx(1 - exp["k"] / exp["n"], abs=1e-4)
    assert block["millesime"] == "2023-2024" and block["statistique"] == "moyenne"


def test_département_page_compares_with_its_académie_and_france(portal):
    block = indicator(show("departement", "31"), "ips-colleges-2023", "IPS")
    toulouse = indicator(show("academie", "16"), "ips-colleges-2023", "IPS")
    france = indicator(show("france"), "ips-colleges-2023", "IPS")
    assert block["parent"]["code"] == "16" and block["parent"]["valeur"] == toulouse["valeur"]
    assert block["france"]["valeur"] == france["valeur"]
    sectors = {v["dim"]: v for v in block["ventilation"]}
    assert sectors["secteur:public"]["n_etablissements"] + sectors["secteur:prive"]["n_etablissements"] \
        == block["n_etablissements"]


def test_commune_level_arcep_sums_and_nc_share(portal):
    block = indicator(show("departement", "31"), "arcep-communes-2018", "Logements")
    arcep, cog = portal.expected.arcep, portal.expected.cog
    rows = arcep[arcep["Code commune"].str.startswith("31") & (arcep["Code commune"].str.len() == 5)]
    values = [number(v) for v in rows["Logements"]]
    known = [v for v in values if not math.isnan(v)]
    cog31 = set(cog[cog.DEP == "31"].COM)
    extra = set(rows["Code commune"]) - cog31          # communes merged since 2018
    assert block["valeur"] == pytest.approx(sum(known), abs=0.5)
    assert block["n_communes"] == len(cog31) + len(extra)
    assert block["n_valeurs"] == len(known)
    assert block["statistique"] == "somme"


def _thd_block():
    return indicator(show("france"), "arcep-mci-2026",
                     "Part des locaux éligibles à 30 Mbit/s ou plus (très haut débit)")


def test_thd_share_of_6_communes_is_no_national_figure(portal):
    """Issue #14: a figure from a 6-commune extract is not a national figure (it used to show
    as « 93,90 % » for France): n.c. — couverture insuffisante (6 sur ~35 000)."""
    block = _thd_block()
    assert block["valeur"] is None and block["statut"] == "couverture_insuffisante"
    assert block["unite"] == "%" and block["n_valeurs"] == 6
    assert block["libelle_nc"].startswith("n.c. — couverture insuffisante (6 sur ")
    # 6 communes of ~35 000: the n.c. share says how little this covers
    assert block["taux_nc"] > 0.99


@pytest.mark.ckan_config("ckanext.ecarto.coverage_threshold", "0.0001")     # 6 of ~35 000: shown
def test_thd_share_of_premises_is_a_ratio_of_sums(portal):
    block = _thd_block()
    mci = portal.expected.mci
    expected = mci.elig_thd30.astype(float).sum() / mci.nbr.astype(float).sum() * 100
    assert block["valeur"] == pytest.approx(expected, abs=0.05)
    assert block["statut"] == "ok" and block["n_valeurs"] == 6


def test_axis_indicators_without_data_are_listed_as_nc(portal):
    record = show("departement", "31")
    connectivite = next(a for a in record["axes"] if a["id"] == "connectivite")
    assert {"debit_max", "thd", "part_classes_connectees"} <= {m["id"] for m in connectivite["sans_donnees"]}
    assert "wifi" not in {m["id"] for m in connectivite["sans_donnees"]}     # the ETIC fixture has it
    equipement = next(a for a in record["axes"] if a["id"] == "equipement")
    terminals = next(b for b in equipement["indicateurs"] if b.get("indicateur") == "nb_terminaux"
                     and b["statistique"] == "moyenne")
    assert terminals["source"]["dataset"] == "etic-fixture"


def test_no_ranking_anywhere(portal, app):
    body = app.get("/territoire/france.json").body + app.get("/territoire/departement/31.json").body
    for word in ("rang", "rank", "classement"):
        assert f'"{word}' not in body


def test_etat_des_lieux_recomputes_what_the_data_supports(app, portal):
    data = app.get("/etat-des-lieux?format=json").json
    figures = {f["id"]: f for f in data["figures"]}
    assert figures["sans_wifi"]["source"]["dataset"] == "etic-fixture"
    assert figures["sans_wifi"]["taux_nc"] is not None and 0 < figures["sans_wifi"]["taux_nc"] < 1
    assert figures["thd_locaux"]["source"]["dataset"] == "arcep-mci-2026"
    assert figures["ent"]["nc"] is True and figures["ent"]["source"] is None      # no ENT data loaded
    assert figures["efran"]["valeur"] is None and "Aucun jeu" in figures["efran"]["raison"]
    page = app.get("/etat-des-lieux").body
    assert "n.c." in page and "Rapport 2018" in page
