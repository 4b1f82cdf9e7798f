"""A small public catalogue (one dataset per axis) for the DCAT tests, built once per module."""
from __future__ import annotations

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

FREQ = "http://publications.europa.eu/resource/authority/frequency/"
DATASETS = [
    dict(name="annuaire-occitanie", axe="etablissements", territoire_niveau="region", territoire_code="76",
         millesime="2024", temporal_start="2024-11-26", temporal_end="2024-11-26"),
    dict(name="debits-haute-garonne", axe="connectivite", territoire_niveau="departement",
         territoire_code="031", millesime="2018", frequency=FREQ + "QUARTERLY",
         temporal_start="2017-07-01", temporal_end="2018-03-31"),
    dict(name="terminaux-academie-toulouse", axe="equipement", territoire_niveau="academie",
         territoire_code="16", millesime="2017-2018", frequency=FREQ + "ANNUAL",
         temporal_start="2017-09-01", temporal_end="2018-07-06"),
    dict(name="ent-toulouse", axe="services_ressources", territoire_niveau="commune",
         territoire_code="31555", millesime="2024"),
    dict(name="college-lab-france", axe="experimentations", territoire_niveau="france",
         millesime="2018", experimentations_programme="college-lab"),
]


@pytest.fixture(scope="module")
def dcat_catalogue(module_portal_db):
    app = helpers._get_test_app()
    with app.flask_app.test_request_context():
        admin = factories.Sysadmin()
        ctx = {"user": admin["name"], "ignore_auth": True}
        org = factories.Organization(name="menj", title="Ministère de l'Éducation nationale")
        created = []
        for spec in DATASETS:
            created.append(helpers.call_action(
                "package_create", context=dict(ctx), owner_org=org["id"],
                title=f"Jeu {spec['name']}", notes="Données réelles de test.", license_id="etalab-2.0",
                url="https://data.education.gouv.fr/", tag_string="écoles,numérique",
                resources=[{"url": f"https://data.example.org/{spec['name']}.csv", "format": "CSV",
                            "name": "Fichier CSV"}], **spec))
        helpers.call_action("package_create", context=dict(ctx), owner_org=org["id"],
                            name="prive-dcat", title="Privé", private=True, axe="connectivite")
    return {d["name"]: d for d in created}
