"""`ckanext.ecarto.search_backend = solr` hands the search back to CKAN's own Solr code.

No Solr server can be installed on this machine. `RecordingSolr` is a real HTTP server on
loopback that speaks the few Solr endpoints CKAN's pysolr client calls, RECORDS every request,
and answers Solr-format JSON: `/update` keeps the documents it receives; `/select` answers those
documents (or the ones a test chooses) with facet counts computed over them, honouring only
`fl`, `start` and `rows` — it ignores `q`, `fq` and `sort`: it does not search, it is not Solr.
`/schema` serves CKAN's own `schema.xml` (CKAN checks its version at start-up).

What the tests show: with the setting on, CKAN's pysolr client is what the search layer calls
(the dataset document reaches `/update`, the queries reach `/select` with the parameters CKAN
builds), the PostgreSQL index table is not written, and the portal's pages that read the index
(catalogue, home page figures, organizations, DCAT catalogue, harvest sources, quality
dashboard, « À propos », API documentation) go through CKAN's API to that server and render its
answers; a separate `ckan search-index rebuild` process started on a `solr` ini sends every
dataset to the core. With the default (`postgres`), the Solr URL is never called.

Not shown here (it needs a real Solr): that Solr accepts the portal's documents under CKAN's
schema, and how it ranks, filters and counts them.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import rdflib
import sqlalchemy as sa

import ckan
import ckan.lib.search.common as ckan_common
import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from ckanext.ecarto import search
from ckanext.ecarto.core.tables import SEARCH_INDEX_TABLE

CORE = "/solr/ckan"
CKAN_SCHEMA = Path(ckan.__file__).parent / "config" / "solr" / "schema.xml"
PORTAL_FIELDS = Path(search.__file__).resolve().parents[1] / "data" / "solr" / "schema-fields.xml"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


class RecordingSolr:
    """A loopback HTTP server answering like a Solr core, recording what it is asked."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.docs: dict[str, dict[str, Any]] = {}
        # the documents /select answers with; default: every document received at /update
        self.answer: Callable[[dict[str, list[str]]], list[dict[str, Any]]] = lambda params: list(self.docs.values())
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{CORE}"

    def start(self) -> "RecordingSolr":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, handler: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["handler"] == handler]

    def selects(self) -> list[dict[str, list[str]]]:
        return [r["params"] for r in self.of("select")]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        solr = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _serve(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                handler = parts.path.removeprefix(CORE).strip("/")
                params = parse_qs(parts.query, keep_blank_values=True)
                content_type = self.headers.get("Content-Type") or ""
                if body and content_type.startswith("application/x-www-form-urlencoded"):
                    params.update(parse_qs(body.decode(), keep_blank_values=True))
                with solr.lock:
                    solr.requests.append({"method": self.command, "handler": handler, "params": params,
                                          "content_type": content_type, "body": body})
                if handler == "schema":
                    self._send(CKAN_SCHEMA.read_bytes(), "application/xml")
                elif handler == "update":
                    self._send(json.dumps(solr.update(body, content_type)).encode())
                elif handler == "select":
                    self._send(json.dumps(solr.select(params)).encode())
                else:
                    self.send_error(404)

            def _send(self, payload: bytes, content_type: str = "application/json") -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def update(self, body: bytes, content_type: str) -> dict[str, Any]:
        if content_type.startswith("application/json") and body:
            with self.lock:
                for doc in json.loads(body):
                    self.docs[doc.get("index_id") or doc["id"]] = doc
        # XML messages (<delete>, <commit/>) are only recorded
        return {"responseHeader": {"status": 0, "QTime": 0}}

    def select(self, params: dict[str, list[str]]) -> dict[str, Any]:
        held = self.answer(params)
        facets = {}
        for name in params.get("facet.field", []):
            counts: dict[str, int] = {}
            for doc in held:
                values = doc.get(name)
                for value in values if isinstance(values, list) else [values]:
                    if value not in (None, ""):
                        counts[str(value)] = counts.get(str(value), 0) + 1
            facets[name] = [x for value, n in sorted(counts.items(), key=lambda i: -i[1]) for x in (value, n)]
        fields = [f for f in " ".join(params.get("fl", ["*"])).replace(",", " ").split() if f != "score"]
        start = int((params.get("start") or ["0"])[0])
        rows = int((params.get("rows") or ["10"])[0])
        docs = [doc if "*" in fields else {f: doc[f] for f in fields if f in doc}
                for doc in held[start:start + rows]]
        return {"responseHeader": {"status": 0, "QTime": 0},
                "response": {"numFound": len(held), "start": start, "docs": docs},
                "facet_counts": {"facet_queries": {}, "facet_fields": facets}}


class SolrSchema:
    """The fields of Solr schema files (CKAN's, the portal's additions): which field a document
    key lands in (exact name, else the longest matching dynamic pattern), its type class and
    whether it takes several values."""

    def __init__(self, *paths: Path) -> None:
        self.types: dict[str, tuple[str, bool]] = {}
        self.fields: dict[str, tuple[str, bool]] = {}
        self.dynamic: list[tuple[str, str, bool]] = []
        for path in paths:
            root = ElementTree.parse(path).getroot()
            for node in root.iter("fieldType"):
                self.types[node.get("name")] = (node.get("class"), node.get("multiValued") == "true")
            for node in root.iter("field"):
                self.fields[node.get("name")] = self._kind(node)
            for node in root.iter("dynamicField"):
                self.dynamic.append((node.get("name"), *self._kind(node)))
        self.dynamic.sort(key=lambda d: -len(d[0]))

    def _kind(self, node: ElementTree.Element) -> tuple[str, bool]:
        type_class, type_multi = self.types[node.get("type")]
        multi = node.get("multiValued")
        return type_class, type_multi if multi is None else multi == "true"

    def field(self, name: str) -> Optional[tuple[str, bool]]:
        if name in self.fields:
            return self.fields[name]
        for pattern, type_class, multi in self.dynamic:
            if (pattern.startswith("*") and name.endswith(pattern[1:])) or \
                    (pattern.endswith("*") and name.startswith(pattern[:-1])):
                return type_class, multi
        return None

    def refusals(self, doc: dict[str, Any]) -> list[str]:
        """What Solr would refuse in this document (the reasons it gives for a 400)."""
        found = []
        for key, value in doc.items():
            kind = self.field(key)
            if kind is None:
                found.append(f"{key}: unknown field")
                continue
            type_class, multi = kind
            values = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
            if len(values) > 1 and not multi:
                found.append(f"{key}: multiple values encountered for non multiValued field")
            for item in values:
                if isinstance(item, dict):
                    found.append(f"{key}: an object is not a field value")
                elif type_class in ("solr.IntPointField", "solr.LongPointField") and \
                        not str(item).lstrip("-").isdigit():
                    found.append(f"{key}: not an integer: {item!r}")
                elif type_class == "solr.DatePointField" and not ISO_DATE.fullmatch(str(item)):
                    found.append(f"{key}: not a Solr date: {item!r}")
        return found


def _first(params: dict[str, list[str]], name: str) -> str:
    return (params.get(name) or [""])[0]


def _index_rows(package_id: Optional[str] = None) -> int:
    query = f"SELECT count(*) FROM {SEARCH_INDEX_TABLE}" + (" WHERE id = :id" if package_id else "")
    with model.meta.engine.connect() as conn:
        return conn.execute(sa.text(query), {"id": package_id}).scalar()


def _token(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": helpers.call_action("api_token_create", {"ignore_auth": True},
                                                 user=user["name"], name="t")["token"]}


