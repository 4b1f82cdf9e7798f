"""The data dictionary of a resource edited as a table of columns in Chromium (name, label, role,
unit, description) instead of raw JSON: the table writes the JSON the validator accepts, the
saved dictionary comes back in the table, keys the table does not show are kept, and the JSON
stays reachable. Screenshot: dictionnaire-tableau.png."""
from __future__ import annotations

import io
import json

import pytest
from werkzeug.datastructures import FileStorage

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")

CSV = "uai;nb_pc;wifi_ok\r\n0311131L;12;oui\r\n".encode("utf-8")


def _log_in(page, user_name: str) -> None:
    token = factories.APIToken(user=user_name)["token"]
    page.context.set_extra_http_headers({"Authorization": token})


def _resource(editor: dict, org: dict, dictionary: list | None = None) -> tuple[dict, dict]:
    ctx = {"user": editor["name"]}
    dataset = helpers.call_action("package_create", dict(ctx), name="dictionnaire-tableau", title="Équipement 31",
                                  owner_org=org["id"], axe="equipement", millesime="2024")
    fields = {"data_dictionary": json.dumps(dictionary)} if dictionary else {}
    resource = helpers.call_action("resource_create", dict(ctx), package_id=dataset["id"], name="Équipement",
                                   format="CSV", upload=FileStorage(io.BytesIO(CSV), "equipement.csv"), **fields)
    return dataset, resource


def _row(page, n: int):
    return page.locator(".ecarto-dictionary tbody tr").nth(n)


def test_the_dictionary_is_edited_as_a_table(page, live_server, screenshot):
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    dataset, resource = _resource(editor, org, [{"column": "nb_pc", "type": "integer", "indicator": "nb_terminaux"}])
    _log_in(page, editor["name"])
    page.goto(f"{live_server}/dataset/{dataset['name']}/resource/{resource['id']}/edit")

    table = page.locator(".ecarto-dictionary")
    assert table.is_visible() and not page.locator("#field-data_dictionary").is_visible()
    assert page.locator(".ecarto-dictionary tbody tr").count() == 1
    first = _row(page, 0)
    assert first.locator("[data-key=column]").input_value() == "nb_pc"
    first.locator("[data-key=label]").fill("Ordinateurs")
    first.locator("[data-key=role]").select_option("measure:sum")
    first.locator("[data-key=unit]").fill("postes")
    first.locator("[data-key=description]").fill("Postes fixes et portables")
    page.get_by_role("button", name="Ajouter une colonne").click()
    second = _row(page, 1)
    second.locator("[data-key=column]").fill("wifi_ok")
    second.locator("[data-key=label]").fill("Wi-Fi dans les classes")
    second.locator("[data-key=role]").select_option("flag")
    page.get_by_role("button", name="Ajouter une colonne").click()       # an empty line is not written
    screenshot(page, "dictionnaire-tableau")

    expected = [
        {"column": "nb_pc", "type": "integer", "indicator": "nb_terminaux", "label": "Ordinateurs",
         "unit": "postes", "description": "Postes fixes et portables", "role": "measure", "aggregation": "sum"},
        {"column": "wifi_ok", "label": "Wi-Fi dans les classes", "role": "flag", "aggregation": "share"},
    ]
    written = json.loads(page.locator("#field-data_dictionary").input_value())
    assert written == expected

    # the JSON stays reachable, and what is typed there comes back in the table
    page.get_by_role("button", name="Modifier le JSON directement").click()
    assert page.locator("#field-data_dictionary").is_visible() and not table.is_visible()
    page.get_by_role("button", name="Revenir au tableau des colonnes").click()
    assert table.is_visible() and page.locator(".ecarto-dictionary tbody tr").count() == 2

    with page.expect_navigation():
        page.locator("button[name=save]").click()
    saved = helpers.call_action("resource_show", id=resource["id"])["data_dictionary"]
    assert json.loads(saved) == expected              # the validator kept it as the table wrote it

    page.goto(f"{live_server}/dataset/{dataset['name']}/resource/{resource['id']}/edit")
    assert _row(page, 0).locator("[data-key=role]").input_value() == "measure:sum"
    assert _row(page, 1).locator("[data-key=role]").input_value() == "flag"
    assert _row(page, 1).locator("[data-key=label]").input_value() == "Wi-Fi dans les classes"


def test_a_dictionary_with_a_layout_keeps_it(page, live_server):
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    dataset, resource = _resource(editor, org)
    layout = {"columns": [{"column": "nb_pc"}], "layout": {"periods_from_columns": True}}
    helpers.call_action("resource_patch", {"user": editor["name"]}, id=resource["id"],
                        data_dictionary=json.dumps(layout))
    _log_in(page, editor["name"])
    page.goto(f"{live_server}/dataset/{dataset['name']}/resource/{resource['id']}/edit")
    _row(page, 0).locator("[data-key=unit]").fill("postes")
    written = json.loads(page.locator("#field-data_dictionary").input_value())
    assert written == {"columns": [{"column": "nb_pc", "unit": "postes"}], "layout": {"periods_from_columns": True}}


def _serious_violations(page, context: str | None = None) -> list[str]:
    """axe-core's serious or critical WCAG 2.1 AA violations (as tests/browser/test_accessibility.py),
    in `context` (a CSS selector) or the whole page."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, context=context, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def test_the_table_and_the_schema_page_are_accessible(page, live_server):
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    dataset, resource = _resource(editor, org, [{"column": "nb_pc", "role": "measure", "aggregation": "sum"}])
    _log_in(page, editor["name"])
    page.goto(f"{live_server}/dataset/{dataset['name']}/resource/{resource['id']}/edit")
    assert page.locator(".ecarto-dictionary").is_visible()
    assert _serious_violations(page, ".ecarto-dictionary") == []     # the rest of the form is CKAN's
    page.goto(f"{live_server}/schemas/equipement")
    assert _serious_violations(page) == []
    page.goto(f"{live_server}/schemas")
    assert _serious_violations(page) == []
