"""The home page as a visitor uses it, in a real browser (headless Chromium), on a portal with
real data (annuaire de l'éducation of Occitanie, IPS of collèges, Arcep's FttH per commune) and
one private dataset: it finds an establishment by name and commune and opens its page, its map
of France opens a région, its key figures carry their source and period, it shows no stock CKAN
text and never a private dataset."""
from __future__ import annotations

import re

import pytest

import ckan.model as model
import ckan.tests.helpers as helpers

from tests.browser.test_accessibility import _serious_violations
from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

PRIVATE_TITLE = "Équipement des collèges — brouillon interne"


@pytest.fixture(scope="module")
def home_portal(portal):  # noqa: F811 - the imported module fixture
    """The sample portal plus a private dataset of the ministry, modified last."""
    ctx = {"user": portal.sysadmin["name"]}
    menj = helpers.call_action("organization_show", dict(ctx), id="menj")
    helpers.call_action("package_create", dict(ctx), name="equipement-colleges-interne", title=PRIVATE_TITLE,
                        owner_org=menj["id"], private=True, axe="equipement", millesime="2024",
                        license_id="etalab-2.0")
    model.Session.remove()
    return portal


def _search(page, text: str):
    box = page.get_by_label("Nom d’un établissement, commune, UAI ou territoire")
    box.fill(text)
    return box


@pytest.mark.usefixtures("with_plugins")
def test_home_finds_an_establishment_by_name_and_commune(home_portal, page, live_server, screenshot):
    college = home_portal.college_with_ips()
    name, commune, uai = college["Nom_etablissement"], college["Nom_commune"], college["Identifiant_de_l_etablissement"]
    page.goto(live_server + "/")
    words = name.split(" ", 1)[1]                       # "André Chamson" without "Collège"
    box = _search(page, f"{words} {commune}")
    option = page.get_by_role("option", name=re.compile(re.escape(f"{name} — {commune} ({uai})")))
    option.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    screenshot(page, "accueil-suggestions")
    option.click()
    page.wait_for_url(f"**/etablissement/{uai}")
    assert name in page.locator("h1").inner_text()


@pytest.mark.usefixtures("with_plugins")
def test_home_search_by_keyboard_and_without_a_suggestion(home_portal, page, live_server):
    college = home_portal.college_with_ips()
    uai = college["Identifiant_de_l_etablissement"]
    page.goto(live_server + "/")
    box = _search(page, f"{college['Nom_etablissement']} {college['Nom_commune']}")
    page.get_by_role("option").first.wait_for()
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant")
    box.press("Enter")
    page.wait_for_url(f"**/etablissement/{uai}")

    # Enter without choosing a suggestion: the establishment search, as without JavaScript
    page.goto(live_server + "/")
    box = _search(page, college["Nom_commune"])
    page.get_by_role("option").first.wait_for()
    box.press("Escape")                                 # closes the suggestions, keeps the text
    assert box.get_attribute("aria-expanded") == "false" and box.input_value() == college["Nom_commune"]
    box.press("Enter")
    page.wait_for_url(re.compile(r"/etablissement\?q="))
    assert page.get_by_role("link", name=college["Nom_etablissement"]).count() >= 1


@pytest.mark.usefixtures("with_plugins")
def test_home_search_finds_a_territory(home_portal, page, live_server):
    page.goto(live_server + "/")
    _search(page, "Haute-Garonne")
    option = page.get_by_role("option", name=re.compile("Haute-Garonne"))
    option.first.wait_for()
    option.first.click()
    page.wait_for_url("**/territoire/departement/31")


@pytest.mark.usefixtures("with_plugins")
def test_home_dataset_tab(home_portal, page, live_server):
    page.goto(live_server + "/")
    tab = page.get_by_role("tab", name="Jeux de données")
    assert tab.get_attribute("aria-selected") == "false"
    assert not page.get_by_label("Mots du titre, de la description ou du producteur").is_visible()
    page.get_by_role("tab", name="Établissements et territoires").press("ArrowRight")
    assert tab.get_attribute("aria-selected") == "true"
    field = page.get_by_label("Mots du titre, de la description ou du producteur")
    field.fill("IPS")
    field.press("Enter")
    page.wait_for_url(re.compile(r"/dataset/\?q=IPS"))
    assert page.get_by_text("IPS des collèges 2023").count() >= 1


@pytest.mark.usefixtures("with_plugins")
def test_home_map_opens_a_region(home_portal, page, live_server, screenshot):
    page.goto(live_server + "/")
    page.locator("[data-ecarto-home-map][data-map-ready]").wait_for()
    occitanie = page.locator('[data-ecarto-home-map] path[data-code="76"]')
    assert occitanie.count() == 1
    screenshot(page, "accueil")
    occitanie.click()
    page.wait_for_url("**/territoire/region/76")
    assert "Occitanie" in page.locator("h1").inner_text()
    # the same entry without the map: the list of régions
    page.goto(live_server + "/")
    regions = page.get_by_role("navigation", name="Régions")
    assert regions.get_by_role("link").count() >= 18
    regions.get_by_role("link", name="Occitanie").click()
    page.wait_for_url("**/territoire/region/76")


@pytest.mark.usefixtures("with_plugins")
def test_home_figures_texts_and_privacy(home_portal, page, live_server):
    page.goto(live_server + "/")
    text = page.locator("body").inner_text()
    main = page.get_by_role("main").inner_text()
    assert "CKAN" not in main                           # (the footer may credit the software)
    for stock in ("Bienvenue sur CKAN", "Ceci est un paragraphe", "420 x 220", "section sélectionnée"):
        assert stock not in text
    assert page.locator("img[src*='placeholder'], img[src*='420']").count() == 0
    figures = page.locator("[data-figure]")
    assert figures.count() >= 4
    for i in range(figures.count()):
        figure = figures.nth(i).inner_text()
        assert "Source :" in figure and "période :" in figure, figure
    assert "non communiqué" in page.locator("#nc").inner_text()
    datasets = page.locator("[data-figure=jeux]").inner_text()
    assert datasets.startswith("3"), datasets           # the three public datasets, not the private one
    latest = page.get_by_role("region", name="Derniers jeux de données")
    assert latest.get_by_role("link", name="IPS des collèges 2023").count() == 1
    assert PRIVATE_TITLE not in text
    for axe in ("connectivite", "equipement", "services_ressources", "experimentations"):
        assert page.locator(f"a[href='/dataset/?axe={axe}']").count() == 1


@pytest.mark.usefixtures("with_plugins")
def test_home_has_no_serious_accessibility_violation(home_portal, page, live_server):
    page.goto(live_server + "/")
    page.locator("[data-ecarto-home-map][data-map-ready]").wait_for()
    assert not _serious_violations(page)
    _search(page, "Toulouse")
    page.get_by_role("option").first.wait_for()
    assert not _serious_violations(page)
