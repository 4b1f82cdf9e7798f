"""Identity hijack (issue 12, item 4): an editor of *another* organization publishes a file that
looks like a directory (UAI, name, commune, address, website, position; millésime 2099) about
schools of the ministry's directory. The public identity of those schools (page, JSON, action,
search, autocomplete, territory points) stays the ministry's; the uploaded values show only under
that publisher's own data; a `javascript:` website is never a link. A UAI no trusted directory
knows still gets a page, its identity clearly labelled as declared by its producer.

Real data: the ministry's directory is the Ariège part of the Occitanie annuaire (sample data),
cut at test time; the establishment absent from it is a real school of the Val-de-Marne annuaire.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "annuaire-education"
OCCITANIE = SAMPLE / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
VAL_DE_MARNE = SAMPLE / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv"
UAI = "Identifiant_de_l_etablissement"
from tests.security import people
# with the nature code and type of the real directory: the file then looks like a full annuaire
HIJACK_HEADER = ["uai", "nom_etablissement", "type_etablissement", "code_nature", "code_commune", "nom_commune",
                 "adresse_1", "code_postal", "web", "latitude", "longitude"]
JAVASCRIPT = "javascript:alert(1)"


def _annuaire_lines(path: Path, wanted) -> str:
    data = path.read_bytes()
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8-sig")
    lines = text.splitlines()
    keep = [lines[0]] + [line for line, row in zip(lines[1:], csv.DictReader(lines, delimiter=";")) if wanted(row)]
    return "\n".join(keep) + "\n"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@dataclass
class Portal:
    sysadmin: dict[str, Any]
    editor: dict[str, Any]
    menj: dict[str, Any]
    tierce: dict[str, Any]
    annuaire_text: str
    ministry: dict[str, dict[str, str]]          # the targeted schools, as the ministry gives them
    hijack: dict[str, dict[str, str]]            # what the other publisher uploaded for them
    outsider: dict[str, str]                     # a real school no trusted directory knows
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)


def _hijack_csv(portal_rows: dict[str, dict[str, str]], elsewhere: list[dict[str, str]]) -> tuple[bytes, dict]:
    """Name, address, website and position replaced: names made up by the attacker, commune and
    coordinates of real Val-de-Marne schools."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(HIJACK_HEADER)
    hijack = {}
    for i, (uai, row) in enumerate(portal_rows.items()):
        other = elsewhere[i]
        values = {"uai": uai, "nom_etablissement": f"Établissement détourné {i + 1}",
                  "type_etablissement": row["Type_etablissement"], "code_nature": row["code_nature"],
                  "code_commune": other["Code_commune"], "nom_commune": other["Nom_commune"],
                  "adresse_1": other["Adresse_1"], "code_postal": other["Code_postal"], "web": JAVASCRIPT,
                  "latitude": other["latitude"], "longitude": other["longitude"]}
        writer.writerow([values[h] for h in HIJACK_HEADER])
        hijack[uai] = values
    return out.getvalue().encode("utf-8"), hijack


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    from werkzeug.datastructures import FileStorage

    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = people.ministry(sysadmin)
    tierce, editor = people.collectivite_with_editor(sysadmin, "collectivite-tierce", "Collectivité tierce",
                                                     "editeur-tierce")

    annuaire_text = _annuaire_lines(OCCITANIE, lambda r: r["Code_departement"] == "009")
    annuaire = helpers.call_action("package_create", dict(ctx), name="annuaire-ariege", owner_org=menj["id"],
                                   title="Annuaire de l'éducation — Ariège", axe="etablissements",
                                   millesime="2024", license_id="etalab-2.0")
    helpers.call_action("resource_create", dict(ctx), package_id=annuaire["id"], name="Annuaire Ariège", format="CSV",
                        upload=FileStorage(io.BytesIO(annuaire_text.encode("utf-8")), "annuaire-ariege.csv"))
    rows = _rows(annuaire_text)
    with_web = [r for r in rows if r["code_nature"] == "340" and r["Web"].startswith("http") and r["latitude"]][:2]
    without_web = [r for r in rows if r["code_nature"] == "151" and not r["Web"] and r["latitude"]][:1]
    ministry = {r[UAI]: r for r in with_web + without_web}
    assert len(ministry) == 3

    val_de_marne = _rows(_annuaire_lines(VAL_DE_MARNE, lambda r: bool(r["latitude"])))
    content, hijack = _hijack_csv(ministry, val_de_marne)
    outsider = val_de_marne[10]
    line = [outsider[UAI], outsider["Nom_etablissement"], outsider["Type_etablissement"], outsider["code_nature"],
            outsider["Code_commune"], outsider["Nom_commune"], outsider["Adresse_1"], outsider["Code_postal"],
            JAVASCRIPT, outsider["latitude"], outsider["longitude"]]
    content += (";".join(line) + "\n").encode("utf-8")

    # the editor's own calls (the Action API's authorization: editor of « collectivite-tierce » only)
    as_editor = {"user": editor["name"], "ignore_auth": False}
    hijack_pkg = helpers.call_action("package_create", dict(as_editor), name="annuaire-detourne",
                                     title="Annuaire des écoles (collectivité tierce)", owner_org=tierce["id"],
                                     axe="etablissements", millesime="2099", license_id="etalab-2.0")
    helpers.call_action("resource_create", dict(as_editor), package_id=hijack_pkg["id"], name="Annuaire détourné",
                        format="CSV", upload=FileStorage(io.BytesIO(content), "annuaire-detourne.csv"))
    portal = Portal(sysadmin=sysadmin, editor=editor, menj=menj, tierce=tierce,
                    annuaire_text=annuaire_text, ministry=ministry, hijack=hijack, outsider=outsider)
    portal.datasets = {"annuaire": helpers.call_action("package_show", ctx, id=annuaire["id"]),
                       "detourne": helpers.call_action("package_show", ctx, id=hijack_pkg["id"])}
    status = helpers.call_action("ecarto_ingest_status", ctx, id=portal.datasets["detourne"]["resources"][0]["id"])
    assert status["status"] == "ok", status
    model.Session.remove()
    return portal


