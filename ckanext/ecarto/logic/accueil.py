"""The portal's home page (`templates/home/index.html`, through the helper `h.ecarto_accueil`):
the four axes explained, the régions (entry to the territory pages), the key figures — each with
its source, its period and its coverage — and the latest public datasets and their producers.

Everything comes from what an anonymous visitor may read: CKAN's actions called with an
anonymous context (private datasets never counted nor listed), the public directories and the
territorial aggregates (built from public data only). A figure the loaded data cannot give is
n.c. with its reason, never a number without its source.
"""
from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Optional

import ckan.model as model
import ckan.plugins.toolkit as tk
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import axes
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import columns
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates, etat_des_lieux, record

LATEST_DATASETS = 5
PRODUCERS = 6

@dataclass
class Figure:
    """A key figure of the home page: never a value without its source and period."""
    id: str
    libelle: str
    valeur: Optional[float]
    unite: str = ""
    source: str = ""
    source_url: str = ""
    periode: str = ""
    couverture: str = ""
    taux_nc: Optional[float] = None
    statut: str = "ok"          # "ok", "nc" or "couverture_insuffisante"
    libelle_nc: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)


def anonymous_context() -> dict[str, Any]:
    """The context of an anonymous visitor: what the home page shows is public, whoever looks."""
    return {"user": "", "auth_user_obj": None, "ignore_auth": False}


def axis_entries() -> list[dict[str, str]]:
    """The four axes of the observatory: label, two lines, the catalogue filtered on it."""
    return [{"id": axe, "libelle": _(axes.AXIS_LABELS[axe]), "description": _(axes.AXIS_DESCRIPTIONS[axe][0]),
             "sources": _(axes.AXIS_DESCRIPTIONS[axe][1]), "url": tk.url_for("dataset.search", axe=axe)}
            for axe in axes.INDICATOR_AXES]


def regions() -> list[dict[str, Any]]:
    """The régions, by name: the map's keyboard and no-script alternative."""
    found = [record.link(t) for t in territories.all_of(territories.REGION)]
    return sorted(found, key=lambda t: _sort_key(t["nom"]))


