"""What the harvest dashboard says about a run (status in French, figures, first errors, next run)
and the e-mail the organization's admins receive when a run fails or archives datasets (a real
local SMTP server, CKAN's mailer)."""
from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from ckanext.harvest import queue
from ckanext.harvest.model import HarvestJob, HarvestSource

from ckanext.ecarto.harvesters import dashboard
from ckanext.ecarto.harvesters.dashboard import (FAILED, PARTIAL, PENDING, RUNNING, STOPPED, SUCCEEDED,
                                                 JobFacts, run_status)
from ckanext.ecarto.harvesters.examples import config_examples
from ckanext.ecarto.harvesters.run import run_source

from .conftest import ODS_CONFIG
from .portal import Fault
from .smtp import body_of, org_admin, smtp  # noqa: F401 - fixtures

NOW = dt.datetime(2026, 6, 1, 8, 0)


@pytest.mark.parametrize("facts, expected", [
    (JobFacts("New"), PENDING),
    (JobFacts("Running", objects=3, in_progress=2), RUNNING),
    (JobFacts("Finished", finished=NOW, objects=3, report={"added": 3}), SUCCEEDED),
    (JobFacts("Finished", finished=NOW), SUCCEEDED),                                     # nothing to do
    (JobFacts("Finished", finished=NOW, objects=3, failed_objects=1), PARTIAL),
    (JobFacts("Finished", finished=NOW, gather_errors=1, objects=2), PARTIAL),           # a page failed
    (JobFacts("Finished", finished=NOW, objects=2, failed_objects=2), FAILED),           # all in error
    (JobFacts("Finished", finished=NOW, gather_errors=1), FAILED),                       # catalogue unreadable
    (JobFacts("Finished", finished=NOW, gather_errors=1, objects=3, in_progress=3), FAILED),   # timed out
    (JobFacts("Finished", objects=3, in_progress=2), STOPPED),                           # "Stop" button
    (JobFacts("Finished", objects=3, failed_objects=2), STOPPED),                        # … then consumers
    (JobFacts("Finished", gather_errors=1), FAILED),                                     # no harvester
])
def test_status_of_a_run(facts: JobFacts, expected: str) -> None:
    assert run_status(facts) == expected


def test_status_labels_are_french(app) -> None:
    with app.flask_app.test_request_context():
        labels = [dashboard.status_label(code) for code in (SUCCEEDED, PARTIAL, FAILED, RUNNING, STOPPED)]
    assert labels == ["réussi", "partiel", "échec", "en cours", "arrêté"]


def test_error_messages_are_one_clean_line() -> None:
    message = "Catalogue illisible :\n  HTTP 500\n\nTraceback (most recent call last):\n  File x"
    assert dashboard.clean_message(message) == "Catalogue illisible : HTTP 500"
    long = dashboard.clean_message("x" * 1000)
    assert len(long) == dashboard.MAX_ERROR_CHARS and long.endswith("…")


def test_next_run_follows_the_frequency(app) -> None:
    with app.flask_app.test_request_context():
        manual = HarvestSource(frequency="MANUAL", active=True)
        assert dashboard.next_run(manual, NOW) == (None, "à la demande (bouton « Moissonner maintenant »)")
        daily = HarvestSource(frequency="DAILY", active=True, next_run=NOW + dt.timedelta(hours=20))
        assert dashboard.next_run(daily, NOW) == (NOW + dt.timedelta(hours=20), "")
        due = HarvestSource(frequency="WEEKLY", active=True, next_run=None)
        assert dashboard.next_run(due, NOW)[1] == "au prochain passage du planificateur (chaque minute)"
        assert dashboard.next_run(HarvestSource(frequency="DAILY", active=False), NOW)[1] == "source désactivée"


@pytest.mark.usefixtures("with_plugins")
def test_every_example_configuration_is_accepted_by_its_harvester(app) -> None:
    with app.flask_app.test_request_context():
        examples = config_examples()
        assert {e.source_type for e in examples} == {"ecarto_ods", "ecarto_udata", "ckan"}
        for example in examples:
            harvester = queue.get_harvester(example.source_type)
            assert harvester is not None, example.source_type
            harvester.validate_config(example.text)
            assert json.loads(example.text) == example.config


# --------------------------------------------------------------------------- runs and e-mails

def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _row(source_id: str) -> dashboard.SourceRow:
    return dashboard.dashboard_rows([source_id])[0]