def show(uai: str, user: str = "") -> dict[str, Any]:
    return helpers.call_action("ecarto_etablissement_show", {"user": user, "ignore_auth": False}, uai=uai)


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def assert_ministry_identity(identite: dict[str, Any], row: dict[str, str]) -> None:
    assert identite["nom"] == row["Nom_etablissement"]
    assert identite["adresse"] == row["Adresse_1"]
    assert identite["code_postal"] == row["Code_postal"]
    assert identite["commune_code"] == row["Code_commune"]
    assert identite["commune_nom"] == row["Nom_commune"]
    assert identite.get("web") == (row["Web"] or None)
    assert identite["latitude"] == pytest.approx(_float(row["latitude"]))
    assert identite["longitude"] == pytest.approx(_float(row["longitude"]))
    assert identite["verifiee"] is True
    assert [s["dataset"] for s in identite["sources"]] == ["annuaire-ariege"]


def _hijack_block(record: dict[str, Any]) -> dict[str, Any]:
    blocks = [b for b in record["autres_donnees"] if b["source"]["dataset"] == "annuaire-detourne"]
    assert len(blocks) == 1, [b["source"]["dataset"] for b in record["autres_donnees"]]
    return {c["colonne"]: c["valeur"] for c in blocks[0]["colonnes"]}


def _no_script_link(html: str) -> None:
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I)


def _identity_part(html: str) -> str:
    """The page up to its data sections (title, identity, map, identity sources)."""
    return html.split('id="axe-', 1)[0]


def test_action_and_json_keep_the_ministry_identity(app, portal):
    for uai, row in portal.ministry.items():
        for user in ("", portal.editor["name"], portal.sysadmin["name"]):
            record = show(uai, user)
            assert_ministry_identity(record["identite"], row)
            uploaded = _hijack_block(record)
            assert uploaded["nom_etablissement"] == portal.hijack[uai]["nom_etablissement"]
            assert uploaded["web"] == JAVASCRIPT
        exported = json.loads(app.get(f"/etablissement/{uai}.json", status=200).get_data(as_text=True))
        assert_ministry_identity(exported["identite"], row)
        assert _hijack_block(exported)["nom_etablissement"] == portal.hijack[uai]["nom_etablissement"]


def test_page_shows_the_ministry_identity_and_the_upload_only_under_its_source(app, portal):
    for uai, row in portal.ministry.items():
        html = app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
        _no_script_link(html)
        head, others = _identity_part(html), html.split('id="autres-donnees"', 1)[1]
        fake = portal.hijack[uai]["nom_etablissement"]
        assert re.search(r"<h1>\s*" + re.escape(row["Nom_etablissement"].replace("'", "&#39;")), head)
        assert fake not in head and portal.hijack[uai]["adresse_1"] not in head
        assert f'data-lat="{_float(row["latitude"])}"' in head
        assert f'data-lon="{_float(row["longitude"])}"' in head
        assert fake in others and "Annuaire des écoles (collectivité tierce)" in others
        if row["Web"]:
            assert f'href="{row["Web"]}"' in head
        assert JAVASCRIPT in others          # shown as text under its source, never as a link


def test_search_and_autocomplete_never_show_the_hijacked_name(app, portal):
    for uai, row in portal.ministry.items():
        fake = portal.hijack[uai]["nom_etablissement"]
        found = helpers.call_action("ecarto_etablissement_search", {"user": ""}, q=uai)["results"]
        assert [(r["uai"], r["nom"], r["commune_code"]) for r in found] == [(uai, row["Nom_etablissement"],
                                                                              row["Code_commune"])]
        assert helpers.call_action("ecarto_etablissement_search", {"user": ""}, q=fake)["count"] == 0
        completions = app.get("/etablissement/autocomplete", query_string={"q": "détourné"}, status=200).json
        assert uai not in {c["uai"] for c in completions}
        listing = app.get("/etablissement", query_string={"q": uai}, status=200).get_data(as_text=True)
        assert fake not in listing
        in_the_other_commune = helpers.call_action("ecarto_etablissement_search", {"user": ""},
                                                   commune=portal.hijack[uai]["code_commune"])["results"]
        assert uai not in {r["uai"] for r in in_the_other_commune}


