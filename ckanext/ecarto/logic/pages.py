"""Facts behind the portal's content pages: the déclaration d'accessibilité (`/accessibilite`),
the API documentation (`/documentation-api`) and « À propos » (`/about`, `about_page`).

The declaration's findings are data, not prose: when an audit is re-run, update
`AUDIT_FINDINGS` (the automated axe-core results, checked against the portal by
`tests/test_pages_accessibilite.py`), `MANUAL_FINDINGS`, and the date option
`ckanext.ecarto.accessibility_audit_date`.

The API examples are built from the catalogue itself (a public dataset, its resource, its
organization, an establishment of the directory), so that each one answers on this portal;
`tests/test_api_documentation.py` runs every GET example shown by the page.
"""
from __future__ import annotations

import json
from datetime import date
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlencode

import ckan.plugins.toolkit as tk

from ckanext.ecarto.ingest.columns import coverage_threshold

# --------------------------------------------------------------------------- accessibility

RGAA_VERSION = "4.1.2"
DEFAULT_AUDIT_DATE = "2026-12-01"
PARTIAL_THRESHOLD = 50.0

STATUS_TOTAL = "totalement conforme"
STATUS_PARTIAL = "partiellement conforme"
STATUS_NONE = "non conforme"


@dataclass(frozen=True)
class Finding:
    """One non-conformity: the RGAA criterion, what fails, where, and what to use instead."""
    criterion: str
    title: str
    detail: str
    pages: tuple[str, ...]
    alternative: str = ""
    axe_rules: tuple[str, ...] = ()     # axe-core rule ids that detect it (automated audit)
    impact: str = ""                    # axe-core impact: critical, serious, moderate, minor


# Pages of the sample audited (axe-core, every impact, and the keyboard walk).
AUDITED_PAGES: tuple[tuple[str, str], ...] = (
    ("Accueil", "/"),
    ("Catalogue des jeux de données", "/dataset/"),
    ("Page d'un jeu de données", "/dataset/<jeu>"),
    ("Page d'une ressource", "/dataset/<jeu>/resource/<ressource>"),
    ("Producteurs", "/organization/"),
    ("Page d'un producteur", "/organization/menj"),
    ("Recherche d'établissements", "/etablissement?q=jean+jaures"),
    ("Fiche d'un établissement", "/etablissement/0301326D"),
    ("Territoires", "/territoire"),
    ("France", "/territoire/france"),
    ("Région", "/territoire/region/76"),
    ("Académie", "/territoire/academie/16"),
    ("Département", "/territoire/departement/31"),
    ("Commune", "/territoire/commune/31555"),
    ("État des lieux", "/etat-des-lieux"),
    ("Schémas de données", "/schemas"),
    ("À propos", "/about"),
    ("Déclaration d'accessibilité", "/accessibilite"),
    ("Documentation de l'API", "/documentation-api"),
    ("Connexion", "/user/login"),
    ("Moissonnage (liste publique des sources)", "/harvest"),
)

# Found by axe-core (rules of WCAG 2.0 and 2.1 A/AA and best practices, every impact) on the
# pages above. Empty since the theme underlines links in text (10.6, `link-in-text-block`)
# and the resource page's headings follow each other (9.1, `heading-order`), both found on
# the first run of the audit. `tests/test_pages_accessibilite.py` keeps this list equal to
# what axe-core reports.
AUDIT_FINDINGS: tuple[Finding, ...] = ()

