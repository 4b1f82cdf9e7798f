"""The portal answers without Solr: home, catalogue, organization and dataset pages, Action API."""
from __future__ import annotations

import pysolr
import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers


@pytest.fixture
def no_solr(monkeypatch):
    """Any attempt to open a Solr connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("Solr was contacted")
    monkeypatch.setattr(pysolr.Solr, "__init__", refuse)


@pytest.fixture
def catalogue(ecarto_db):
    sysadmin = factories.Sysadmin()
    org = helpers.call_action(
        "organization_create", {"user": sysadmin["name"]},
        name="menj", title="Ministère de l'Éducation nationale",
    )
    dataset = helpers.call_action(
        "package_create", {"user": sysadmin["name"]},
        name="annuaire-education-occitanie",
        title="Annuaire de l'éducation — Occitanie",
        notes="Écoles, collèges et lycées de la région académique Occitanie.",
        owner_org=org["id"], axe="etablissements", license_id="etalab-2.0",
        territoire_niveau="region", territoire_code="76", millesime="2024",
        tags=[{"name": "écoles"}],
    )
    return {"org": org, "dataset": dataset, "sysadmin": sysadmin}


@pytest.mark.usefixtures("with_plugins", "no_solr")
class TestPagesWithoutSolr:
    def test_status_show_answers(self, app):
        res = app.get("/api/3/action/status_show")
        assert res.status_code == 200
        assert res.json["result"]["ckan_version"] == "2.12.0"
        assert res.json["result"]["locale_default"] == "fr"

    def test_home_page_lists_in_french(self, app, catalogue):
        res = app.get("/")
        assert res.status_code == 200
        assert 'lang="fr"' in res.body

    def test_catalogue_page_finds_the_dataset(self, app, catalogue):
        res = app.get("/dataset/")
        assert res.status_code == 200
        assert "Annuaire de l&#39;éducation — Occitanie" in res.body or \
            "Annuaire de l'éducation — Occitanie" in res.body
        assert "1 jeu de données trouvé" in res.body

    def test_organization_page_counts_its_dataset(self, app, catalogue):
        res = app.get("/organization/menj")
        assert res.status_code == 200
        assert "annuaire-education-occitanie" in res.body
        show = helpers.call_action("organization_show", id="menj", include_datasets=False)
        assert show["package_count"] == 1

    def test_dataset_page(self, app, catalogue):
        res = app.get("/dataset/annuaire-education-occitanie")
        assert res.status_code == 200
        assert "Licence Ouverte / Open Licence version 2.0" in res.body

    def test_package_search_through_the_api(self, app, catalogue):
        res = app.get("/api/3/action/package_search", query_string={"q": "ecoles"})
        assert res.status_code == 200
        assert [d["name"] for d in res.json["result"]["results"]] == ["annuaire-education-occitanie"]