@pytest.fixture
def recording_solr() -> Iterator[RecordingSolr]:
    solr = RecordingSolr().start()
    yield solr
    solr.stop()


@pytest.fixture
def solr_app(with_plugins, ecarto_db, recording_solr, ckan_config, monkeypatch, make_app):
    """The portal started with `search_backend = solr` and `solr_url` on the recording server.
    Afterwards the PostgreSQL backend of test.ini is put back for the next tests."""
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.search_backend", "solr")
    monkeypatch.setitem(ckan_config, "solr_url", recording_solr.url)
    # every page below must be rendered, not served from the anonymous page cache
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.page_cache.enabled", False)
    app = make_app()
    yield app
    search.install_pg_backend()


@pytest.fixture
def postgres_app(with_plugins, ecarto_db, recording_solr, ckan_config, monkeypatch, make_app):
    """The default backend, with `solr_url` pointing at the recording server all the same."""
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.search_backend", "postgres")
    monkeypatch.setitem(ckan_config, "solr_url", recording_solr.url)
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.page_cache.enabled", False)
    yield make_app()
    search.install_pg_backend()


def _catalogue() -> dict[str, Any]:
    sysadmin = factories.Sysadmin()
    org = helpers.call_action("organization_create", {"user": sysadmin["name"]},
                              name="menj", title="Ministère de l'Éducation nationale")
    dataset = helpers.call_action(
        "package_create", {"user": sysadmin["name"]},
        name="annuaire-education-occitanie", title="Annuaire de l'éducation — Occitanie",
        notes="Écoles, collèges et lycées de la région académique Occitanie.",
        owner_org=org["id"], axe="etablissements", license_id="etalab-2.0",
        tags=[{"name": "écoles"}],
        resources=[{"url": "https://exemple.gouv.fr/annuaire.csv", "format": "CSV", "name": "Annuaire"}])
    return {"sysadmin": sysadmin, "org": org, "dataset": dataset}


