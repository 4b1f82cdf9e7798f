"""data.gouv.fr's CKAN harvester accepts every public dataset of the sample catalogue.

The real code: udata (pinned in scripts/udata-venv.sh) in its own virtualenv `.venv-udata`
(its dependencies clash with CKAN's pins), called in a subprocess on the package_show results
this portal serves over its API, as the harvester fetches them (package_list, then package_show
for each name). Checks: udata's voluptuous schema (type "dataset", every key, resource types,
e-mails…) and the extras it maps (Polygon/MultiPolygon spatial, frequency, temporal coverage).
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

ROOT = Path(__file__).resolve().parents[2]
UDATA_PYTHON = Path(os.environ.get("ECARTO_UDATA_PYTHON", ROOT / ".venv-udata" / "bin" / "python"))
CHECKER = Path(__file__).with_name("udata_ckan_check.py")
FREQ = "http://publications.europa.eu/resource/authority/frequency/"


@pytest.fixture(scope="module")
def sample_catalogue(module_portal_db):
    """The bundled sample (ckan ecarto load-sample) plus one dataset for each other axis, a
    commune-level one and a private one."""
    from ckanext.ecarto.ingest import publish

    app = helpers._get_test_app()
    with app.flask_app.test_request_context():
        publish.load_sample(echo=lambda line: None)
        admin = factories.Sysadmin()
        ctx = {"user": admin["name"], "ignore_auth": True}
        org = helpers.call_action("organization_show", id="menj")
        extra = [
            dict(name="equipement-colleges-haute-garonne-2018", axe="equipement",
                 territoire_niveau="departement", territoire_code="031", millesime="2018",
                 frequency=FREQ + "ANNUAL", temporal_start="2018-01-01", temporal_end="2018-12-31",
                 equipement_source="etic", equipement_indicateurs=["nb_terminaux"]),
            dict(name="ent-lycees-occitanie", axe="services_ressources", territoire_niveau="academie",
                 territoire_code="16", services_ressources_ent="ENT Occitanie"),
            dict(name="college-lab-toulouse", axe="experimentations", territoire_niveau="commune",
                 territoire_code="31555", experimentations_programme="college-lab",
                 experimentations_uai="0311131L", maintainer_email="contact@example.org"),
        ]
        for spec in extra:
            helpers.call_action("package_create", context=dict(ctx), owner_org=org["id"],
                                title=spec["name"], resources=[{
                                    "url": f"https://example.org/{spec['name']}.csv", "format": "CSV",
                                    "name": "Données"}], **spec)
        helpers.call_action("package_create", context=dict(ctx), owner_org=org["id"],
                            name="brouillon-prive", private=True, axe="connectivite",
                            resources=[{"url": "https://example.org/p.csv"}])
    return [spec["name"] for spec in extra]


def _harvest_like(app) -> list[dict]:
    names = app.get("/api/3/action/package_list", status=200).json["result"]
    assert "brouillon-prive" not in names
    shown = []
    for name in names:
        response = app.get("/api/3/action/package_show", query_string={"id": name}, status=200)
        shown.append(response.json["result"])
    return shown


def test_every_public_dataset_passes_udata_ckan_harvester(sample_catalogue, app):
    if not UDATA_PYTHON.exists():
        pytest.skip(f"{UDATA_PYTHON} absent : lancez scripts/udata-venv.sh (udata depuis PyPI)")
    results = _harvest_like(app)
    assert len(results) == 9  # 6 sample datasets + 3
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(results, f)
    try:
        run = subprocess.run([str(UDATA_PYTHON), str(CHECKER), f.name], capture_output=True,
                             text=True, timeout=300)
    finally:
        os.unlink(f.name)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    failures = {name: problems for name, problems in report["results"].items() if problems}
    assert failures == {}, f"udata {report['udata']}: {failures}"
    assert len(report["results"]) == 9


def test_harvester_reads_coverage_from_extras(sample_catalogue, app):
    by_name = {r["name"]: r for r in _harvest_like(app)}
    extras = {e["key"]: e["value"] for e in by_name["equipement-colleges-haute-garonne-2018"]["extras"]}
    assert extras["temporal_start"] == "2018-01-01" and extras["temporal_end"] == "2018-12-31"
    assert extras["frequency"] == FREQ + "ANNUAL"
    assert json.loads(extras["spatial"])["type"] in ("Polygon", "MultiPolygon")
    arcep = {e["key"]: e["value"] for e in by_name["arcep-deploiements-ftth-communes-2018-t1"]["extras"]}
    assert json.loads(arcep["spatial"])["type"] == "MultiPolygon"  # France, derived
    for result in by_name.values():
        assert result["type"] == "dataset"
        assert result["license_id"] == "etalab-2.0"
        assert result["license_title"] == "Licence Ouverte / Open Licence version 2.0"
