"""Content-Security-Policy of the portal's pages (issue 12: defence in depth against stored XSS).

Every HTML page carries a policy that refuses inline scripts, plugins, foreign `<base>`, framing
and form posting by other sites (ckanext/ecarto/csp.py). The pages still work under it, in
Chromium, with no violation reported: the establishment map and its tooltip, the territory maps,
the search autocomplete, the map view of a resource, the dataset form (axis sections), the
publication page. A script injected into a strict page is refused by the browser.
"""
from __future__ import annotations

from typing import Any

import pytest

import ckan.tests.factories as factories

from ckanext.ecarto import csp

from tests.security.payload_portal import payload_portal  # noqa: F401

pytestmark = [pytest.mark.usefixtures("with_plugins"),
              pytest.mark.ckan_config("ckanext.ecarto.map_tiles_url", "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")]


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, response.request.path if hasattr(response, "request") else "no CSP header"
    return csp.parse(header)


# --------------------------------------------------------------------------- the header

@pytest.mark.parametrize("path", ["/", "/dataset/", "/etablissement", "/territoire", "/etat-des-lieux",
                                  "/territoire/departement/94", "/user/login", "/etablissement/0000000A"])
def test_pages_carry_a_strict_policy(app, payload_portal, path):
    response = app.get(path)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["frame-ancestors"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "https://*.tile.openstreetmap.org" in policy["img-src"]


def test_establishment_page_is_strict(app, payload_portal):
    policy = _policy(app.get(f"/etablissement/{payload_portal.uais[0]}"))
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


def test_data_exports_have_no_page_policy(app, payload_portal):
    uai = payload_portal.uais[0]
    assert "Content-Security-Policy" not in app.get(f"/etablissement/{uai}.json").headers
    assert "Content-Security-Policy" not in app.get(f"/etablissement/{uai}.csv").headers


def test_ckan_forms_with_inline_handlers_keep_them(app, payload_portal):
    """CKAN's resource form uses onclick buttons (Upload / Link): that page only keeps
    'unsafe-inline' (option ckanext.ecarto.csp.inline_script_endpoints)."""
    token = factories.APIToken(user=payload_portal.editor["name"])["token"]
    response = app.get("/dataset/equipement-94/resource/new", headers={"Authorization": token})
    assert response.status_code == 200
    assert "'unsafe-inline'" in _policy(response)["script-src"]


@pytest.mark.ckan_config("ckanext.ecarto.csp.extra", "img-src https://static.data.gouv.fr; media-src 'self'")
def test_policy_can_be_extended(app, payload_portal):
    policy = _policy(app.get("/"))
    assert "https://static.data.gouv.fr" in policy["img-src"] and "'self'" in policy["img-src"]
    assert policy["media-src"] == ["'self'"]


@pytest.mark.ckan_config("ckanext.ecarto.csp.image_sources", "")
def test_images_can_be_restricted_to_the_portal_and_tiles(app, payload_portal):
    policy = _policy(app.get("/"))
    assert "https:" not in policy["img-src"]
    assert {"'self'", "data:", "https://*.tile.openstreetmap.org"} <= set(policy["img-src"])


@pytest.mark.ckan_config("ckanext.ecarto.csp.enabled", "false")
def test_policy_can_be_switched_off(app, payload_portal):
    assert "Content-Security-Policy" not in app.get("/").headers


@pytest.mark.ckan_config("ckanext.ecarto.csp.report_only", "true")
def test_report_only(app, payload_portal):
    headers = app.get("/").headers
    assert "Content-Security-Policy" not in headers and "Content-Security-Policy-Report-Only" in headers


def test_tiles_source():
    assert csp.tiles_source("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://*.tile.openstreetmap.org"
    assert csp.tiles_source("https://tiles.example.fr/{z}/{x}/{y}.png") == "https://tiles.example.fr"
    assert csp.tiles_source("https://a.{s}.example.fr/{z}.png") == "https:"
    assert csp.tiles_source("") is None and csp.tiles_source("javascript:alert(1)") is None


# --------------------------------------------------------------------------- in the browser

# Records the violations the browser reports (an init script runs before the page's own).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""


class Browser:
    def __init__(self, page, live_server: str, screenshot) -> None:
        self.page, self.base, self.screenshot = page, live_server, screenshot
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response.status == 200, path
        assert response.headers.get("content-security-policy"), path
        return response

    def violations(self) -> list[str]:
        return self.page.evaluate("() => window.__csp") + self.console


@pytest.fixture
def browser(page, live_server, screenshot) -> Browser:
    return Browser(page, live_server, screenshot)


def test_public_pages_work_without_violation(browser, payload_portal):
    page = browser.page
    uai = payload_portal.uais[0]
    browser.open(f"/etablissement/{uai}")
    page.locator("#ecarto-map[data-map-ready='true']").wait_for()
    page.locator("#ecarto-map path.leaflet-interactive").hover()
    page.locator(".leaflet-tooltip").wait_for(state="visible")
    assert page.locator(".leaflet-tooltip").inner_text() == payload_portal.names[uai]
    browser.screenshot(page, "csp-etablissement")
    assert browser.violations() == []

    browser.open(f"/territoire/departement/{payload_portal.departement}")
    page.locator("[data-ecarto-territoire-map][data-map-ready='true']").wait_for()
    assert page.locator("[data-ecarto-legend] li").count() >= 1
    browser.screenshot(page, "csp-territoire-points")
    assert browser.violations() == []

    browser.open("/territoire/region/11")
    page.locator("[data-ecarto-territoire-map][data-map-ready='true']").wait_for()
    assert page.locator("path.ecarto-territoire-shape").count() >= 8        # the 8 départements
    browser.screenshot(page, "csp-territoire-choroplethe")
    assert browser.violations() == []

    browser.open("/etablissement")
    page.locator("[data-ecarto-autocomplete]").type("0940", delay=30)
    page.wait_for_function("() => document.querySelectorAll('datalist option').length > 0")
    browser.screenshot(page, "csp-recherche")
    assert browser.violations() == []

    resource = payload_portal.resource("equipement-94")
    browser.open(f"/dataset/equipement-94/resource/{resource['id']}?view_id={payload_portal.view_id}")
    page.locator("[data-ecarto-carte-uai][data-map-ready='true']").wait_for()
    browser.screenshot(page, "csp-vue-carte")
    assert browser.violations() == []


def test_editor_pages_work_without_violation(browser, payload_portal):
    page = browser.page
    token = factories.APIToken(user=payload_portal.editor["name"])["token"]
    page.context.set_extra_http_headers({"Authorization": token})
    browser.open("/dataset/new")
    axe = page.locator("#field-axe")
    axe.select_option("equipement")
    assert page.locator(".ecarto-axe-section[data-ecarto-axe='equipement']").is_visible()
    assert not page.locator(".ecarto-axe-section[data-ecarto-axe='connectivite']").is_visible()
    axe.select_option("connectivite")
    assert page.locator(".ecarto-axe-section[data-ecarto-axe='connectivite']").is_visible()
    browser.screenshot(page, "csp-formulaire-jeu-de-donnees")
    assert browser.violations() == []

    browser.open("/dataset/equipement-94/publier")
    browser.screenshot(page, "csp-publication")
    assert browser.violations() == []

    # the resource form of a dataset of an axis is the validated publication form (issue #15):
    # a file or a link, no second form beside it, and no CSP violation
    browser.open("/dataset/equipement-94/resource/new")
    assert page.locator("#ecarto-upload").is_visible() and page.locator("#ecarto-url").is_visible()
    assert page.locator("#resource-link-button").count() == 0
    assert browser.violations() == []


def test_injected_script_is_refused(browser, payload_portal):
    """Should a payload ever reach the DOM as HTML, the browser does not run it."""
    page = browser.page
    browser.open(f"/etablissement/{payload_portal.uais[0]}")
    page.evaluate("""() => document.body.insertAdjacentHTML('beforeend',
        '<img src="data:," onerror="window.__pwned = 1"><a id="js" href="javascript:window.__pwned = 2">x</a>')""")
    page.locator("#js").click()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert any("script-src" in v for v in browser.violations())
