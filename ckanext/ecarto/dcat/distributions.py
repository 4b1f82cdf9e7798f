"""DCAT-AP 3 typing of a distribution's format, media type and checksum, whatever CKAN stored.

What CKAN stores comes from several paths: a CLI load or a publication stores `format` ("CSV"),
CKAN's upload stores `mimetype` ("text/csv"), `ckan ecarto load` stores `hash` (a SHA-256 in
hex, without algorithm: CKAN has no field for it), a harvested resource keeps its source's
values ("csv", ".xlsx", "application/json", "md5:…"). The DCAT-AP 3 shapes want:

- `dct:format` a `dct:MediaTypeOrExtent`: the EU file-type concept when the format is known
  (data.gouv.fr maps …/file-type/CSV back to `csv`), otherwise a blank node carrying the label
  (udata reads `rdfs:label` of a blank-node format);
- `dcat:mediaType` a `dct:MediaType`: the IANA IRI (https://www.iana.org/assignments/media-types/
  text/csv), also added from the format when CKAN stored none;
- every `spdx:Checksum` with `spdx:algorithm`, read from the value's length (32 hex digits: MD5,
  40: SHA-1, 64: SHA-256, 128: SHA-512) or its `algorithm:` prefix; a value that is no
  hexadecimal digest is dropped (data.gouv.fr's DCAT harvester fails on a checksum without
  algorithm).

Checksums are served only when `ckanext.ecarto.dcat_checksums` is on: data.gouv.fr's DCAT
harvester (udata 17.18, `resource_from_rdf`) turns the `xsd:hexBinary` value DCAT-AP 3 requires
into bytes, which its `Checksum.value` StringField refuses — the whole dataset fails to harvest.
Without the option the catalogue is valid for both; the hash stays in the API.
"""
from __future__ import annotations

import re
from typing import Optional

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node
from rdflib.namespace import DCAT, DCTERMS as DCT, RDF, RDFS, XSD

SPDX = Namespace("http://spdx.org/rdf/terms#")
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
# The https form: udata's IANAFORMAT namespace, which data.gouv.fr maps back to "text/csv" (it keeps
# an http://… IRI whole as the mime type); the shapes only require an IRI typed dct:MediaType.
IANA = "https://www.iana.org/assignments/media-types/"
IANA_HTTP = "http://www.iana.org/assignments/media-types/"

