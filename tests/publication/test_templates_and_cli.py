"""The same validation without the pages: the CLI (`ckan ecarto validate`) prints the report as
JSON and fails on blocking errors; the axes' CSV templates are read back as the schema's columns."""
from __future__ import annotations

import json

import pytest
from ckan.cli.cli import ckan

import ckan.tests.helpers as helpers

from ckanext.ecarto.validation import tableschema
from tests.publication import files
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")


def _without_timing(report):
    return {k: v for k, v in report.items() if k != "seconds"}


def test_cli_prints_the_same_report_as_the_api(cli, portal, tmp_path):
    path = tmp_path / "ips-31.csv"
    path.write_bytes(files.ips_haute_garonne())
    result = cli.invoke(ckan, ["ecarto", "validate", str(path), "--axe", "etablissements"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    api = helpers.call_action("ecarto_validate_resource", {"user": portal.editor["name"], "ignore_auth": False},
                              axe="etablissements", upload=upload(path.read_bytes(), "ips-31.csv"))
    assert _without_timing(printed) == _without_timing(api)
    assert printed["uai"]["not_in_directory"]["checked"] is True


def test_cli_exit_code_is_not_zero_when_blocking(cli, portal, tmp_path):
    uai = files.ips_lines()[1].split(";")[1]
    path = tmp_path / "ips-faux.csv"
    path.write_bytes(files.with_cell(files.ips_haute_garonne(), line=2, column="UAI", value=files.wrong_letter(uai)))
    result = cli.invoke(ckan, ["ecarto", "validate", str(path), "--axe", "etablissements", "--indent", "0"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["blocking"] and report["uai"]["invalid"][0]["expected_letter"] == uai[7]


@pytest.mark.parametrize("axe", tableschema.available_axes())
def test_each_template_is_read_back_as_the_schema_columns(portal, axe):
    report = helpers.call_action("ecarto_validate_resource", {"user": portal.editor["name"], "ignore_auth": False},
                                 axe=axe, upload=upload(tableschema.csv_template(axe), f"modele-{axe}.csv"))
    assert report["file"]["bom"] and report["file"]["separator"] == ";"
    assert report["schema"]["unknown_columns"] == []
    assert all(f["column"] == f["field"] for f in report["schema"]["fields"])
    assert {e["code"] for e in report["errors"]} == {"no-rows"}          # an empty template: fill it first
