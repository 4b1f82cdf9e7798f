"""`ckan ecarto harvest SOURCE`, `ckan ecarto harvest-source-create`, and the guard that closes
a job left "Running"."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from ckan.cli.cli import ckan

from ckanext.ecarto.harvesters.run import run_source

from .conftest import FAST, ODS_CONFIG
from .portal import Fault

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_cli_harvest_prints_the_counts_and_every_error(cli, ods_source, remote):
    result = cli.invoke(ckan, ["ecarto", "harvest", ods_source["name"]])
    assert result.exit_code == 0, result.output
    assert "Créés : 3   mis à jour : 0   inchangés : 0" in result.output
    assert "Finished" in result.output

    remote.republish_ods("fr-en-annuaire-education")
    remote.republish_ods("fr-en-ips-colleges-ap2022")
    remote.faults["/api/explore/v2.1/catalog/datasets/fr-en-annuaire-education/exports/csv"] = Fault(status=500)
    remote.faults["/api/explore/v2.1/catalog/datasets/fr-en-ips-colleges-ap2022/exports/csv"] = Fault(status=503)
    result = cli.invoke(ckan, ["ecarto", "harvest", ods_source["name"]])
    assert result.exit_code == 1
    assert "en erreur : 2" in result.output and "Erreurs (2) :" in result.output
    assert "[fr-en-annuaire-education]" in result.output and "HTTP 500" in result.output
    assert "[fr-en-ips-colleges-ap2022]" in result.output and "HTTP 503" in result.output


def test_cli_unknown_source_is_a_clear_error(cli, harvest_db):
    result = cli.invoke(ckan, ["ecarto", "harvest", "nulle-part"])
    assert result.exit_code != 0 and "introuvable" in result.output


def test_cli_creates_a_source_whose_config_is_checked(cli, org, remote):
    config = json.dumps({**FAST, "datasets": [{"id": "fr-en-annuaire-education", "axe": "etablissements"}]})
    result = cli.invoke(ckan, ["ecarto", "harvest-source-create", "menj-ods", remote.url, "--type", "ecarto_ods",
                               "--organization", org["name"], "--config", config])
    assert result.exit_code == 0, result.output
    summary = run_source("menj-ods")
    assert summary.created == 1 and summary.errors == 0
    result = cli.invoke(ckan, ["ecarto", "harvest-source-create", "mauvaise", remote.url, "--type", "ecarto_ods",
                               "--config", '{"datasets": [{"keyword": "IPS"}]}'])
    assert result.exit_code != 0 and "axe manquant ou inconnu" in result.output


def test_a_job_left_running_is_closed_and_never_blocks_the_source(ods_source, clock):
    import ckan.tests.helpers as helpers
    from ckanext.harvest.model import HarvestJob
    job = helpers.call_action("harvest_job_create", {"ignore_auth": True}, source_id=ods_source["id"], run=False)
    stuck = HarvestJob.get(job["id"])
    stuck.status = "Running"
    stuck.created = clock() - dt.timedelta(hours=5)
    stuck.save()

    summary = run_source(ods_source["name"])
    assert summary.closed_jobs == [stuck.id]
    assert summary.created == 3 and summary.status == "Finished"
    stuck = HarvestJob.get(stuck.id)
    assert stuck.status == "Finished"
    assert "Moissonnage interrompu" in stuck.gather_errors[0].message
    assert "240 minutes" in stuck.gather_errors[0].message


def test_a_recent_running_job_is_respected(ods_source, clock):
    import ckan.tests.helpers as helpers
    from ckanext.harvest.model import HarvestJob
    from ckanext.ecarto.harvesters.run import RunError
    job = helpers.call_action("harvest_job_create", {"ignore_auth": True}, source_id=ods_source["id"], run=False)
    running = HarvestJob.get(job["id"])
    running.status = "Running"
    running.created = clock() - dt.timedelta(minutes=10)
    running.save()
    with pytest.raises(RunError, match="déjà en cours"):
        run_source(ods_source["name"])


def test_every_job_ends_finished_even_when_the_catalogue_is_down(make_source, remote):
    source = make_source("ecarto_ods", remote.url, ODS_CONFIG)
    remote.faults["/api/explore/v2.1/catalog/datasets"] = Fault(status=502)
    summary = run_source(source["name"])
    assert summary.status == "Finished"
    assert "HTTP 502" in summary.gather_errors[0] and "Catalogue de la source illisible" in summary.gather_errors[0]
