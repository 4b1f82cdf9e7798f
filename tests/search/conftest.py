"""A fixture catalogue for the search conformance suite, and oracles that compute expected
results in Python from the catalogue's own data (independently of the search backend).

Titles use real establishment and commune names of the ministry's directory (Val-de-Marne and
Occitanie extracts in data/sample/); spatial polygons are rectangles around real places.
The catalogue is built once per test module; tests only read it.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

import pytest

import ckan.model as model
import ckan.tests.helpers as helpers


def rect(minx: float, miny: float, maxx: float, maxy: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[
        [minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]})


VAL_DE_MARNE = rect(2.30, 48.69, 2.62, 48.86)
HAUTE_GARONNE = rect(0.44, 42.69, 2.05, 43.92)
HERAULT = rect(2.54, 43.21, 4.19, 43.97)
CORSE = rect(8.53, 41.33, 9.56, 43.03)

SPECS: list[dict[str, Any]] = [
    # name, title, notes, tags, org, axe, formats, spatial, private, state
    dict(name="ecole-elementaire-robert-doisneau", title="École élémentaire Robert Doisneau — équipement",
         notes="Inventaire des tablettes de l'école de Fresnes.", tags=["écoles", "tablettes"],
         org="val-de-marne", axe="equipement", formats=["CSV"], spatial=VAL_DE_MARNE),
    dict(name="ecoles-fresnes-wifi", title="Wifi dans les écoles de Fresnes",
         notes="Points d'accès sans fil par classe.", tags=["wifi", "écoles"],
         org="val-de-marne", axe="connectivite", formats=["CSV", "JSON"], spatial=VAL_DE_MARNE),
    dict(name="ecole-jules-ferry-ent", title="ENT de l'ecole Jules Ferry",
         notes="Espace numérique de travail utilisé par les élèves.", tags=["ent"],
         org="val-de-marne", axe="services_ressources", formats=["XLSX"], spatial=VAL_DE_MARNE),
    dict(name="lycee-pierre-paul-riquet-tni", title="Lycée Pierre-Paul Riquet : tableaux interactifs",
         notes="Nombre de TNI par salle.", tags=["tni", "lycées"],
         org="region-occitanie", axe="equipement", formats=["CSV"], spatial=HAUTE_GARONNE),
    dict(name="lycees-occitanie-fibre", title="Raccordement des lycées d'Occitanie à la fibre",
         notes="Très haut débit dans les établissements régionaux.", tags=["fibre", "lycées", "thd"],
         org="region-occitanie", axe="connectivite", formats=["CSV", "GeoJSON"], spatial=HAUTE_GARONNE),
    dict(name="colleges-herault-terminaux", title="Terminaux mobiles des collèges de l'Hérault",
         notes="Tablettes et ordinateurs portables confiés aux élèves des collèges.", tags=["collèges", "tablettes"],
         org="herault", axe="equipement", formats=["CSV"], spatial=HERAULT),
    dict(name="college-jean-jaures-montpellier", title="Collège Jean Jaurès (Montpellier) — projet numérique",
         notes="Expérimentation collège lab.", tags=["collèges", "expérimentation"],
         org="herault", axe="experimentations", formats=["PDF"], spatial=HERAULT),
    dict(name="annuaire-education-occitanie", title="Annuaire de l'éducation — Occitanie",
         notes="Écoles, collèges et lycées de la région académique Occitanie.", tags=["annuaire"],
         org="menj", axe="etablissements", formats=["CSV"], spatial=HAUTE_GARONNE),
    dict(name="annuaire-education-val-de-marne", title="Annuaire de l'éducation — Val-de-Marne",
         notes="Écoles publiques du Val-de-Marne.", tags=["annuaire", "écoles"],
         org="menj", axe="etablissements", formats=["CSV", "JSON"], spatial=VAL_DE_MARNE),
    dict(name="ips-colleges-2023", title="Indice de position sociale des collèges 2023",
         notes="IPS par collège, rentrée 2023.", tags=["ips", "collèges"],
         org="menj", axe="etablissements", formats=["CSV"], spatial=None),
    dict(name="arcep-ftth-communes-2018", title="Déploiement du FttH par commune — 2018 T1",
         notes="Locaux raccordables à la fibre optique.", tags=["fibre", "thd"],
         org="arcep", axe="connectivite", formats=["CSV"], spatial=None),
    dict(name="arcep-ma-connexion-internet", title="Ma connexion internet : débits par commune",
         notes="Meilleure technologie disponible (fibre, câble, ADSL).", tags=["débit", "thd"],
         org="arcep", axe="connectivite", formats=["CSV"], spatial=None),
    dict(name="ecoles-corse-du-sud-ent", title="ENT des écoles de Corse-du-Sud",
         notes="Déploiement de l'espace numérique de travail.", tags=["ent", "écoles"],
         org="menj", axe="services_ressources", formats=["ODS"], spatial=CORSE),
    dict(name="ressources-numeriques-lycees", title="Ressources numériques éditoriales des lycées",
         notes="Manuels numériques et banques de ressources.", tags=["ressources", "lycées"],
         org="region-occitanie", axe="services_ressources", formats=["CSV"], spatial=HAUTE_GARONNE),
    dict(name="imprimantes-3d-colleges", title="Imprimantes 3D dans les collèges",
         notes="Équipement des fablabs.", tags=["imprimantes-3d", "collèges"],
         org="herault", axe="equipement", formats=["XLSX"], spatial=HERAULT),
    dict(name="maintenance-informatique-ecoles", title="Maintenance informatique des écoles",
         notes="Qui maintient les ordinateurs : la collectivité ou l'éducation nationale.", tags=["maintenance"],
         org="val-de-marne", axe="equipement", formats=["CSV"], spatial=VAL_DE_MARNE),
    # not public: private, draft, deleted
    dict(name="budget-numerique-prive", title="Budget numérique des écoles (document interne)",
         notes="Brouillon de travail non publié.", tags=["budget", "écoles"],
         org="val-de-marne", axe="equipement", formats=["XLSX"], spatial=VAL_DE_MARNE, private=True),
    dict(name="enquete-wifi-lycees-privee", title="Enquête wifi des lycées (non publiée)",
         notes="Résultats provisoires.", tags=["wifi", "lycées"],
         org="region-occitanie", axe="connectivite", formats=["CSV"], spatial=HAUTE_GARONNE, private=True),
    dict(name="ecoles-brouillon", title="Écoles : jeu de données en brouillon",
         notes="En cours de saisie.", tags=["écoles"], org="menj", axe="etablissements",
         formats=[], spatial=None, state="draft"),
    dict(name="ancien-annuaire-supprime", title="Ancien annuaire des écoles (supprimé)",
         notes="Remplacé par l'annuaire de l'éducation.", tags=["annuaire", "écoles"],
         org="menj", axe="etablissements", formats=["CSV"], spatial=None, state="deleted"),
]

ORGS = {
    "menj": "Ministère de l'Éducation nationale",
    "arcep": "Arcep",
    "val-de-marne": "Département du Val-de-Marne",
    "region-occitanie": "Région Occitanie",
    "herault": "Département de l'Hérault",
}


def norm(text: Optional[str]) -> str:
    """Lower case, accents removed."""
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()


def words(text: Optional[str]) -> list[str]:
    import re
    return re.findall(r"[a-z0-9]+", norm(text))


@dataclass
class Catalogue:
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)   # name -> package_show
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    sysadmin: dict[str, Any] = field(default_factory=dict)
    member: dict[str, Any] = field(default_factory=dict)                # editor of val-de-marne

    def spec(self, name: str) -> dict[str, Any]:
        return self.specs[name]

    def public(self) -> list[str]:
        return [n for n, s in self.specs.items() if not s.get("private") and s.get("state", "active") == "active"]

    def where(self, predicate: Callable[[dict[str, Any]], bool], names: Optional[Iterable[str]] = None) -> set[str]:
        pool = self.public() if names is None else names
        return {n for n in pool if predicate(self.specs[n])}

    def text_words(self, name: str) -> list[str]:
        s = self.specs[name]
        # what CKAN's Solr `text` field holds too: producer name and title, resource names
        resources = " ".join(f"{s['title']} ({fmt})" for fmt in s["formats"])
        return words(" ".join([s["title"], s["notes"], " ".join(s["tags"]), s["name"].replace("-", " "),
                               s["org"], ORGS[s["org"]], resources]))

    def having_word_prefix(self, prefix: str, names: Optional[Iterable[str]] = None) -> set[str]:
        """Datasets with a word starting with `prefix` (accents and case ignored)."""
        return self.where(lambda s: any(w.startswith(prefix) for w in self.text_words(s["name"])), names)

    def ids(self, names: Iterable[str]) -> set[str]:
        return {self.datasets[n]["id"] for n in names}


def _create(sysadmin: str, spec: dict[str, Any], orgs: dict[str, str]) -> dict[str, Any]:
    resources = [{"url": f"https://exemple.gouv.fr/{spec['name']}.{fmt.lower()}", "format": fmt,
                  "name": f"{spec['title']} ({fmt})"} for fmt in spec["formats"]]
    data = dict(name=spec["name"], title=spec["title"], notes=spec["notes"],
                tags=[{"name": t} for t in spec["tags"]], owner_org=orgs[spec["org"]], axe=spec["axe"],
                license_id="etalab-2.0", private=spec.get("private", False), resources=resources)
    if spec.get("spatial"):
        data["spatial"] = spec["spatial"]
    if spec.get("state") == "draft":
        data["state"] = "draft"
    pkg = helpers.call_action("package_create", {"user": sysadmin}, **data)
    if spec.get("state") == "deleted":
        helpers.call_action("package_delete", {"user": sysadmin}, id=pkg["id"])
    return pkg


@pytest.fixture(scope="module")
def catalogue(module_portal_db) -> Catalogue:
    from ckan.tests import factories
    sysadmin = factories.Sysadmin()
    member = factories.User()
    orgs = {}
    for name, title in ORGS.items():
        org = helpers.call_action("organization_create", {"user": sysadmin["name"]}, name=name, title=title)
        orgs[name] = org["id"]
    helpers.call_action("organization_member_create", {"user": sysadmin["name"]},
                        id="val-de-marne", username=member["name"], role="editor")
    cat = Catalogue(sysadmin=sysadmin, member=member)
    for spec in SPECS:
        pkg = _create(sysadmin["name"], spec, orgs)
        cat.specs[spec["name"]] = spec
        cat.datasets[spec["name"]] = helpers.call_action("package_show", {"ignore_auth": True}, id=pkg["id"])
    model.Session.remove()
    return cat


def search(user: Optional[str] = None, **params: Any) -> dict[str, Any]:
    """package_search as `user` (None: anonymous)."""
    context = {"user": user or "", "ignore_auth": False}
    params.setdefault("rows", 1000)
    return helpers.call_action("package_search", context, **params)


def names(result: dict[str, Any]) -> list[str]:
    return [d["name"] for d in result["results"]]