# ----------------------------------------------------------------- the switch itself

def test_solr_setting_puts_ckans_own_solr_client_back(solr_app, recording_solr):
    assert not search.is_active()
    connection = ckan_common.make_connection()
    assert type(connection).__module__ == "pysolr"
    assert connection.url == recording_solr.url
    # CKAN checked the schema version of the core at start-up (CKAN's schema.xml, ckan-2.12)
    assert recording_solr.of("schema")


def test_solr_setting_without_solr_url_is_refused():
    with pytest.raises(ValueError, match="solr_url"):
        search.configure({"ckanext.ecarto.search_backend": "solr", "solr_url": search.PLACEHOLDER_SOLR_URL})


# ----------------------------------------------------------------- writes

def test_dataset_document_goes_to_solr_update_not_to_postgresql(solr_app, recording_solr):
    rows_before = _index_rows()
    cat = _catalogue()
    dataset = cat["dataset"]
    updates = [r for r in recording_solr.of("update") if r["content_type"].startswith("application/json")]
    assert updates, "package_create sent no document to /update"
    doc = json.loads(updates[-1]["body"])[0]
    assert doc["id"] == dataset["id"] and doc["name"] == "annuaire-education-occitanie"
    assert doc["axe"] == "etablissements" and doc["res_format"] == ["CSV"]
    assert doc["entity_type"] == "package" and doc["site_id"] == "test.ckan.net"
    assert json.loads(doc["validated_data_dict"])["title"] == "Annuaire de l'éducation — Occitanie"
    assert updates[-1]["params"].get("commit") == ["true"]

    helpers.call_action("package_patch", {"user": cat["sysadmin"]["name"]}, id=dataset["id"],
                        title="Annuaire de l'éducation — Occitanie (2025)")
    last = json.loads(recording_solr.of("update")[-1]["body"])[0]
    assert last["title"] == "Annuaire de l'éducation — Occitanie (2025)"
    assert _index_rows(dataset["id"]) == 0
    assert _index_rows() == rows_before


