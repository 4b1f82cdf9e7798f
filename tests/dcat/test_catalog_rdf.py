"""The DCAT catalogue (ckanext-dcat + the `ecarto` profile), parsed with rdflib as data.gouv.fr's
DCAT harvester reads it: identifier, title, licence URL, temporal coverage, frequency, polygon,
axis theme, distributions, and Hydra paging."""
from __future__ import annotations

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, RDF, SKOS

pytestmark = pytest.mark.usefixtures("dcat_catalogue")

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
ETALAB = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")


def _graph(app, url, fmt="turtle") -> Graph:
    response = app.get(url, status=200)
    return Graph().parse(data=response.get_data(as_text=True), format=fmt)


def _dataset(g: Graph, identifier: str) -> URIRef:
    found = [s for s in g.subjects(DCT.identifier, None) if str(g.value(s, DCT.identifier)) == identifier]
    assert found, identifier
    return found[0]


def test_catalogue_lists_every_public_dataset(app, dcat_catalogue):
    g = _graph(app, "/catalog.ttl")
    datasets = set(g.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 5
    titles = {str(g.value(d, DCT.title)) for d in datasets}
    assert "Privé" not in titles
    for name, pkg in dcat_catalogue.items():
        node = _dataset(g, pkg["id"])
        assert str(g.value(node, DCT.title)) == f"Jeu {name}"
        assert g.value(node, DCT.license) == ETALAB
        assert (None, DCAT.dataset, node) in g


def test_temporal_frequency_spatial_theme(app, dcat_catalogue):
    pkg = dcat_catalogue["debits-haute-garonne"]
    g = _graph(app, f"/dataset/{pkg['name']}.ttl")
    node = _dataset(g, pkg["id"])
    temporal = g.value(node, DCT.temporal)
    assert str(g.value(temporal, DCAT.startDate)) == "2017-07-01"
    assert str(g.value(temporal, DCAT.endDate)) == "2018-03-31"
    assert g.value(node, DCT.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/QUARTERLY")
    spatial = g.value(node, DCT.spatial)
    assert "Haute-Garonne" in str(g.value(spatial, SKOS.prefLabel))
    # udata's spatial_from_rdf reads the WKT/GeoJSON literals on the location itself;
    # DCAT-AP 3 wants locn:geometry -> a locn:Geometry node: both are there
    geometries = [str(o) for o in g.objects(spatial, None) if getattr(o, "datatype", None) == GSP.wktLiteral]
    node_geometry = g.value(spatial, LOCN.geometry)
    assert (node_geometry, RDF.type, LOCN.Geometry) in g
    assert str(g.value(node_geometry, GSP.asWKT)) in geometries
    # WKT (GeoSPARQL wktLiteral), which udata's DCAT harvester reads; polygons only, never a point
    assert geometries and all(v.upper().startswith(("POLYGON", "MULTIPOLYGON")) for v in geometries)
    themes = set(g.objects(node, DCAT.theme))
    axis = [t for t in themes if str(t).endswith("/dataset/?axe=connectivite")]
    assert axis and str(g.value(axis[0], SKOS.prefLabel)) == "Connectivité"
    distribution = g.value(node, DCAT.distribution)
    assert g.value(distribution, DCT.license) == ETALAB
    assert str(g.value(distribution, DCAT.accessURL)) == "https://data.example.org/debits-haute-garonne.csv"
    assert g.value(distribution, DCT.format) == URIRef("http://publications.europa.eu/resource/authority/file-type/CSV")


@pytest.mark.parametrize("suffix, fmt", [("rdf", "xml"), ("jsonld", "json-ld"), ("ttl", "turtle")])
def test_catalogue_formats(app, suffix, fmt):
    g = _graph(app, f"/catalog.{suffix}", fmt)
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 5


@pytest.mark.ckan_config("ckanext.dcat.datasets_per_page", "2")
def test_catalogue_is_paged_with_hydra(app, dcat_catalogue):
    seen = set()
    url = "/catalog.ttl"
    pages = 0
    while url:
        g = _graph(app, url)
        pages += 1
        seen |= {str(g.value(d, DCT.identifier)) for d in g.subjects(RDF.type, DCAT.Dataset)}
        views = list(g.subjects(RDF.type, HYDRA.PagedCollection)) + list(
            g.subjects(RDF.type, HYDRA.PartialCollectionView))
        assert views, "hydra paging triples"
        view = views[0]
        assert int(g.value(view, HYDRA.totalItems)) == 5
        following = g.value(view, HYDRA.nextPage) or g.value(view, HYDRA.next)
        url = str(following).replace("http://test.ckan.net", "") if following else None
        assert pages <= 3
    assert pages == 3
    assert seen == {d["id"] for d in dcat_catalogue.values()}