# Found by the keyboard walk (Tab, Maj+Tab, Entrée) and by a reading at 320 px of width.
MANUAL_FINDINGS: tuple[Finding, ...] = (
    Finding(
        criterion="7.3",
        title="Points des établissements des cartes utilisables à la souris seulement",
        detail="Sur les cartes des départements et des communes, les points des établissements ne "
               "reçoivent pas le focus du clavier. (Les territoires des cartes choroplèthes, eux, "
               "s'atteignent avec Tab et s'ouvrent avec Entrée.)",
        pages=("/territoire/departement/…", "/territoire/commune/…"),
        alternative="La liste des établissements du territoire : recherche d'établissements filtrée "
                    "par département (/etablissement?departement=…), chaque établissement ayant sa fiche."),
    Finding(
        criterion="10.11",
        title="Défilement horizontal à 320 px de large",
        detail="À 320 px de large (zoom de 400 %), les tableaux d'indicateurs des territoires, le tableau "
               "de l'état des lieux, la liste des schémas et l'adresse d'une ressource font défiler toute "
               "la page horizontalement.",
        pages=("/territoire/…", "/etat-des-lieux", "/schemas", "/dataset/…/resource/…"),
        alternative="Les exports CSV et JSON des pages de territoire donnent les mêmes valeurs, une par ligne."),
    Finding(
        criterion="8.2",
        title="Identifiant répété des menus « Explorer » des ressources",
        detail="Sur la page d'un jeu de données qui a plusieurs ressources, le bouton « Explorer » de "
               "chaque ressource (gabarit de CKAN) porte le même identifiant : le code n'est pas valide et "
               "chaque menu est nommé d'après le premier bouton pour les technologies d'assistance.",
        pages=("/dataset/…",),
        alternative="Le nom de chaque ressource est un lien vers sa page, qui donne les mêmes actions "
                    "(aperçu, téléchargement)."),
)

NOT_SUBJECT: tuple[tuple[str, str], ...] = (
    ("Cartes en ligne et fonds de carte",
     "Les cartes et leurs fonds (tuiles OpenStreetMap, contenu de tiers) sont exemptés par l'article 3 "
     "du décret n° 2019-768 du 25 juillet 2019, les informations essentielles étant données en texte : "
     "tableau des valeurs sous chaque carte, listes des territoires et des établissements."),
    ("Fichiers déposés ou moissonnés",
     "Les fichiers de données des producteurs (CSV, XLSX, ODS, PDF) sont des contenus de tiers que "
     "l'éditeur du portail ne contrôle pas ; leurs valeurs sont reprises en texte sur les fiches "
     "des établissements et les pages de territoire."),
)

DEROGATIONS: tuple[tuple[str, str], ...] = ()

NOT_AUDITED = (
    "Les pages réservées aux comptes connectés (formulaires de jeu de données et de ressource, "
    "publication, tableau de bord, administration du moissonnage et du site) ne sont couvertes que par "
    "le test automatisé des violations graves et critiques, pas par la vérification au clavier."
)

TECHNOLOGIES = ("HTML5", "CSS", "JavaScript", "SVG", "WAI-ARIA")
TEST_ENVIRONMENT = (
    "Chromium sans interface (Debian), piloté par Playwright, à 1280 × 900 px et à 320 px de large",
    "Parcours au clavier seul (Tab, Maj+Tab, Entrée) de chaque page de l'échantillon",
)
TOOLS = (
    "axe-core (par axe-playwright-python), règles WCAG 2.0 et 2.1 niveaux A et AA et bonnes pratiques, "
    "tous niveaux d'impact",
    "Tests automatisés du portail (tests/browser/test_accessibility.py, tests/test_pages_accessibilite.py)",
)

