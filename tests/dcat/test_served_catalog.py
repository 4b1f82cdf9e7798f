"""The catalogue the portal serves is valid DCAT-AP 3, whatever path created its datasets (issue 17).

The catalogue is built through the real paths: `ckan ecarto load-sample` and a `ckan ecarto load`
with only its required options (both through click, on the real commands), a file published by
a département's editor through the validated upload (`ecarto_publish_resource`), a harvest source
created through ckanext-harvest's web form and run against a local data.gouv.fr (tests/harvesters
/portal.py). Then every page of `/catalog.ttl` (3 datasets a page: the hydra paging is walked) is
checked against the SEMIC DCAT-AP 3 shapes with pyshacl, and parsed by data.gouv.fr's DCAT
harvester code (udata, in .venv-udata, see udata_dcat_check.py)."""
from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.harvesters.portal import FakePortal
from tests.publication import files
from tests.publication.conftest import upload

ROOT = Path(__file__).resolve().parents[2]
SHAPES = Path(__file__).with_name("shacl") / "dcat-ap_3_shacl_shapes.ttl"
UDATA_PYTHON = Path(os.environ.get("ECARTO_UDATA_PYTHON", ROOT / ".venv-udata" / "bin" / "python"))
UDATA_CHECKER = Path(__file__).with_name("udata_dcat_check.py")
CLI_FILE = ROOT / "data" / "sample" / "ips-colleges-2023" / "ips-colleges-2023.csv"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA = "https://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
PER_PAGE = "3"
SOURCE_NAME = "datagouv-arcep"
SOURCE_CONFIG = {"organizations": ["arcep"], "axe": "connectivite", "page_size": 2,
                 "timeout": 5, "retries": 1, "backoff": 0.01}



