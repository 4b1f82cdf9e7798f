"""The dataset form in a real browser, as an editor uses it: for each axis, the chosen axis's
section is the only one shown, the dataset is created and edited, and a wrong territory code
gets a French error message without anything saved."""
from __future__ import annotations

import pytest

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.schemas.conftest import AXES

# One axis-specific field filled through the form for each axis (id = field-<name>).
AXIS_FIELD = {
    "etablissements": ("select", "etablissements_secteur", "public"),
    "connectivite": ("select", "connectivite_source", "arcep"),
    "equipement": ("select", "equipement_source", "etic"),
    "services_ressources": ("text", "services_ressources_ent", "ENT Occitanie"),
    "experimentations": ("select", "experimentations_programme", "e-fran"),
}


def _log_in(page, user_name: str) -> None:
    """Acts as the user through an API token sent with every request of the browser (CKAN's
    login form redirects to the configured site_url, which is not the test server)."""
    token = factories.APIToken(user=user_name)["token"]
    page.context.set_extra_http_headers({"Authorization": token})


def _save(page) -> None:
    with page.expect_navigation():
        page.locator("button[name=save]").first.click()


def _fill_common(page, name: str, title: str, axe: str, org_id: str, territoire_code: str) -> None:
    page.fill("#field-title", title)
    # The URL field sits behind CKAN's slug preview: set it directly.
    page.evaluate("([n]) => { document.getElementById('field-name').value = n; }", [name])
    page.select_option("#field-axe", axe)
    page.select_option("#field-organizations", org_id)
    page.select_option("#field-territoire_niveau", "departement")
    page.fill("#field-territoire_code", territoire_code)
    page.fill("#field-millesime", "2023-2024")
    page.fill("#field-notes", f"{title} : jeu de données de test du formulaire (description obligatoire).")


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_editor_creates_and_edits_a_dataset_of_each_axis(page, live_server, screenshot):
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    _log_in(page, editor["name"])

    for axe in AXES:
        name = f"navigateur-{axe.replace('_', '-')}"
        page.goto(live_server + "/dataset/new")
        # Licence Ouverte 2.0 is preselected.
        assert page.locator("#field-license_id").input_value() == "etalab-2.0"
        _fill_common(page, name, f"Jeu {axe}", axe, org["id"], "031")
        sections = page.locator(".ecarto-axe-section")
        visible = [sections.nth(i).get_attribute("data-ecarto-axe")
                   for i in range(sections.count()) if sections.nth(i).is_visible()]
        assert visible == [axe], visible
        kind, field, value = AXIS_FIELD[axe]
        if kind == "select":
            page.select_option(f"#field-{field}", value)
        else:
            page.fill(f"#field-{field}", value)
        if axe == AXES[0]:
            screenshot(page, f"formulaire-jeu-{axe}")
        _save(page)
        # CKAN's second stage (add a resource) opens: the dataset exists, as a draft.
        errors = page.locator(".error-explanation").all_inner_texts()
        assert not errors, errors
        assert f"/dataset/{name}/resource/new" in page.url, page.url
        shown = helpers.call_action("package_show", {"ignore_auth": True}, id=name)
        assert shown["axe"] == axe and shown["territoire_code"] == "31"
        assert shown[field] == value
        assert shown["license_id"] == "etalab-2.0"

        page.goto(f"{live_server}/dataset/edit/{name}")
        assert page.locator(f".ecarto-axe-section[data-ecarto-axe='{axe}']").is_visible()
        page.fill("#field-title", f"Jeu {axe} (modifié)")
        _save(page)
        assert helpers.call_action("package_show", {"ignore_auth": True},
                                   id=name)["title"] == f"Jeu {axe} (modifié)"


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_wrong_territory_code_shows_a_french_error(page, live_server, screenshot):
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    _log_in(page, editor["name"])
    page.goto(live_server + "/dataset/new")
    _fill_common(page, "navigateur-erreur", "Jeu erroné", "connectivite", org["id"], "99")
    _save(page)
    assert page.get_by_text("Le code « 99 » n'existe pas pour le niveau « département »").count() >= 1
    screenshot(page, "formulaire-erreur-territoire")
    assert model.Package.get("navigateur-erreur") is None
