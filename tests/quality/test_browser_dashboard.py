"""The quality dashboard and the dataset page's score in Chromium, as an editor of the ministry
sees them after `ckan ecarto load-sample`: logged in through the form, the dashboard tab, the
datasets worst first (the private draft of their organization first), then a dataset's missing
criteria. Screenshots: qualite-tableau-de-bord.png, qualite-jeu-de-donnees.png,
qualite-catalogue.png (the catalogue sorted by score with the quality facet)."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import SCREENSHOTS
from tests.publication.browser import log_in
from tests.quality.conftest import PASSWORD, PRIVATE_DATASET

pytestmark = pytest.mark.usefixtures("with_plugins", "sample_portal", "people")

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _serious_violations(page) -> list[str]:
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def test_editor_reads_the_quality_dashboard(people, page, live_server, screenshot):
    log_in(page, live_server, people.editor_menj["name"], PASSWORD)
    page.goto(f"{live_server}/dashboard/datasets")
    page.get_by_role("link", name="Qualité des métadonnées").click()
    page.wait_for_load_state()
    assert page.url.endswith("/tableau-de-bord/qualite")
    rows = page.locator("tr[data-dataset]")
    names = [rows.nth(i).get_attribute("data-dataset") for i in range(rows.count())]
    assert names[0] == PRIVATE_DATASET and len(names) == 5
    assert not any(n.startswith("arcep") for n in names)
    first = rows.nth(0)
    assert "10 %" in first.inner_text() and "Privé" in first.inner_text()
    assert "Au moins une ressource" in first.inner_text()
    screenshot(page, "qualite-tableau-de-bord")
    assert not _serious_violations(page)    # RGAA / WCAG 2.1 AA, as the portal's other pages

    page.select_option("#tri", "score-desc")
    page.get_by_role("button", name="Trier").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-dataset]").nth(0).get_attribute("data-dataset") != PRIVATE_DATASET

    page.goto(f"{live_server}/dataset/ips-colleges-rentree-2023")
    box = page.locator("#qualite-metadonnees")
    assert "54 %" in box.inner_text()
    assert "Dictionnaire des données complet" in box.inner_text()
    assert "Complétez le dictionnaire des données" in box.inner_text()
    # the page is very long (the territory's GeoJSON in « Informations supplémentaires »): the
    # quality box only
    box.screenshot(path=str(SCREENSHOTS / "qualite-jeu-de-donnees.png"))


def test_catalogue_sorted_by_quality_with_its_facet(page, live_server, screenshot):
    page.goto(f"{live_server}/dataset/?sort=qualite_score+desc")
    first = page.locator(".dataset-item").nth(0)
    assert "Ma connexion internet" in first.inner_text()
    assert page.get_by_text("Bonne (80 % et plus)").count() >= 1
    screenshot(page, "qualite-catalogue")
