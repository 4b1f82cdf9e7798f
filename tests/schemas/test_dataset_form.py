"""The dataset form through CKAN's test app: one section per axis, creation and edition for each
axis, French validation errors shown in the page and nothing saved."""
from __future__ import annotations

import pytest

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.schemas.conftest import AXES

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")

AXIS_FORM_VALUES = {
    "etablissements": {"etablissements_secteur": "public", "etablissements_types": "college"},
    "connectivite": {"connectivite_source": "arcep", "connectivite_indicateurs": "debit_max"},
    "equipement": {"equipement_source": "etic"},
    "services_ressources": {"services_ressources_ent": "ENT Occitanie"},
    "experimentations": {"experimentations_programme": "e-fran",
                         "experimentations_uai": "0311131L\n6200733C"},
}


@pytest.fixture
def sysadmin_env():
    user = factories.Sysadmin()
    token = factories.APIToken(user=user["name"])
    return {"Authorization": token["token"]}, user


def test_new_dataset_form_has_one_section_per_axis(app, sysadmin_env):
    headers, _user = sysadmin_env
    page = app.get("/dataset/new", headers=headers, status=200).get_data(as_text=True)
    for axe in AXES:
        assert f'data-ecarto-axe="{axe}"' in page
    assert "Champs de l’axe « Connectivité »" in page or "Champs de l&#39;axe" in page or "Connectivité" in page
    assert 'name="territoire_code"' in page and 'name="millesime"' in page


@pytest.mark.parametrize("axe", AXES)
def test_create_and_edit_through_the_form(app, sysadmin_env, axe):
    headers, _user = sysadmin_env
    org = factories.Organization()
    name = f"formulaire-{axe.replace('_', '-')}"
    form = {"name": name, "title": f"Formulaire {axe}", "axe": axe, "owner_org": org["id"],
            "territoire_niveau": "departement", "territoire_code": "031", "millesime": "2023-2024",
            "license_id": "etalab-2.0", "temporal_start": "2023-09-01", "temporal_end": "2024-07-05",
            "notes": f"Jeu de l'axe {axe} créé par le formulaire.",
            "save": "", "_ckan_phase": "", **AXIS_FORM_VALUES[axe]}
    app.post("/dataset/new", data=form, headers=headers, status=200)
    shown = helpers.call_action("package_show", id=name)
    assert shown["axe"] == axe and shown["territoire_code"] == "31"
    for key in AXIS_FORM_VALUES[axe]:
        assert shown.get(key), key
    edit = app.get(f"/dataset/edit/{name}", headers=headers, status=200).get_data(as_text=True)
    assert f'data-ecarto-axe="{axe}"' in edit
    form.update(title="Titre modifié", save="")
    app.post(f"/dataset/edit/{name}", data=form, headers=headers, status=200)
    assert helpers.call_action("package_show", id=name)["title"] == "Titre modifié"


def test_form_shows_french_errors_and_saves_nothing(app, sysadmin_env):
    headers, _user = sysadmin_env
    org = factories.Organization()
    form = {"name": "formulaire-faux", "title": "Faux", "axe": "experimentations", "owner_org": org["id"],
            "territoire_niveau": "departement", "territoire_code": "99",
            "temporal_start": "2024-09-01", "temporal_end": "2024-01-01",
            "spatial": '{"type": "Point", "coordinates": [1.4, 43.6]}',
            "experimentations_uai": "0750001A", "save": "", "_ckan_phase": ""}
    page = app.post("/dataset/new", data=form, headers=headers).get_data(as_text=True)
    assert "Le code « 99 » n'existe pas pour le niveau « département »" in page.replace("&#39;", "'")
    assert "est antérieure à son début" in page
    assert "Couverture géographique de type « Point » refusée" in page
    assert "UAI 0750001A invalide : la lettre clé attendue est U." in page
    assert model.Package.get("formulaire-faux") is None
