"""The resource view `ecarto_carte_uai`: any resource with a UAI column gets a map of its
establishments coloured by a chosen column."""
from __future__ import annotations

import pytest

import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_map_view_of_a_uai_resource(app, portal):
    rid = portal.resource_id("ips-colleges-2023")
    ctx = {"user": portal.sysadmin["name"]}
    view = helpers.call_action("resource_view_create", ctx, resource_id=rid, view_type="ecarto_carte_uai",
                               title="Carte", colonne="ips")
    data = app.get(f"/territoire/carte-uai/{rid}.json?colonne=ips").json
    assert data["colonne"]["name"] == "ips" and data["legende"]["type"] == "classes"
    ips = portal.expected.ips
    point = data["points"][0]
    assert point["valeur"] == pytest.approx(ips[point["uai"]])
    page = app.get(f"/dataset/ips-colleges-2023/resource/{rid}?view_id={view['id']}").body
    assert "data-ecarto-carte-uai" in page


def test_no_map_view_for_a_commune_resource_and_none_for_outsiders_of_a_private_one(app, portal):
    from ckan.plugins import toolkit as tk
    from ckanext.ecarto.plugin import CarteUaiPlugin
    plugin = CarteUaiPlugin()
    assert not plugin.can_view({"resource": {"id": portal.resource_id("arcep-communes-2018")}})
    assert plugin.can_view({"resource": {"id": portal.resource_id("ips-colleges-2023")}})
    app.get(f"/territoire/carte-uai/{portal.resource_id('ips-prive')}.json", status=404)
