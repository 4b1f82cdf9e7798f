"""The establishment page of a real collège: identity, other UAI-keyed data, commune context,
reference values computed independently from the source files, exports and the action."""
from __future__ import annotations

import csv
import io

import pytest

import ckan.tests.helpers as helpers

from tests.etablissements.conftest import ARCEP_FTTH, rows

pytestmark = pytest.mark.usefixtures("with_plugins")


def show(uai, user=""):
    return helpers.call_action("ecarto_etablissement_show", {"user": user, "ignore_auth": False}, uai=uai)


def test_identity_from_the_directory(portal):
    college = portal.college_with_ips()
    record = show(college["Identifiant_de_l_etablissement"])
    ident = record["identite"]
    assert ident["nom"] == college["Nom_etablissement"]
    assert ident["type"] == "college"
    assert ident["secteur"] == ("public" if college["Statut_public_prive"] == "Public" else "prive")
    assert ident["commune_code"] == college["Code_commune"]
    assert ident["departement_code"] == college["Code_departement"].lstrip("0")
    assert ident["academie_code"] == college["Code_academie"]
    assert ident["latitude"] == pytest.approx(float(college["latitude"]))
    assert ident["sources"][0]["dataset"] == "annuaire-occitanie"


def test_an_uploaded_uai_resource_appears_in_other_data(portal):
    college = portal.college_with_ips()
    uai = college["Identifiant_de_l_etablissement"]
    record = show(uai)
    blocks = {b["source"]["dataset"]: b for b in record["autres_donnees"]}
    ips = {c["colonne"]: c for c in blocks["ips-colleges-2023"]["colonnes"]}
    assert ips["IPS"]["valeur"] == pytest.approx(portal.ips[uai])
    assert blocks["ips-colleges-2023"]["source"]["millesime"] == "2023"


def test_reference_values_for_the_same_type(portal):
    college = portal.college_with_ips()
    record = show(college["Identifiant_de_l_etablissement"])
    ips = next(c for b in record["autres_donnees"] for c in b["colonnes"] if c["colonne"] == "IPS")
    refs = ips["references"]
    for level, column in (("commune", "Code_commune"), ("departement", "Code_departement"),
                          ("academie", "Code_academie"), ("france", None)):
        expected = portal.reference(column, college[column] if column else None)
        got = refs[level]
        assert got["n_etablissements"] == expected["n_etablissements"], level
        assert got["n_valeurs"] == expected["n_valeurs"], level
        assert got["moyenne"] == pytest.approx(expected["moyenne"], abs=1e-3), level
        assert got["taux_nc"] == pytest.approx(expected["taux_nc"], abs=1e-3), level


def test_commune_level_context(portal):
    college = portal.college_with_ips()
    record = show(college["Identifiant_de_l_etablissement"])
    context = {b["source"]["dataset"]: b for b in record["contexte_commune"]}
    assert "arcep-ftth-2018" in context
    # issue #14: ftthCommunes is reshaped at ingestion (periods as rows, one measure per `Champ`):
    # the commune's rows are one per quarter, and « Locaux Raccordables » shows in the
    # Connectivité axis as commune-level context, its latest quarter current, the others history
    expected = _ftth(college["Code_commune"])
    lines = context["arcep-ftth-2018"]["lignes"]
    assert [line["periode"] for line in lines] == ["T3 2017", "T4 2017", "T1 2018"]
    assert [line["Locaux Raccordables"] for line in lines] == expected
    # an establishment of a commune where FttH grew over the three quarters (first in file order)
    school = next(r for r in portal.annuaire if len(set(_ftth(r["Code_commune"]))) == 3)
    expected = _ftth(school["Code_commune"])
    record = show(school["Identifiant_de_l_etablissement"])
    connectivite = next(a for a in record["axes"] if a["id"] == "connectivite")
    locaux = next(m for m in connectivite["niveau_commune"] if m["colonne"] == "Locaux Raccordables")
    assert locaux["niveau"] == "commune" and (locaux["periode"], locaux["valeur"]) == ("T1 2018", expected[-1])
    assert [(h["periode"], h["valeur"]) for h in locaux["historique"]] == list(zip(["T3 2017", "T4 2017"], expected[:2]))


_FTTH: dict[str, list[int]] = {}


def _ftth(commune: str) -> list[int]:
    """Locaux raccordables of one commune, T3 2017 -> T1 2018, read with the csv module (Arcep
    writes `-` for zero and no-break spaces between thousands); [] when Arcep has no row."""
    if not _FTTH:
        for r in rows(ARCEP_FTTH, delimiter=",", skip=4):
            if r["Champ"] == "Locaux Raccordables":
                _FTTH[r["Code commune"]] = [int(r[q].replace("\u00a0", "").replace(" ", "").strip("-") or 0)
                                            for q in ("T3 2017", "T4 2017", "T1 2018")]
    return _FTTH.get(commune, [])


def test_axes_are_all_present_with_nc_when_no_source(portal):
    record = show(portal.college_with_ips()["Identifiant_de_l_etablissement"])
    assert [a["id"] for a in record["axes"]] == ["connectivite", "equipement", "services_ressources", "experimentations"]
    for axe in record["axes"]:
        for ind in axe["indicateurs"]:
            if ind["source"] is None:
                assert ind["valeur"] is None and ind["nc"] is True


def test_page_json_and_csv(app, portal):
    college = portal.college_with_ips()
    uai = college["Identifiant_de_l_etablissement"]
    page = app.get(f"/etablissement/{uai}")
    assert page.status_code == 200
    assert college["Nom_etablissement"].replace("'", "&#39;") in page.body
    assert 'data-ecarto-map' in page.body and "Autres données" in page.body
    assert "n.c." in page.body
    as_json = app.get(f"/etablissement/{uai}.json")
    assert as_json.status_code == 200 and as_json.json["uai"] == uai
    as_csv = app.get(f"/etablissement/{uai}.csv")
    assert as_csv.status_code == 200 and as_csv.body.startswith("\ufeffuai;section;")
    table = list(csv.DictReader(io.StringIO(as_csv.body.lstrip("\ufeff")), delimiter=";"))
    assert any(r["indicateur"] == "IPS" and float(r["valeur"]) == pytest.approx(portal.ips[uai]) for r in table)


def test_action_api(app, portal):
    uai = portal.college_with_ips()["Identifiant_de_l_etablissement"]
    res = app.get("/api/3/action/ecarto_etablissement_show", query_string={"uai": uai.lower()})
    assert res.status_code == 200 and res.json["result"]["uai"] == uai
