"""Catalogue facets: axis, territory level and territory, producer, millésime, licence, format."""
from __future__ import annotations

import pytest

import ckan.tests.helpers as helpers

from tests.schemas.conftest import dataset_dict

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")


def test_facets_on_schema_fields(ctx, org):
    for name, axe, level, code, millesime in [
        ("a", "connectivite", "departement", "031", "2018"),
        ("b", "connectivite", "departement", "34", "2018"),
        ("c", "equipement", "region", "76", "2017-2018"),
    ]:
        helpers.call_action("package_create", context=dict(ctx), **dataset_dict(
            f"facette-{name}", org["id"], axe=axe, territoire_niveau=level, territoire_code=code,
            millesime=millesime))
    fields = ["axe", "territoire_niveau", "territoire_code", "organization", "millesime",
              "license_id", "res_format"]
    result = helpers.call_action("package_search", q="*:*", **{"facet.field": fields})
    facets = result["facets"]
    assert facets["axe"] == {"connectivite": 2, "equipement": 1}
    assert facets["territoire_niveau"] == {"departement": 2, "region": 1}
    assert facets["territoire_code"] == {"31": 1, "34": 1, "76": 1}
    assert facets["millesime"] == {"2018": 2, "2017-2018": 1}
    assert facets["organization"] == {"region-occitanie": 3}
    assert facets["license_id"] == {"etalab-2.0": 3}
    assert facets["res_format"] == {"CSV": 3}
    only = helpers.call_action("package_search", fq='territoire_code:"31"')
    assert [d["name"] for d in only["results"]] == ["facette-a"]


def test_catalogue_page_shows_the_facets(app, ctx, org):
    helpers.call_action("package_create", context=dict(ctx), **dataset_dict(
        "facette-page", org["id"], territoire_niveau="departement", territoire_code="31", millesime="2024"))
    page = app.get("/dataset/", status=200).get_data(as_text=True)
    for title in ("Axe", "Niveau du territoire", "Territoire couvert", "Millésime"):
        assert title in page, title
    assert "Haute-Garonne (département 31)" in page     # the territory by name, not its code
    assert "Aucune valeur de" not in page     # empty facets (« Groupes ») are not shown
    for param in ("territoire=departement-31", "license_id=etalab-2.0", "res_format=CSV", "organization=region-occitanie"):
        assert param in page, param
