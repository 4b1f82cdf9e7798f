"""Harvest fidelity on data.gouv.fr dataset objects (udata API v1, rebuilt field by field, see
data/README.md) served by a real local HTTP server: `license: null`, udata's frequencies (`punctual`
is "as needed"), a dataset archived at the source, the link checker's extras, resource formats from
MIME types, unknown zones, a broken file link, files without UAI nor commune column."""
from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, RDF

from ckanext.ecarto import ingest
from ckanext.ecarto.harvesters import base
from ckanext.ecarto.harvesters.run import run_source

from .conftest import FAST, package_of
from .fidelity_payloads import GEONAMES_FILE, serve_udata_fidelite, warnings_of

pytestmark = pytest.mark.usefixtures("with_plugins")

FREQ = "http://publications.europa.eu/resource/authority/frequency/"
CONFIG = {"organizations": ["fidelite"], "axe": "connectivite", **FAST}

LICENCE_ABSENTE = "connexion-internet-par-commune-licence-absente"
ARCHIVE = "debit-filaire-par-commune-archive"
LIEN_CASSE = "meilleure-techno-thd-lien-casse"
SANS_CLE = "villes-geonames-sans-cle"


@pytest.fixture
def datasets(remote):
    return {d["slug"]: d for d in serve_udata_fidelite(remote)}


@pytest.fixture
def source(make_source, remote, datasets):
    return make_source("ecarto_udata", remote.url, CONFIG, name="fidelite-data-gouv")


def test_data_gouv_datasets_are_published_as_the_producer_gave_them(source, remote, datasets, app):
    summary = run_source(source["name"])
    assert summary.created == 7 and summary.errored == 1, summary.gather_errors + summary.object_errors

    absent = package_of(LICENCE_ABSENTE)
    assert absent["license_id"] == "notspecified"                   # `license: null`
    assert absent["frequency"] == FREQ + "IRREG"                     # `punctual`: as needed, not "never"
    assert absent["notes"].startswith("Jeu de données moissonné depuis 127.0.0.1:")
    assert datasets[LICENCE_ABSENTE]["id"] in absent["notes"]
    by_name = {r["name"]: r for r in absent["resources"]}
    assert by_name["Notice"]["format"] == "PDF"                      # no format, mime application/pdf
    assert ingest.status(by_name["Technologies par commune"]["id"])["status"] == "ok"

    frequencies = {name: package_of(name)["frequency"][len(FREQ):] for name in (
        ARCHIVE, LIEN_CASSE, SANS_CLE, "jeu-frequence-quadrennial", "jeu-frequence-decennial",
        "jeu-frequence-notplanned", "jeu-frequence-other")}
    assert frequencies == {ARCHIVE: "DAILY",                        # severalTimesADay
                           LIEN_CASSE: "WEEKLY",                    # fiveTimesAWeek
                           SANS_CLE: "DAILY",                       # twelveHours
                           "jeu-frequence-quadrennial": "IRREG", "jeu-frequence-decennial": "IRREG",
                           "jeu-frequence-notplanned": "NEVER", "jeu-frequence-other": "UNKNOWN"}

    # archived at the source: archived here, private, the reason at the top of its description
    archived = package_of(ARCHIVE)
    assert archived["private"] is True
    assert archived["notes"].startswith("**Jeu archivé par son producteur le 12/03/2026")
    assert "Débits filaires par commune, série arrêtée." in archived["notes"]
    assert ARCHIVE not in app.get("/dataset/").body
    assert LICENCE_ABSENTE in app.get("/dataset/").body

    warnings = warnings_of(summary)
    assert any("country-group:world" in w and "publié sans territoire" in w
               for w in warnings[datasets[LICENCE_ABSENTE]["id"]])
    assert any("archivé à la source le 12/03/2026" in w for w in warnings[datasets[ARCHIVE]["id"]])
    assert any("sans colonne UAI ni code commune" in w for w in warnings[datasets[SANS_CLE]["id"]])
    # the remarks reach the CLI summary and the /harvest dashboard, not only the database
    assert summary.warnings == base.job_warnings(summary.job_id)
    dashboard = app.get("/harvest", status=200).body
    assert "Remarques (jeux importés avec une réserve)" in dashboard
    assert "publié sans territoire" in dashboard

    # a 404 on a file link the producer publishes: the producer's link is the culprit, said once
    [(guid, message)] = summary.object_errors
    assert guid == datasets[LIEN_CASSE]["id"]
    url = f"{remote.url}/files/fidelite/fichier-retire.csv"
    assert "fichier « Meilleure technologie THD par commune » introuvable" in message
    assert "signalez-le au producteur" in message and "HTTP 404" in message
    assert "configuration de la source n'y est pour rien" in message
    assert "vérifiez l'identifiant" not in message
    assert message.count(url) == 1 and message.count("HTTP 404") == 1