def test_search_index_rebuild_in_a_separate_process_fills_solr(solr_app, recording_solr, tmp_path):
    """A real `ckan search-index rebuild` process started on an ini that says `solr`: the
    backend is chosen at its start-up, and every dataset goes to the Solr core."""
    cat = _catalogue()
    rows_before = _index_rows()
    recording_solr.requests.clear()
    ini = tmp_path / "solr.ini"
    ini.write_text(f"[app:main]\nuse = config:{Path(__file__).resolve().parents[2] / 'test.ini'}\n"
                   f"ckanext.ecarto.search_backend = solr\nsolr_url = {recording_solr.url}\n")
    ckan_cli = Path(sys.executable).parent / "ckan"
    done = subprocess.run([str(ckan_cli), "-c", str(ini), "search-index", "rebuild"], env=os.environ.copy(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    sent = [doc for r in recording_solr.of("update") if r["content_type"].startswith("application/json")
            for doc in json.loads(r["body"])]
    assert cat["dataset"]["id"] in {doc["id"] for doc in sent}
    assert recording_solr.of("schema"), "the process did not check the Solr schema at start-up"
    assert _index_rows(cat["dataset"]["id"]) == 0 and _index_rows() == rows_before


def test_the_portals_documents_fit_ckans_solr_schema_with_its_additions(solr_app, recording_solr):
    """Every document the portal sends (a dataset with its territory, quality, resources and
    spatial extent; a harvest source) checked against CKAN's schema.xml plus
    ckanext/ecarto/data/solr/schema-fields.xml: known fields, several values only where the
    field takes several, numbers and dates where Solr wants them. CKAN's schema alone refuses
    the quality criteria (several values in the catch-all single-valued `*` field)."""
    cat = _catalogue()
    helpers.call_action(
        "package_create", {"user": cat["sysadmin"]["name"]},
        name="lycees-occitanie-fibre", title="Raccordement des lycées d'Occitanie à la fibre",
        owner_org=cat["org"]["id"], axe="connectivite", license_id="etalab-2.0",
        connectivite_technologies=["ftth", "cable"],
        territoire_niveau="region", territoire_code="76", millesime="2024", frequency="http://publications.europa.eu/resource/authority/frequency/ANNUAL",
        tags=[{"name": "fibre"}, {"name": "lycées"}, {"name": "thd"}],
        spatial='{"type": "Polygon", "coordinates": [[[0.44, 42.69], [2.05, 42.69], [2.05, 43.92], '
                '[0.44, 43.92], [0.44, 42.69]]]}',
        resources=[{"url": "https://exemple.gouv.fr/a.csv", "format": "CSV"},
                   {"url": "https://exemple.gouv.fr/a.geojson", "format": "GeoJSON"}])
    helpers.call_action("harvest_source_create", {"user": cat["sysadmin"]["name"]},
                        name="moisson-menj", title="Moisson du ministère", url="https://exemple.gouv.fr/catalogue",
                        source_type="ckan", owner_org=cat["org"]["id"])
    docs = list(recording_solr.docs.values())
    assert {d["dataset_type"] for d in docs} == {"dataset", "harvest"}
    assert any(d.get("territoire") == "region-76" for d in docs)
    assert any("ftth" in str(d.get("connectivite_technologies")) for d in docs)

    with_additions = SolrSchema(CKAN_SCHEMA, PORTAL_FIELDS)
    assert {d["name"]: with_additions.refusals(d) for d in docs} == {d["name"]: [] for d in docs}
    assert with_additions.field("qualite_score") == ("solr.IntPointField", False)   # sorted as a number

    ckan_only = SolrSchema(CKAN_SCHEMA)
    refused = [r for d in docs for r in ckan_only.refusals(d)]
    assert any(r.startswith("qualite_manque: multiple values") for r in refused)


# ----------------------------------------------------------------- queries

def test_package_search_sends_ckans_solr_parameters_to_select(solr_app, recording_solr):
    _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get("/api/3/action/package_search", query_string={
        "q": "écoles", "fq": "organization:menj", "facet.field": json.dumps(["axe", "res_format"])})
    assert res.status_code == 200
    params = recording_solr.selects()[-1]
    assert _first(params, "q") == "écoles"
    fq = " ".join(params["fq"])
    assert "organization:menj" in fq and '+site_id:"test.ckan.net"' in fq and "+state:(active)" in fq
    assert "capacity:public" in fq or "permission_labels:" in fq
    assert set(params["facet.field"]) == {"axe", "res_format"}
    assert _first(params, "defType") in ("dismax", "edismax")
    result = res.json["result"]
    assert [d["name"] for d in result["results"]] == ["annuaire-education-occitanie"]
    assert result["facets"]["axe"] == {"etablissements": 1}


def test_catalogue_page_renders_the_answer_of_solr(solr_app, recording_solr):
    _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get("/dataset/", query_string={"q": "lycées"})
    assert res.status_code == 200
    assert recording_solr.selects(), "the catalogue page did not query /select"
    assert any(_first(p, "q") == "lycées" for p in recording_solr.selects())
    assert "annuaire-education-occitanie" in res.body
    found = re.search(r"(\d+)\s+jeux?\s+de\s+données\s+trouvés?", res.body)
    assert found and found.group(1) == "1"


def test_home_page_figures_come_from_solr(solr_app, recording_solr):
    _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get("/")
    assert res.status_code == 200
    latest = [p for p in recording_solr.selects() if "axe" in p.get("facet.field", [])]
    assert latest, "the home page's latest datasets and figures did not query /select"
    assert _first(latest[-1], "sort") == "metadata_modified desc"
    assert "annuaire-education-occitanie" in res.body


def test_organization_pages_read_solr(solr_app, recording_solr):
    cat = _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get("/organization/menj")
    assert res.status_code == 200
    assert any(f'owner_org:"{cat["org"]["id"]}"' in " ".join(p.get("fq", [])) + _first(p, "q")
               for p in recording_solr.selects())
    assert "annuaire-education-occitanie" in res.body
    recording_solr.requests.clear()
    listing = solr_app.get("/organization/")
    assert listing.status_code == 200
    assert any("owner_org" in p.get("facet.field", []) for p in recording_solr.selects())
    assert "Ministère de l&#39;Éducation nationale" in listing.body or \
        "Ministère de l'Éducation nationale" in listing.body


def test_dcat_catalogue_reads_solr(solr_app, recording_solr):
    cat = _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get("/catalog.ttl")
    assert res.status_code == 200
    assert recording_solr.selects(), "/catalog.ttl did not query /select"
    graph = rdflib.Graph().parse(data=res.body, format="turtle")
    titles = {str(graph.value(s, rdflib.namespace.DCTERMS.title))
              for s in graph.subjects(rdflib.RDF.type, DCAT.Dataset)}
    assert titles == {cat["dataset"]["title"]}


def test_harvest_source_listing_reads_solr(solr_app, recording_solr):
    cat = _catalogue()
    source = helpers.call_action(
        "harvest_source_create", {"user": cat["sysadmin"]["name"]},
        name="moisson-menj", title="Moisson du ministère", url="https://exemple.gouv.fr/catalogue",
        source_type="ckan", owner_org=cat["org"]["id"])
    # the server does not filter: the test answers the harvest source's own document
    recording_solr.answer = lambda params: [d for d in recording_solr.docs.values()
                                            if d.get("dataset_type") == "harvest"]
    recording_solr.requests.clear()
    res = solr_app.get("/harvest", headers=_token(cat["sysadmin"]))
    assert res.status_code == 200
    assert any("dataset_type:harvest" in " ".join(p.get("fq", [])) + _first(p, "q")
               for p in recording_solr.selects())
    assert source["name"] in res.body and "Moisson du ministère" in res.body


def test_quality_dashboard_reads_solr(solr_app, recording_solr):
    cat = _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get("/tableau-de-bord/qualite", headers=_token(cat["sysadmin"]))
    assert res.status_code == 200
    assert any(cat["org"]["id"] in " ".join(p.get("fq", [])) for p in recording_solr.selects())
    assert "Annuaire de l&#39;éducation — Occitanie" in res.body or \
        "Annuaire de l'éducation — Occitanie" in res.body


@pytest.mark.parametrize("url", ["/about", "/documentation-api"])
def test_portal_pages_counting_datasets_read_solr(solr_app, recording_solr, url):
    """« À propos » counts the public datasets, the API documentation takes its examples from
    the catalogue: both through package_search."""
    _catalogue()
    recording_solr.requests.clear()
    res = solr_app.get(url)
    assert res.status_code == 200
    assert recording_solr.selects(), f"{url} did not query /select"
    if url == "/about":
        assert "Le catalogue compte aujourd’hui 1 jeux de données publics" in res.body
    else:
        assert "annuaire-education-occitanie" in res.body


# ----------------------------------------------------------------- the default never calls Solr

def test_postgres_backend_never_calls_the_solr_url(postgres_app, recording_solr):
    assert search.is_active()
    cat = _catalogue()
    assert _index_rows(cat["dataset"]["id"]) == 1
    for url in ("/", "/dataset/?q=lycées", "/organization/", "/organization/menj", "/catalog.ttl"):
        assert postgres_app.get(url).status_code == 200, url
    found = helpers.call_action("package_search", q="écoles")
    assert [d["name"] for d in found["results"]] == ["annuaire-education-occitanie"]
    assert recording_solr.requests == []
