"""The quality score of the real sample datasets (`ckan ecarto load-sample`): the exact criteria
met and missing for each, in package_show, in the search index (sort and facets) and on the
catalogue and dataset pages; private datasets never counted for those who cannot see them.

Expected values, worked out from data/sample/manifest.yaml and the files:
- no sample resource has a description (« documentation » missing everywhere);
- the MENJ datasets have no frequency (so neither « a_jour » nor « periode_recente » can be met);
- IPS and géolocalisation have no temporal coverage;
- only Ma connexion internet's dictionary gives a label and a unit to every measure;
- the latest periods (2018, 2026-03-31…) are older than their quarterly frequency allows today;
- the Arcep datasets are keyed by commune: the UAI criterion does not apply to them.
"""
from __future__ import annotations

import json
import re

import pytest
from ckan.tests import helpers

from tests.quality.conftest import PRIVATE_DATASET

pytestmark = pytest.mark.usefixtures("with_plugins", "sample_portal", "people")

ALL = {"description", "documentation", "ressources", "licence", "frequence", "a_jour", "format_ouvert",
       "couverture_temporelle", "couverture_spatiale", "disponibles", "uai", "dictionnaire", "periode_recente"}
EXPECTED = {  # dataset: (missing criteria, criteria that do not apply, score %, data.gouv.fr score /9)
    "adresse-geolocalisation-colleges-2024": (
        {"documentation", "frequence", "a_jour", "couverture_temporelle", "dictionnaire", "periode_recente"}, set(), 54, 5),
    "annuaire-education-occitanie-2024": (
        {"documentation", "frequence", "a_jour", "dictionnaire", "periode_recente"}, set(), 62, 6),
    "annuaire-education-val-de-marne-ecoles-publiques-2026": (
        {"documentation", "frequence", "a_jour", "dictionnaire", "periode_recente"}, set(), 62, 6),
    "ips-colleges-rentree-2023": (
        {"documentation", "frequence", "a_jour", "couverture_temporelle", "dictionnaire", "periode_recente"}, set(), 54, 5),
    "arcep-deploiements-ftth-communes-2018-t1": ({"documentation", "dictionnaire", "periode_recente"}, {"uai"}, 75, 8),
    "arcep-ma-connexion-internet-communes-2026-t1-extrait": ({"documentation", "periode_recente"}, {"uai"}, 83, 8),
}


