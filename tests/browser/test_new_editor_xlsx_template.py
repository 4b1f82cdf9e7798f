"""A new editor of a collectivité, in Chromium, from login to a published file using only the XLSX
template the portal gives: log in (the avatar shows), create the dataset choosing its axis (no
axis is preselected; the axis's schema and templates are offered right there), download the
XLSX template from the form, fill it (openpyxl, as the agent would in a spreadsheet) with real
collèges of Haute-Garonne from the annuaire in data/sample, upload it, read the report, publish,
and find the value on the establishment page.

Screenshots (tests/screenshots/): modele-1-formulaire-axe, modele-2-schema, modele-3-ajout,
modele-4-rapport, modele-5-publie, modele-6-etablissement."""
from __future__ import annotations

import openpyxl
import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.publication import files
from tests.publication.browser import log_in
from tests.publication.conftest import portal  # noqa: F401 - the module's small portal (directory, organization)

pytestmark = pytest.mark.usefixtures("with_plugins")

AXE = "equipement"


def _fill(template_path, uais: list[str], out_path) -> dict[str, dict[str, object]]:
    """The agent's work: one line per collège under the header, the header left as it is."""
    book = openpyxl.load_workbook(template_path)
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    values = {}
    for n, uai in enumerate(uais):
        line = {"uai": uai, "millesime": "2023-2024", "nb_terminaux": 40 + n, "nb_tablettes": 10 + n,
                "nb_tni": 3, "part_classes_tbi": 62.5, "maintenance_collectivite": True}
        values[uai] = line
        sheet.append([line.get(name) for name in header])
    book.save(out_path)
    return values


def test_a_new_editor_publishes_with_the_xlsx_template(portal, page, live_server, screenshot, tmp_path):  # noqa: F811
    agent = factories.User(name="agent-modele", password=portal.password, image_url="")
    helpers.call_action("organization_member_create", {"user": portal.sysadmin["name"]}, id=portal.org["id"],
                        username=agent["name"], role="editor")
    log_in(page, live_server, agent["name"], portal.password)
    avatar = page.locator("header img.user-image, .account img").first
    assert avatar.evaluate("img => img.complete && img.naturalWidth > 0"), "avatar cassé"

    # 1. The dataset form asks for the axis and offers each axis's schema and templates
    page.goto(f"{live_server}/dataset/new")
    assert page.locator("#field-axe").input_value() == ""
    page.fill("#field-title", "Équipement numérique des collèges de la Haute-Garonne")
    page.select_option("#field-axe", AXE)
    line = page.locator(f"[data-ecarto-axe-templates={AXE}]")
    assert line.is_visible() and not page.locator("[data-ecarto-axe-templates=connectivite]").is_visible()
    line.scroll_into_view_if_needed()
    screenshot(page, "modele-1-formulaire-axe")
    with page.expect_download() as download_info:
        line.get_by_role("link", name="XLSX").click()
    template = tmp_path / "modele.xlsx"
    download_info.value.save_as(template)
    assert download_info.value.suggested_filename == f"modele-ecarto-{AXE}.xlsx"

    # the schema page, where the columns are explained (opened in a new tab from the form)
    with page.context.expect_page() as schema_tab:
        line.get_by_role("link", name="schéma des données").click()
    schema = schema_tab.value
    schema.wait_for_load_state()
    assert "Part des classes équipées d'un TBI" in schema.locator("#colonne-part_classes_tbi").inner_text()
    screenshot(schema, "modele-2-schema")
    schema.close()

    page.select_option("#field-organizations", portal.org["id"])
    page.fill("#field-millesime", "2023-2024")
    if page.locator("#field-notes").count():
        page.fill("#field-notes", "Terminaux, tablettes et TNI des collèges publics, relevé de la rentrée 2023.")
    page.locator("button[name=save]").click()
    page.wait_for_url("**/resource/new")
    assert page.locator(f'.ecarto-templates a[href="/schemas/{AXE}.xlsx"]').count() == 1
    screenshot(page, "modele-3-ajout")

    # 2. The agent fills the downloaded template with real collèges of the directory
    uais = sorted(files.colleges_31())[:3]
    filled = tmp_path / "equipement-colleges-31.xlsx"
    values = _fill(template, uais, filled)

    page.set_input_files("#ecarto-upload", str(filled))
    page.locator(".ecarto-upload-form button[type=submit]").click()
    page.wait_for_selector(".ecarto-report")
    report = page.locator(".ecarto-report")
    assert report.get_attribute("data-verdict") == "ok", report.inner_text()[:2000]
    assert page.locator(".ecarto-report-preview tbody tr").count() == 3
    screenshot(page, "modele-4-rapport")

    # 3. Publish, then the establishment page shows the value
    page.get_by_role("button", name="Publier ces données").click()
    page.wait_for_selector(".ecarto-published")
    screenshot(page, "modele-5-publie")
    uai = uais[0]
    page.goto(f"{live_server}/etablissement/{uai}")
    section = page.locator(f"#axe-{AXE}")
    section.scroll_into_view_if_needed()
    text = section.inner_text()
    assert "Nombre total de terminaux" in text and str(values[uai]["nb_terminaux"]) in text
    assert "Équipement numérique des collèges de la Haute-Garonne" in page.content()
    screenshot(page, "modele-6-etablissement")
