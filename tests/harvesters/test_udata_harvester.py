"""`ecarto_udata` end to end: an organization's datasets over several pages (`next_page`) and a
tag query, mapped to the axis schemas; CSV resources with a commune or UAI column are loaded."""
from __future__ import annotations

import pytest

from ckanext.ecarto import ingest
from ckanext.ecarto.harvesters.run import run_source

from .conftest import harvested, package_of, table_rows

pytestmark = pytest.mark.usefixtures("with_plugins")

FREQ = "http://publications.europa.eu/resource/authority/frequency/"


def test_organization_pages_and_tag_query_are_harvested(udata_source, remote):
    summary = run_source(udata_source["name"])
    assert summary.errors == 0, summary.gather_errors + summary.object_errors
    assert summary.created == 4
    assert remote.count("/api/1/organizations/arcep/datasets/?page_size=2&page=2") == 1   # next_page followed
    names = set(harvested(udata_source["id"]))
    assert names == {"le-marche-du-haut-et-tres-haut-debit-fixe-deploiements-2018-t1",
                     "ma-connexion-internet-statistiques-par-commune",
                     "sites-mobiles-2g-3g-4g-france-metropolitaine-janvier-2018", "annuaire-de-leducation"}

    thd = package_of("le-marche-du-haut-et-tres-haut-debit-fixe-deploiements-2018-t1")
    assert thd["axe"] == "connectivite" and thd["connectivite_source"] == "arcep"
    assert thd["license_id"] == "etalab-2.0"                      # fr-lo
    assert thd["frequency"] == FREQ + "QUARTERLY"
    assert (thd["temporal_start"], thd["temporal_end"], thd["millesime"]) == ("2018-01-01", "2018-03-31", "2018")
    assert thd["territoire_niveau"] == "france"
    assert thd["author"] == "Arcep"
    by_name = {r["name"]: r for r in thd["resources"]}
    # resources keep their URLs; the documentation link is neither downloaded nor loaded
    assert by_name["Notice de l'observatoire (PDF)"]["url"].startswith("https://www.arcep.fr/")
    communes = by_name["Déploiements FttH par commune (2018 T1)"]
    assert communes["url"] == f"{remote.url}/files/arcep/communes-2018t1.extrait-300-lignes.csv"
    status = ingest.status(communes["id"])
    assert status["key_kind"] == "commune" and status["key_column"] == "Code commune"
    assert table_rows(communes["id"]) == 300

    mci = package_of("ma-connexion-internet-statistiques-par-commune")
    assert mci["license_id"] == "etalab-2.0" and mci["maintainer_email"] == "opendata@arcep.fr"
    assert [table_rows(r["id"]) for r in mci["resources"]] == [6, 6, 6]

    mobiles = package_of("sites-mobiles-2g-3g-4g-france-metropolitaine-janvier-2018")
    assert mobiles["frequency"] == FREQ + "MONTHLY"
    assert ingest.status(mobiles["resources"][0]["id"]) is None     # no UAI nor commune: a plain link

    annuaire = package_of("annuaire-de-leducation")
    assert annuaire["axe"] == "etablissements"                      # rule on the tag
    assert annuaire["frequency"] == FREQ + "UNKNOWN"
    assert ingest.status(annuaire["resources"][0]["id"])["key_kind"] == "uai"
    assert table_rows(annuaire["resources"][0]["id"]) == 613


def test_second_run_downloads_nothing_and_changes_nothing(udata_source, remote):
    run_source(udata_source["name"])
    files = remote.count("/files/") + remote.count("/exports/")
    remote.udata_dataset("fixture-arcep-thd-2018t1")["metrics"]["views"] += 100   # visits are not changes
    summary = run_source(udata_source["name"])
    assert (summary.created, summary.updated, summary.unchanged, summary.errors) == (0, 0, 4, 0)
    assert remote.count("/files/") + remote.count("/exports/") == files


def test_a_changed_resource_is_reloaded(udata_source, remote):
    from .portal import MCI
    run_source(udata_source["name"])
    dataset = remote.udata_dataset("fixture-arcep-mci-2026t1")
    path = "/files/arcep/commune_techno_sample.csv"
    remote.files[path] = b"".join((MCI / "commune_techno_sample.csv").read_bytes().splitlines(keepends=True)[:4])
    dataset["resources"][0]["last_modified"] = "2026-07-15T08:00:00+00:00"
    dataset["last_update"] = "2026-07-15T08:00:00+00:00"
    before = remote.count(path)
    summary = run_source(udata_source["name"])
    assert (summary.updated, summary.unchanged, summary.errors) == (1, 3, 0)
    mci = package_of("ma-connexion-internet-statistiques-par-commune")
    assert [table_rows(r["id"]) for r in mci["resources"]] == [3, 6, 6]
    assert remote.count(path) == before + 1
    assert remote.count("/files/arcep/commune_debit_filaire_sample.csv") == 1   # unchanged file: not again
