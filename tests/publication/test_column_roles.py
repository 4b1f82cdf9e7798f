"""Column roles in the web pages (issue 14): the publisher sees the roles the portal infers in the
validation report and corrects them before publishing; editors correct them later on the
resource page, which loads the stored file again without a new upload; non-editors cannot; a role
the data contradict is refused with the column and examples, the previous table stays.

The file: the ministry's real multi-year IPS file of the collèges of the académie de Lille
(``data/sample/ips-colleges-multi-annees/fr-en-ips_colleges.csv``, 6 rentrées, 2,644 rows,
see its README), deposited as it is through the publication form.
"""
from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest

import ckan.tests.helpers as helpers

from ckanext.ecarto import ingest
from tests.ingest.ingest_helpers import column_types, scalar
from tests.publication.browser import log_in

pytestmark = pytest.mark.usefixtures("with_plugins")

IPS_MULTI = Path(__file__).resolve().parents[2] / "data" / "sample" / "ips-colleges-multi-annees" / "fr-en-ips_colleges.csv"
ECART = "Ecart-type de l'IPS"
COMMUNE = "Nom de la commune"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _row(page: str, column: str) -> str:
    """The <tr> of `column` in the table « Ce que le portail comprend de vos colonnes »."""
    match = re.search(rf'<tr data-column="{re.escape(column)}"[^>]*>.*?</tr>', page, re.S)
    assert match, f"colonne {column} absente du tableau des rôles"
    return match.group(0)


def _role_form(page: str) -> dict[str, str]:
    """The role form as a browser submits it: every column with its selected role."""
    form = re.search(r'<form method="post" action="[^"]*/roles" class="ecarto-roles-form">(.*?)</form>', page, re.S)
    assert form, "formulaire des rôles absent"
    body = form.group(1)
    data = {}
    for index, column in re.findall(r'<input type="hidden" name="column-(\d+)" value="([^"]*)">', body):
        select = re.search(rf'<select[^>]*name="role-{index}"[^>]*>(.*?)</select>', body, re.S).group(1)
        data[f"column-{index}"] = column
        data[f"role-{index}"] = re.search(r'<option value="([^"]+)" selected>', select).group(1)
    return data


def _with_role(form: dict[str, str], column: str, choice: str) -> dict[str, str]:
    index = next(k.split("-")[1] for k, v in form.items() if k.startswith("column-") and v == column)
    return {**form, f"role-{index}": choice}


def _column(status: dict, source: str) -> dict:
    return next(c for c in status["columns"] if c["source"] == source)


