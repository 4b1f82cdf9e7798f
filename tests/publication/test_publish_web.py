"""The publication path in the web pages (CKAN's test app), as the département's editor: create
the dataset with the form, deposit a file, read the report, fix, publish, and the establishment
pages show the data. Non-members never reach the pages."""
from __future__ import annotations

import io
import json
import re

import pytest

import ckan.tests.helpers as helpers

from tests.publication import files

pytestmark = pytest.mark.usefixtures("with_plugins")


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def _deposit(app, portal, name, content, filename, **fields):
    data = {"upload": (io.BytesIO(content), filename), **fields}
    response = app.post(f"/dataset/{name}/publier", data=data, headers=portal.headers("editor"),
                        follow_redirects=False)
    assert response.status_code == 302, _text(response)[:2000]
    location = response.headers["Location"]
    assert re.search(rf"/dataset/{name}/publier/[0-9a-f]{{32}}$", location)
    return location, _text(app.get(location, headers=portal.headers("editor"), status=200))


def _create_with_the_form(app, portal, name, title, **extra):
    form = {"name": name, "title": title, "axe": "etablissements", "owner_org": portal.org["id"],
            "territoire_niveau": "departement", "territoire_code": "031", "millesime": "2023",
            "notes": "Indice de position sociale des collèges de la Haute-Garonne, rentrée 2023.",
            "save": "", "_ckan_phase": "dataset_new_1", **extra}
    response = app.post("/dataset/new", data=form, headers=portal.headers("editor"), follow_redirects=False)
    assert response.status_code == 302, _text(response)[:2000]
    return response.headers["Location"]


def test_whole_path_in_the_web_form(app, portal):
    name = "ips-formulaire"
    next_step = _create_with_the_form(app, portal, name, "IPS des collèges — formulaire")
    assert next_step.endswith(f"/dataset/{name}/resource/new")
    assert helpers.call_action("package_show", id=name)["state"] == "draft"
    resource_form = _text(app.get(next_step, headers=portal.headers("editor"), status=200))
    assert f'action="/dataset/{name}/publier"' in resource_form
    assert 'href="/schemas/etablissements.csv"' in resource_form and 'href="/schemas/etablissements.json"' in resource_form

    lines = files.ips_lines()
    uai = lines[1].split(";")[1]
    bad = files.wrong_letter(uai)
    broken = files.with_cell(files.ips_haute_garonne(), line=2, column="UAI", value=bad)
    location, page = _deposit(app, portal, name, broken, "ips-31.csv")

    assert 'data-verdict="blocking"' in page
    assert "UAI invalides" in page and f"<code>{bad}</code>" in page
    assert f"UAI {bad} invalide : la lettre clé attendue est {uai[7]}." in page
    assert "UTF-8 (avec BOM)" in page and "point-virgule (;)" in page
    assert "Publier ces données" not in page
    assert helpers.call_action("package_show", id=name)["resources"] == []

    location, page = _deposit(app, portal, name, files.ips_haute_garonne(), "ips-31.csv")
    assert 'data-verdict="warnings"' in page and "Publier ces données" in page
    assert "Aperçu : les premières lignes telles que le portail les lit" in page
    assert f"<td>{uai}</td>" in page                                      # preview row
    assert "Colonnes inconnues du schéma" in page

    response = app.post(f"{location}/publier", data={"name": "IPS 2023 des collèges", "description": ""},
                        headers=portal.headers("editor"), follow_redirects=False)
    assert response.status_code == 302
    done = _text(app.get(response.headers["Location"], headers=portal.headers("editor"), status=200))
    assert "Données publiées" in done and f"/etablissement/{uai}" in done

    shown = helpers.call_action("package_show", id=name)
    assert shown["state"] == "active"
    assert [r["name"] for r in shown["resources"]] == ["IPS 2023 des collèges"]
    establishment = _text(app.get(f"/etablissement/{uai}", status=200))
    assert "IPS des collèges — formulaire" in establishment.split('id="autres-donnees"', 1)[1]


def test_choosing_the_uai_column_validates_again(app, portal, new_dataset):
    package = new_dataset("annuaire-colonne")
    content = files.annuaire_colleges(limit=10)
    location, page = _deposit(app, portal, package["name"], content, "colleges.csv",
                              uai_column="colonne_qui_n_existe_pas")
    assert 'data-verdict="blocking"' in page
    assert "La colonne UAI « colonne_qui_n_existe_pas » est absente du fichier" in page
    assert 'name="uai_column"' in page and "<option value=\"Identifiant_de_l_etablissement\">" in page

    app.post(f"{location}/colonne", data={"uai_column": "Identifiant_de_l_etablissement"},
             headers=portal.headers("editor"), status=200)
    page = _text(app.get(location, headers=portal.headers("editor"), status=200))
    assert 'data-verdict="blocking"' not in page
    assert "« Identifiant_de_l_etablissement »" in page


def test_report_of_a_file_that_is_not_a_table(app, portal, new_dataset):
    package = new_dataset("pas-un-tableau-web")
    _location, page = _deposit(app, portal, package["name"], files.SCREENSHOT_PNG.read_bytes(), "donnees.csv")
    assert 'data-verdict="blocking"' in page and "contenu détecté : image PNG" in page


@pytest.mark.parametrize("who", ["outsider", "member", None])
def test_non_members_cannot_reach_the_publication_pages(app, portal, new_dataset, who):
    package = new_dataset(f"refus-web-{who or 'anonyme'}")
    headers = portal.headers(who) if who else {}
    app.get(f"/dataset/{package['name']}/publier", headers=headers, status=403)
    app.post(f"/dataset/{package['name']}/publier", headers=headers, status=403,
             data={"upload": (io.BytesIO(files.ips_haute_garonne()), "ips.csv")})
    page = _text(app.get(f"/dataset/{package['name']}", headers=headers, status=200))
    assert f"/dataset/{package['name']}/publier" not in page
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []


def test_editor_sees_the_publish_button_on_the_dataset(app, portal, new_dataset):
    package = new_dataset("bouton-publier")
    page = _text(app.get(f"/dataset/{package['name']}", headers=portal.headers("editor"), status=200))
    assert f'href="/dataset/{package["name"]}/publier"' in page


@pytest.mark.parametrize("axe", ["etablissements", "connectivite", "equipement", "services_ressources",
                                 "experimentations"])
def test_downloadable_templates_of_each_axis(app, axe):
    schema = json.loads(app.get(f"/schemas/{axe}.json", status=200).get_data(as_text=True))
    csv_bytes = app.get(f"/schemas/{axe}.csv", status=200).get_data()
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    header = csv_bytes.decode("utf-8-sig").rstrip("\r\n")
    assert header.split(";") == [f["name"] for f in schema["fields"]]
    app.get("/schemas/inconnu.csv", status=404)
