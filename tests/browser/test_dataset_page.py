"""The dataset pages of the real sample catalogue in Chromium, as a data user reads them: a page
of sane height (a dataset page once printed its territory's GeoJSON and was 25,000 px tall), the
territory by name with its outline map, the developers' links opening real DCAT and JSON, and
the catalogue's facets by label, filtered by a click on a territory.
Screenshots: jeu-de-donnees-occitanie.png, jeu-de-donnees-couverture.png,
jeu-de-donnees-acces-developpeurs.png, catalogue-territoire.png."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import SCREENSHOTS
from tests.quality.conftest import sample_portal  # noqa: F401 - module fixture: real sample data

pytestmark = pytest.mark.usefixtures("with_plugins", "sample_portal")

SAMPLE_DATASETS = [
    "adresse-geolocalisation-colleges-2024", "annuaire-education-occitanie-2024",
    "annuaire-education-val-de-marne-ecoles-publiques-2026", "arcep-deploiements-ftth-communes-2018-t1",
    "arcep-ma-connexion-internet-communes-2026-t1-extrait", "ips-colleges-rentree-2023",
]
MAX_HEIGHT = 6_000
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def test_every_sample_dataset_page_has_a_sane_height_and_no_coordinates(page, live_server):
    heights = {}
    for name in SAMPLE_DATASETS:
        response = page.goto(f"{live_server}/dataset/{name}")
        assert response.status == 200, name
        heights[name] = page.evaluate("document.documentElement.scrollHeight")
        text = page.locator("body").inner_text()
        assert "coordinates" not in text and "MultiPolygon" not in text, name
        assert page.locator(".ecarto-coverage svg path").count() == 1, name
    assert all(h < MAX_HEIGHT for h in heights.values()), heights


def test_data_user_reads_the_coverage_and_opens_the_developer_links(page, live_server, screenshot):
    page.goto(f"{live_server}/dataset/annuaire-education-occitanie-2024")
    coverage = page.locator(".ecarto-coverage")
    assert coverage.get_by_role("img", name="Contour de la zone couverte : Occitanie").is_visible()
    box = coverage.locator("svg").bounding_box()
    assert 100 <= box["width"] <= 260 and 100 <= box["height"] <= 260, box
    coverage.screenshot(path=str(SCREENSHOTS / "jeu-de-donnees-couverture.png"))
    info = page.locator("section.additional-info")
    assert "Occitanie (région 76)" in info.inner_text()
    assert "26 novembre 2024" in info.inner_text()
    screenshot(page, "jeu-de-donnees-occitanie")
    violations = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"]
    assert not [v["id"] for v in violations if v["impact"] in ("serious", "critical")]

    block = page.locator(".ecarto-developer-access")
    block.scroll_into_view_if_needed()
    assert block.get_by_role("heading", name="Accès pour les développeurs").is_visible()
    screenshot(page, "jeu-de-donnees-acces-developpeurs")
    expected = {"API du portail (JSON)": ("application/json", '"success": true'),
                "DCAT — Turtle": ("text/turtle", "dcat:Dataset"),
                "DCAT — RDF/XML": ("application/rdf+xml", "dcat:Dataset"),
                "DCAT — JSON-LD": ("application/ld+json", "Dataset")}
    for label, (mimetype, marker) in expected.items():
        href = block.get_by_role("link", name=label).get_attribute("href")
        response = page.request.get(live_server + href)
        assert response.status == 200, label
        assert response.headers["content-type"].startswith(mimetype), (label, response.headers["content-type"])
        assert marker in response.text(), label

    # the territory's name opens the territory's page
    coverage.get_by_role("link", name="Occitanie (région 76)").click()
    page.wait_for_load_state()
    assert page.url.endswith("/territoire/region/76")


def test_catalogue_facets_by_label_and_a_territory_filter(page, live_server, screenshot):
    page.goto(f"{live_server}/dataset/")
    facets = page.locator("#search-facets, .filters").first
    text = facets.inner_text()
    for label in ("Connectivité", "Département", "Région", "Occitanie (région 76)"):
        assert label in text, label
    for raw in ("connectivite", "departement"):
        assert raw not in text.split(), raw
    page.get_by_role("link", name="Filtrer par Territoire couvert : Val-de-Marne (département 94) (1)").click()
    page.wait_for_url("**territoire=departement-94*")     # hx-boost: the page swapped, URL pushed
    page.wait_for_load_state()
    pill = page.locator(".filter-list .filtered.pill")
    assert "Val-de-Marne (département 94)" in pill.inner_text()
    titles = page.locator(".dataset-heading").all_inner_texts()
    assert len(titles) == 1 and "Val-de-Marne" in titles[0]
    screenshot(page, "catalogue-territoire")