def _invoke(command: Any, args: list[str]) -> str:
    result = CliRunner().invoke(command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _publish_as_departement(sysadmin: dict[str, Any]) -> str:
    """A département's editor creates a dataset and publishes a file through the validated upload."""
    org = helpers.call_action("organization_create", {"user": sysadmin["name"]}, name="departement-haute-garonne",
                              title="Département de la Haute-Garonne")
    editor = factories.User(name="editeur-hg")
    helpers.call_action("organization_member_create", {"user": sysadmin["name"]}, id=org["id"],
                        username=editor["name"], role="editor")
    as_editor = {"user": editor["name"], "ignore_auth": False}
    package = helpers.call_action(
        "package_create", dict(as_editor), name="ips-colleges-haute-garonne", owner_org=org["id"],
        title="IPS des collèges de Haute-Garonne", axe="etablissements", millesime="2023",
        notes="Indice de position sociale des collèges publics et privés de la Haute-Garonne.")
    outcome = helpers.call_action("ecarto_publish_resource", dict(as_editor), package_id=package["id"],
                                  upload=upload(files.ips_haute_garonne(), "ips-colleges-31.csv"))
    assert outcome["report"]["valid"], outcome["report"]
    return package["name"]


def _harvest_through_web_form(app: Any, sysadmin: dict[str, Any], remote: FakePortal) -> list[str]:
    """The source is created as a sysadmin does on /harvest/new, then run."""
    from ckanext.ecarto.harvesters.run import run_source

    menj = helpers.call_action("organization_show", id="menj")
    headers = {"Authorization": factories.APIToken(user=sysadmin["name"])["token"]}
    app.post("/harvest/new", headers=headers, data={
        "name": SOURCE_NAME, "title": "data.gouv.fr — Arcep", "url": remote.url, "source_type": "ecarto_udata",
        "frequency": "MANUAL", "owner_org": menj["id"], "config": json.dumps(SOURCE_CONFIG), "save": ""})
    source = helpers.call_action("harvest_source_show", {"ignore_auth": True}, id=SOURCE_NAME)
    summary = run_source(source["id"])
    assert summary.errors == 0, summary.gather_errors + summary.object_errors
    found = helpers.call_action("package_search", {"ignore_auth": True}, fq=f'harvest_source_id:"{source["id"]}"',
                                rows=100)
    return [d["name"] for d in found["results"]]


@pytest.fixture(scope="module")
def served(module_portal_db) -> dict[str, Any]:
    """Names of the datasets each path created."""
    from ckanext.ecarto.ingest import commands

    app = helpers._get_test_app()
    sysadmin = factories.Sysadmin()
    with app.flask_app.test_request_context():
        _invoke(commands.load_sample, [])
        sample = helpers.call_action("package_list", {})
        _invoke(commands.load, [str(CLI_FILE), "--dataset", "ips-colleges-cli", "--axe", "etablissements"])
        published = _publish_as_departement(sysadmin)
    remote = FakePortal().start()
    try:
        harvested = _harvest_through_web_form(app, sysadmin, remote)
    finally:
        remote.stop()
    assert harvested, "nothing harvested"
    return {"sample": sample, "cli": "ips-colleges-cli", "published": published, "harvested": harvested}


def _catalogue_pages(app: Any, extension: str = "ttl") -> list[str]:
    """Every page of /catalog.<ext>, following hydra:nextPage as a harvester does."""
    pages: list[str] = []
    url = f"/catalog.{extension}"
    while url:
        assert len(pages) < 50, "hydra paging does not end"
        text = app.get(url, status=200).get_data(as_text=True)
        pages.append(text)
        graph = Graph().parse(data=text, format="turtle")
        following = next(graph.objects(None, HYDRA.nextPage), None)
        url = str(following).replace(_site_url(), "") if following is not None else ""
    return pages


def _site_url() -> str:
    import ckan.plugins.toolkit as tk
    return tk.config.get("ckan.site_url").rstrip("/")


def _violations(graph: Graph) -> list[str]:
    """The SHACL violations of `graph` against DCAT-AP 3, one line each (shape, path, focus)."""
    from pyshacl import validate
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, results, _text = validate(graph, shacl_graph=shapes, inference="none", abort_on_first=False)
    if conforms:
        return []
    sh = Namespace("http://www.w3.org/ns/shacl#")
    lines = []
    for result in results.subjects(RDF.type, sh.ValidationResult):
        lines.append(" | ".join(str(results.value(result, p)) for p in
                                (sh.resultPath, sh.resultMessage, sh.focusNode, sh.value)))
    return sorted(lines)


def _all_dataset_uris(graph: Graph) -> set[str]:
    return {str(uri) for uri in graph.subjects(RDF.type, DCAT.Dataset)}


@pytest.fixture(scope="module")
def catalogue(served) -> dict[str, Any]:
    """Every page of /catalog.ttl as served (3 datasets a page), and the same with checksums on."""
    app = helpers._get_test_app()
    with helpers.changed_config("ckanext.dcat.datasets_per_page", PER_PAGE):
        pages = _catalogue_pages(app)
        with helpers.changed_config("ckanext.ecarto.dcat_checksums", True):
            with_checksums = _catalogue_pages(app)
    return {"pages": pages, "graph": _merged(pages), "checksum_pages": with_checksums,
            "checksum_graph": _merged(with_checksums)}


def _merged(pages: list[str]) -> Graph:
    graph = Graph()
    for page in pages:
        graph.parse(data=page, format="turtle")
    return graph


def _public_names(served: dict[str, Any]) -> set[str]:
    return {*served["sample"], served["cli"], served["published"], *served["harvested"]}


@pytest.mark.parametrize("variant", ["pages", "checksum_pages"])
def test_every_page_of_the_served_catalogue_is_valid_dcat_ap_3(served, catalogue, variant):
    pages = catalogue[variant]
    assert len(pages) > 1                                           # the paging is walked
    problems = [v for page in pages for v in _violations(Graph().parse(data=page, format="turtle"))]
    summary = Counter(" | ".join(line.split(" | ")[:2]) for line in problems)
    assert problems == [], f"{len(problems)} violations:\n" + "\n".join(
        f"{n} × {kind}" for kind, n in summary.most_common()) + "\n" + "\n".join(problems[:30])
    served_uris = _all_dataset_uris(_merged(pages))
    assert len(served_uris) == len(_public_names(served))           # every public dataset…
    per_page = [len(_all_dataset_uris(Graph().parse(data=page, format="turtle"))) for page in pages]
    assert sum(per_page) == len(served_uris) and max(per_page) == int(PER_PAGE)   # …once


@pytest.mark.parametrize("extension,fmt", [("rdf", "xml"), ("jsonld", "json-ld"), ("xml", "xml")])
def test_the_catalogue_in_other_serialisations_is_the_same_and_valid(served, catalogue, app, extension, fmt):
    with helpers.changed_config("ckanext.dcat.datasets_per_page", PER_PAGE):
        response = app.get(f"/catalog.{extension}", status=200)
    graph = Graph().parse(data=response.get_data(as_text=True), format=fmt)
    first_ttl = Graph().parse(data=catalogue["pages"][0], format="turtle")
    assert _all_dataset_uris(graph) == _all_dataset_uris(first_ttl)
    assert next(graph.objects(None, HYDRA.nextPage), None) is not None
    assert _violations(graph) == []


def test_distributions_carry_iana_media_types_eu_formats_and_checksum_algorithms(served, catalogue):
    graph = catalogue["graph"]
    media_types = set(graph.objects(None, DCAT.mediaType))
    assert media_types and all(isinstance(m, URIRef) and str(m).startswith(IANA) for m in media_types)
    assert URIRef(IANA + "text/csv") in media_types
    formats = set(graph.objects(None, DCT["format"]))
    assert URIRef(FILE_TYPE + "CSV") in formats and all(isinstance(f, URIRef) for f in formats)
    assert not any(graph.objects(None, SPDX.checksum))             # off by default (udata, see below)
    with_checksums = catalogue["checksum_graph"]
    checksums = list(with_checksums.objects(None, SPDX.checksum))
    assert checksums, "uploaded files have their SHA-256"
    for checksum in checksums:
        assert with_checksums.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert len(str(with_checksums.value(checksum, SPDX.checksumValue))) == 64


def test_every_dataset_has_a_description_a_named_publisher_and_the_cli_one_says_what_it_is(served, catalogue):
    graph = catalogue["graph"]
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        descriptions = [str(d).strip() for d in graph.objects(dataset, DCT.description)]
        assert descriptions and all(descriptions), dataset
        publisher = graph.value(dataset, DCT.publisher)
        assert publisher is not None and (publisher, RDF.type, FOAF.Agent) in graph, dataset
        assert graph.value(publisher, FOAF.name), dataset
    cli = URIRef(f"{_site_url()}/dataset/{_dataset_id('ips-colleges-cli')}")
    text = str(graph.value(cli, DCT.description))
    assert "ips-colleges-2023.csv" in text and "établissements" in text and "lignes" in text, text


def _dataset_id(name: str) -> str:
    return helpers.call_action("package_show", id=name)["id"]


def test_the_harvest_source_is_nowhere_a_harvester_looks(served, catalogue, app):
    names = app.get("/api/3/action/package_list", status=200).json["result"]
    assert SOURCE_NAME not in names
    assert set(names) == _public_names(served)
    found = app.get("/api/3/action/package_search", query_string={"rows": 1000}, status=200).json["result"]
    assert SOURCE_NAME not in {d["name"] for d in found["results"]}
    assert {d["type"] for d in found["results"]} == {"dataset"}
    source_id = helpers.call_action("harvest_source_show", {"ignore_auth": True}, id=SOURCE_NAME)["id"]
    assert not any(source_id in uri for uri in _all_dataset_uris(catalogue["graph"]))
    assert SOURCE_NAME not in "".join(catalogue["pages"])
    # the harvest source's own page is not a DCAT dataset either
    app.get(f"/dataset/{SOURCE_NAME}.ttl", status=404)


@pytest.mark.parametrize("extension,fmt", [("ttl", "turtle"), ("rdf", "xml"), ("jsonld", "json-ld")])
def test_each_dataset_page_in_rdf_is_valid_dcat_ap_3(served, app, extension, fmt):
    names = [*served["sample"][:2], served["cli"], served["published"], served["harvested"][0]]
    for name in names:
        response = app.get(f"/dataset/{name}.{extension}", status=200)
        graph = Graph().parse(data=response.get_data(as_text=True), format=fmt)
        assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 1
        problems = _violations(graph)
        assert problems == [], f"{name}.{extension}: " + "\n".join(problems[:20])


def _udata_parse(pages: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, page in enumerate(pages):
            path = Path(folder) / f"page-{number}.ttl"
            path.write_text(page, encoding="utf-8")
            paths.append(str(path))
        run = subprocess.run([str(UDATA_PYTHON), str(UDATA_CHECKER), *paths], capture_output=True, text=True,
                             timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_data_gouv_fr_dcat_harvester_parses_the_whole_catalogue(served, catalogue):
    report = _udata_parse(catalogue["pages"])
    assert report["errors"] == []
    failed = {ident: entry["errors"][0] for ident, entry in report["datasets"].items() if entry["errors"]}
    assert failed == {}, json.dumps(failed, ensure_ascii=False, indent=1)[:5000]
    assert len(report["datasets"]) == len(_public_names(served))
    for ident, entry in report["datasets"].items():
        assert entry["description"], ident
        assert entry["license"] == "lov2", (ident, entry["license"])
        assert entry["resources"], ident
        for resource in entry["resources"]:
            assert resource["url"].startswith("http"), resource
    resources = [r for entry in report["datasets"].values() for r in entry["resources"]]
    assert {"csv", "json"} <= {r["format"] for r in resources}
    assert "text/csv" in {r["mime"] for r in resources}


def test_why_checksums_are_off_by_default_udata_refuses_dcat_ap_3_checksums(served, catalogue):
    """The canary of `ckanext.ecarto.dcat_checksums`: udata reads the xsd:hexBinary value DCAT-AP 3
    requires as bytes and refuses the dataset. When a udata release fixes it, this test fails:
    turn the option on by default then."""
    report = _udata_parse(catalogue["checksum_pages"])
    failed = {ident: entry["errors"][0] for ident, entry in report["datasets"].items() if entry["errors"]}
    assert failed and all("checksum.value" in error for error in failed.values()), failed


# --------------------------------------------------------------------------- description required

REQUIRED = "Description obligatoire"


def _editor_headers() -> dict[str, str]:
    return {"Authorization": factories.APIToken(user="editeur-hg")["token"]}


def _org_id() -> str:
    return helpers.call_action("organization_show", id="departement-haute-garonne")["id"]


def _new_dataset(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "title": f"Données {name}", "owner_org": _org_id(), "axe": "etablissements",
            "millesime": "2023", **extra}


def test_the_api_refuses_a_dataset_without_description_in_french(served, app):
    headers = _editor_headers()
    for notes in (None, "", "   \n "):
        payload = _new_dataset("sans-description", **({} if notes is None else {"notes": notes}))
        response = app.post("/api/3/action/package_create", json=payload, headers=headers, status=409)
        assert REQUIRED in response.json["error"]["notes"][0]
    app.post("/api/3/action/package_show", json={"id": "sans-description"}, headers=headers, status=404)
    created = app.post("/api/3/action/package_create", headers=headers, status=200, json=_new_dataset(
        "avec-description", notes="Effectifs des collèges de la Haute-Garonne, rentrée 2023.")).json["result"]
    # a description once given cannot be emptied
    response = app.post("/api/3/action/package_patch", json={"id": created["id"], "notes": ""}, headers=headers,
                        status=409)
    assert REQUIRED in response.json["error"]["notes"][0]


def test_the_form_refuses_a_dataset_without_description(served, app):
    form = {**_new_dataset("formulaire-sans-description"), "save": "", "_ckan_phase": "dataset_new_1",
            "territoire_niveau": "departement", "territoire_code": "031"}
    page = app.post("/dataset/new", data=form, headers=_editor_headers()).get_data(as_text=True)
    assert REQUIRED in page.replace("&#39;", "'")
    assert not helpers.call_action("package_search", {"ignore_auth": True}, q="name:formulaire-sans-description",
                                   include_drafts=True)["count"]
    form["notes"] = "Liste des collèges publics de la Haute-Garonne, avec leur UAI."
    response = app.post("/dataset/new", data=form, headers=_editor_headers(), follow_redirects=False)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_dataset_saved_without_description_before_the_rule_stays_editable(served, app):
    """Created by the portal's own code without one (as before the rule): the API still updates it,
    and the catalogue describes it from its metadata."""
    site_user = helpers.call_action("get_site_user", {"ignore_auth": True})["name"]
    legacy = helpers.call_action("package_create", {"ignore_auth": True, "user": site_user},
                                 **_new_dataset("ancien-sans-description"))
    headers = _editor_headers()
    app.post("/api/3/action/package_patch", json={"id": legacy["id"], "millesime": "2024"}, headers=headers,
             status=200)
    graph = Graph().parse(data=app.get("/dataset/ancien-sans-description.ttl", status=200).get_data(as_text=True),
                          format="turtle")
    description = str(next(graph.objects(None, DCT.description)))
    assert "Données ancien-sans-description" in description and "Département de la Haute-Garonne" in description
    assert _violations(graph) == []


def test_cli_description_option_is_kept_and_a_reload_does_not_overwrite_it(served):
    from ckanext.ecarto.ingest import commands

    given = "IPS des collèges à la rentrée 2023 (MENJ-DEPP), extrait de 4 colonnes."
    app = helpers._get_test_app()
    with app.flask_app.test_request_context():
        _invoke(commands.load, [str(CLI_FILE), "--dataset", "ips-colleges-decrit", "--axe", "etablissements",
                                "--organization", "menj", "--description", given])
        assert helpers.call_action("package_show", id="ips-colleges-decrit")["notes"] == given
        _invoke(commands.load, [str(CLI_FILE), "--dataset", "ips-colleges-decrit", "--axe", "etablissements"])
        assert helpers.call_action("package_show", id="ips-colleges-decrit")["notes"] == given
        generated = helpers.call_action("package_show", id="ips-colleges-cli")["notes"]
        rows = helpers.call_action("ecarto_ingest_status", {"ignore_auth": True},
                                   id=helpers.call_action("package_show", id="ips-colleges-cli")["resources"][0]["id"])
    assert generated.startswith("Données du fichier ips-colleges-2023.csv, axe « Annuaire et référentiels des "
                                "établissements » du numérique éducatif.")
    assert f"{rows['n_rows']:,}".replace(",", "\u00a0") + " lignes, clé UAI" in generated, generated
