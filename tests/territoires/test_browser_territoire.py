"""A visitor opens the France page and a département page in Chromium: one shape per child
territory with a contour, a legend; the département shows its establishments as points."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_france_and_departement_maps(portal, page, live_server, screenshot, app):
    page.goto(f"{live_server}/territoire/france")
    page.wait_for_selector("[data-map-ready=true]")
    contours = json.loads(app.get("/territoire/contours.geojson?niveau=france&enfants=region").body)
    assert page.locator(".ecarto-territoire-shape").count() == len(contours["features"]) == 18
    assert page.locator("[data-ecarto-legend] li").count() >= 2
    assert "IPS des collèges 2023" in page.locator("[data-ecarto-legend]").inner_text()
    # keyboard: shapes are focusable links with a spoken label
    shape = page.locator(".ecarto-territoire-shape[data-code='76']")
    assert shape.get_attribute("tabindex") == "0" and shape.get_attribute("aria-label").startswith("Occitanie")
    screenshot(page, "territoire-france")

    page.goto(f"{live_server}/territoire/region/76")
    page.wait_for_selector("[data-map-ready=true]")
    assert page.locator(".ecarto-territoire-shape").count() == 13       # the 13 départements of Occitanie
    screenshot(page, "territoire-region-occitanie")

    page.goto(f"{live_server}/territoire/departement/31")
    page.wait_for_selector("[data-map-ready=true]")
    points = app.get("/territoire/etablissements.json?niveau=departement&code=31").json["etablissements"]
    assert page.locator(".ecarto-point").count() == len(points) > 100
    assert page.locator("[data-ecarto-legend] li").count() >= 3
    assert page.locator("h1").inner_text() == "Haute-Garonne"
    screenshot(page, "territoire-departement-31")
