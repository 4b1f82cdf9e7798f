"""A 50 MB file (the real IPS rows of every collège, replicated at test time: 2.1 million rows):
refused with a clear message above the portal's size limit, and validated then published whole
when the limit allows it. Timings are printed, not asserted (see bench/ for figures)."""
from __future__ import annotations

import time

import pytest

import ckan.logic as logic
import ckan.tests.helpers as helpers

from tests.publication import files
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")

LIMIT_64_MB = str(64 * 1024 * 1024)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gros") / "ips-50-mo.csv"
    rows = files.big_ips_file(path)
    assert path.stat().st_size >= 50 * 1024 * 1024
    return path, rows


def _ctx(portal):
    return {"user": portal.editor["name"], "ignore_auth": False}


def test_above_the_size_limit_the_report_says_so_and_nothing_is_published(portal, new_dataset, big_file):
    path, _rows = big_file
    package = new_dataset("ips-trop-gros")
    with open(path, "rb") as stream, pytest.raises(logic.ValidationError) as exc:
        helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                            upload=upload(stream.read(), "ips-50-mo.csv"))
    report = exc.value.error_dict["rapport"][0]
    assert [e["code"] for e in report["errors"]] == ["file-too-large"]
    assert "au-delà de la limite de 10 Mo du portail" in report["errors"][0]["message"]
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []


@pytest.mark.ckan_config("ckanext.ecarto.publication_max_bytes", LIMIT_64_MB)
@pytest.mark.ckan_config("ckan.max_resource_size", "64")
@pytest.mark.ckan_config("ckanext.ecarto.ingest_sync_max_bytes", LIMIT_64_MB)
def test_within_the_limit_a_50_mb_file_is_validated_and_published_whole(app, portal, new_dataset, big_file):
    path, rows = big_file
    package = new_dataset("ips-50-mo", title="IPS répliqué (50 Mo)")
    started = time.monotonic()
    with open(path, "rb") as stream:
        outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                      upload=upload(stream.read(), "ips-50-mo.csv"))
    report = outcome["report"]
    print(f"\n50 Mo : validation {report['seconds']:.1f} s, validation + publication + chargement "
          f"{time.monotonic() - started:.1f} s pour {rows} lignes")
    assert report["valid"] and report["file"]["n_rows"] == rows
    assert {w["code"] for w in report["warnings"]} == {"duplicate-key", "unknown-columns", "not-in-directory"}
    # national file, Occitanie directory: the other regions' collèges are listed as unknown
    assert 0 < report["uai"]["not_in_directory"]["n"] < report["uai"]["n_distinct"]
    assert report["duplicates"]["n"] == rows - report["uai"]["n_distinct"]
    assert outcome["ingest"]["status"] == "ok" and outcome["ingest"]["n_rows"] == rows
    uai, ips = next(iter(files.ips_values().items()))
    page = app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True)
    assert "IPS répliqué (50 Mo)" in page.split('id="autres-donnees"', 1)[1]