def _to(message: Any) -> str:
    return str(message["To"])


def test_a_successful_run_is_reussi_and_sends_no_mail(app, ods_source, org_admin, smtp) -> None:
    with app.flask_app.test_request_context():
        run_source(ods_source["name"])
        row = _row(ods_source["id"])
    assert row.organization_title == "Ministère de l'Éducation nationale"
    assert (row.last_run.status, row.last_run.label) == (SUCCEEDED, "réussi")
    assert (row.last_run.created_count, row.last_run.error_count, row.last_run.errors) == (3, 0, [])
    assert row.last_run.finished is not None and row.last_run.duration
    assert smtp.messages == []


def test_a_failed_run_is_echec_and_mails_the_organization_admins(app, make_source, org_admin, smtp) -> None:
    source = make_source("ecarto_ods", closed_port_url(), ODS_CONFIG, name="menj-en-panne")
    with app.flask_app.test_request_context():
        run_source(source["name"])
        row = _row(source["id"])
    assert (row.last_run.status, row.last_run.label) == (FAILED, "échec")
    assert row.last_run.error_count >= 1 and len(row.last_run.errors) >= 1
    assert all("\n" not in message for message in row.last_run.errors)

    messages = smtp.wait_for(1)
    assert len(messages) == 1
    mail = messages[0]
    assert "camille.admin@menj.localhost" in _to(mail)
    assert mail["Subject"] == "[eCarto] Échec du moissonnage « menj-en-panne »"
    body = body_of(mail)
    assert "Le moissonnage de la source « menj-en-panne »" in body and "a échoué" in body
    assert "Statut : échec." in body
    assert row.last_run.errors[0] in body                          # the error itself, in French
    assert f"/harvest/menj-en-panne/job/{row.last_run.job_id}" in body


def test_a_catalogue_answering_500_is_echec(app, ods_source, remote, org_admin, smtp) -> None:
    remote.faults["/api/explore/v2.1/catalog/datasets"] = Fault(status=500)
    with app.flask_app.test_request_context():
        run_source(ods_source["name"])
        row = _row(ods_source["id"])
    assert row.last_run.status == FAILED
    assert "500" in " ".join(row.last_run.errors)
    assert len(smtp.wait_for(1)) == 1


def test_archiving_datasets_mails_the_organization_admins(app, ods_source, remote, clock, org_admin, smtp) -> None:
    with app.flask_app.test_request_context():
        run_source(ods_source["name"])
        remote.remove_ods("fr-en-ips-colleges-ap2022")
        run_source(ods_source["name"])                              # marked missing: no mail yet
        assert smtp.messages == []
        clock.advance(days=7, minutes=1)
        run_source(ods_source["name"])                              # archived
        row = _row(ods_source["id"])
    assert row.last_run.archived_count == 1 and row.last_run.status == SUCCEEDED
    messages = smtp.wait_for(1)
    assert len(messages) == 1
    assert messages[0]["Subject"] == "[eCarto] Moissonnage « ecarto_ods » : 1 jeu(x) archivé(s)"
    assert "Jeux archivés :" in body_of(messages[0])


def test_a_stopped_job_reads_arrete_not_finished(app, ods_source, org_admin) -> None:
    sysadmin = factories.Sysadmin()
    with app.flask_app.test_request_context():
        job = helpers.call_action("harvest_job_create", {"user": sysadmin["name"]}, source_id=ods_source["id"],
                                  run=False)
        HarvestJob.get(job["id"]).status = "Running"
        HarvestJob.get(job["id"]).save()
        helpers.call_action("harvest_job_abort", {"user": sysadmin["name"]}, source_id=ods_source["id"])
        assert dashboard.job_run_view(job["id"]).label == "arrêté"



def test_the_harvest_link_is_in_the_menu_of_administrators_only(app, org_admin, org) -> None:
    editor = factories.User()
    helpers.call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                        username=editor["name"], role="editor")
    link = '<a href="/harvest/">Moissonnage</a>'

    def home(user: Any) -> str:
        headers = {"Authorization": factories.APIToken(user=user["name"])["token"]} if user else {}
        return app.get("/", headers=headers, status=200).get_data(as_text=True)

    assert link in home(factories.Sysadmin())
    assert link in home(org_admin)
    assert link not in home(editor)
    assert link not in home(None)
