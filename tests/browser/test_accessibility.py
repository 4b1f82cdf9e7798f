"""Accessibility (RGAA, built on WCAG 2.1 AA) of the portal's own pages, checked in a real
browser by axe-core (bundled in axe-playwright-python): no "serious" or "critical" violation on
the pages a citizen, an elected official or a collectivité's editor uses, with real data."""
from __future__ import annotations

import pytest

import ckan.tests.factories as factories

from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PUBLIC_PAGES = [
    "/", "/dataset/", "/dataset/ips-colleges-2023",
    "/etablissement", "/etablissement?q=jean+jaures", "/etablissement/0301326D",
    "/territoire", "/territoire/france", "/territoire/region/76", "/territoire/academie/16",
    "/territoire/departement/31", "/territoire/commune/31555", "/etat-des-lieux",
]
EDITOR_PAGES = ["/dataset/new", "/dataset/ips-colleges-2023/publier"]
# Issue #16: the catalogue's and CKAN's own pages a visitor meets, the portal's information pages
# (the last two are built by ecarto_pages: views/pages.py).
MORE_PUBLIC_PAGES = [
    "/organization/", "/organization/menj", "/schemas", "/schemas/connectivite", "/user/login",
    "/about", "/accessibilite", "/documentation-api",
]
# …and those of a signed-in user (the site administrator: harvest dashboard, his profile pages).
SIGNED_IN_PAGES = ["/harvest", "/harvest/new", "/dashboard/datasets", "/user/{user}", "/user/edit/{user}",
                   "/ckan-admin/"]


def _resource_page(portal) -> str:
    dataset = portal.datasets["ips-colleges-2023"]
    return f"/dataset/{dataset['name']}/resource/{dataset['resources'][0]['id']}"


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def _violations_by_page(page, live_server: str, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        response = page.goto(live_server + path)
        if response.status != 200:
            found[path] = [f"HTTP {response.status}"]
            continue
        violations = _serious_violations(page)
        if violations:
            found[path] = violations
    return found


@pytest.mark.usefixtures("with_plugins")
def test_public_pages_have_no_serious_accessibility_violation(portal, page, live_server):
    assert not _violations_by_page(page, live_server, PUBLIC_PAGES)


@pytest.mark.usefixtures("with_plugins")
def test_editor_pages_have_no_serious_accessibility_violation(portal, page, live_server):
    token = factories.APIToken(user=portal.sysadmin["name"])["token"]
    page.context.set_extra_http_headers({"Authorization": token})
    assert not _violations_by_page(page, live_server, EDITOR_PAGES)


@pytest.mark.usefixtures("with_plugins")
def test_more_public_pages_have_no_serious_accessibility_violation(portal, page, live_server):
    assert not _violations_by_page(page, live_server, [_resource_page(portal)] + MORE_PUBLIC_PAGES)


@pytest.mark.usefixtures("with_plugins")
def test_signed_in_pages_have_no_serious_accessibility_violation(portal, page, live_server):
    user = portal.sysadmin["name"]
    token = factories.APIToken(user=user)["token"]
    page.context.set_extra_http_headers({"Authorization": token})
    assert not _violations_by_page(page, live_server, [p.format(user=user) for p in SIGNED_IN_PAGES])