def test_territory_points_keep_the_ministry_position(app, portal):
    from ckanext.ecarto.territoires import aggregates
    aggregates.ensure_fresh(wait=True)
    points = {p["uai"]: p for p in app.get("/territoire/etablissements.json",
                                           query_string={"niveau": "departement", "code": "09"},
                                           status=200).json["etablissements"]}
    for uai, row in portal.ministry.items():
        assert points[uai]["nom"] == row["Nom_etablissement"]
        assert points[uai]["latitude"] == pytest.approx(_float(row["latitude"]))
    moved = app.get("/territoire/etablissements.json", query_string={"niveau": "departement", "code": "94"},
                    status=200).json["etablissements"]
    assert not set(portal.ministry) & {p["uai"] for p in moved}


def test_unknown_uai_gets_a_page_labelled_with_its_producer(app, portal):
    uai = portal.outsider[UAI]
    record = show(uai)
    identite = record["identite"]
    assert identite["nom"] == portal.outsider["Nom_etablissement"]
    assert identite["verifiee"] is False and identite["producteur"] == "Collectivité tierce"
    assert identite["web"] == JAVASCRIPT and identite["web_url"] is None
    html = app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
    _no_script_link(html)
    assert "Identité non vérifiée" in html and "Collectivité tierce" in _identity_part(html)
    assert JAVASCRIPT in _identity_part(html)             # as text


def test_trusted_organization_directory_still_updates_the_identity(app, portal):
    """A newer directory of the ministry (same columns, millésime 2099) renames a school."""
    ctx = {"user": portal.sysadmin["name"]}
    uai = next(iter(portal.ministry))
    lines = portal.annuaire_text.splitlines()
    header = lines[0].split(";")
    line = next(line for line in lines[1:] if line.startswith(uai + ";"))
    cells = line.split(";")
    cells[header.index("Nom_etablissement")] = "Collège renommé par le rectorat"
    content = (lines[0] + "\n" + ";".join(cells) + "\n").encode("utf-8")
    pkg = helpers.call_action("package_create", ctx, name="annuaire-ariege-2099", owner_org=portal.menj["id"],
                              title="Annuaire de l'éducation — Ariège (mise à jour)", axe="etablissements",
                              millesime="2099", license_id="etalab-2.0")
    try:
        from werkzeug.datastructures import FileStorage
        helpers.call_action("resource_create", ctx, package_id=pkg["id"], name="Mise à jour", format="CSV",
                            upload=FileStorage(io.BytesIO(content), "maj.csv"))
        assert show(uai)["identite"]["nom"] == "Collège renommé par le rectorat"
        assert "Collège renommé par le rectorat" in app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
        found = helpers.call_action("ecarto_etablissement_search", {"user": ""}, q=uai)["results"]
        assert found[0]["nom"] == "Collège renommé par le rectorat"
    finally:
        helpers.call_action("dataset_purge", ctx, id=pkg["id"])
    assert show(uai)["identite"]["nom"] == portal.ministry[uai]["Nom_etablissement"]


@pytest.mark.ckan_config("ckanext.ecarto.identity_organizations", "collectivite-tierce")
def test_identity_organizations_setting_and_a_javascript_website_from_a_trusted_source(app, portal, ckan_config):
    """When the portal trusts another organization, its directory makes the identity; even
    then a `javascript:` website is shown as text, never as a link."""
    uai = next(iter(portal.ministry))
    identite = show(uai)["identite"]
    assert identite["nom"] == portal.hijack[uai]["nom_etablissement"] and identite["verifiee"] is True
    assert identite["web"] == JAVASCRIPT and identite["web_url"] is None
    html = app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
    _no_script_link(html)
    assert JAVASCRIPT in _identity_part(html)


@pytest.mark.ckan_config("ckanext.ecarto.identity_harvest_sources", "annuaire-moissonne")
def test_identity_harvest_sources_setting(app, portal, ckan_config):
    """Datasets harvested by a listed harvest source are trusted directories (the link between
    a dataset and its source is ckanext-harvest's current harvest object)."""
    from ckanext.harvest.model import HarvestJob, HarvestObject

    ctx = {"user": portal.sysadmin["name"]}
    source = helpers.call_action("harvest_source_create", dict(ctx), name="annuaire-moissonne", title="Annuaire moissonné",
                                 url="https://data.education.gouv.fr", source_type="ckan", frequency="MANUAL")
    uai = portal.outsider[UAI]
    assert show(uai)["identite"]["verifiee"] is False
    job = helpers.call_action("harvest_job_create", dict(ctx), source_id=source["id"])
    obj = HarvestObject(guid="annuaire-detourne", package_id=portal.datasets["detourne"]["id"],
                        job=HarvestJob.get(job["id"]), harvest_source_id=source["id"], current=True)
    obj.save()
    try:
        assert show(uai)["identite"]["verifiee"] is True
    finally:
        obj.delete()
        model.Session.commit()
        helpers.call_action("harvest_source_delete", dict(ctx), id=source["id"])
    assert show(uai)["identite"]["verifiee"] is False