def _sort_key(name: str) -> str:
    """Alphabetical order of French names (« Île-de-France » among the I)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def latest_datasets(limit: int = LATEST_DATASETS) -> dict[str, Any]:
    """The public datasets last modified, their total, and their number per axis and per
    producer (anonymous search: no private dataset is listed nor counted)."""
    found = tk.get_action("package_search")(anonymous_context(), {
        "q": "", "rows": limit, "sort": "metadata_modified desc", "include_private": False,
        "include_drafts": False, "facet.field": ["axe", "organization"], "facet.limit": -1})
    facets = found.get("facets") or {}
    return {"count": found["count"], "results": found["results"],
            "par_axe": facets.get("axe") or {}, "par_producteur": facets.get("organization") or {}}


def producers(per_producer: dict[str, int], limit: int = PRODUCERS) -> dict[str, Any]:
    """The producers (organizations) with the most public datasets, and how many have one.
    Ranked on the public counts of the search: CKAN's own ``package_count`` sort of
    organization_list counts private datasets too."""
    ranked = sorted(per_producer.items(), key=lambda item: (-item[1], item[0]))[:limit]
    if not ranked:
        return {"count": 0, "results": []}
    orgs = tk.get_action("organization_list")(anonymous_context(), {
        "all_fields": True, "organizations": [name for name, _n in ranked], "limit": limit})
    by_name = {o["name"]: o for o in orgs}
    results = [{**by_name[name], "package_count": n} for name, n in ranked if name in by_name]
    return {"count": len(per_producer), "results": results}


def _date(value: Optional[str]) -> str:
    """`2026-12-01T03:56:51` → `01/12/2026`."""
    if not value:
        return ""
    try:
        return datetime.date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def establishments_figure(conn: Connection, refreshed: str) -> Figure:
    """The open establishments of the public directories loaded on the portal."""
    counts = record.counts_block(aggregates.counts(conn, [(territories.FRANCE, "")]))
    directories = etat_des_lieux.directory_sources(conn)
    total = counts["ecoles_colleges_lycees"]
    millesimes = sorted({d["millesime"] for d in directories if d.get("millesime")})
    return Figure(
        id="etablissements", libelle=_("écoles, collèges et lycées ouverts dans les annuaires publiés"),
        valeur=total if directories else None, unite="",
        source=_("Annuaires publiés sur le portail : {titres}").format(
            titres=" ; ".join(d["title"] for d in directories)) if directories else "",
        source_url=tk.url_for("ecarto_etablissement.search"),
        periode=", ".join(millesimes),
        couverture=_("Les annuaires chargés ne couvrent pas toute la France ; données au {date}.").format(
            date=refreshed) if refreshed else _("Les annuaires chargés ne couvrent pas toute la France."),
        statut="ok" if directories else "nc",
        libelle_nc="" if directories else _("Aucun annuaire d’établissements publié sur le portail."),
        details=[{"libelle": row["libelle"], "valeur": row["total"]}
                 for row in counts["par_type"] if row["type"] != "autre"],
    )


def headline_figure(conn: Connection) -> tuple[Optional[Figure], int, int]:
    """A national indicator with its source, period and n.c. share, and how many figures of the
    2018 report the loaded data computes. The first of: a computed figure of the 2018 report;
    a computed national indicator (``france_indicator``); a figure of the report a loaded
    dataset feeds, shown n.c. with its reason."""
    figures = etat_des_lieux.figures(conn)
    computed = [f for f in figures if f["statut"] == "ok"]
    fed = [f for f in figures if f.get("source")]
    chosen = computed[0] if computed else france_indicator(conn) or (fed[0] if fed else None)
    if chosen is None:
        return None, 0, len(figures)
    source = chosen["source"]
    return Figure(
        id=chosen["id"], libelle=_("{libelle} — France entière").format(libelle=chosen["libelle"]),
        valeur=chosen["valeur"], unite=chosen.get("unite") or "",
        source=_("{jeu}, {producteur}").format(jeu=source["dataset_title"], producteur=source.get("producteur") or ""),
        source_url=tk.url_for("dataset.read", id=source["dataset"]),
        periode=chosen.get("periode") or chosen.get("millesime") or "",
        couverture=_("n.c. : part des communes sans valeur.") if chosen.get("base") == "communes" else
        _("n.c. : part des établissements concernés (types et secteurs que couvre la source) sans valeur."),
        taux_nc=chosen.get("taux_nc"), statut=chosen["statut"], libelle_nc=chosen.get("libelle_nc") or "",
    ), len(computed), len(figures)


def france_indicator(conn: Connection) -> Optional[dict[str, Any]]:
    """A computed national indicator, as the territory page of France shows it: one of the data
    dictionary's indicators of the four axes first; else one measured on establishments (its
    n.c. share is the establishments' non-response); else any of the four axes."""
    france = territories.get(territories.FRANCE, "")
    if france is None or not aggregates.tables_exist(conn):
        return None
    blocks = [(axe["id"], block) for axe in record.build(conn, france)["axes"] for block in axe["indicateurs"]
              if block.get("statut") == "ok" and block.get("valeur") is not None]
    preferences = (
        lambda axe, b: axe in axes.INDICATOR_AXES and bool(b.get("indicateur")),
        lambda axe, b: b.get("n_etablissements") is not None,
        lambda axe, b: axe in axes.INDICATOR_AXES,
    )
    for wanted in preferences:
        chosen = next((b for axe, b in blocks if wanted(axe, b)), None)
        if chosen is not None:
            return {**chosen, "id": "indicateur", "base": "communes" if "n_communes" in chosen else "etablissements"}
    return None


def catalogue_figures(datasets: dict[str, Any], orgs: dict[str, Any]) -> list[Figure]:
    today = datetime.date.today().strftime("%d/%m/%Y")
    source = _("Catalogue du portail (jeux publics)")
    return [
        Figure(id="jeux", libelle=_("jeux de données publics"), valeur=datasets["count"], source=source,
               source_url=tk.url_for("dataset.search"), periode=_("au {date}").format(date=today)),
        Figure(id="producteurs", libelle=_("producteurs ayant publié des jeux de données"), valeur=orgs["count"],
               source=source,
               source_url=tk.url_for("organization.index"), periode=_("au {date}").format(date=today)),
    ]


def home_page() -> dict[str, Any]:
    """Everything the home page shows besides its texts."""
    aggregates.ensure_fresh(wait=False)
    conn = model.Session.connection()
    refreshed = _date(record.iso_date(aggregates.refreshed_at(conn))) if aggregates.tables_exist(conn) else ""
    datasets = latest_datasets()
    orgs = producers(datasets["par_producteur"])
    headline, n_computed, n_figures = headline_figure(conn)
    entries = axis_entries()
    for entry in entries:
        entry["jeux"] = datasets["par_axe"].get(entry["id"], 0)
    return {
        "intro": tk.config.get("ckanext.ecarto.home_intro") or "",
        "seuil": columns.coverage_threshold(),
        "axes": entries,
        "regions": regions(),
        "etablissements": establishments_figure(conn, refreshed),
        "catalogue": catalogue_figures(datasets, orgs),
        "indicateur": headline,
        "rapport_2018": {"calcules": n_computed, "total": n_figures},
        "derniers_jeux": datasets["results"],
        "producteurs": orgs["results"],
    }