def test_roles_in_the_report_then_on_the_resource_page(app, portal, new_dataset):
    package = new_dataset("ips-lille-roles")
    name = package["name"]
    editor = portal.headers("editor")
    response = app.post(f"/dataset/{name}/publier", headers=editor, follow_redirects=False,
                        data={"upload": (io.BytesIO(IPS_MULTI.read_bytes()), "fr-en-ips_colleges.csv")})
    assert response.status_code == 302
    location = response.headers["Location"]
    page = _text(app.get(location, headers=editor, status=200))

    # the report: what the portal understands of the columns, before anything is published
    assert "Ce que le portail comprend de vos colonnes" in page
    assert 'data-role="period"' in _row(page, "Rentrée scolaire") and "période" in _row(page, "Rentrée scolaire")
    assert "6 rentrées : 2016-2017 … 2021-2022" in page
    assert 'data-role="measure"' in _row(page, "IPS") and "mesure (moyenne)" in _row(page, "IPS")
    assert "clé" in _row(page, "UAI") and "code" in _row(page, "Code du département")
    assert 'data-role="measure"' in _row(page, ECART)
    # the duplicates are counted per UAI and rentrée: a multi-year file has none
    assert "répètent une clé" not in page
    # accessible form: a fieldset with its legend, a label for every select
    assert re.search(r"<fieldset>\s*<legend[^>]*>Rôle de chaque colonne</legend>", page)
    form = _role_form(page)
    for key in form:
        if key.startswith("role-"):
            assert f'<label class="col-sm-6 col-form-label" for="ecarto-role-{key[5:]}">' in page
    assert "UAI" not in form.values()                      # the key's role is not editable

    # the publisher corrects one role: validated again with it
    response = app.post(f"{location}/roles", data=_with_role(form, ECART, "label"), headers=editor,
                        follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("#colonnes")
    page = _text(app.get(location, headers=editor, status=200))
    assert 'data-role="label"' in _row(page, ECART) and "déclaré" in _row(page, ECART)
    assert 'data-role="measure"' in _row(page, "IPS") and 'data-verdict="blocking"' not in page

    response = app.post(f"{location}/publier", data={"name": "IPS des collèges 2016-2022", "description": ""},
                        headers=editor, follow_redirects=False)
    assert response.status_code == 302, _text(response)[:2000]
    resource = helpers.call_action("package_show", id=name)["resources"][0]
    # only the corrected role is written into the resource's data dictionary
    assert json.loads(resource["data_dictionary"]) == [{"column": ECART, "role": "label"}]
    status = ingest.status(resource["id"])
    assert status["status"] == "ok" and status["n_rows"] == 2644
    assert _column(status, ECART)["role"] == "label" and _column(status, ECART)["type"] == "string"
    table = status["table_name"]
    assert column_types(table)[_column(status, ECART)["name"]] == "text"
    assert status["layout"]["period"]["values"][-1] == "2021-2022"

    # the resource page: the model, and the editor's form
    resource_url = f"/dataset/{name}/resource/{resource['id']}"
    page = _text(app.get(resource_url, headers=editor, status=200))
    assert "Ce que le portail comprend de vos colonnes" in page
    assert "6 rentrées : 2016-2017 … 2021-2022" in page
    assert 'data-role="label"' in _row(page, ECART) and 'data-role="measure"' in _row(page, "IPS")
    assert f'action="{resource_url}/roles"' in page
    response = app.get(f"{resource_url}/roles", headers=editor, follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{resource_url}#colonnes")

    # readers who may not edit the resource: the model, no form; their POST is refused
    for who in ("member", "outsider"):
        other = _text(app.get(resource_url, headers=portal.headers(who), status=200))
        assert "Ce que le portail comprend de vos colonnes" in other and f"{resource_url}/roles" not in other
        app.post(f"{resource_url}/roles", data=_with_role(form, ECART, "measure:mean"),
                 headers=portal.headers(who), status=403)
    assert _column(ingest.status(resource["id"]), ECART)["role"] == "label"

    # the editor sets it back to a measure: the stored file is loaded again, the pages follow
    loaded_before = status["loaded_at"]
    response = app.post(f"{resource_url}/roles", data=_with_role(_role_form(page), ECART, "measure:mean"),
                        headers=editor, follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{resource_url}#colonnes")
    assert "Rôles enregistrés" in _text(app.get(resource_url, headers=editor, status=200))
    status = ingest.status(resource["id"])
    assert status["loaded_at"] > loaded_before and status["failure"] is None
    ecart = _column(status, ECART)
    assert (ecart["role"], ecart["aggregation"], ecart["origin"]) == ("measure", "mean", "dictionary")
    assert column_types(status["table_name"])[ecart["name"]] == "double precision"
    assert json.loads(helpers.call_action("resource_show", id=resource["id"])["data_dictionary"]) == [
        {"column": ECART, "role": "measure", "aggregation": "mean"}]
    # a real value of the file, now a number: collège 0590002G, rentrée 2021-2022
    assert scalar(f'SELECT "{_column(status, "IPS")["name"]}" FROM {status["table_name"]} '
                  "WHERE _key = '0590002G' AND _periode = '2021-2022'") == pytest.approx(80.4)
    page = _text(app.get(resource_url, headers=editor, status=200))
    assert 'data-role="measure"' in _row(page, ECART)

    # a measure full of text: refused with the column and examples, the previous table stays
    rows_before = scalar(f"SELECT count(*) FROM {status['table_name']}")
    types_before = column_types(status["table_name"])
    response = app.post(f"{resource_url}/roles", data=_with_role(_role_form(page), COMMUNE, "measure:mean"),
                        headers=editor, follow_redirects=False)
    assert response.status_code == 302
    after = ingest.status(resource["id"])
    assert after["status"] == "ok" and after["failure"] is not None
    assert after["loaded_at"] == status["loaded_at"] and after["columns"] == status["columns"]
    assert scalar(f"SELECT count(*) FROM {after['table_name']}") == rows_before
    assert column_types(after["table_name"]) == types_before
    assert f"« {COMMUNE} » est déclarée mesure" in after["message"] and "par exemple « A" in after["message"]
    # the dictionary stays the one describing the table in place
    assert json.loads(helpers.call_action("resource_show", id=resource["id"])["data_dictionary"]) == [
        {"column": ECART, "role": "measure", "aggregation": "mean"}]
    page = _text(app.get(resource_url, headers=editor, status=200))
    assert "Rôles refusés" in page                         # the flash message
    assert f"« {COMMUNE} » est déclarée mesure" in page and "reste en place" in page
    assert 'data-role="label"' in _row(page, COMMUNE)


def test_a_declared_measure_full_of_text_blocks_the_report(app, portal, new_dataset):
    package = new_dataset("ips-lille-mesure-texte")
    editor = portal.headers("editor")
    response = app.post(f"/dataset/{package['name']}/publier", headers=editor, follow_redirects=False,
                        data={"upload": (io.BytesIO(IPS_MULTI.read_bytes()), "ips.csv")})
    location = response.headers["Location"]
    form = _role_form(_text(app.get(location, headers=editor, status=200)))
    app.post(f"{location}/roles", data=_with_role(form, COMMUNE, "measure:sum"), headers=editor)
    page = _text(app.get(location, headers=editor, status=200))
    assert 'data-verdict="blocking"' in page and 'data-code="column-model"' in page
    assert f"La colonne « {COMMUNE} » est déclarée mesure (nombre) mais 2\u00a0644 valeurs sur 2\u00a0644" in page
    assert "CAUDRY" in page and "Publier ces données" not in page
    # back to the inferred roles: valid again
    app.post(f"{location}/roles", data={"reset": "1"}, headers=editor)
    page = _text(app.get(location, headers=editor, status=200))
    assert 'data-verdict="blocking"' not in page and 'data-role="label"' in _row(page, COMMUNE)
    # an unknown role is refused, nothing changes
    app.post(f"{location}/roles", data=_with_role(form, COMMUNE, "n'importe-quoi"), headers=editor)
    page = _text(app.get(location, headers=editor, status=200))
    assert 'data-role="label"' in _row(page, COMMUNE)


def test_roles_corrected_in_a_browser(portal, new_dataset, page, live_server, screenshot):
    """The same forms in Chromium, with a session (and its CSRF token) rather than an API token.
    Screenshots: colonnes-rapport.png (the report's table and form), colonnes-ressource.png (the
    resource page after the editor's correction)."""
    package = new_dataset("ips-lille-navigateur")
    log_in(page, live_server, portal.editor["name"], portal.password)

    page.goto(f"{live_server}/dataset/{package['name']}/publier")
    page.set_input_files("#ecarto-upload", str(IPS_MULTI))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.wait_for_selector(".ecarto-column-model")
    assert page.locator('tr[data-column="Rentrée scolaire"]').get_attribute("data-role") == "period"
    page.locator(".ecarto-roles summary").click()
    page.get_by_label(ECART, exact=True).select_option("label")
    screenshot(page, "colonnes-rapport")
    page.get_by_role("button", name="Vérifier avec ces rôles").click()
    page.wait_for_selector(f'tr[data-column="{ECART}"][data-role="label"]')
    page.get_by_role("button", name="Publier ces données").click()
    page.wait_for_selector(".ecarto-published")

    resource = helpers.call_action("package_show", id=package["name"])["resources"][0]
    page.goto(f"{live_server}/dataset/{package['name']}/resource/{resource['id']}")
    page.wait_for_selector(f'.ecarto-column-model tr[data-column="{ECART}"][data-role="label"]')
    page.locator(".ecarto-roles summary").click()
    page.get_by_label(ECART, exact=True).select_option("measure:mean")
    page.get_by_role("button", name="Enregistrer les rôles et recharger").click()
    page.wait_for_selector(f'.ecarto-column-model tr[data-column="{ECART}"][data-role="measure"]')
    assert _column(ingest.status(resource["id"]), ECART)["role"] == "measure"
    page.locator("#colonnes").scroll_into_view_if_needed()
    screenshot(page, "colonnes-ressource")
