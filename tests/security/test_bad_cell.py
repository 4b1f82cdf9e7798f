"""One bad cell never takes pages down (issue 12, item 5).

A collectivité publishes `uai;nb_tablettes` where one school has `douze` instead of a number,
through the Action API (`resource_create` with an upload) and through CKAN's ordinary resource
form (`/dataset/<id>/resource/new`). Since issue #15 both go through the axis's validation (one
path): `nb_tablettes` is a number of the equipment axis's Table Schema, so the file is refused —
kept as a plain download, never joined — and every page of those schools, their JSON and CSV,
`ecarto_etablissement_show` and the territory pages answer 200, without the refused file's values,
while the other indicators (IPS and its reference values) still show.
A source that cannot be read at all shows « donnée illisible » for that source only, and the
failure is logged.

Real data: the Ariège part of the Occitanie annuaire and the IPS of those collèges (sample data),
cut at test time.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
UAI = "Identifiant_de_l_etablissement"
from tests.security import people
from tests.security.people import PASSWORD


def _cut(text: str, keep) -> str:
    lines = text.splitlines()
    rows = csv.DictReader(lines, delimiter=";")
    return "\n".join([lines[0]] + [line for line, row in zip(lines[1:], rows) if keep(row)]) + "\n"


@dataclass
class Portal:
    sysadmin: dict[str, Any]
    org: dict[str, Any]
    editor: dict[str, Any]
    token: str
    colleges: dict[str, dict[str, str]]           # Ariège collèges with an IPS, by UAI
    ips: dict[str, float]


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    from werkzeug.datastructures import FileStorage

    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = people.ministry(sysadmin)
    org, editor = people.collectivite_with_editor(sysadmin, "departement-ariege", "Département de l'Ariège",
                                                  "editeur-ariege")
    token = factories.APIToken(user=editor["name"])["token"]

    annuaire = _cut(gzip.decompress(OCCITANIE.read_bytes()).decode("utf-8-sig"),
                    lambda r: r["Code_departement"] == "009")
    ariege = {r[UAI]: r for r in csv.DictReader(io.StringIO(annuaire), delimiter=";")}
    ips_text = _cut(IPS.read_bytes().decode("utf-8-sig"), lambda r: r["UAI"] in ariege)
    ips = {r["UAI"]: float(r["IPS"]) for r in csv.DictReader(io.StringIO(ips_text), delimiter=";")}
    for name, title, axe, text in (("annuaire-ariege", "Annuaire de l'éducation — Ariège", "etablissements", annuaire),
                                   ("ips-ariege", "IPS des collèges de l'Ariège", "etablissements", ips_text)):
        pkg = helpers.call_action("package_create", dict(ctx), name=name, title=title, owner_org=menj["id"], axe=axe,
                                  millesime="2024", license_id="etalab-2.0")
        helpers.call_action("resource_create", dict(ctx), package_id=pkg["id"], name=title, format="CSV",
                            upload=FileStorage(io.BytesIO(text.encode("utf-8")), f"{name}.csv"))
    colleges = {u: r for u, r in ariege.items() if r["code_nature"] == "340" and u in ips}
    assert len(colleges) >= 4
    model.Session.remove()
    return Portal(sysadmin=sysadmin, org=org, editor=editor, token=token, colleges=colleges, ips=ips)


def _tablets(uais: list[str], first: str = "douze") -> bytes:
    """The file of the probe: one school with « douze » (or `first`), the other with a number."""
    return f"uai;nb_tablettes\n{uais[0]};{first}\n{uais[1]};12\n".encode("utf-8")


def _create_dataset(app, portal: Portal, name: str) -> dict[str, Any]:
    response = app.post("/api/3/action/package_create", headers={"Authorization": portal.token}, json={
        "name": name, "title": f"Équipement des collèges ({name})", "owner_org": portal.org["id"],
        "axe": "equipement", "millesime": "2024", "license_id": "etalab-2.0",
        "notes": "Nombre de tablettes par collège, relevé 2024."})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.json["result"]


def _status(resource_id: str) -> dict[str, Any]:
    return helpers.call_action("ecarto_ingest_status", {"ignore_auth": True}, id=resource_id)


def _tablets_indicator(record: dict[str, Any]) -> dict[str, Any]:
    return next(i for a in record["axes"] for i in a["indicateurs"] if i["id"] == "nb_tablettes")


def _ips_column(record: dict[str, Any]) -> dict[str, Any]:
    block = next(b for b in record["autres_donnees"] if b["source"]["dataset"] == "ips-ariege")
    return next(c for c in block["colonnes"] if c["colonne"] == "IPS")


def assert_refused(resource_id: str) -> None:
    """The file stays a download; the registry says why; no table was made of it."""
    status = _status(resource_id)
    assert status["status"] == "error" and status["failure"]["code"] == "validation", status
    assert status["table_name"] is None
    assert "douze" in status["message"] or "nombre" in status["message"], status["message"]


def assert_every_page_answers(app, portal: Portal, uais: list[str], dataset: str) -> None:
    """Pages of the schools named in the refused file: 200, nothing of that file, the rest shown."""
    for uai in uais:
        html = app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
        assert portal.colleges[uai]["Nom_etablissement"].replace("'", "&#39;") in html
        assert "donnée illisible" not in html
        exported = json.loads(app.get(f"/etablissement/{uai}.json", status=200).get_data(as_text=True))
        shown = helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai=uai)
        assert exported == shown
        sources = {i["source"]["dataset"] for a in shown["axes"] for i in a["indicateurs"] if i.get("source")}
        sources |= {b["source"]["dataset"] for b in shown["autres_donnees"]}
        assert dataset not in sources                     # the refused file is never joined
        ips = _ips_column(shown)          # the other producers' data still render, with references
        assert ips["valeur"] == pytest.approx(portal.ips[uai])
        assert ips["references"]["france"]["n_valeurs"] == len(portal.ips)
        csv_export = app.get(f"/etablissement/{uai}.csv", status=200)
        assert csv_export.headers["Content-Type"].startswith("text/csv")
        assert dataset not in csv_export.get_data(as_text=True)


def assert_territory_pages_answer(app, portal: Portal, uais: list[str]) -> None:
    from ckanext.ecarto.territoires import aggregates
    aggregates.ensure_fresh(wait=True)
    paths = ["/territoire/france", "/territoire/region/76", "/territoire/academie/16", "/territoire/departement/09",
             "/territoire/departement/09.json", "/territoire/departement/09.csv", "/etat-des-lieux"]
    paths += [f"/territoire/commune/{portal.colleges[u]['Code_commune']}" for u in uais]
    for path in paths:
        app.get(path, status=200)
    helpers.call_action("ecarto_territoire_show", {"user": ""}, niveau="departement", code="09")


def test_douze_through_the_action_api(app, portal):
    uais = list(portal.colleges)[:2]
    pkg = _create_dataset(app, portal, "tablettes-api")
    response = app.post("/api/3/action/resource_create", headers={"Authorization": portal.token}, data={
        "package_id": pkg["id"], "name": "Tablettes", "format": "CSV",
        "upload": (io.BytesIO(_tablets(uais)), "tablettes.csv")})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert_refused(response.json["result"]["id"])
    assert_every_page_answers(app, portal, uais, "tablettes-api")
    assert_territory_pages_answer(app, portal, uais)


def test_douze_through_the_ordinary_resource_form(app, portal):
    uais = list(portal.colleges)[2:4]
    pkg = _create_dataset(app, portal, "tablettes-formulaire")
    login = app.post("/user/login", data={"login": portal.editor["name"], "password": PASSWORD},
                     follow_redirects=False)
    assert login.status_code == 302 and "/user/login" not in login.headers["Location"]
    response = app.post(f"/dataset/{pkg['name']}/resource/new", data={
        "id": "", "save": "go-metadata", "name": "Tablettes (formulaire)", "description": "", "format": "CSV",
        "url": "", "upload": (io.BytesIO(_tablets(uais)), "tablettes.csv")}, follow_redirects=False)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    resources = helpers.call_action("package_show", {"ignore_auth": True}, id=pkg["id"])["resources"]
    assert [r["name"] for r in resources] == ["Tablettes (formulaire)"]
    assert_refused(resources[0]["id"])
    app.get("/user/_logout")
    assert_every_page_answers(app, portal, uais, "tablettes-formulaire")
    assert_territory_pages_answer(app, portal, uais)


def test_an_unreadable_source_shows_donnee_illisible_and_the_rest_of_the_page(app, portal):
    """The table of a source disappears under the page (dropped by hand, a restore in
    progress…): that source says « donnée illisible », identity, IPS and references remain."""
    uais = list(portal.colleges)[4:6]
    pkg = _create_dataset(app, portal, "tablettes-perdues")
    from werkzeug.datastructures import FileStorage
    resource = helpers.call_action("resource_create", {"user": portal.editor["name"], "ignore_auth": False},
                                   package_id=pkg["id"], name="Tablettes", format="CSV",
                                   upload=FileStorage(io.BytesIO(_tablets(uais, first="9")), "tablettes.csv"))
    table = _status(resource["id"])["table_name"]
    schema, name = [part.strip('"') for part in table.split(".")]
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f'ALTER TABLE {table} RENAME TO "{name}_ailleurs"'))
    try:
        # (recorded_logs: the plugins' Alembic migrations of the test session disable existing loggers)
        with helpers.recorded_logs("ckanext.ecarto.etablissements.record", logging.ERROR) as logs:
            for uai in uais:
                shown = helpers.call_action("ecarto_etablissement_show", {"user": ""}, uai=uai)
                block = next(b for b in shown["autres_donnees"] if b["source"]["dataset"] == "tablettes-perdues")
                assert block["erreur"] == "donnée illisible" and block["colonnes"] == []
                assert shown["identite"]["nom"] == portal.colleges[uai]["Nom_etablissement"]
                assert _ips_column(shown)["references"]["france"]["n_valeurs"] == len(portal.ips)
                html = app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
                assert "donnée illisible" in html.split('id="autres-donnees"', 1)[1]
                app.get(f"/etablissement/{uai}.json", status=200)
                app.get(f"/etablissement/{uai}.csv", status=200)
        logs.assert_log("error", "illisible")
    finally:
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text(f'ALTER TABLE "{schema}"."{name}_ailleurs" RENAME TO "{name}"'))
    assert "donnée illisible" not in app.get(f"/etablissement/{uais[0]}", status=200).get_data(as_text=True)
