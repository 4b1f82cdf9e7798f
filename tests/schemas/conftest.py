"""Helpers of the schema tests: a producer organization and a dataset dict per axis."""
from __future__ import annotations

from typing import Any

import pytest

import ckan.tests.factories as factories

AXES = ("etablissements", "connectivite", "equipement", "services_ressources", "experimentations")
RESOURCE_URL = "https://data.education.gouv.fr/explore/dataset/fr-en-annuaire-education/export.csv"


@pytest.fixture
def sysadmin() -> dict[str, Any]:
    return factories.Sysadmin()


@pytest.fixture
def ctx(sysadmin) -> dict[str, Any]:
    """Action context of a sysadmin (the activity plugin needs a real user)."""
    return {"user": sysadmin["name"], "ignore_auth": True}


@pytest.fixture
def org() -> dict[str, Any]:
    return factories.Organization(name="region-occitanie", title="Région Occitanie")


def dataset_dict(name: str, org_id: str, **fields: Any) -> dict[str, Any]:
    data = {
        "name": name,
        "title": f"Jeu {name}",
        "owner_org": org_id,
        "axe": "connectivite",
        "notes": "Données de test.",
        "resources": [{"url": RESOURCE_URL, "name": "Fichier CSV", "format": "CSV"}],
    }
    data.update(fields)
    return data
