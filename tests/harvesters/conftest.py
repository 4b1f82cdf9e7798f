"""Fixtures of the harvester tests: a clean portal database, the fake remote portal (a real HTTP
server on loopback, see portal.py), harvest sources, and a movable clock."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from .portal import FakePortal

# fast failures: one retry, tiny backoff, short timeout
FAST = {"timeout": 2, "retries": 1, "backoff": 0.01}

ODS_CONFIG = {
    "datasets": [
        {"id": "fr-en-annuaire-education", "axe": "etablissements"},
        {"keyword": "IPS", "axe": "etablissements", "millesime": "2023"},
        {"keyword": "ETIC", "axe": "equipement", "millesime": "2018", "source": "etic"},
    ],
    **FAST,
}

UDATA_CONFIG = {
    "organizations": ["arcep"],
    "tags": ["education"],
    "axe": "connectivite",
    "rules": [
        {"tag": "education", "axe": "etablissements"},
        {"organization": "arcep", "axe": "connectivite", "source": "arcep"},
    ],
    "page_size": 2,
    **FAST,
}


@pytest.fixture
def harvest_db(ecarto_db, with_plugins):
    """Empty database with the harvest and ecarto tables, no leftover ingested tables."""
    from ckan.model import meta
    from ckanext.ecarto.core.tables import schema_name

    with meta.engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))
    yield


@pytest.fixture
def remote() -> Iterator[FakePortal]:
    portal = FakePortal().start()
    yield portal
    portal.stop()


@pytest.fixture
def org(harvest_db) -> dict[str, Any]:
    from ckan.tests import factories
    return factories.Organization(name="menj", title="Ministère de l'Éducation nationale")


@pytest.fixture
def make_source(harvest_db, org) -> Callable[..., dict[str, Any]]:
    import ckan.tests.helpers as helpers
    from ckan.tests import factories

    sysadmin = factories.Sysadmin()

    def make(source_type: str, url: str, config: dict[str, Any], name: str = "", owner_org: Any = "org") -> dict[str, Any]:
        data = {"name": name or source_type.replace("_", "-"), "title": name or source_type, "url": url,
                "source_type": source_type, "config": json.dumps(config), "frequency": "MANUAL"}
        if owner_org:
            data["owner_org"] = org["id"] if owner_org == "org" else owner_org
        return helpers.call_action("harvest_source_create", {"user": sysadmin["name"]}, **data)
    return make


@pytest.fixture
def ods_source(make_source, remote) -> dict[str, Any]:
    return make_source("ecarto_ods", remote.url, ODS_CONFIG)


@pytest.fixture
def udata_source(make_source, remote) -> dict[str, Any]:
    return make_source("ecarto_udata", remote.url, UDATA_CONFIG)


class Clock:
    def __init__(self) -> None:
        self.moment = dt.datetime(2026, 6, 1, 8, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from ckanext.ecarto.harvesters import clock as clock_module
    fake = Clock()
    monkeypatch.setattr(clock_module, "now", fake)
    return fake


def harvested(source_id: str) -> dict[str, dict[str, Any]]:
    """Datasets of a source, by name (private ones included), through package_search."""
    import ckan.tests.helpers as helpers
    found = helpers.call_action("package_search", {"ignore_auth": True}, fq=f'harvest_source_id:"{source_id}"',
                                rows=100, include_private=True)
    return {d["name"]: d for d in found["results"]}


def package_of(name: str) -> dict[str, Any]:
    import ckan.tests.helpers as helpers
    return helpers.call_action("package_show", {"ignore_auth": True}, id=name)


def table_rows(resource_id: str) -> int:
    from ckanext.ecarto import ingest
    from ckan.model import meta
    row = ingest.status(resource_id)
    assert row is not None and row["table_name"], f"resource {resource_id} not ingested: {row}"
    with meta.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {row['table_name']}")).scalar()
