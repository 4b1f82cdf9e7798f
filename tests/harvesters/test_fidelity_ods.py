"""Harvest fidelity on Opendatasoft's own Explore v2.1 examples (its OpenAPI description), served
by a real local HTTP server: a missing licence stays "non spécifiée", attachments get their format
from their MIME type, a territory the portal does not know is reported, a dataset without
description gets a factual one, v2.1 list annotations are written as text, and a file without UAI
nor commune column is reported once and not downloaded again unless it changes."""
from __future__ import annotations

import json

import pytest

from ckanext.ecarto import ingest
from ckanext.ecarto.harvesters import base
from ckanext.ecarto.harvesters.run import run_source

from .conftest import FAST, package_of
from .fidelity_payloads import GEONAMES, ODS_EXPORT, WORLD, serve_ods_example, warnings_of

pytestmark = pytest.mark.usefixtures("with_plugins")

CONFIG = {"datasets": [{"id": WORLD, "axe": "etablissements"}, {"id": GEONAMES, "axe": "etablissements"}], **FAST}


@pytest.fixture
def example(remote):
    return serve_ods_example(remote)


@pytest.fixture
def source(make_source, remote, example):
    return make_source("ecarto_ods", remote.url, CONFIG, name="exemples-opendatasoft")


def test_the_openapi_examples_are_published_as_the_producer_gave_them(source, remote, example):
    # Explore v2.1 annotations are lists of arguments (as `facetsort: ['-count']` in the example)
    population = next(f for f in example[GEONAMES]["fields"] if f["name"] == "population")
    population["annotations"]["unit"] = ["habitants"]

    summary = run_source(source["name"])
    assert summary.errors == 0, summary.gather_errors + summary.object_errors
    assert summary.created == 2

    geonames = package_of(GEONAMES)
    # `license: null` at the source: never the Licence Ouverte
    assert geonames["license_id"] == "notspecified"
    assert geonames["license_title"] == "Licence non spécifiée"
    # `description: null`: a factual French description naming the source and the identifier
    assert geonames["notes"].startswith("Jeu de données moissonné depuis 127.0.0.1:")
    assert GEONAMES in geonames["notes"] and f"/explore/dataset/{GEONAMES}/" in geonames["notes"]
    # `territory: ["World"]`: no French territory, and said so
    assert not geonames.get("territoire_niveau")
    by_name = {r["name"]: r for r in geonames["resources"]}
    assert by_name["cities1000.zip"]["format"] == "ZIP"            # mimetype application/zip
    assert by_name["cities1000.zip"]["url"].endswith(f"/catalog/datasets/{GEONAMES}/attachments/cities1000_zip")
    dictionary = json.loads(by_name[f"{geonames['title']} (export CSV)"]["data_dictionary"])
    units = {e["column"]: e.get("unit") for e in dictionary}
    assert units["Population"] == "habitants"                       # not "['habitants']"
    descriptions = {e["column"]: e.get("description") for e in dictionary}
    assert descriptions["Feature Class"] == "see http://www.geonames.org/export/codes.html"

    world = package_of(WORLD)
    assert world["license_id"] == "notspecified"                    # Open Government Licence v3.0: unknown here
    assert world["notes"].startswith("This dataset displays level 0 world administrative boundaries.")

    warnings = warnings_of(summary)
    assert any("territoire(s) de la source non reconnu(s) : World" in w for w in warnings[GEONAMES])
    assert any("territoire(s) de la source non reconnu(s) : World" in w for w in warnings[WORLD])
    assert any("licence de la source non reconnue (« Open Government Licence v3.0 »)" in w for w in warnings[WORLD])
    keyless = [w for w in warnings[GEONAMES] if "sans colonne UAI ni code commune" in w]
    assert len(keyless) == 1 and "ne sera téléchargé à nouveau que s'il change" in keyless[0]
    export = by_name[f"{geonames['title']} (export CSV)"]
    assert ingest.status(export["id"]) is None                      # a plain link, not loaded


def test_a_keyless_file_is_reported_once_and_not_downloaded_again_unless_it_changes(source, remote, example):
    export = ODS_EXPORT.format(id=GEONAMES)
    run_source(source["name"])
    assert remote.count(export) == 1

    # the producer edits the metadata only: the dataset is updated, its file is not fetched again
    example[GEONAMES]["metas"]["default"].update(title="Geonames - Cities with a population > 1000",
                                                 modified="2021-07-01T08:00:00+00:00")
    summary = run_source(source["name"])
    assert (summary.updated, summary.unchanged, summary.errors) == (1, 1, 0)
    assert package_of(GEONAMES)["title"] == "Geonames - Cities with a population > 1000"
    assert remote.count(export) == 1
    assert not any("sans colonne UAI" in m for _, m in base.job_warnings(summary.job_id))

    # a visit of the catalogue changes `metadata_processed` only: nothing to update
    example[GEONAMES]["metas"]["default"]["metadata_processed"] = "2021-07-02T08:00:00.000000+00:00"
    summary = run_source(source["name"])
    assert (summary.updated, summary.unchanged) == (0, 2)

    # new data at the source: downloaded again (and reported again, still without key)
    example[GEONAMES]["metas"]["default"].update(data_processed="2021-08-01T08:00:00+00:00", records_count=137700)
    summary = run_source(source["name"])
    assert summary.updated == 1 and remote.count(export) == 2
    assert sum("sans colonne UAI" in m for _, m in base.job_warnings(summary.job_id)) == 1
