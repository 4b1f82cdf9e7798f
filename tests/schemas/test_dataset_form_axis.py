"""The dataset form asks for the axis (no silent default), shows each axis's schema and templates
where the axis is chosen, edits the data dictionary as a table (degrading to its JSON textarea),
and says one thing about licences: the Licence Ouverte 2.0, no Open Database License sentence."""
from __future__ import annotations

import re
from html import unescape

import pytest

import ckan.model as model
import ckan.tests.factories as factories

from tests.schemas.conftest import AXES

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")


@pytest.fixture
def editor():
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    token = factories.APIToken(user=user["name"])["token"]
    return {"Authorization": token}, org


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_axis_is_asked_not_defaulted(app, editor):
    headers, _org = editor
    page = _text(app.get("/dataset/new", headers=headers, status=200))
    select = re.search(r'<select id="field-axe"[^>]*>(.*?)</select>', page, re.S)
    assert select and "required" in select.group(0).split(">")[0]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    assert options[0] == ("", " selected", "— choisir un axe —")
    assert [o[0] for o in options[1:]] == list(AXES) and not any(o[1] for o in options[1:])
    # the schema and templates of each axis are offered where the axis is chosen
    for axe in AXES:
        assert f'href="/schemas/{axe}"' in page and f'href="/schemas/{axe}.xlsx"' in page


def test_a_dataset_posted_without_axis_gets_a_french_error_and_is_not_saved(app, editor):
    headers, org = editor
    form = {"name": "sans-axe", "title": "Sans axe", "axe": "", "owner_org": org["id"],
            "license_id": "etalab-2.0", "save": "", "_ckan_phase": "dataset_new_1"}
    page = _text(app.post("/dataset/new", data=form, headers=headers, status=200))
    assert "Choisissez l'axe du jeu de données" in page
    assert model.Package.get("sans-axe") is None
    # the form is shown again with the empty choice, not a silently chosen axis
    assert re.search(r'<option value="" selected>— choisir un axe —</option>', page)


def test_licence_text_is_consistent(app, editor):
    headers, _org = editor
    page = _text(app.get("/dataset/new", headers=headers, status=200))
    # CKAN's sentence putting the metadata under the ODbL is gone (ODbL stays a licence one may choose)
    assert "opendatacommons.org/licenses/odbl" not in page and "agree to release" not in page
    note = re.search(r'<p class="action-info small ecarto-licence-note">(.*?)</p>', page, re.S).group(1)
    assert "Licence Ouverte 2.0" in note and "métadonnées" in note
    assert re.search(r'<option value="etalab-2.0" selected', page)


def test_the_resource_form_offers_the_dictionary_table_over_its_json(app, editor):
    headers, org = editor
    dataset = factories.Dataset(owner_org=org["id"], axe="equipement", millesime="2024",
                                resources=[{"url": "https://example.org/notice.pdf", "format": "PDF", "name": "Notice"}])
    resource_id = dataset["resources"][0]["id"]
    page = _text(app.get(f"/dataset/{dataset['name']}/resource/{resource_id}/edit", headers=headers, status=200))
    assert 'id="field-data_dictionary"' in page                 # the JSON textarea, without JavaScript
    assert 'data-ecarto-dictionary="field-data_dictionary"' in page
    assert '<option value="measure:sum">' in page and '<option value="flag">' in page