# format code (upper case, letters and digits only) → (EU file-type code, IANA media type)
FORMATS: dict[str, tuple[str, Optional[str]]] = {
    "CSV": ("CSV", "text/csv"),
    "TSV": ("TSV", "text/tab-separated-values"),
    "TXT": ("TXT", "text/plain"),
    "JSON": ("JSON", "application/json"),
    "JSONL": ("JSON", "application/json"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "JSONLD": ("JSON_LD", "application/ld+json"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "ODS": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "ODT": ("ODT", "application/vnd.oasis.opendocument.text"),
    "DOCX": ("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "DOC": ("DOC", "application/msword"),
    "PDF": ("PDF", "application/pdf"),
    "ZIP": ("ZIP", "application/zip"),
    "GZ": ("GZIP", "application/gzip"),
    "GZIP": ("GZIP", "application/gzip"),
    "XML": ("XML", "application/xml"),
    "HTML": ("HTML", "text/html"),
    "RDF": ("RDF_XML", "application/rdf+xml"),
    "RDFXML": ("RDF_XML", "application/rdf+xml"),
    "TTL": ("RDF_TURTLE", "text/turtle"),
    "TURTLE": ("RDF_TURTLE", "text/turtle"),
    "KML": ("KML", "application/vnd.google-earth.kml+xml"),
    "KMZ": ("KMZ", "application/vnd.google-earth.kmz"),
    "GPKG": ("GPKG", "application/geopackage+sqlite3"),
    "SHP": ("SHP", None),
    "PARQUET": ("PARQUET", "application/vnd.apache.parquet"),
    "PNG": ("PNG", "image/png"),
    "JPEG": ("JPEG", "image/jpeg"),
    "JPG": ("JPEG", "image/jpeg"),
}
# IANA media type → format code, for a format given as a media type ("text/csv")
def _codes_by_media_type() -> dict[str, str]:
    """Media type → the first format code listed with it (application/json → JSON, not JSONL)."""
    codes: dict[str, str] = {}
    for code, (_eu, media) in FORMATS.items():
        if media:
            codes.setdefault(media, code)
    return codes


_BY_MEDIA_TYPE = _codes_by_media_type()
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
ALGORITHMS_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
ALGORITHMS = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}


def format_code(value: str) -> Optional[str]:
    """The key of FORMATS for a stored format ("csv", ".xlsx", "text/csv", …/file-type/CSV)."""
    text = value.strip()
    if text.startswith(EU_FILE_TYPE):
        text = text[len(EU_FILE_TYPE):]
    elif text.startswith((IANA, IANA_HTTP)):
        text = text.split("/media-types/", 1)[1]
    media = _BY_MEDIA_TYPE.get(text.lower())
    if media:
        return media
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    return code if code in FORMATS else None


def media_type_iri(value: str) -> Optional[URIRef]:
    """…/media-types/text/csv for "text/csv" (or for an IANA IRI already), None otherwise."""
    text = value.strip()
    if text.startswith((IANA, IANA_HTTP)):
        text = text.split("/media-types/", 1)[1]
    text = text.split(";", 1)[0].strip().lower()
    return URIRef(IANA + text) if _MEDIA_TYPE.match(text) else None


def type_formats(g: Graph, distribution: URIRef) -> None:
    """`dct:format` as the EU file-type concept, or a labelled blank node when unknown."""
    for fmt in list(g.objects(distribution, DCT["format"])):
        if isinstance(fmt, BNode):
            g.add((fmt, RDF.type, DCT.MediaTypeOrExtent))
            continue
        code = format_code(str(fmt))
        if isinstance(fmt, URIRef) and (code is None or str(fmt).startswith(EU_FILE_TYPE)):
            g.add((fmt, RDF.type, DCT.MediaTypeOrExtent))
            continue
        g.remove((distribution, DCT["format"], fmt))
        if code is not None:
            typed = URIRef(EU_FILE_TYPE + FORMATS[code][0])
        elif str(fmt).strip():
            typed = BNode()
            g.add((typed, RDFS.label, Literal(str(fmt).strip())))
        else:
            continue
        g.add((distribution, DCT["format"], typed))
        g.add((typed, RDF.type, DCT.MediaTypeOrExtent))


def _code_of_formats(g: Graph, distribution: URIRef) -> Optional[str]:
    for fmt in g.objects(distribution, DCT["format"]):
        label = g.value(fmt, RDFS.label) if isinstance(fmt, BNode) else fmt
        code = format_code(str(label)) if label is not None else None
        if code:
            return code
    return None


def type_media_types(g: Graph, distribution: URIRef) -> None:
    """`dcat:mediaType` as IANA IRIs; a value that is no media type is dropped; none → the
    format's, when known."""
    for media in list(g.objects(distribution, DCAT.mediaType)):
        iri = media_type_iri(str(media))
        g.remove((distribution, DCAT.mediaType, media))
        if iri is not None:
            g.add((distribution, DCAT.mediaType, iri))
            g.add((iri, RDF.type, DCT.MediaType))
    if any(g.objects(distribution, DCAT.mediaType)):
        return
    code = _code_of_formats(g, distribution)
    media_type = FORMATS[code][1] if code else None
    if media_type:
        iri = URIRef(IANA + media_type)
        g.add((distribution, DCAT.mediaType, iri))
        g.add((iri, RDF.type, DCT.MediaType))


def checksum_parts(value: str) -> Optional[tuple[str, str]]:
    """(algorithm, hexadecimal digest) of a stored hash ("<hex>" or "sha256:<hex>"), or None."""
    text = value.strip()
    algorithm = None
    if ":" in text:
        prefix, text = (part.strip() for part in text.split(":", 1))
        algorithm = prefix.lower().replace("-", "")
        if algorithm not in ALGORITHMS:
            return None
    if not _HEX.match(text):
        return None
    algorithm = algorithm or ALGORITHMS_BY_LENGTH.get(len(text))
    return (algorithm, text.lower()) if algorithm else None


def _drop_checksum(g: Graph, distribution: URIRef, checksum: Node) -> None:
    g.remove((distribution, SPDX.checksum, checksum))
    g.remove((checksum, None, None))


def complete_checksums(g: Graph, distribution: URIRef, *, served: bool = True) -> None:
    """Each checksum with its algorithm, or dropped (all of them when not `served`)."""
    for checksum in list(g.objects(distribution, SPDX.checksum)):
        if not served:
            _drop_checksum(g, distribution, checksum)
            continue
        if any(g.objects(checksum, SPDX.algorithm)):
            continue
        value = g.value(checksum, SPDX.checksumValue)
        parts = checksum_parts(str(value)) if value is not None else None
        if parts is None:
            _drop_checksum(g, distribution, checksum)
            continue
        algorithm, digest = parts
        g.set((checksum, SPDX.checksumValue, Literal(digest, datatype=XSD.hexBinary)))
        algorithm_ref = SPDX["checksumAlgorithm_" + algorithm]
        g.add((checksum, SPDX.algorithm, algorithm_ref))
        g.add((algorithm_ref, RDF.type, SPDX.ChecksumAlgorithm))
