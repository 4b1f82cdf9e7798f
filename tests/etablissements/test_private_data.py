"""A private dataset never feeds the page, its JSON or its reference values for outsiders."""
from __future__ import annotations

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def ips_private(portal):
    ctx = {"user": portal.sysadmin["name"]}
    helpers.call_action("package_patch", ctx, id="ips-colleges-2023", private=True)
    yield
    helpers.call_action("package_patch", ctx, id="ips-colleges-2023", private=False)


def test_private_upload_is_invisible_to_anonymous(app, portal, ips_private):
    uai = portal.college_with_ips()["Identifiant_de_l_etablissement"]
    anonymous = helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai=uai)
    assert "ips-colleges-2023" not in {b["source"]["dataset"] for b in anonymous["autres_donnees"]}
    page = app.get(f"/etablissement/{uai}.json")
    assert "ips-colleges-2023" not in page.body
    outsider = factories.User()
    record = helpers.call_action("ecarto_etablissement_show", {"user": outsider["name"], "ignore_auth": False}, uai=uai)
    assert "ips-colleges-2023" not in {b["source"]["dataset"] for b in record["autres_donnees"]}


def test_members_of_the_organization_see_it(portal, ips_private):
    uai = portal.college_with_ips()["Identifiant_de_l_etablissement"]
    member = portal.member
    record = helpers.call_action("ecarto_etablissement_show", {"user": member["name"], "ignore_auth": False}, uai=uai)
    assert "ips-colleges-2023" in {b["source"]["dataset"] for b in record["autres_donnees"]}
