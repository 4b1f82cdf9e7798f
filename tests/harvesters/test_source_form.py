"""A sysadmin creates a harvest source of the portal's harvesters through ckanext-harvest's web
form: both harvesters are offered, a bad configuration is refused with a French message and
nothing is created, a good one creates the source."""
from __future__ import annotations

import json

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")


def _form(org_id: str, config: str) -> dict[str, str]:
    return {"name": "menj-ods", "title": "Ministère (Opendatasoft)", "url": "https://data.education.gouv.fr",
            "source_type": "ecarto_ods", "frequency": "MANUAL", "owner_org": org_id, "config": config,
            "save": ""}


def test_harvest_source_form_offers_and_checks_the_portals_harvesters(harvest_db, org, app):
    sysadmin = factories.Sysadmin()
    headers = {"Authorization": factories.APIToken(user=sysadmin["name"])["token"]}
    page = app.get("/harvest/new", headers=headers, status=200).get_data(as_text=True)
    assert 'value="ecarto_ods"' in page and 'value="ecarto_udata"' in page

    for config, message in (('{"datasets": [', "Configuration illisible : JSON invalide"),
                            ('{"axe": "meteo"}', "Axe inconnu : « meteo »")):
        refused = app.post("/harvest/new", data=_form(org["id"], config), headers=headers).get_data(as_text=True)
        assert message in refused.replace("&#34;", '"'), message
    assert helpers.call_action("harvest_source_list", {"ignore_auth": True}) == []

    config = json.dumps({"datasets": [{"id": "fr-en-annuaire-education", "axe": "etablissements"}]})
    app.post("/harvest/new", data=_form(org["id"], config), headers=headers)
    sources = helpers.call_action("harvest_source_list", {"ignore_auth": True})
    assert [(s["title"], s["type"]) for s in sources] == [("Ministère (Opendatasoft)", "ecarto_ods")]
    source = helpers.call_action("harvest_source_show", {"ignore_auth": True}, id="menj-ods")
    assert json.loads(source["config"])["datasets"][0]["axe"] == "etablissements"