def _quality(name: str) -> dict:
    return helpers.call_action("package_show", id=name)["qualite"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_criteria_of_each_sample_dataset(name):
    missing, not_applicable, score, datagouv = EXPECTED[name]
    quality = _quality(name)
    by_code = {c["code"]: c for c in quality["criteres"]}
    assert set(by_code) == ALL
    assert {code for code, c in by_code.items() if c["applicable"] and not c["ok"]} == missing
    assert {code for code, c in by_code.items() if not c["applicable"]} == not_applicable
    assert quality["manquants"] == [c["code"] for c in quality["criteres"] if c["code"] in missing]
    assert quality["score_pourcentage"] == score
    assert quality["score_datagouv"] == round(datagouv / 9, 4)
    assert quality["reference"] == "udata 17.18.0 (Dataset.compute_quality)"
    for code in missing:   # every missing criterion says in French what to do
        assert by_code[code]["explanation"] and not by_code[code]["ok"]


def test_explanations_name_what_is_missing():
    ips = {c["code"]: c for c in _quality("ips-colleges-rentree-2023")["criteres"]}
    assert "« IPS », « Ecart-type de l'IPS »" in ips["dictionnaire"]["explanation"]
    assert "« unit »" in ips["dictionnaire"]["explanation"]
    assert "renseignez la fréquence" in ips["a_jour"]["explanation"]
    arcep = {c["code"]: c for c in _quality("arcep-deploiements-ftth-communes-2018-t1")["criteres"]}
    assert arcep["periode_recente"]["explanation"].startswith("Période la plus récente : 2018, terminée le 01/01/2019")
    assert arcep["uai"]["explanation"] == "Sans objet : aucune table chargée n'est indexée par UAI."
    occitanie = {c["code"]: c for c in _quality("annuaire-education-occitanie-2024")["criteres"]}
    assert occitanie["uai"]["ok"] and occitanie["couverture_spatiale"]["ok"]


def test_the_index_agrees_with_package_show_and_sorts_by_score():
    """After load-sample (ingestion after the resource was indexed), the index holds the same
    score as package_show: the ingestion re-indexes the dataset."""
    found = helpers.call_action("package_search", q="*:*", sort="qualite_score asc", rows=50)
    scores = [(d["name"], d["qualite"]["score_pourcentage"]) for d in found["results"]]
    assert dict(scores) == {name: expected[2] for name, expected in EXPECTED.items()}
    assert [s for _n, s in scores] == sorted(s for _n, s in scores)
    best_first = helpers.call_action("package_search", q="*:*", sort="qualite_score desc", rows=50)["results"]
    assert best_first[0]["name"] == "arcep-ma-connexion-internet-communes-2026-t1-extrait"


def test_facets_in_package_search():
    found = helpers.call_action("package_search", q="*:*", rows=0,
                                **{"facet.field": json.dumps(["qualite", "qualite_manque"])})
    buckets = {i["name"]: (i["display_name"], i["count"]) for i in found["search_facets"]["qualite"]["items"]}
    assert buckets == {"bonne": ("Bonne (80 % et plus)", 1), "moyenne": ("Moyenne (50 à 79 %)", 5)}
    missing = {i["name"]: i["count"] for i in found["search_facets"]["qualite_manque"]["items"]}
    assert missing == {"documentation": 6, "periode_recente": 6, "dictionnaire": 5, "frequence": 4, "a_jour": 4,
                       "couverture_temporelle": 2}
    labels = {i["name"]: i["display_name"] for i in found["search_facets"]["qualite_manque"]["items"]}
    assert labels["dictionnaire"] == "Dictionnaire des données complet"
    good = helpers.call_action("package_search", fq="qualite:bonne")["results"]
    assert [d["name"] for d in good] == ["arcep-ma-connexion-internet-communes-2026-t1-extrait"]
    no_temporal = helpers.call_action("package_search", fq="qualite_manque:couverture_temporelle")["results"]
    assert {d["name"] for d in no_temporal} == {"ips-colleges-rentree-2023", "adresse-geolocalisation-colleges-2024"}


def test_catalogue_page_facet_and_sort(app):
    html = app.get("/dataset/?sort=qualite_score+asc").body
    order = [n for n in re.findall(r'href="/dataset/([a-z0-9-]+)"', html) if n in EXPECTED]
    order = list(dict.fromkeys(order))
    assert order[-1] == "arcep-ma-connexion-internet-communes-2026-t1-extrait"
    assert order[0] in ("ips-colleges-rentree-2023", "adresse-geolocalisation-colleges-2024")
    assert "Qualité des métadonnées" in html and "Moyenne (50 à 79 %)" in html and "Bonne (80 % et plus)" in html
    assert 'value="qualite_score asc" selected' in html or "qualite_score asc\" selected" in html.replace("'", '"')
    filtered = app.get("/dataset/?qualite=bonne").body
    listed = set(re.findall(r'href="/dataset/([a-z0-9-]+)"', filtered)) & set(EXPECTED)
    assert listed == {"arcep-ma-connexion-internet-communes-2026-t1-extrait"}


def test_dataset_page_shows_score_and_fixes(app):
    html = app.get("/dataset/ips-colleges-rentree-2023").body
    assert "Qualité des métadonnées" in html and "54 %" in html
    assert 'data-critere="dictionnaire"' in html and "Complétez le dictionnaire des données" in html
    assert "udata 17.18.0" in html


def test_private_dataset_only_counted_for_its_organization(app, people):
    anonymous = helpers.call_action("package_search", {"user": ""}, q="*:*", rows=0,
                                    **{"facet.field": json.dumps(["qualite"])})
    assert sum(i["count"] for i in anonymous["search_facets"]["qualite"]["items"]) == len(EXPECTED)
    search = '/api/3/action/package_search?include_private=true&rows=0&facet.field=["qualite"]'
    as_menj = app.get(search, headers=people.token(people.editor_menj)).json
    faible = {i["name"]: i["count"] for i in as_menj["result"]["search_facets"]["qualite"]["items"]}
    assert faible.get("faible") == 1   # the private draft: 1 of 10 criteria met (licence)
    as_arcep = app.get(search, headers=people.token(people.editor_arcep)).json
    assert "faible" not in {i["name"] for i in as_arcep["result"]["search_facets"]["qualite"]["items"]}


def test_dashboard_lists_editable_datasets_worst_first(app, people):
    menj = app.get("/tableau-de-bord/qualite", headers=people.token(people.editor_menj)).body
    rows = re.findall(r'<tr data-dataset="([a-z0-9-]+)"', menj)
    assert rows[0] == PRIVATE_DATASET
    assert set(rows) == {PRIVATE_DATASET} | {n for n in EXPECTED if not n.startswith("arcep")}
    assert "Privé" in menj and "Ce qui manque et comment le corriger" in menj
    arcep = app.get("/tableau-de-bord/qualite?tri=score-desc", headers=people.token(people.editor_arcep)).body
    assert re.findall(r'<tr data-dataset="([a-z0-9-]+)"', arcep) == [
        "arcep-ma-connexion-internet-communes-2026-t1-extrait", "arcep-deploiements-ftth-communes-2018-t1"]
    assert PRIVATE_DATASET not in arcep
    nobody = app.get("/tableau-de-bord/qualite", headers=people.token(people.member_none)).body
    assert "Aucun jeu de données à modifier" in nobody
    assert app.get("/tableau-de-bord/qualite", status=403)
    dashboard = app.get("/dashboard/datasets", headers=people.token(people.editor_menj)).body
    assert "/tableau-de-bord/qualite" in dashboard


def test_score_never_blocks_publishing(people):
    """The private draft scores low and was created all the same; package_update round trip
    with the computed field sent back works."""
    shown = helpers.call_action("package_show", id=PRIVATE_DATASET)
    assert shown["qualite"]["score_pourcentage"] == 10
    updated = helpers.call_action("package_update", {"user": people.editor_menj["name"]}, **shown)
    assert updated["qualite"]["score_pourcentage"] == shown["qualite"]["score_pourcentage"]


def test_recomputed_when_a_resource_changes(people):
    """Last of the module (it changes a sample dataset): documenting a resource fulfils
    « Ressources documentées » in package_show and in the index at once."""
    name = "arcep-ma-connexion-internet-communes-2026-t1-extrait"
    resource = helpers.call_action("package_show", id=name)["resources"][0]
    helpers.call_action("resource_patch", {"user": people.editor_arcep["name"]}, id=resource["id"],
                        description="Nombre de locaux éligibles par technologie, par commune (code INSEE).")
    quality = _quality(name)
    assert quality["manquants"] == ["periode_recente"] and quality["score_pourcentage"] == 92
    indexed = helpers.call_action("package_search", fq=f"name:{name}")["results"][0]
    assert indexed["qualite"]["score_pourcentage"] == 92
    assert helpers.call_action("package_search", fq=f"name:{name} qualite_manque:documentation")["count"] == 0
