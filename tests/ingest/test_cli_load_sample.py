"""`ckan ecarto load-sample` (what `make run` calls) publishes the bundled real data through the
same path as `ckan ecarto load`; a second run is fast and changes nothing (no duplicate
organization, dataset or resource, nothing reloaded)."""
from __future__ import annotations

import time

import pytest
import yaml
from ckan.cli.cli import ckan
from ckan.tests import helpers

from .ingest_helpers import SAMPLE, query

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db", "ingest_db")

EXPECTED_ROWS = {  # rows of each bundled file (checked file by file in test_real_files_row_counts)
    "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz": 6240,
    "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv": 613,
    "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.exports-json.json.gz": 613,
    "fr-en-adresse-et-geolocalisation-etablissements_colleges-france_2024-11.csv.gz": 7537,
    "ips-colleges-2023.csv": 6864,
    "fr-en-ips_colleges.csv": 2644,
    "communes.csv.gz": 35016,
    "ftthCommunes.csv.gz": 70032,
    "commune_techno_sample.csv": 6,
    "commune_debit_filaire_sample.csv": 6,
    "commune_meilleure_techno_thd_sample.csv": 6,
}


def _resources():
    return query("SELECT r.id, r.name, p.name AS dataset FROM resource r JOIN package p ON p.id = r.package_id "
                 "WHERE r.state = 'active' AND p.state = 'active' ORDER BY p.name, r.position")


def test_load_sample_twice(cli):
    manifest = yaml.safe_load((SAMPLE / "manifest.yaml").read_text(encoding="utf-8"))
    started = time.monotonic()

    first = cli.invoke(ckan, ["ecarto", "load-sample", "--dir", str(SAMPLE)])

    first_seconds = time.monotonic() - started
    assert first.exit_code == 0, first.output
    assert first.output.count("créée —") == len(EXPECTED_ROWS)
    assert "Total : 11 ressources, 129\u00a0577 lignes en base, 0 rejetées" in first.output
    resources = _resources()
    assert len(resources) == len(EXPECTED_ROWS)
    registry = {r["resource_id"]: r for r in query("SELECT * FROM ecarto_ingested_resource")}
    by_file = {}
    for spec in manifest["datasets"]:
        package = helpers.call_action("package_show", id=spec["name"])
        assert package["title"] == spec["title"] and package["axe"] == spec["axe"]
        assert package["organization"]["name"] == spec["organization"]
        for res_spec, res in zip(spec["resources"], package["resources"]):
            assert res["name"] == res_spec["name"]
            by_file[res_spec["file"].split("/")[-1]] = registry[res["id"]]
    assert {f: r["n_rows"] for f, r in by_file.items()} == EXPECTED_ROWS
    assert {r["status"] for r in by_file.values()} == {"ok"}
    assert helpers.call_action("organization_show", id="menj")["title"] == "Ministère de l'Éducation nationale (MENJ)"

    started = time.monotonic()
    second = cli.invoke(ckan, ["ecarto", "load-sample", "--dir", str(SAMPLE)])
    second_seconds = time.monotonic() - started

    assert second.exit_code == 0, second.output
    assert second.output.count("inchangée —") == len(EXPECTED_ROWS)
    assert "créé" not in second.output.replace("inchangé", "")
    assert _resources() == resources
    after = {r["resource_id"]: r for r in query("SELECT * FROM ecarto_ingested_resource")}
    assert {k: v["loaded_at"] for k, v in after.items()} == {k: v["loaded_at"] for k, v in registry.items()}
    assert second_seconds < first_seconds / 3, (first_seconds, second_seconds)
