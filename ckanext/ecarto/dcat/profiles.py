"""`ecarto` RDF profile of ckanext-dcat, applied after `euro_dcat_ap_3`.

What it adds to DCAT-AP for data.gouv.fr's DCAT harvester (which keys datasets on
`dct:identifier` and resolves licences by URL) and for DCAT-AP validators:

- `dct:license` on the dataset and on every distribution: the licence URL (Licence Ouverte 2.0 →
  https://www.etalab.gouv.fr/licence-ouverte-open-licence/, which udata maps to `lov2`);
- the axis as `dcat:theme` (a `skos:Concept` of the portal's axis scheme, whose URI is the
  catalogue filtered on that axis), plus the EU data theme EDUC;
- the territory's name as `skos:prefLabel` of `dct:spatial` (whose `locn:geometry` is the
  territory polygon set by the base profile);
- `dct:language` FRA, `dcat:downloadURL` for uploaded files, `dct:identifier` always present;
- what the DCAT-AP 3 shapes require whatever path created the dataset (issue 17): `dct:format`
  as an EU file-type concept (`distributions.py`), `dcat:mediaType` as the IANA IRI (never the
  literal "text/csv"), every `spdx:Checksum` with its `spdx:algorithm` (data.gouv.fr's harvester
  fails on a checksum without one; checksums are served only with `ckanext.ecarto.dcat_checksums`,
  see distributions.py), contact points typed `vcard:Kind`, a `dct:description` and a
  named `foaf:Agent` publisher on every dataset (the portal itself for a dataset without
  organization), a contact point from the organization's e-mail when it has one.
"""
from __future__ import annotations

from typing import Any, Optional

from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, RDFS, SKOS

import ckan.plugins.toolkit as tk
from ckan.model import Package

from ckanext.dcat.profiles.base import CleanedURIRef, RDFProfile
from ckanext.dcat.utils import resource_uri

from ckanext.ecarto.core.axes import AXIS_LABELS
from ckanext.ecarto.dcat import distributions
from ckanext.ecarto.referentiel import territories

EU_THEME_EDUC = URIRef("http://publications.europa.eu/resource/authority/data-theme/EDUC")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_LANGUAGE_FRA = URIRef("http://publications.europa.eu/resource/authority/language/FRA")
CATALOG_DESCRIPTION = ("Catalogue des données ouvertes du numérique éducatif : établissements, "
                       "connectivité, équipement, services et ressources, expérimentations.")


def _site_url() -> str:
    return tk.config.get("ckan.site_url", "").rstrip("/")


def axis_uri(axe: str) -> URIRef:
    return URIRef(f"{_site_url()}/dataset/?axe={axe}")


def axes_scheme_uri() -> URIRef:
    return URIRef(f"{_site_url()}/dataset/#axes")


def _license_url(dataset_dict: dict[str, Any]) -> Optional[str]:
    url = dataset_dict.get("license_url")
    if url:
        return url
    license_id = dataset_dict.get("license_id")
    if not license_id:
        return None
    try:
        license_ = Package.get_license_register().get(license_id)
    except Exception:  # pragma: no cover - license register unavailable
        return None
    return getattr(license_, "url", None) or None


def portal_agent() -> URIRef:
    return URIRef(_site_url() + "/")


def organization_of(dataset_dict: dict[str, Any], cache: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The dataset's organization as organization_show gave it to the base profile (its cache:
    no query of its own), else as package_show embeds it."""
    org = dataset_dict.get("organization") or {}
    if not org.get("id"):
        return None
    return cache.get(org["id"]) or org


def fallback_description(dataset_dict: dict[str, Any]) -> str:
    """A factual French description from the dataset's own metadata (never empty)."""
    title = (dataset_dict.get("title") or dataset_dict.get("name") or "").strip()
    parts = [tk._("Jeu de données « {title} »").format(title=title)]
    axe = dataset_dict.get("axe")
    if axe:
        parts.append(tk._("de l'axe « {axis} » du numérique éducatif").format(axis=AXIS_LABELS.get(axe, axe)))
    org = (dataset_dict.get("organization") or {}).get("title")
    if org:
        parts.append(tk._("publié par {organization}").format(organization=org))
    if dataset_dict.get("millesime"):
        parts.append(tk._("millésime {period}").format(period=dataset_dict["millesime"]))
    count = len(dataset_dict.get("resources") or [])
    text = ", ".join(parts) + "."
    if count:
        text += " " + tk._("{n} ressource(s).").format(n=count)
    return text


