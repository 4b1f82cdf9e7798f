"""Codes in every spelling, unknown territories (404 with suggestions), the exports and the map data."""
from __future__ import annotations

import csv
import io
import json

import pytest

import ckan.tests.helpers as helpers
from ckanext.ecarto.referentiel import territories

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.mark.parametrize("level, raw, canonical", [
    ("departement", "031", "31"), ("departement", "31", "31"), ("departement", "02A", "2A"),
    ("departement", "2a", "2A"), ("departement", "9", "09"), ("commune", "1001", "01001"),
    ("region", "6", "06"), ("academie", "16", "16"),
])
def test_code_normalisation(level, raw, canonical):
    assert territories.normalise_code(level, raw) == canonical
    assert territories.get(level, raw) is not None


def test_menj_spellings_redirect_to_the_canonical_page(app, portal):
    res = app.get("/territoire/departement/031", follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/territoire/departement/31")
    res = app.get("/territoire/departement/02A", follow_redirects=False)
    assert res.headers["Location"].endswith("/territoire/departement/2A")
    assert app.get("/territoire/academie/A16", follow_redirects=False).headers["Location"].endswith("/academie/16")
    assert helpers.call_action("ecarto_territoire_show", {"user": ""}, niveau="departement", code="031")["code"] == "31"


def test_unknown_level_or_code_gets_a_404_with_suggestions(app, portal):
    res = app.get("/territoire/departement/99", status=404)
    assert "Territoire introuvable" in res.body and "ecarto-suggestions" in res.body
    res = app.get("/territoire/canton/31", status=404)
    assert "Niveau de territoire inconnu" in res.body
    assert "/territoire/departement/31" in res.body            # same code at a known level
    data = app.get("/territoire/commune/toulouse.json", status=404).json
    assert any(s["chemin"] == "/territoire/commune/31555" for s in data["suggestions"])
    with pytest.raises(Exception):
        helpers.call_action("ecarto_territoire_show", {"user": ""}, niveau="departement", code="'; DROP TABLE package; --")


def test_index_search(app, portal):
    assert "/territoire/region/76" in app.get("/territoire?q=occitanie").body
    res = app.get("/territoire?q=2A", follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/territoire/departement/2A")


def test_json_export_is_the_action_result(app, portal):
    data = app.get("/territoire/departement/31.json").json
    assert data == helpers.call_action("ecarto_territoire_show", {"user": ""}, niveau="departement", code="31")


def test_csv_export_semicolon_utf8_bom(app, portal):
    res = app.get("/territoire/departement/31.csv")
    assert res.headers["Content-Type"].startswith("text/csv")
    raw = res.data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["niveau", "code", "nom", "rubrique"]
    ips = [r for r in rows if r[5].endswith(":ips") and r[8] == "Ensemble"]
    data = app.get("/territoire/departement/31.json").json
    block = next(b for a in data["axes"] for b in a["indicateurs"] if b["serie"].endswith(":ips"))
    assert ips and float(ips[0][9].replace(",", ".")) == pytest.approx(block["valeur"])
    assert any(r[-1] == "oui" for r in rows)          # n.c. lines are explicit


def test_geojson_export(app, portal):
    data = json.loads(app.get("/territoire/departement/31.geojson").body)
    feature = data["features"][0]
    assert data["type"] == "FeatureCollection" and feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["code"] == "31"
    commune = json.loads(app.get("/territoire/commune/31555.geojson").body)["features"][0]
    assert commune["geometry"] is None and "non fournis" in commune["properties"]["geometrie"]


def test_choropleth_data_and_contours(app, portal):
    record = app.get("/territoire/france.json").json
    serie = next(b["serie"] for a in record["axes"] for b in a["indicateurs"] if b["serie"].endswith(":ips"))
    data = app.get(f"/territoire/carte.json?niveau=france&enfants=region&serie={serie}").json
    assert len(data["territoires"]) == 18 and data["classes"]
    occitanie = next(t for t in data["territoires"] if t["code"] == "76")
    assert occitanie["valeur"] == next(b for a in app.get("/territoire/region/76.json").json["axes"]
                                       for b in a["indicateurs"] if b["serie"] == serie)["valeur"]
    contours = json.loads(app.get("/territoire/contours.geojson?niveau=france&enfants=region").body)
    assert len(contours["features"]) == 18
    assert sum(f["properties"]["encart"] for f in contours["features"]) == 5      # overseas insets
    academies = json.loads(app.get("/territoire/contours.geojson?niveau=france&enfants=academie").body)
    assert len(academies["features"]) == 30                       # Pacific académies: no contour
    assert {t["code"] for t in academies["sans_contour"]} == {"40", "41", "42", "44"}
    app.get("/territoire/carte.json?niveau=france&enfants=region&serie=nope", status=404)
    app.get("/territoire/carte.json?niveau=departement&code=31&enfants=commune&serie=" + serie, status=404)


def test_points_of_a_département(app, portal):
    data = app.get("/territoire/etablissements.json?niveau=departement&code=31").json
    assert data["etablissements"] and all(p["chemin"] == f"/etablissement/{p['uai']}" for p in data["etablissements"])
    app.get("/territoire/etablissements.json?niveau=region&code=76", status=404)
