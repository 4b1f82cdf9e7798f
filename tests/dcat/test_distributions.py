"""The typing rules of ckanext/ecarto/dcat/distributions.py on the values CKAN stores, whatever path
stored them (CLI, upload, harvest of another portal): formats, media types, checksums."""
from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, RDF, RDFS, XSD

from ckanext.ecarto.dcat import distributions as d

DIST = URIRef("https://ecarto.example.org/dataset/x/resource/y")
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.mark.parametrize("stored,code", [
    ("CSV", "CSV"), ("csv", "CSV"), (".xlsx", "XLSX"), ("text/csv", "CSV"), ("application/json", "JSON"),
    ("GeoJSON", "GEOJSON"), (FILE_TYPE + "ODS", "ODS"), ("http://www.iana.org/assignments/media-types/text/csv", "CSV"),
    ("Fichier", None), ("", None)])
def test_format_code(stored, code):
    assert d.format_code(stored) == code


@pytest.mark.parametrize("stored,iri", [
    ("text/csv", IANA + "text/csv"), ("Text/CSV; charset=utf-8", IANA + "text/csv"),
    ("http://www.iana.org/assignments/media-types/application/json", IANA + "application/json"),
    ("CSV", None), ("", None), ("text/csv<script>", None)])
def test_media_type_iri(stored, iri):
    assert d.media_type_iri(stored) == (URIRef(iri) if iri else None)


@pytest.mark.parametrize("stored,parts", [
    ("A" * 64, ("sha256", "a" * 64)), ("0" * 40, ("sha1", "0" * 40)), ("f" * 32, ("md5", "f" * 32)),
    ("sha256:" + "b" * 64, ("sha256", "b" * 64)), ("SHA-1:" + "c" * 40, ("sha1", "c" * 40)),
    ("crc32:12345678", None), ("not a digest", None), ("abc", None)])
def test_checksum_parts(stored, parts):
    assert d.checksum_parts(stored) == parts


def _graph(*triples) -> Graph:
    g = Graph()
    for triple in triples:
        g.add(triple)
    return g


def test_format_and_media_type_of_an_upload():
    g = _graph((DIST, DCT["format"], Literal("CSV")), (DIST, DCAT.mediaType, Literal("text/csv")))
    d.type_formats(g, DIST)
    d.type_media_types(g, DIST)
    assert set(g.objects(DIST, DCT["format"])) == {URIRef(FILE_TYPE + "CSV")}
    assert set(g.objects(DIST, DCAT.mediaType)) == {URIRef(IANA + "text/csv")}
    assert (URIRef(IANA + "text/csv"), RDF.type, DCT.MediaType) in g


def test_unknown_format_keeps_its_label_and_no_media_type_is_invented():
    g = _graph((DIST, DCT["format"], Literal("Fichier maison")))
    d.type_formats(g, DIST)
    d.type_media_types(g, DIST)
    fmt = g.value(DIST, DCT["format"])
    assert isinstance(fmt, BNode) and str(g.value(fmt, RDFS.label)) == "Fichier maison"
    assert (fmt, RDF.type, DCT.MediaTypeOrExtent) in g
    assert not any(g.objects(DIST, DCAT.mediaType))


def test_media_type_from_the_format_and_a_bad_one_dropped():
    g = _graph((DIST, DCT["format"], Literal("xlsx")), (DIST, DCAT.mediaType, Literal("XLSX")))
    d.type_formats(g, DIST)
    d.type_media_types(g, DIST)
    assert set(g.objects(DIST, DCAT.mediaType)) == {
        URIRef(IANA + "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}


def _checksum(value: str) -> tuple[Graph, BNode]:
    node = BNode()
    g = _graph((DIST, d.SPDX.checksum, node), (node, RDF.type, d.SPDX.Checksum),
               (node, d.SPDX.checksumValue, Literal(value, datatype=XSD.hexBinary)))
    return g, node


def test_checksum_gets_its_algorithm_or_goes():
    g, node = _checksum("sha256:" + "AB" * 32)
    d.complete_checksums(g, DIST)
    assert g.value(node, d.SPDX.algorithm) == d.SPDX.checksumAlgorithm_sha256
    assert str(g.value(node, d.SPDX.checksumValue)) == "ab" * 32
    g, node = _checksum("n'importe quoi")
    d.complete_checksums(g, DIST)
    assert not any(g.objects(DIST, d.SPDX.checksum)) and not any(g.triples((node, None, None)))


def test_checksums_not_served_are_removed():
    g, node = _checksum("a" * 64)
    d.complete_checksums(g, DIST, served=False)
    assert len(g) == 0
