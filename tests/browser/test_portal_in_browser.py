"""A visitor opens the portal in a real browser: home page and catalogue, in French."""
from __future__ import annotations

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_home_and_catalogue_pages(page, live_server, screenshot):
    sysadmin = factories.Sysadmin()
    org = helpers.call_action(
        "organization_create", {"user": sysadmin["name"]},
        name="arcep", title="Arcep",
    )
    helpers.call_action(
        "package_create", {"user": sysadmin["name"]},
        name="arcep-thd-2018-t1", title="Déploiement du FttH par commune — 2018 T1",
        owner_org=org["id"], axe="connectivite", license_id="etalab-2.0",
        territoire_niveau="france", millesime="2018",
    )

    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    screenshot(page, "accueil-portail-minimal")

    page.goto(live_server + "/dataset/")
    assert page.get_by_text("Déploiement du FttH par commune — 2018 T1").count() == 1
    screenshot(page, "catalogue")
