"""Real clients against the portal: ckanext-harvest's CKAN harvester over HTTP, ckanext-dcat's
catalogue with `modified_since`, data.gouv.fr's query, and CKAN's own pages."""
from __future__ import annotations

import re
import threading

import pytest
import rdflib
from werkzeug.serving import make_server

from .conftest import ORGS, names, search

pytestmark = pytest.mark.usefixtures("with_plugins")

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


def _found(body: str) -> int:
    """The count CKAN prints above the results ("7 jeux de données trouvés")."""
    match = re.search(r"(\d+)\s+jeux? de données trouvés?", body)
    assert match, "no result count on the page"
    return int(match.group(1))


@pytest.fixture
def portal_url(app):
    server = make_server("127.0.0.1", 0, app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_ckan_harvester_pages_through_the_portal(catalogue, portal_url):
    from ckanext.harvest.harvesters.ckanharvester import CKANHarvester
    harvester = CKANHarvester()
    harvester.config = {}
    found = harvester._search_for_datasets(portal_url, fq_terms=["organization:menj OR organization:arcep",
                                                                 "-organization:herault"])
    expected = catalogue.where(lambda s: s["org"] in ("menj", "arcep"))
    assert {d["name"] for d in found} == expected
    pivot = catalogue.datasets["ips-colleges-2023"]["metadata_modified"]
    since = harvester._search_for_datasets(portal_url, fq_terms=[f"metadata_modified:[{pivot}Z TO *]"])
    assert {d["name"] for d in since} == {n for n in catalogue.public()
                                          if catalogue.datasets[n]["metadata_modified"] >= pivot}


def test_dcat_catalogue_modified_since(app, catalogue):
    pivot = catalogue.datasets["ips-colleges-2023"]["metadata_modified"]
    res = app.get("/catalog.ttl", query_string={"modified_since": pivot})
    assert res.status_code == 200
    graph = rdflib.Graph().parse(data=res.body, format="turtle")
    datasets = set(graph.subjects(rdflib.RDF.type, DCAT.Dataset))
    expected = {n for n in catalogue.public() if catalogue.datasets[n]["metadata_modified"] >= pivot}
    assert len(datasets) == len(expected)


def test_data_gouv_fr_query_through_the_api(app, catalogue):
    res = app.get("/api/3/action/package_search",
                  query_string={"q": "organization:menj AND -tags:annuaire", "rows": 1000})
    assert res.status_code == 200
    assert {d["name"] for d in res.json["result"]["results"]} == \
        catalogue.where(lambda s: s["org"] == "menj" and "annuaire" not in s["tags"])


@pytest.mark.ckan_config("ckan.datasets_per_page", 5)
def test_catalogue_page_facets_paging_and_sorting(app, catalogue):
    res = app.get("/dataset/", query_string={"q": "écoles", "sort": "title_string asc"})
    assert res.status_code == 200
    expected = search(q="écoles", sort="title_string asc")
    assert _found(res.body) == expected["count"]
    first_page = names(expected)[:5]
    positions = [res.body.index(f'/dataset/{n}"') for n in first_page]
    assert positions == sorted(positions)
    assert ORGS["val-de-marne"] in res.body          # organization facet with its title
    assert "page=2" in res.body                       # pagination
    page2 = app.get("/dataset/", query_string={"q": "écoles", "sort": "title_string asc", "page": 2})
    assert f'/dataset/{names(expected)[5]}"' in page2.body


def test_catalogue_page_has_the_axis_facet(app, catalogue):
    res = app.get("/dataset/")
    assert "Axe" in res.body and "axe=connectivite" in res.body
    filtered = app.get("/dataset/", query_string={"axe": "connectivite"})
    assert _found(filtered.body) == len(catalogue.where(lambda s: s["axe"] == "connectivite"))


def test_catalogue_page_filters_by_facet(app, catalogue):
    res = app.get("/dataset/", query_string={"organization": "arcep"})
    expected = catalogue.where(lambda s: s["org"] == "arcep")
    assert _found(res.body) == len(expected)


def test_home_and_organization_pages_count_datasets(app, catalogue):
    assert app.get("/").status_code == 200
    res = app.get("/organization/")
    assert res.status_code == 200
    org = app.get("/organization/herault")
    expected = catalogue.where(lambda s: s["org"] == "herault")
    assert org.status_code == 200
    assert _found(org.body) == len(expected)
