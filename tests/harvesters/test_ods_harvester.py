"""`ecarto_ods` end to end against a real local HTTP server serving the real sample files."""
from __future__ import annotations

import json

import pytest

from ckanext.ecarto.harvesters.run import run_source

from .conftest import package_of, table_rows

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_first_run_creates_selected_datasets_in_their_axes(ods_source, remote):
    summary = run_source(ods_source["name"])
    assert summary.errors == 0, summary.gather_errors + summary.object_errors
    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    annuaire = package_of("fr-en-annuaire-education")
    assert annuaire["axe"] == "etablissements"
    assert annuaire["license_id"] == "etalab-2.0"
    assert annuaire["owner_org"] == ods_source["owner_org"]
    assert annuaire["territoire_niveau"] == "france"
    assert annuaire["url"] == f"{remote.url}/explore/dataset/fr-en-annuaire-education/"
    assert "UAI" in annuaire["notes"] and "<p>" not in annuaire["notes"]
    export = annuaire["resources"][0]
    assert "/exports/csv" in export["url"] and "use_labels=true" in export["url"]
    assert table_rows(export["id"]) == 613
    ips = package_of("fr-en-ips-colleges-ap2022")
    assert ips["millesime"] == "2023"
    assert ips["frequency"].endswith("/ANNUAL")
    assert any(r["format"] == "PDF" for r in ips["resources"])     # the attachment, kept as a link
    etic = package_of("fr-en-etic_1d-fixture")
    assert etic["axe"] == "equipement" and etic["equipement_source"] == "etic"
    # one export call per dataset, never /records
    assert remote.count("/exports/csv") == 3 and remote.count("/records") == 0


def test_second_run_touches_nothing_when_nothing_changed(ods_source, remote):
    run_source(ods_source["name"])
    before = {n: package_of(n)["metadata_modified"] for n in
              ("fr-en-annuaire-education", "fr-en-ips-colleges-ap2022", "fr-en-etic_1d-fixture")}
    exports = remote.count("/exports/csv")
    summary = run_source(ods_source["name"])
    assert (summary.created, summary.updated, summary.unchanged, summary.errors) == (0, 0, 3, 0)
    assert remote.count("/exports/csv") == exports          # no data downloaded again
    assert {n: package_of(n)["metadata_modified"] for n in before} == before


def test_a_changed_dataset_is_updated_and_reloaded(ods_source, remote):
    from .portal import IPS_CSV, first_rows, raw
    run_source(ods_source["name"])
    exports = remote.count("/exports/csv")
    remote.republish_ods("fr-en-ips-colleges-ap2022", data=first_rows(raw(IPS_CSV), 250), records_count=250,
                         title="Indices de position sociale dans les collèges (rentrée 2023)")
    summary = run_source(ods_source["name"])
    assert (summary.created, summary.updated, summary.unchanged, summary.errors) == (0, 1, 2, 0)
    ips = package_of("fr-en-ips-colleges-ap2022")
    assert ips["title"] == "Indices de position sociale dans les collèges (rentrée 2023)"
    assert table_rows(ips["resources"][0]["id"]) == 250
    assert remote.count("/exports/csv") == exports + 1       # only the changed dataset


def test_rerun_and_forced_rerun_create_no_duplicates(ods_source, make_source, remote):
    import ckan.model as model
    run_source(ods_source["name"])
    ids = {n: package_of(n)["id"] for n in ("fr-en-annuaire-education", "fr-en-ips-colleges-ap2022")}
    resource = package_of("fr-en-annuaire-education")["resources"][0]["id"]
    summary = run_source(ods_source["name"], force=True)
    assert (summary.created, summary.updated) == (0, 3)
    count = model.Session.query(model.Package).filter(model.Package.type == "dataset").count()
    assert count == 3
    assert {n: package_of(n)["id"] for n in ids} == ids
    assert package_of("fr-en-annuaire-education")["resources"][0]["id"] == resource


def test_harvested_uai_data_appears_on_the_establishment_page(app, ods_source):
    run_source(ods_source["name"])
    page = app.get("/etablissement/0940176F")
    assert page.status_code == 200
    assert "Robert Doisneau" in page.body
    import ckan.tests.helpers as helpers
    record = helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai="0940176F")
    indicators = {i["id"]: i for a in record["axes"] for i in a["indicateurs"]}
    # the ETIC mapping (hand-written fixture): documented variable labels -> axis indicators
    assert indicators["nb_terminaux"]["valeur"] == 42
    assert indicators["nb_terminaux"]["source"]["dataset"] == "fr-en-etic_1d-fixture"
    assert indicators["nb_terminaux_moins_5_ans"]["valeur"] == 10
    assert indicators["acces_adsl"]["valeur"] is True          # no Table Schema alias: ETIC mapping
    assert indicators["enseignant_referent"]["valeur"] is False


def test_source_config_is_checked_with_french_messages(make_source, remote):
    import ckan.plugins.toolkit as tk
    with pytest.raises(tk.ValidationError) as err:
        make_source("ecarto_ods", remote.url, {"datasets": [{"id": "fr-en-annuaire-education", "axe": "inconnu"}]})
    assert "axe manquant ou inconnu" in json.dumps(err.value.error_dict, ensure_ascii=False)
    with pytest.raises(tk.ValidationError) as err:
        make_source("ecarto_ods", remote.url, {"datasets": []}, name="vide")
    assert "liste non vide" in json.dumps(err.value.error_dict, ensure_ascii=False)
