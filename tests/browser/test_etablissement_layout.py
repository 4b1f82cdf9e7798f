"""The establishment page fits the screen (#16): in a real Chromium at 1280 px and on a phone
(375 px), the page never scrolls sideways — wide tables are turned or scroll inside their own
labelled container — with real sample data (annuaire Occitanie, IPS 2023, Arcep 2018 T1)."""
from __future__ import annotations

import pytest

from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data
from tests.etablissements.test_page_for_people import FERMAT, SAINT_JOSEPH, people_portal  # noqa: F401

pytestmark = pytest.mark.usefixtures("with_plugins")

PAGES = [f"/etablissement/{FERMAT}", f"/etablissement/{SAINT_JOSEPH}", "/etablissement/0301326D",
         "/etablissement?q=toulouse"]
WIDTHS = [(1280, 900), (375, 812)]


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width, height", WIDTHS)
def test_no_page_scrolls_sideways(people_portal, page, live_server, screenshot, width, height):
    page.set_viewport_size({"width": width, "height": height})
    too_wide = {}
    for path in PAGES:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        scroll_width, inner_width = _overflow(page)
        if scroll_width > inner_width:
            too_wide[path] = (scroll_width, inner_width)
    page.goto(live_server + f"/etablissement/{FERMAT}")
    screenshot(page, f"etablissement-{FERMAT}-{width}px")
    assert not too_wide


def test_wide_tables_scroll_in_a_labelled_region_that_the_keyboard_reaches(people_portal, page, live_server):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server + f"/etablissement/{FERMAT}")
    regions = page.locator("#contexte-commune .ecarto-table-scroll")
    assert regions.count() >= 1
    for i in range(regions.count()):
        region = regions.nth(i)
        assert region.get_attribute("role") == "region"
        assert region.get_attribute("tabindex") == "0"
        label_id = region.get_attribute("aria-labelledby")
        assert page.locator(f"#{label_id}").inner_text().strip()
        # the region itself never grows beyond the screen
        box = region.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375 + 1


def test_operator_names_and_nc_definition_are_visible_on_a_phone(people_portal, page, live_server):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server + f"/etablissement/{FERMAT}")
    assert page.locator("#nc-definition").is_visible()
    assert "non communiqué" in page.locator("#nc-definition").inner_text()
    row = page.locator('#contexte-commune tr[data-colonne="OI 2018 T1"]')
    row.scroll_into_view_if_needed()
    assert "Free, Orange, SFR" in row.inner_text()
