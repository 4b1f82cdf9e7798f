"""The home page's key figures, search forms and territory suggestions, served by the portal with
real data (annuaire de l'éducation of Occitanie, IPS of collèges, Arcep's FttH per commune) and
a private dataset: every figure has its source and period, the private dataset is never counted
nor listed, the search works without JavaScript (plain forms), the introduction is configurable."""
from __future__ import annotations

import re

import pytest

import ckan.model as model
import ckan.tests.helpers as helpers

from ckanext.ecarto.logic import accueil
from ckanext.ecarto.referentiel import territories
from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

PRIVATE_TITLE = "Connectivité des lycées — relevé interne non publié"


@pytest.fixture(scope="module")
def home_portal(portal):  # noqa: F811 - the imported module fixture
    ctx = {"user": portal.sysadmin["name"]}
    arcep = helpers.call_action("organization_show", dict(ctx), id="arcep")
    helpers.call_action("package_create", dict(ctx), name="connectivite-lycees-interne", title=PRIVATE_TITLE,
                        owner_org=arcep["id"], private=True, axe="connectivite", millesime="2025",
                        license_id="etalab-2.0")
    model.Session.remove()
    return portal


def _open_ecoles(portal) -> int:
    """Open écoles of the Occitanie file (nature codes 1xx), counted from the CSV itself."""
    return sum(1 for r in portal.annuaire if r["etat"] == "OUVERT" and r["code_nature"].startswith("1"))


@pytest.mark.usefixtures("with_plugins")
def test_figures_count_public_data_only(home_portal, app):
    with app.flask_app.test_request_context():
        data = accueil.home_page()
    jeux, producteurs = data["catalogue"]
    assert jeux.valeur == len(home_portal.datasets) == 3          # the private dataset is not counted
    assert producteurs.valeur == 2
    assert [org["package_count"] for org in data["producteurs"]] == [2, 1]   # MENJ 2, Arcep 1 public
    assert PRIVATE_TITLE not in [d["title"] for d in data["derniers_jeux"]]
    assert {d["name"] for d in data["derniers_jeux"]} == set(home_portal.datasets)
    for figure in [data["etablissements"], jeux, producteurs]:
        assert figure.source and figure.periode, figure
    assert {a["id"]: a["jeux"] for a in data["axes"]} == {
        "connectivite": 1, "equipement": 0, "services_ressources": 0, "experimentations": 0}


@pytest.mark.usefixtures("with_plugins")
def test_establishments_figure_is_the_directory_with_its_source(home_portal, app):
    with app.flask_app.test_request_context():
        figure = accueil.home_page()["etablissements"]
    by_type = {d["libelle"]: d["valeur"] for d in figure.details}
    assert by_type["École"] == _open_ecoles(home_portal)
    assert figure.valeur == sum(by_type.values()) <= len(home_portal.annuaire)
    assert "Annuaire de l'éducation — Occitanie" in figure.source
    assert figure.periode == "2024"
    assert "ne couvrent pas toute la France" in figure.couverture
    france = app.get("/territoire/france.json").json
    assert figure.valeur == france["effectifs"]["ecoles_colleges_lycees"]


@pytest.mark.usefixtures("with_plugins")
def test_headline_indicator_has_source_period_and_nc_share(home_portal, app):
    """No figure of the 2018 report is computable from this sample: the headline is the national
    mean IPS of the collèges, with its n.c. share, both recomputed here from the two files."""
    with app.flask_app.test_request_context():
        data = accueil.home_page()
    figure = data["indicateur"]
    assert data["rapport_2018"]["calcules"] == 0
    assert figure.libelle == "IPS — France entière"     # the column's name: the sample file has no dictionary
    assert figure.source.startswith("IPS des collèges 2023")
    assert figure.periode == "2023-2024"                 # rentrée 2023
    expected = home_portal.reference(None, None)
    assert figure.valeur == pytest.approx(expected["moyenne"], abs=0.01)
    assert figure.taux_nc == pytest.approx(expected["taux_nc"], abs=0.0001)


@pytest.mark.usefixtures("with_plugins")
def test_home_page_without_javascript(home_portal, app):
    html = app.get("/").get_data(as_text=True)
    assert 'action="/etablissement"' in html and 'name="q"' in html
    assert 'formaction="/territoire"' in html
    assert 'action="/dataset/"' in html
    assert '<label for="home-q">' in html and '<label for="home-dataset-q">' in html
    regions = re.findall(r'href="/territoire/region/(\w+)"', html)
    assert sorted(regions) == sorted(t.code for t in territories.all_of(territories.REGION))
    assert "Bienvenue sur CKAN" not in html and "420 x 220" not in html
    assert "non communiqué" in html
    assert PRIVATE_TITLE not in html
    # the establishment search the form submits to finds the establishment by name and commune
    college = home_portal.college_with_ips()
    found = app.get("/etablissement", query_string={"q": f"{college['Nom_etablissement']} {college['Nom_commune']}"})
    assert f"/etablissement/{college['Identifiant_de_l_etablissement']}" in found.get_data(as_text=True)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.ckan_config("ckanext.ecarto.home_intro", "Le portail des lycées de la Région <Occitanie>.")
def test_configured_introduction_is_shown_as_text(home_portal, app):
    html = app.get("/").get_data(as_text=True)
    assert "Le portail des lycées de la Région &lt;Occitanie&gt;." in html
    assert "eCarto réunit les données ouvertes" not in html


@pytest.mark.usefixtures("with_plugins")
def test_territory_suggestions(home_portal, app):
    found = app.get("/territoire/autocomplete", query_string={"q": "haute-gar"}).json
    assert found[0]["chemin"] == "/territoire/departement/31" and found[0]["nom"] == "Haute-Garonne"
    assert app.get("/territoire/autocomplete", query_string={"q": "t"}).json == []
    commune = app.get("/territoire/autocomplete", query_string={"q": "Le Vigan"}).json
    assert any(t["niveau"] == "commune" and t["chemin"].startswith("/territoire/commune/30") for t in commune)
    too_long = app.get("/territoire/autocomplete", query_string={"q": "x" * 500}, status=400)
    assert "error" in too_long.json
