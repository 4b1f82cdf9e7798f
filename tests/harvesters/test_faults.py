"""Faults of the remote portals: each gives a clear per-dataset error (or a catalogue error) and
loses nothing already harvested."""
from __future__ import annotations

import pytest

from ckanext.ecarto import ingest
from ckanext.ecarto.harvesters.run import run_source

from .conftest import FAST, ODS_CONFIG, UDATA_CONFIG, harvested, package_of, table_rows
from .portal import IPS_CSV, Fault, first_rows, raw

pytestmark = pytest.mark.usefixtures("with_plugins")

ANNUAIRE_EXPORT = "/api/explore/v2.1/catalog/datasets/fr-en-annuaire-education/exports/csv"
IPS_EXPORT = "/api/explore/v2.1/catalog/datasets/fr-en-ips-colleges-ap2022/exports/csv"
CATALOG = "/api/explore/v2.1/catalog/datasets"


def _errors(summary) -> str:
    return "\n".join(summary.gather_errors + [m for _, m in summary.object_errors])


def test_http_500_on_an_export_is_reported_and_keeps_the_loaded_data(ods_source, remote):
    run_source(ods_source["name"])
    resource = package_of("fr-en-annuaire-education")["resources"][0]["id"]
    remote.republish_ods("fr-en-annuaire-education")
    remote.faults[ANNUAIRE_EXPORT] = Fault(status=500)
    summary = run_source(ods_source["name"])
    assert summary.errored == 1 and summary.unchanged == 2
    (guid, message), = summary.object_errors
    assert guid == "fr-en-annuaire-education"
    assert "Annuaire de l'éducation" in message and ANNUAIRE_EXPORT in message
    assert "HTTP 500" in message and "2 tentatives" in message and "réessayez plus tard" in message
    assert table_rows(resource) == 613
    # the remote recovers: the next run imports it, without error
    del remote.faults[ANNUAIRE_EXPORT]
    summary = run_source(ods_source["name"])
    assert (summary.updated, summary.errors) == (1, 0)


def test_timeout_is_retried_then_reported(make_source, remote):
    source = make_source("ecarto_ods", remote.url, {**ODS_CONFIG, "timeout": 0.3, "retries": 1, "backoff": 0.01})
    remote.faults[IPS_EXPORT] = Fault(delay=1.0)
    summary = run_source(source["name"])
    assert summary.created == 2 and summary.errored == 1
    (guid, message), = summary.object_errors
    assert guid == "fr-en-ips-colleges-ap2022"
    assert "Délai dépassé" in message and "0.3 s" in message and "augmentez « timeout »" in message
    assert remote.count(IPS_EXPORT) == 2                            # one retry


def test_malformed_catalogue_json_changes_and_archives_nothing(ods_source, remote, clock):
    run_source(ods_source["name"])
    remote.faults[CATALOG] = Fault(body=b'{"total_count": 4, "results": [{"dataset_id": "fr-en-annuaire')
    clock.advance(days=30)
    summary = run_source(ods_source["name"])
    assert summary.object_errors == [] and len(summary.gather_errors) == 1
    message = summary.gather_errors[0]
    assert "JSON valide" in message and CATALOG in message and "Aucun jeu n'a été modifié" in message
    assert summary.missing == summary.archived == 0
    assert not any(d["private"] for d in harvested(ods_source["id"]).values())


def test_truncated_csv_is_refused_and_the_previous_version_stays(ods_source, remote):
    run_source(ods_source["name"])
    resource = package_of("fr-en-annuaire-education")["resources"][0]["id"]
    remote.republish_ods("fr-en-annuaire-education")
    remote.faults[ANNUAIRE_EXPORT] = Fault(truncate=50_000)
    summary = run_source(ods_source["name"])
    (guid, message), = summary.object_errors
    assert "Téléchargement incomplet" in message and "50\u00a0000 octets reçus sur 348\u00a0483" in message
    assert "la version déjà en base reste en place" in message
    assert table_rows(resource) == 613


def test_disappeared_dataset_is_archived_after_the_grace_period(ods_source, remote, clock, app):
    run_source(ods_source["name"])
    ips = package_of("fr-en-ips-colleges-ap2022")
    removed = remote.remove_ods("fr-en-ips-colleges-ap2022")

    summary = run_source(ods_source["name"])
    assert (summary.missing, summary.archived, summary.unchanged) == (1, 0, 2)
    assert "sera archivé le 08/06/2026" in summary.missing_notes[0]
    assert package_of(ips["name"])["private"] is False             # still public during the grace period

    clock.advance(days=6)
    assert run_source(ods_source["name"]).missing == 1
    clock.advance(days=1, minutes=1)
    summary = run_source(ods_source["name"])
    assert (summary.archived, summary.missing) == (1, 0)
    assert package_of(ips["name"])["private"] is True               # archived: out of the public catalogue
    assert ips["name"] not in app.get("/dataset/").body
    assert table_rows(ips["resources"][0]["id"]) == 300             # its data is kept
    assert run_source(ods_source["name"]).archived == 0              # archived once

    remote.ods.append(removed)                                      # back at the source
    summary = run_source(ods_source["name"])
    assert summary.updated == 1 and summary.errors == 0
    assert package_of(ips["name"])["private"] is False


