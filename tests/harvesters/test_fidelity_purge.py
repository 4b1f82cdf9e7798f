"""Purging cleans: after a harvest source is cleared (``harvest_source_clear``, which deletes its
datasets by SQL) or a harvested dataset purged (``dataset_purge``), no ingested table, registry
row, directory row or aggregate series of their resources is left behind."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import ckan.tests.helpers as helpers
import ckan.plugins.toolkit as tk
from ckan.model import meta
from ckan.tests import factories

from ckanext.ecarto import ingest
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.harvesters.run import run_source
from ckanext.ecarto.territoires import aggregates

from .conftest import harvested

pytestmark = pytest.mark.usefixtures("with_plugins")


def loaded_resources(source_id: str) -> dict[str, str]:
    """resource id -> table name of every loaded resource of the source's datasets."""
    found = {}
    for dataset in harvested(source_id).values():
        for resource in dataset["resources"]:
            row = ingest.status(resource["id"])
            if row and row["status"] == "ok":
                found[resource["id"]] = row["table_name"]
    return found


def table_exists(name: str) -> bool:
    with meta.engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": name}).scalar())


def leftovers(resources: dict[str, str]) -> dict[str, list[str]]:
    with meta.engine.connect() as conn:
        in_directory = directory.resource_ids(conn) if directory.exists(conn) else set()
        series = {s.resource_id for s in aggregates.discover_series(conn)}
    return {
        "registry": [r for r in resources if ingest.status(r) is not None],
        "tables": [t for t in resources.values() if table_exists(t)],
        "directory": [r for r in resources if r in in_directory],
        "aggregates": [r for r in resources if r in series],
    }


def test_clearing_a_source_drops_the_tables_of_its_datasets(udata_source, remote):
    assert run_source(udata_source["name"]).errors == 0
    resources = loaded_resources(udata_source["id"])
    assert len(resources) == 5                                    # 1 UAI + 4 commune tables
    before = leftovers(resources)
    assert before["registry"] and before["tables"] and before["directory"] and before["aggregates"]

    sysadmin = factories.Sysadmin()
    helpers.call_action("harvest_source_clear", {"user": sysadmin["name"]}, id=udata_source["id"])

    assert harvested(udata_source["id"]) == {}
    assert leftovers(resources) == {"registry": [], "tables": [], "directory": [], "aggregates": []}
    for resource_id in resources:
        with pytest.raises(tk.ObjectNotFound):
            helpers.call_action("ecarto_ingest_status", {"ignore_auth": True}, id=resource_id)


def test_purging_a_harvested_dataset_drops_its_tables(udata_source, remote):
    run_source(udata_source["name"])
    annuaire = harvested(udata_source["id"])["annuaire-de-leducation"]
    resource_id = annuaire["resources"][0]["id"]
    resources = {resource_id: ingest.status(resource_id)["table_name"]}
    assert leftovers(resources)["directory"] == [resource_id]

    sysadmin = factories.Sysadmin()
    helpers.call_action("dataset_purge", {"user": sysadmin["name"]}, id=annuaire["id"])

    assert leftovers(resources) == {"registry": [], "tables": [], "directory": [], "aggregates": []}
    others = loaded_resources(udata_source["id"])
    assert len(others) == 4 and all(table_exists(t) for t in others.values())   # the others stay
