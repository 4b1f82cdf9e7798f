"""Hostile text from publishers' files stays text in a real browser (issue 12, probe 3).

An establishment name `<img src=x onerror=alert(1)>` went into the map's `data-label`, and
Leaflet's tooltip inserted it as HTML: hovering the marker ran the script for an anonymous
visitor. Here publishers (an editor of the ministry's organization for the directory, an editor
of a collectivité for a data file) put payloads in every text they control — names, addresses,
websites, column headers, text cells, categories — and an anonymous visitor opens the pages that
show them in Chromium: the establishment page (hovering the marker), the territory maps (points
and choropleth, their tooltips, legends and table), the map view of the resource, the search and
its autocomplete. A `dialog` listener must never fire, no element may come out of a payload, and
each payload must be readable as text.

The Content-Security-Policy is switched off here so that the escaping itself is tested (with it,
the browser would also refuse to run the scripts: tests/security/test_csp.py).
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.security.payload_portal import JAVASCRIPT_URL, NUMERIC_HEADER, XSS, payload_portal  # noqa: F401

pytestmark = [
    pytest.mark.usefixtures("with_plugins"),
    pytest.mark.ckan_config("ckanext.ecarto.csp.enabled", "false"),
    pytest.mark.ckan_config("ckanext.ecarto.map_tiles_url", ""),   # no request to a tile server
]

# Elements a payload would create if it were parsed as HTML.
INJECTED = "img[src='x'], svg[onload], [onerror], [onload]:not(body), a[href^='javascript:alert' i]"


class Visitor:
    """An anonymous visitor's page that records every dialog (alert, confirm, prompt)."""

    def __init__(self, page, live_server: str, screenshot) -> None:
        self.page, self.base, self.screenshot = page, live_server, screenshot
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response.status == 200, path

    def check(self, name: str) -> None:
        """No script ran, no payload became an element; a screenshot for the record."""
        self.page.wait_for_timeout(300)          # let an onerror / onload fire if it would
        self.screenshot(self.page, name)
        assert self.dialogs == [], f"{name}: {self.dialogs}"
        assert self.page.locator(INJECTED).count() == 0, name

    def hover_each(self, selector: str) -> list[str]:
        """Hovers (mouseover) every matching map shape; returns the texts of their tooltips."""
        texts = []
        shapes = self.page.locator(selector)
        for i in range(shapes.count()):
            shapes.nth(i).dispatch_event("mouseover")
            tooltip = self.page.locator(".leaflet-tooltip").last
            tooltip.wait_for(state="visible")
            texts.append(tooltip.inner_text())
            assert tooltip.locator("*:not(span)").count() == 0
            shapes.nth(i).dispatch_event("mouseout")
        return texts


@pytest.fixture
def visitor(page, live_server, screenshot) -> Visitor:
    return Visitor(page, live_server, screenshot)


def test_establishment_page_marker_and_identity(visitor, payload_portal):
    for uai in payload_portal.uais[:3]:
        name = payload_portal.names[uai]
        visitor.open(f"/etablissement/{uai}")
        visitor.page.locator("#ecarto-map[data-map-ready='true']").wait_for()
        assert visitor.page.locator("h1").inner_text() == name
        visitor.page.locator("#ecarto-map path.leaflet-interactive").hover()
        tooltip = visitor.page.locator(".leaflet-tooltip")
        tooltip.wait_for(state="visible")
        assert tooltip.inner_text() == name
        visitor.check(f"xss-etablissement-{uai}")
    # the first school: hostile address, and a `javascript:` website that must not be a link
    first = payload_portal.uais[0]
    visitor.open(f"/etablissement/{first}")
    body = visitor.page.locator("body").inner_text()
    assert XSS["svg"] in body and JAVASCRIPT_URL in body
    assert visitor.page.locator("a", has_text=JAVASCRIPT_URL).count() == 0
    visitor.check(f"xss-etablissement-{first}-identite")