def test_reappearing_cancels_the_missing_mark(ods_source, remote, clock):
    run_source(ods_source["name"])
    removed = remote.remove_ods("fr-en-ips-colleges-ap2022")
    assert run_source(ods_source["name"]).missing == 1
    remote.ods.append(removed)
    clock.advance(days=5)
    assert run_source(ods_source["name"]).updated == 1
    remote.remove_ods("fr-en-ips-colleges-ap2022")
    clock.advance(days=5)                                           # 10 days after the first absence
    summary = run_source(ods_source["name"])
    assert (summary.missing, summary.archived) == (1, 0)             # a new grace period started


def test_renamed_declared_uai_column_is_a_clear_error_and_the_data_stays(make_source, remote):
    config = {**FAST, "datasets": [{"id": "fr-en-ips-colleges-ap2022", "axe": "etablissements", "uai_column": "UAI"}]}
    source = make_source("ecarto_ods", remote.url, config)
    run_source(source["name"])
    resource = package_of("fr-en-ips-colleges-ap2022")["resources"][0]["id"]
    renamed = first_rows(raw(IPS_CSV), 300).replace(b";UAI;", b";Numero_etablissement_UAI;", 1)
    remote.republish_ods("fr-en-ips-colleges-ap2022", data=renamed)
    summary = run_source(source["name"])
    (guid, message), = summary.object_errors
    assert "« UAI » est absente du fichier" in message and "Numero_etablissement_UAI" in message
    assert "uai_column" in message and "reste en place" in message
    assert ingest.status(resource)["key_column"] == "UAI"
    assert table_rows(resource) == 300


def test_renamed_undeclared_uai_column_is_detected(ods_source, remote):
    run_source(ods_source["name"])
    resource = package_of("fr-en-ips-colleges-ap2022")["resources"][0]["id"]
    renamed = first_rows(raw(IPS_CSV), 300).replace(b";UAI;", b";Etablissement;", 1)
    remote.republish_ods("fr-en-ips-colleges-ap2022", data=renamed)
    summary = run_source(ods_source["name"])
    assert summary.errors == 0 and summary.updated == 1
    assert ingest.status(resource)["key_column"] == "Etablissement"
    assert table_rows(resource) == 300


def test_udata_page_failure_keeps_what_was_listed_and_marks_nothing_missing(udata_source, remote, clock):
    run_source(udata_source["name"])
    remote.faults["/api/1/organizations/arcep/datasets/"] = Fault(status=500, after=1)   # page 2 fails
    clock.advance(days=30)
    summary = run_source(udata_source["name"])
    assert summary.missing == summary.archived == 0
    text = _errors(summary)
    assert "page=2" in text and "HTTP 500" in text and "détection des jeux disparus est suspendue" in text
    assert summary.unchanged == 3                                    # page 1 + the tag query
    assert not any(d["private"] for d in harvested(udata_source["id"]).values())


def test_a_dataset_without_axis_is_a_per_dataset_error(make_source, remote):
    config = {**FAST, "organizations": ["arcep"], "tags": ["education"],
              "rules": [{"tag": "education", "axe": "etablissements"}]}
    source = make_source("ecarto_udata", remote.url, config)
    summary = run_source(source["name"])
    assert summary.created == 1 and summary.errored == 3
    assert all("aucun axe pour ce jeu" in m and "Jeu «" in m for _, m in summary.object_errors)


def test_without_organization_an_archived_dataset_is_deleted_and_comes_back(make_source, remote, clock):
    config = {**FAST, "datasets": [{"id": "fr-en-ips-colleges-ap2022", "axe": "etablissements"}], "grace_days": 2}
    source = make_source("ecarto_ods", remote.url, config, name="sans-org", owner_org=None)
    run_source(source["name"])
    removed = remote.remove_ods("fr-en-ips-colleges-ap2022")
    run_source(source["name"])
    clock.advance(days=2, minutes=1)
    assert run_source(source["name"]).archived == 1
    assert package_of("fr-en-ips-colleges-ap2022")["state"] == "deleted"
    remote.ods.append(removed)
    assert run_source(source["name"]).updated == 1
    assert package_of("fr-en-ips-colleges-ap2022")["state"] == "active"


def test_an_empty_catalogue_marks_nothing_missing(ods_source, remote, clock):
    run_source(ods_source["name"])
    remote.ods.clear()
    clock.advance(days=30)
    summary = run_source(ods_source["name"])
    assert summary.missing == summary.archived == 0
    assert any("ne liste plus aucun jeu" in m and "rien n'est marqué disparu" in m for m in summary.gather_errors)