def test_dcat_carries_the_eu_frequency_and_no_invented_licence(source, remote, datasets, app):
    """What the DCAT catalogue says of a harvested dataset with `punctual` and `license: null`."""
    run_source(source["name"])
    graph = Graph().parse(data=app.get(f"/dataset/{LICENCE_ABSENTE}.ttl", status=200).body, format="turtle")
    node = next(graph.subjects(RDF.type, DCAT.Dataset))
    assert graph.value(node, DCT.accrualPeriodicity) == URIRef(FREQ + "IRREG")
    licences = {str(o) for o in graph.objects(None, DCT.license)}
    assert not any("etalab" in licence or "licence-ouverte" in licence for licence in licences)


def test_the_link_checker_and_visits_change_nothing(source, remote, datasets):
    run_source(source["name"])
    keyless_downloads = remote.count(GEONAMES_FILE)
    assert keyless_downloads == 1
    for dataset in datasets.values():
        dataset["metrics"]["views"] += 50
        for resource in dataset["resources"]:
            resource["extras"].update({"check:date": "2026-06-02T03:00:00.000000+00:00", "check:id": 36800000,
                                       "check:status": 200, "analysis:check_id": 36800000})
            resource["metrics"]["views"] += 3
    summary = run_source(source["name"])
    # only the dataset whose file is missing is tried again (it failed)
    assert (summary.created, summary.updated, summary.unchanged, summary.errored) == (0, 0, 7, 1)
    assert remote.count(GEONAMES_FILE) == keyless_downloads


def test_a_keyless_file_is_fetched_again_only_when_it_changes(source, remote, datasets):
    run_source(source["name"])
    sans_cle = datasets[SANS_CLE]
    sans_cle["title"] = "Villes de plus de 1 000 habitants (extrait GeoNames)"
    summary = run_source(source["name"])
    assert summary.updated == 1 and remote.count(GEONAMES_FILE) == 1
    assert package_of(SANS_CLE)["title"] == "Villes de plus de 1 000 habitants (extrait GeoNames)"
    assert not any("sans colonne UAI" in m for _, m in base.job_warnings(summary.job_id))

    remote.files[GEONAMES_FILE] += "2988507;Paris;Paris;;P;PPLC;FR;France;;11;75;751;75056;2138551;;42;" \
                                   "Europe/Paris;2024-01-01;France;48.85341, 2.3488\r\n".encode()
    sans_cle["resources"][0]["last_modified"] = "2026-06-20T06:00:00+00:00"
    summary = run_source(source["name"])
    assert summary.updated == 1 and remote.count(GEONAMES_FILE) == 2
    assert sum("sans colonne UAI" in m for _, m in base.job_warnings(summary.job_id)) == 1


def test_unarchived_at_the_source_comes_back(source, remote, datasets):
    run_source(source["name"])
    assert package_of(ARCHIVE)["private"] is True
    datasets[ARCHIVE]["archived"] = None
    summary = run_source(source["name"])
    assert summary.updated == 1
    back = package_of(ARCHIVE)
    assert back["private"] is False and back["notes"] == "Débits filaires par commune, série arrêtée."
