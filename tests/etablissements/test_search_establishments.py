"""`/etablissement?q=`: by name, commune or UAI, accents and case ignored; filters; autocomplete."""
from __future__ import annotations

import unicodedata

import pytest

import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")


def norm(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def test_find_by_commune_without_accents(portal):
    expected = {r["Identifiant_de_l_etablissement"] for r in portal.annuaire if norm(r["Nom_commune"]) == "beziers"}
    result = helpers.call_action("ecarto_etablissement_search", q="BEZIERS", rows=100)
    found = {r["uai"] for r in result["results"]}
    assert result["count"] >= len(expected) and expected <= found | set()
    assert expected


def test_find_by_uai_first(portal):
    college = portal.college_with_ips()
    result = helpers.call_action("ecarto_etablissement_search", q=college["Identifiant_de_l_etablissement"].lower())
    assert result["results"][0]["uai"] == college["Identifiant_de_l_etablissement"]


def test_filters_by_type_and_departement(portal):
    expected = {r["Identifiant_de_l_etablissement"] for r in portal.annuaire
                if r["Code_departement"] == "034" and r["code_nature"] in {"340", "350", "352"}}
    found, start = set(), 0
    while True:
        page = helpers.call_action("ecarto_etablissement_search", type="college", departement="034",
                                   rows=100, start=start)
        found |= {r["uai"] for r in page["results"]}
        start += 100
        if start >= page["count"]:
            break
    assert found == expected
    assert page["count"] == len(expected)


def test_search_page_and_autocomplete(app, portal):
    res = app.get("/etablissement", query_string={"q": "college jean jaures"})
    assert res.status_code == 200 and "établissements trouvés" in res.body or "établissement trouvé" in res.body
    auto = app.get("/etablissement/autocomplete", query_string={"q": "jaures"})
    assert auto.status_code == 200 and all("jaur" in norm(i["nom"]) or "jaur" in norm(i["commune"] or "") for i in auto.json)
    assert auto.json