class EcartoDCATProfile(RDFProfile):
    """Runs after euro_dcat_ap_3 (`ckanext.dcat.rdf.profiles = euro_dcat_ap_3 ecarto`)."""

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        g = self.g
        if not any(g.objects(dataset_ref, DCT.identifier)):
            g.add((dataset_ref, DCT.identifier, Literal(dataset_dict["id"])))

        license_url = _license_url(dataset_dict)
        if license_url:
            license_ref = URIRef(license_url)
            g.set((dataset_ref, DCT.license, license_ref))
            g.add((license_ref, RDF.type, DCT.LicenseDocument))
            if dataset_dict.get("license_title"):
                g.set((license_ref, DCT.title, Literal(dataset_dict["license_title"])))
            for distribution in g.objects(dataset_ref, DCAT.distribution):
                if not any(g.objects(distribution, DCT.license)):
                    g.add((distribution, DCT.license, license_ref))

        axe = dataset_dict.get("axe")
        if axe:
            concept = axis_uri(axe)
            g.add((dataset_ref, DCAT.theme, concept))
            g.add((concept, RDF.type, SKOS.Concept))
            g.set((concept, SKOS.prefLabel, Literal(AXIS_LABELS.get(axe, axe), lang="fr")))
            g.set((concept, SKOS.notation, Literal(axe)))
            g.add((concept, SKOS.inScheme, axes_scheme_uri()))
        g.add((dataset_ref, DCAT.theme, EU_THEME_EDUC))
        g.add((EU_THEME_EDUC, RDF.type, SKOS.Concept))
        g.set((EU_THEME_EDUC, SKOS.prefLabel, Literal("Éducation, culture et sport", lang="fr")))
        g.add((dataset_ref, DCT.language, EU_LANGUAGE_FRA))
        g.add((EU_LANGUAGE_FRA, RDF.type, DCT.LinguisticSystem))

        self._territory_label(dataset_dict, dataset_ref)
        for resource in dataset_dict.get("resources", []):
            self._download_url(resource, dataset_ref)
        for distribution in list(g.objects(dataset_ref, DCAT.distribution)):
            self._typed_distribution(distribution)
        self._description(dataset_dict, dataset_ref)
        self._publisher(dataset_ref)
        self._contact_points(dataset_dict, dataset_ref)

    def graph_from_catalog(self, catalog_dict: dict[str, Any], catalog_ref: URIRef) -> None:
        g = self.g
        for homepage in g.objects(catalog_ref, FOAF.homepage):
            g.add((homepage, RDF.type, FOAF.Document))
        if not any(g.objects(catalog_ref, DCT.description)):
            g.add((catalog_ref, DCT.description, Literal(CATALOG_DESCRIPTION, lang="fr")))
        g.add((catalog_ref, DCT.language, EU_LANGUAGE_FRA))
        g.remove((catalog_ref, DCT.language, Literal("fr")))
        g.add((EU_LANGUAGE_FRA, RDF.type, DCT.LinguisticSystem))
        scheme = axes_scheme_uri()
        g.add((catalog_ref, DCAT.themeTaxonomy, scheme))
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.set((scheme, DCT.title, Literal("Axes du numérique éducatif (eCarto)", lang="fr")))
        if not any(g.objects(catalog_ref, DCT.publisher)):
            publisher = URIRef(_site_url() + "/")
            g.add((catalog_ref, DCT.publisher, publisher))
            g.add((publisher, RDF.type, FOAF.Agent))
            g.set((publisher, FOAF.name, Literal(tk.config.get("ckan.site_title") or "eCarto")))

    # ----------------------------------------------------------------- helpers

    def _territory_label(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        for spatial in self.g.objects(dataset_ref, DCT.spatial):
            self.g.add((spatial, RDF.type, DCT.Location))
            self._geometry_node(spatial)
        level = dataset_dict.get("territoire_niveau")
        territory = territories.get(level, dataset_dict.get("territoire_code")) if level else None
        if territory is None:
            return
        for spatial in self.g.objects(dataset_ref, DCT.spatial):
            self.g.set((spatial, SKOS.prefLabel, Literal(territory.label, lang="fr")))

    def _download_url(self, resource: dict[str, Any], dataset_ref: URIRef) -> None:
        """Uploaded files: their URL is also the download URL (DCAT-AP recommends it)."""
        url = resource.get("url")
        if not url or resource.get("url_type") != "upload":
            return
        distribution = CleanedURIRef(resource_uri(resource))
        if not any(self.g.objects(distribution, DCAT.downloadURL)):
            self.g.add((distribution, DCAT.downloadURL, URIRef(url)))

    def _typed_distribution(self, distribution: URIRef) -> None:
        """DCAT-AP ranges: formats as EU file-type concepts (`CSV` → …/file-type/CSV, which
        udata maps back to `csv`), media types as IANA IRIs, checksums with their algorithm,
        URLs typed rdfs:Resource (rules in distributions.py)."""
        g = self.g
        distributions.type_formats(g, distribution)
        distributions.type_media_types(g, distribution)
        distributions.complete_checksums(g, distribution,
                                         served=tk.asbool(tk.config.get("ckanext.ecarto.dcat_checksums")))
        for predicate in (DCAT.accessURL, DCAT.downloadURL):
            for url in g.objects(distribution, predicate):
                g.add((url, RDF.type, RDFS.Resource))

    def _description(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        """`dct:description` is mandatory in DCAT-AP: a dataset saved before descriptions were
        required gets a factual one (title, axis, producer, period) rather than none."""
        if any(str(d).strip() for d in self.g.objects(dataset_ref, DCT.description)):
            return
        for empty in list(self.g.objects(dataset_ref, DCT.description)):
            self.g.remove((dataset_ref, DCT.description, empty))
        self.g.add((dataset_ref, DCT.description, Literal(fallback_description(dataset_dict), lang="fr")))

    def _publisher(self, dataset_ref: URIRef) -> None:
        """Every publisher a named foaf:Agent; a dataset without organization is published by
        the portal (as the catalogue is)."""
        g = self.g
        publishers = list(g.objects(dataset_ref, DCT.publisher))
        if not publishers:
            publisher = portal_agent()
            g.add((dataset_ref, DCT.publisher, publisher))
            publishers = [publisher]
        for publisher in publishers:
            g.add((publisher, RDF.type, FOAF.Agent))
            if not any(g.objects(publisher, FOAF.name)):
                g.add((publisher, FOAF.name, Literal(tk.config.get("ckan.site_title") or "eCarto")))

    def _contact_points(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        """Contact points typed vcard:Kind (the base profile types them vcard:Organization only,
        a subclass the shapes do not infer); without one, the organization's e-mail if it has one."""
        g = self.g
        if not any(g.objects(dataset_ref, DCAT.contactPoint)):
            org = organization_of(dataset_dict, getattr(self, "_org_cache", {}))
            email = (org or {}).get("email")
            if org and isinstance(email, str) and "@" in email:
                contact = BNode()
                g.add((dataset_ref, DCAT.contactPoint, contact))
                g.add((contact, RDF.type, VCARD.Organization))
                g.add((contact, VCARD.fn, Literal(org.get("title") or org.get("name"))))
                g.add((contact, VCARD.hasEmail, URIRef("mailto:" + email.strip().removeprefix("mailto:"))))
        for contact in g.objects(dataset_ref, DCAT.contactPoint):
            g.add((contact, RDF.type, VCARD.Kind))

    def _geometry_node(self, spatial: Any) -> None:
        """DCAT-AP 3 wants `locn:geometry` to point to a `locn:Geometry` node, while data.gouv.fr's
        DCAT harvester (udata `spatial_from_rdf`) reads the WKT/GeoJSON literals found directly on
        the `dct:Location`. So the literals the base profile put under `locn:geometry` move to
        `gsp:asWKT`/`gsp:asGeoJSON`, both on a `locn:Geometry` node and on the location itself."""
        g = self.g
        literals = [o for o in g.objects(spatial, LOCN.geometry) if isinstance(o, Literal)]
        if not literals:
            return
        geometry = BNode()
        g.add((spatial, LOCN.geometry, geometry))
        g.add((geometry, RDF.type, LOCN.Geometry))
        for literal in literals:
            g.remove((spatial, LOCN.geometry, literal))
            predicate = GSP.asGeoJSON if literal.datatype == GSP.geoJSONLiteral else GSP.asWKT
            g.add((geometry, predicate, literal))
            g.add((spatial, predicate, literal))