DEFENSEUR_DES_DROITS = {
    "formulaire": "https://formulaire.defenseurdesdroits.fr/",
    "delegues": "https://www.defenseurdesdroits.fr/saisir/delegues",
    "telephone": "09 69 39 00 00",
    "courrier": ("Défenseur des droits", "Libre réponse 71120", "75342 Paris CEDEX 07"),
}


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def french_date(text: str) -> str:
    """`2026-12-01` -> « 1er décembre 2026 »; any other text as it is."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return text
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def compliance_rate() -> Optional[float]:
    """The rate of RGAA criteria met measured by a complete audit (option), or None."""
    value = tk.config.get("ckanext.ecarto.accessibility_compliance_rate")
    if value in (None, ""):
        return None
    try:
        rate = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return rate if 0 <= rate <= 100 else None


def compliance_status(rate: Optional[float] = None) -> str:
    """RGAA's three states: no valid complete audit, or under 50 % of criteria met, is
    « non conforme » (an automated audit does not measure a rate)."""
    rate = compliance_rate() if rate is None else rate
    if rate is None or rate < PARTIAL_THRESHOLD:
        return STATUS_NONE
    return STATUS_TOTAL if rate >= 100 else STATUS_PARTIAL


def contact() -> dict[str, str]:
    """The contact option as a link: an e-mail address or a web address; empty when unset."""
    value = str(tk.config.get("ckanext.ecarto.accessibility_contact") or "").strip()
    if not value:
        return {}
    if value.startswith(("http://", "https://")):
        return {"href": value, "label": value, "kind": "url"}
    address = value[len("mailto:"):] if value.startswith("mailto:") else value
    return {"href": f"mailto:{address}", "label": address, "kind": "email"}


def declaration() -> dict[str, Any]:
    """Everything `/accessibilite` shows."""
    rate = compliance_rate()
    return {
        "organisation": str(tk.config.get("ckanext.ecarto.accessibility_organisation") or "").strip()
        or tk.config.get("ckan.site_title") or "eCarto",
        "site_url": tk.config.get("ckan.site_url") or "",
        "rgaa_version": RGAA_VERSION,
        "audit_date": french_date(str(tk.config.get("ckanext.ecarto.accessibility_audit_date") or DEFAULT_AUDIT_DATE)),
        "rate": rate,
        "rate_text": "" if rate is None else f"{rate:g}".replace(".", ",") + "\u00a0%",
        "status": compliance_status(rate),
        "audited_pages": AUDITED_PAGES,
        "automated": AUDIT_FINDINGS,
        "manual": MANUAL_FINDINGS,
        "derogations": DEROGATIONS,
        "not_subject": NOT_SUBJECT,
        "not_audited": NOT_AUDITED,
        "technologies": TECHNOLOGIES,
        "environment": TEST_ENVIRONMENT,
        "tools": TOOLS,
        "contact": contact(),
        "defenseur": DEFENSEUR_DES_DROITS,
        "schema_url": str(tk.config.get("ckanext.ecarto.accessibility_schema_url") or "").strip(),
    }


def declared_axe_rules() -> set[str]:
    return {rule for finding in AUDIT_FINDINGS for rule in finding.axe_rules}


# --------------------------------------------------------------------------- API documentation

# The portal's own actions, in French (their docstrings are for developers).
PORTAL_ACTIONS: dict[str, dict[str, str]] = {
    "ecarto_etablissement_search": {
        "acces": "lecture, sans compte",
        "description": "Chercher des établissements par nom, commune ou UAI (accents et casse ignorés).",
        "parametres": "q ; type (ecole, college, lycee, autre) ; secteur (public, prive) ; departement ; "
                      "academie ; commune (code INSEE) ; rows (1 à 100, 20 par défaut) ; start",
    },
    "ecarto_etablissement_show": {
        "acces": "lecture, sans compte",
        "description": "Tout ce que le portail sait d'un établissement : identité, quatre axes (valeur, "
                       "période, unité, source, historique), autres données, contexte communal, valeurs "
                       "de référence.",
        "parametres": "uai (7 chiffres et la lettre clé) ; references (true par défaut)",
    },
    "ecarto_territoire_show": {
        "acces": "lecture, sans compte",
        "description": "Un territoire : établissements par type et secteur, indicateurs des quatre axes "
                       "agrégés (valeur, taux de n.c., source, millésime, comparaison), territoires "
                       "parents et enfants.",
        "parametres": "niveau (france, region, academie, departement, commune) ; code",
    },
    "ecarto_ingest_status": {
        "acces": "lecture",
        "description": "L'état du chargement en base d'une ressource : lignes chargées et rejetées, "
                       "clé (UAI ou commune), message.",
        "parametres": "id (la ressource) ; rejects_limit (100 par défaut)",
    },
    "ecarto_ingest_resource": {
        "acces": "écriture : éditeur du jeu de données",
        "description": "Charger ou recharger une ressource en base, après validation pour l'axe du jeu.",
        "parametres": "id ; force ; background",
    },
    "ecarto_validate_resource": {
        "acces": "écriture : compte connecté",
        "description": "Le rapport de validation d'un fichier pour un axe, sans rien publier.",
        "parametres": "upload (fichier) ou url ou id ; axe ou package_id ; uai_column ; commune_column ; feuille",
    },
    "ecarto_publish_resource": {
        "acces": "écriture : éditeur du jeu de données",
        "description": "Valider un fichier puis le publier s'il n'a pas d'erreur bloquante.",
        "parametres": "package_id ; upload ou url ; resource_id (remplacer) ; name ; description ; "
                      "uai_column ; feuille",
    },
}


def _quote(text: str) -> str:
    """A shell word in single quotes (a quote inside is closed, escaped and reopened)."""
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass
class Example:
    """A documented request. `path` is relative to the site; GET examples are run by the tests."""
    id: str
    title: str
    path: str
    kind: str                       # json, csv, turtle, rdfxml, jsonld, geojson
    note: str = ""
    method: str = "GET"
    body: Optional[dict[str, Any]] = None
    headers: tuple[str, ...] = ()
    url: str = ""                   # absolute, set by `with_site`
    curl: str = ""

    def with_site(self, site_url: str) -> "Example":
        self.url = site_url.rstrip("/") + self.path
        parts = ["curl"]
        if self.method != "GET":
            parts += ["-X", self.method]
        for header in self.headers:
            parts += ["-H", f'"{header}"']       # double quotes: the shell expands $ECARTO_TOKEN
        if self.body is not None:
            parts += ["-H", _quote("Content-Type: application/json"),
                      "-d", _quote(json.dumps(self.body, ensure_ascii=False))]
        parts.append(_quote(self.url))
        self.curl = " ".join(parts)
        return self


@dataclass
class Samples:
    """Real public values of the catalogue the examples use (None when the portal has none)."""
    dataset: Optional[dict[str, Any]] = None
    resource_id: Optional[str] = None
    organization: Optional[str] = None
    tag: Optional[str] = None
    axe: Optional[str] = None
    etablissement: Optional[dict[str, Any]] = None
    departement: str = "31"
    extra: dict[str, Any] = field(default_factory=dict)


def _anonymous() -> dict[str, Any]:
    """Examples are for anyone: computed as an anonymous visitor (never a private dataset)."""
    return {"user": "", "ignore_auth": False}


def samples() -> Samples:
    found = Samples()
    result = tk.get_action("package_search")(_anonymous(), {"rows": 20, "sort": "metadata_modified desc"})
    datasets = result.get("results") or []
    with_resources = [d for d in datasets if d.get("resources")]
    dataset = (with_resources or datasets or [None])[0]
    if dataset:
        found.dataset = dataset
        found.resource_id = dataset["resources"][0]["id"] if dataset.get("resources") else None
        found.organization = (dataset.get("organization") or {}).get("name")
        found.tag = next((t["name"] for t in dataset.get("tags") or []), None)
        found.axe = dataset.get("axe")
    try:
        schools = tk.get_action("ecarto_etablissement_search")(_anonymous(), {"type": "college", "rows": 1})
    except (tk.ObjectNotFound, tk.ValidationError):
        schools = {"results": []}
    if schools.get("results"):
        found.etablissement = schools["results"][0]
        found.departement = found.etablissement.get("departement_code") or found.departement
    return found


def _action(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"/api/3/action/{name}" + (f"?{query}" if query else "")


def ckan_examples(s: Samples) -> list[Example]:
    examples = [
        Example("package_search", "Chercher des jeux de données (texte libre)",
                _action("package_search", q="collèges", rows=5), "json",
                "q : mots cherchés dans le titre, la description, les mots-clés ; rows : nombre de résultats."),
        Example("package_search_facets", "Compter les jeux par producteur, mot-clé et axe (facettes)",
                _action("package_search", rows=0, **{"facet.field": json.dumps(["organization", "tags", "axe"])}),
                "json", "rows=0 : seulement les comptes, dans result.search_facets."),
        Example("package_search_paging", "Parcourir tout le catalogue, du plus récent au plus ancien",
                _action("package_search", rows=10, start=0, sort="metadata_modified desc"), "json",
                "start : décalage (0, 10, 20…) ; sort : champ et sens (asc ou desc)."),
        Example("package_list", "Les noms de tous les jeux de données publics",
                _action("package_list"), "json", "C'est la liste que lit le moissonneur CKAN de data.gouv.fr."),
        Example("organization_list", "Les producteurs (organisations)",
                _action("organization_list", all_fields="true"), "json"),
    ]
    if s.organization:
        examples.append(Example("package_search_org", "Les jeux d'un producteur",
                                _action("package_search", fq=f"organization:{s.organization}", rows=5), "json",
                                "fq : filtre exact (ici le nom court de l'organisation)."))
    if s.axe:
        examples.append(Example("package_search_axe", "Les jeux d'un axe",
                                _action("package_search", fq=f"axe:{s.axe}", rows=5), "json",
                                "Axes : etablissements, connectivite, equipement, services_ressources, "
                                "experimentations."))
    if s.tag:
        examples.append(Example("package_search_tag", "Les jeux portant un mot-clé",
                                _action("package_search", fq=f'tags:"{s.tag}"', rows=5), "json"))
    if s.dataset:
        examples.append(Example("package_show", "Un jeu de données et ses ressources",
                                _action("package_show", id=s.dataset["name"]), "json"))
    if s.resource_id:
        examples.append(Example("resource_show", "Une ressource (fichier) : format, URL de téléchargement, "
                                "dictionnaire des données", _action("resource_show", id=s.resource_id), "json"))
    return examples


def portal_examples(s: Samples) -> list[Example]:
    examples = [
        Example("ecarto_etablissement_search", "Chercher des collèges d'un département",
                _action("ecarto_etablissement_search", type="college", departement=s.departement, rows=5),
                "json"),
        Example("ecarto_territoire_show", "Les indicateurs d'un département",
                _action("ecarto_territoire_show", niveau="departement", code=s.departement), "json"),
        Example("ecarto_territoire_show_france", "Les indicateurs de la France",
                _action("ecarto_territoire_show", niveau="france"), "json"),
    ]
    if s.etablissement:
        uai = s.etablissement["uai"]
        commune = s.etablissement.get("commune_nom") or ""
        examples[0:0] = [
            Example("ecarto_etablissement_search_q", "Chercher un établissement par nom ou commune",
                    _action("ecarto_etablissement_search", q=commune, rows=5), "json"),
            Example("ecarto_etablissement_show", "Tout sur un établissement",
                    _action("ecarto_etablissement_show", uai=uai), "json")]
    if s.resource_id:
        examples.append(Example("ecarto_ingest_status", "L'état du chargement en base d'une ressource",
                                _action("ecarto_ingest_status", id=s.resource_id), "json",
                                "Réponse 404 (success false) si la ressource n'est pas une table chargée."))
    return examples


def page_examples(s: Samples) -> list[Example]:
    """The establishment and territory exports (same data as the actions, ready to download)."""
    dep = s.departement
    examples = []
    if s.etablissement:
        uai = s.etablissement["uai"]
        examples += [Example("etablissement_json", "Fiche d'un établissement en JSON", f"/etablissement/{uai}.json", "json"),
                     Example("etablissement_csv", "Fiche d'un établissement en CSV (séparateur ;, UTF-8)",
                             f"/etablissement/{uai}.csv", "csv")]
    examples += [
        Example("territoire_france_json", "La France en JSON", "/territoire/france.json", "json"),
        Example("territoire_json", "Un département en JSON", f"/territoire/departement/{dep}.json", "json"),
        Example("territoire_csv", "Un département en CSV (une ligne par chiffre et par période)",
                f"/territoire/departement/{dep}.csv", "csv"),
        Example("territoire_geojson", "Un département en GeoJSON (contour et indicateurs)",
                f"/territoire/departement/{dep}.geojson", "geojson"),
        Example("territoire_points", "Les établissements localisés d'un département",
                "/territoire/etablissements.json?" + urlencode({"niveau": "departement", "code": dep}), "json"),
    ]
    return examples


def dcat_examples(s: Samples) -> list[Example]:
    examples = [
        Example("catalog_ttl", "Le catalogue en Turtle (DCAT-AP)", "/catalog.ttl", "turtle",
                "100 jeux par page ; les liens hydra:next et hydra:last donnent les pages suivantes."),
        Example("catalog_rdf", "Le catalogue en RDF/XML, page 1", "/catalog.rdf?page=1", "rdfxml"),
        Example("catalog_jsonld", "Le catalogue en JSON-LD", "/catalog.jsonld", "jsonld"),
        Example("catalog_modified", "Les jeux modifiés depuis une date",
                "/catalog.ttl?" + urlencode({"modified_since": "2024-01-01"}), "turtle"),
    ]
    if s.dataset:
        name = s.dataset["name"]
        examples += [Example(f"dataset_{fmt}", f"Un jeu de données en {label}", f"/dataset/{name}.{fmt}", kind)
                     for fmt, label, kind in (("ttl", "Turtle", "turtle"), ("rdf", "RDF/XML", "rdfxml"),
                                              ("jsonld", "JSON-LD", "jsonld"))]
    return examples


def write_examples(s: Samples) -> list[Example]:
    """POST examples (need an API token; not run by the tests: they change the catalogue)."""
    auth = ("Authorization: $ECARTO_TOKEN",)
    org = s.organization or "ma-collectivite"
    return [
        Example("package_create", "Créer un jeu de données", "/api/3/action/package_create", "json",
                "Éditeur ou administrateur de l'organisation.", method="POST", headers=auth,
                body={"name": "equipement-colleges-2025", "title": "Équipement des collèges 2025",
                      "notes": "Terminaux et tablettes des collèges publics, relevé de la rentrée 2025.",
                      "owner_org": org, "axe": "equipement", "millesime": "2025", "license_id": "etalab-2.0"}),
        Example("package_patch", "Modifier un champ d'un jeu", "/api/3/action/package_patch", "json",
                method="POST", headers=auth,
                body={"id": "equipement-colleges-2025", "notes": "Description mise à jour."}),
    ]


def api_documentation() -> dict[str, Any]:
    """The sections of `/documentation-api`, every example with its absolute URL and curl line."""
    site = str(tk.config.get("ckan.site_url") or "").rstrip("/")
    found = samples()
    sections = {
        "ckan": ckan_examples(found), "ecarto": portal_examples(found),
        "pages": page_examples(found), "dcat": dcat_examples(found), "ecriture": write_examples(found),
    }
    for examples in sections.values():
        for example in examples:
            example.with_site(site)
    return {"site_url": site, "sections": sections, "actions": PORTAL_ACTIONS, "samples": found}


def get_examples() -> list[Example]:
    """Every example of the page, in order (the tests run the GET ones)."""
    return [e for examples in api_documentation()["sections"].values() for e in examples]


# --------------------------------------------------------------------------- à propos

def about_page() -> dict[str, Any]:
    """What `/about` shows beside its text: the coverage threshold of the figures and the size
    of the public catalogue (as an anonymous visitor sees it)."""
    count = tk.get_action("package_search")(_anonymous(), {"rows": 0}).get("count", 0)
    producers = tk.get_action("organization_list")(_anonymous(), {})
    return {"coverage_threshold": coverage_threshold(), "n_datasets": count, "n_producers": len(producers),
            "site_about": str(tk.config.get("ckan.site_about") or "").strip()}
