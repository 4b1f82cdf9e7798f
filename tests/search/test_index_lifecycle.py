"""The index follows the datasets: create, update, delete, rebuild, check, show, and the
DataStore flag set after CKAN's own commit."""
from __future__ import annotations

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers
from ckan.cli.cli import ckan as ckan_cli

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")


def _dataset(sysadmin, org, name, **extra):
    return helpers.call_action("package_create", {"user": sysadmin["name"]}, name=name,
                               title=extra.pop("title", name), owner_org=org["id"],
                               axe="etablissements", license_id="etalab-2.0", **extra)


@pytest.fixture
def owner():
    sysadmin = factories.Sysadmin()
    org = helpers.call_action("organization_create", {"user": sysadmin["name"]}, name="menj", title="MENJ")
    return sysadmin, org


def _names(**params):
    return [d["name"] for d in helpers.call_action("package_search", rows=100, **params)["results"]]


def test_update_and_delete_are_reflected(owner):
    sysadmin, org = owner
    pkg = _dataset(sysadmin, org, "annuaire-2024", title="Annuaire des lycées")
    assert _names(q="lycées") == ["annuaire-2024"]
    helpers.call_action("package_patch", {"user": sysadmin["name"]}, id=pkg["id"], title="Annuaire des collèges")
    assert _names(q="lycées") == [] and _names(q="collèges") == ["annuaire-2024"]
    helpers.call_action("package_delete", {"user": sysadmin["name"]}, id=pkg["id"])
    assert _names(q="*:*") == []


@pytest.mark.ckan_config("ckan.search.remove_deleted_packages", False)
def test_include_deleted_when_deleted_datasets_stay_indexed(owner):
    sysadmin, org = owner
    pkg = _dataset(sysadmin, org, "ancien-annuaire")
    helpers.call_action("package_delete", {"user": sysadmin["name"]}, id=pkg["id"])
    assert _names() == []
    assert _names(include_deleted=True) == ["ancien-annuaire"]


def test_search_index_commands(owner, cli):
    sysadmin, org = owner
    for i in range(3):
        _dataset(sysadmin, org, f"jeu-{i}")
    helpers.call_action("package_search")  # warm
    from ckan.lib.search import clear_all
    clear_all()
    assert _names() == []
    result = cli.invoke(ckan_cli, ["search-index", "check"])
    assert "Packages not indexed = 3 out of 3" in result.output
    result = cli.invoke(ckan_cli, ["search-index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert sorted(_names()) == ["jeu-0", "jeu-1", "jeu-2"]
    result = cli.invoke(ckan_cli, ["search-index", "check"])
    assert "Packages not indexed = 0 out of 3" in result.output
    result = cli.invoke(ckan_cli, ["search-index", "show", "jeu-1"])
    assert result.exit_code == 0 and "jeu-1" in result.output


def test_datastore_active_flag_reaches_the_index(owner):
    sysadmin, org = owner
    pkg = _dataset(sysadmin, org, "ips", resources=[{"url": "https://exemple.gouv.fr/ips.csv", "format": "CSV"}])
    resource_id = pkg["resources"][0]["id"]
    helpers.call_action("datastore_create", {"user": sysadmin["name"]}, resource_id=resource_id, force=True,
                        fields=[{"id": "UAI", "type": "text"}, {"id": "IPS", "type": "numeric"}],
                        records=[{"UAI": "0311131L", "IPS": 101.2}])
    found = helpers.call_action("package_search", q="name:ips")["results"][0]
    assert found["resources"][0]["datastore_active"] is True


def _catalogue_counts(**params):
    """Hits and facets of the whole catalogue as an anonymous visitor sees it."""
    result = helpers.call_action("package_search", {"user": "", "ignore_auth": False},
                                 **{"facet.field": '["organization", "tags"]'}, **params)
    return result["count"], result["facets"]


def test_whole_catalogue_counts_follow_every_change(owner):
    """The counts of the unfiltered catalogue are reused while the index is unchanged: any
    write (creation, a dataset made private, deletion) shows in the next search."""
    sysadmin, org = owner
    first = _dataset(sysadmin, org, "annuaire-2024", tags=[{"name": "annuaire"}])
    assert _catalogue_counts() == (1, {"organization": {"menj": 1}, "tags": {"annuaire": 1}})
    assert _catalogue_counts(sort="title_string asc") == _catalogue_counts()
    second = _dataset(sysadmin, org, "wifi-2024", tags=[{"name": "wifi"}])
    assert _catalogue_counts() == (2, {"organization": {"menj": 2}, "tags": {"annuaire": 1, "wifi": 1}})
    helpers.call_action("package_patch", {"user": sysadmin["name"]}, id=second["id"], private=True)
    assert _catalogue_counts() == (1, {"organization": {"menj": 1}, "tags": {"annuaire": 1}})
    helpers.call_action("package_delete", {"user": sysadmin["name"]}, id=first["id"])
    assert _catalogue_counts() == (0, {"organization": {}, "tags": {}})
    # the private dataset is counted for whoever may read it, never for the anonymous visitor
    mine = helpers.call_action("package_search", {"user": sysadmin["name"]}, include_private=True,
                               **{"facet.field": '["tags"]'})
    assert (mine["count"], mine["facets"]) == (1, {"tags": {"wifi": 1}})
