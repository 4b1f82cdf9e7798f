"""A visitor opens a real collège's page in Chromium: map, identity, the four axes, other data."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_establishment_page_in_a_browser(portal, page, live_server, screenshot):
    college = portal.college_with_ips()
    uai = college["Identifiant_de_l_etablissement"]
    page.goto(f"{live_server}/etablissement?q={uai}")
    page.get_by_role("link", name=college["Nom_etablissement"]).first.click()
    page.wait_for_selector("[data-map-ready=true]")
    assert page.locator("h1").inner_text() == college["Nom_etablissement"]
    assert page.locator(".leaflet-interactive").count() == 1          # the establishment's marker
    for section in ("Connectivité", "Équipement", "Services et ressources", "Expérimentations",
                    "Autres données", "Contexte de la commune"):
        assert page.get_by_role("heading", name=section, exact=True).count() == 1, section
    assert page.locator("#autres-donnees").get_by_text("IPS", exact=True).count() >= 1
    screenshot(page, "etablissement")
