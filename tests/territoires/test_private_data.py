"""Private datasets never feed the territory aggregates, exports or maps — for anyone."""
from __future__ import annotations

import re

import pytest

import ckan.tests.helpers as helpers

from tests.territoires.conftest import show

pytestmark = pytest.mark.usefixtures("with_plugins")


def _datasets(record):
    return {b["source"]["dataset"] for a in record["axes"] for b in a["indicateurs"]}


def test_private_copy_never_appears(app, portal):
    for niveau, code in (("france", ""), ("region", "76"), ("departement", "31")):
        assert "ips-prive" not in _datasets(show(niveau, code))
        assert "ips-prive" not in app.get(f"/territoire/{niveau}/{code}.json" if code else "/territoire/france.json").body
    # not even for a member of its organization or a sysadmin: aggregates are public data only
    assert "ips-prive" not in _datasets(show("france", user=portal.member["name"]))
    assert "ips-prive" not in _datasets(show("france", user=portal.sysadmin["name"]))
    # its period (2099) is nowhere on the page; not a match inside a random id or hash
    assert not re.search(r"(?<![0-9a-f-])2099(?![0-9a-f-])", app.get("/territoire/france").body)


@pytest.fixture
def ips_private(portal):
    ctx = {"user": portal.sysadmin["name"]}
    helpers.call_action("package_patch", ctx, id="ips-colleges-2023", private=True)
    yield
    helpers.call_action("package_patch", ctx, id="ips-colleges-2023", private=False)


def test_making_a_dataset_private_removes_it_from_aggregates(app, portal, ips_private):
    record = show("departement", "31")
    assert "ips-colleges-2023" not in _datasets(record)
    assert "IPS des collèges 2023" not in app.get("/territoire/departement/31").body
    assert "ips-colleges-2023" not in app.get("/etat-des-lieux?format=json").body