def test_territory_points_map(visitor, payload_portal):
    visitor.open(f"/territoire/departement/{payload_portal.departement}")
    map_el = visitor.page.locator("[data-ecarto-territoire-map][data-map-ready='true']")
    map_el.wait_for()
    assert map_el.get_attribute("data-points-count") == str(len(payload_portal.uais))
    texts = visitor.hover_each("[data-ecarto-territoire-map] path.ecarto-point")
    for uai, name in payload_portal.names.items():
        assert f"{name} ({uai})" in texts
    visitor.check("xss-territoire-points")


def _choose_series(visitor, label: str) -> None:
    select = visitor.page.locator("select[name=serie]")
    value = select.locator("option", has_text=label).first.get_attribute("value")
    select.select_option(value)


def test_territory_choropleth_legend_table_and_tooltips(visitor, payload_portal):
    visitor.open("/territoire/region/11")            # Île-de-France: its départements
    map_el = visitor.page.locator("[data-ecarto-territoire-map][data-map-ready='true']")
    map_el.wait_for()
    _choose_series(visitor, NUMERIC_HEADER)
    legend = visitor.page.locator("[data-ecarto-legend] .ecarto-legend-title", has_text=NUMERIC_HEADER)
    legend.wait_for()
    assert legend.inner_text().startswith(NUMERIC_HEADER)
    assert "Équipement des écoles " + XSS["img"] in visitor.page.locator("[data-ecarto-legend]").inner_text()
    texts = visitor.hover_each("[data-ecarto-territoire-map] path.ecarto-territoire-shape[data-code='94']")
    assert texts and texts[0].startswith("Val-de-Marne : ")
    visitor.page.locator("details.ecarto-map-table summary").click()
    assert visitor.page.locator("[data-ecarto-map-table] tbody tr").count() >= 1
    visitor.check("xss-territoire-choroplethe")


def test_resource_map_view(visitor, payload_portal):
    resource = payload_portal.resource("equipement-94")
    visitor.open(f"/dataset/equipement-94/resource/{resource['id']}?view_id={payload_portal.view_id}")
    visitor.page.locator("[data-ecarto-carte-uai][data-map-ready='true']").wait_for()
    legend = visitor.page.locator("[data-carte-uai-legend]")
    select = visitor.page.locator("[data-carte-uai-colonne]")

    def colour_by(label: str) -> list[str]:
        select.select_option(label=label)
        legend.locator(".ecarto-legend-title", has_text=label).wait_for()
        assert legend.locator(".ecarto-legend-title").inner_text() == label
        return legend.locator("li").all_inner_texts()

    # a text column whose header and cells are payloads: categories listed as text
    items = colour_by("Commentaire " + XSS["img"])
    assert XSS["img"] in items and XSS["svg"] in items
    visitor.check("xss-vue-carte-texte")
    # the numeric column (hostile header): classes, and the tooltips name each school as text
    colour_by(NUMERIC_HEADER)
    texts = visitor.hover_each("[data-ecarto-carte-uai] path.ecarto-point")
    for uai, name in payload_portal.names.items():
        assert any(t.startswith(f"{name} ({uai}) : ") for t in texts), name
    visitor.check("xss-vue-carte-colonne-numerique")
    items = colour_by("Catégorie")
    assert XSS["img"] in items and XSS["attr"] in items
    visitor.check("xss-vue-carte-categories")


def test_search_and_autocomplete(visitor, payload_portal):
    visitor.open("/etablissement?departement=94")
    results = visitor.page.locator("body").inner_text()
    for name in list(payload_portal.names.values())[:3]:
        assert name in results
    visitor.check("xss-recherche")
    box = visitor.page.locator("[data-ecarto-autocomplete]")
    box.fill("")
    box.type("0940", delay=30)
    options = visitor.page.locator("datalist option")
    visitor.page.wait_for_function("() => document.querySelectorAll('datalist option').length > 0")
    labels: list[Any] = options.evaluate_all("els => els.map(e => e.textContent)")
    assert any(label.startswith(XSS["img"] + " — ") for label in labels), labels
    visitor.check("xss-autocompletion")
