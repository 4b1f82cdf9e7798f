"""Territory pages: `/territoire` (index and search), `/territoire/france`,
`/territoire/<niveau>/<code>` (page, `.json`, `.csv`, `.geojson`), the suggestions of the search
boxes (`/territoire/autocomplete`), the map data
(`/territoire/carte.json`, `/territoire/contours.geojson`, `/territoire/etablissements.json`)
and `/etat-des-lieux`."""
from __future__ import annotations

import json
from typing import Any, Optional

from flask import Blueprint, Response, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto import pagecache, replicas
from ckanext.ecarto.logic import schema
from ckanext.ecarto.logic import territoire as logic
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates, etat_des_lieux, geometry, record
from ckanext.ecarto.territoires import indicators as ind
from ckanext.ecarto.views._common import CsvExport, action_context, json_response, split_format

territoire = Blueprint("ecarto_territoire", __name__)

FORMATS = ("json", "csv", "geojson")
AUTOCOMPLETE_ROWS = 8


def _json(data: Any, status: int = 200, max_age: Optional[int] = None) -> Response:
    """Map data and API-like answers of these pages: compact JSON."""
    return json_response(data, status, max_age=max_age, compact=True)


def _args(schema_fn: Any) -> tuple[dict[str, Any], Optional[str]]:
    """The query parameters checked by `schema_fn` (logic/schema.py), or a French error."""
    try:
        return schema.validate(request.args.to_dict(), schema_fn), None
    except tk.ValidationError as exc:
        return {}, schema.error_message(exc)


# --------------------------------------------------------------------------- index

@territoire.route("/territoire")
def index() -> str:
    args, error = _args(schema.query_only_schema)
    if error:
        return tk.abort(400, error)
    q = args["q"]
    results = territories.search(q, limit=50) if q else []
    if q and len(results) == 1 and results[0].code == territories.normalise_code(results[0].level, q):
        return tk.redirect_to(record.path(results[0]))
    return tk.render("ecarto/territoire/index.html", {
        "q": q, "results": [record.link(t) for t in results],
        "regions": [record.link(t) for t in territories.all_of(territories.REGION)],
        "academies": [record.link(t) for t in territories.all_of(territories.ACADEMIE)],
        "departements": [record.link(t) for t in territories.all_of(territories.DEPARTEMENT)],
    })


@territoire.route("/territoire/autocomplete")
def autocomplete() -> Response:
    """Territories matching a name or a code (communes, départements, académies, régions), for
    the search boxes: `[{"niveau", "code", "nom", "libelle", "chemin"}]`."""
    args, error = _args(schema.query_only_schema)
    if error:
        return _json({"error": error}, status=400)
    q = args["q"].strip()
    return _json([record.link(t) for t in territories.search(q, limit=AUTOCOMPLETE_ROWS)] if len(q) >= 2 else [])


# --------------------------------------------------------------------------- pages

@territoire.route("/territoire/<ident>")
def france(ident: str) -> Any:
    name, fmt = split_format(ident, FORMATS)
    if name.lower() != territories.FRANCE:
        return _not_found(name, "", fmt)
    return _read(territories.FRANCE, "", fmt)


@territoire.route("/territoire/<niveau>/<code>")
def read(niveau: str, code: str) -> Any:
    code, fmt = split_format(code, FORMATS)
    return _read(niveau, code, fmt)


def _read(niveau: str, code: str, fmt: str) -> Any:
    territory = logic.resolve(niveau, code)
    if territory is None:
        return _not_found(niveau, code, fmt)
    canonical = record.path(territory)
    if fmt == "html" and request.path != canonical:
        return tk.redirect_to(canonical)       # /territoire/departement/031 → /31
    data = tk.get_action("ecarto_territoire_show")(action_context(), {"niveau": territory.level, "code": territory.code})
    if fmt == "json":
        return _json(data)
    if fmt == "csv":
        return _csv(data)
    if fmt == "geojson":
        return _geojson(territory, data)
    levels = record.child_levels(territory.level)
    with replicas.read_connection() as conn:
        options = record.series_groups(conn)
        default_serie = record.default_serie(conn) if levels else None
    return tk.render("ecarto/territoire/read.html", {
        "record": data, "territory": territory, "series_options": options,
        "default_serie": default_serie,
        "child_levels": [(lvl, territories.LEVEL_LABELS[lvl]) for lvl in levels],
        "dimensions": ind.DIMENSIONS,
        "outline": json.dumps(geometry.outline(territory)) if not levels else "",
        "points": territory.level in (territories.DEPARTEMENT, territories.COMMUNE),
        "tiles_url": tk.config.get("ckanext.ecarto.map_tiles_url"),
        "tiles_attribution": tk.config.get("ckanext.ecarto.map_tiles_attribution"),
    })


def _not_found(niveau: str, code: str, fmt: str) -> Any:
    message = logic.not_found_message(niveau, code)
    suggestions = logic.suggestions(niveau, code)
    if fmt != "html":
        return _json({"error": message, "suggestions": suggestions}, status=404)
    return tk.render("ecarto/territoire/error.html", {
        "status": 404, "message": message, "suggestions": suggestions, "niveau": niveau, "code": code}), 404


# --------------------------------------------------------------------------- exports

CSV_HEADER = ["niveau", "code", "nom", "rubrique", "axe", "serie", "indicateur", "libelle", "ventilation",
              "valeur", "unite", "statistique", "effectif", "n_valeurs", "taux_nc", "jeu_de_donnees",
              "millesime", "periode", "periode_courante", "statut", "non_communique"]


def _indicator_rows(base: list[Any], axe: dict[str, Any], block: dict[str, Any]) -> list[list[Any]]:
    """The rows of one indicator: the headline (latest period) and its breakdowns, then every
    other period of the series (« Ensemble »)."""
    def row(line: dict[str, Any], label: str, periode: Any, current: bool) -> list[Any]:
        effectif = line.get("n_etablissements", line.get("n_communes"))
        return base + [
            "indicateur", axe["id"], block["serie"], block.get("indicateur") or "", block["libelle"],
            label, line["valeur"], block.get("unite") or "", block["statistique"],
            effectif, line["n_valeurs"], line["taux_nc"], block["source"]["dataset"],
            block.get("millesime") or "", periode or "", "oui" if current else "non", line.get("statut") or "",
            "oui" if line["valeur"] is None else "non"]
    rows = [row(block, "Ensemble", block.get("periode"), True)]
    rows += [row(line, line["libelle"], block.get("periode"), True) for line in block["ventilation"]]
    rows += [row(point, "Ensemble", point["periode"], False) for point in block.get("evolution") or []
             if not point.get("courante")]
    return rows


def _csv(data: dict[str, Any]) -> Response:
    """Every figure of the page as rows, every period of each series (`;`, UTF-8 with BOM: opens
    as is in French spreadsheets); cells neutralised against formula injection by
    `_common.CsvExport`."""
    export = CsvExport()
    export.writerow(CSV_HEADER)
    base = [data["niveau"], data["code"], data["nom"]]
    blank = ["", "", ""]
    eff = data["effectifs"]
    for row in eff["par_type"]:
        for sector in ("total", "public", "prive"):
            export.writerow(base + ["effectifs", "", "", "", f"{row['libelle']} ({sector})", "",
                                    row[sector], "établissements", "annuaire", "", "", "", "", ""] + blank + ["non"])
    for kind, n in eff["education_prioritaire"].items():
        export.writerow(base + ["effectifs", "", "", "", kind, "", n, "établissements", "annuaire",
                                "", "", "", "", ""] + blank + ["non"])
    for axe in data["axes"]:
        for block in axe["indicateurs"]:
            for line in _indicator_rows(base, axe, block):
                export.writerow(line)
        for missing in axe["sans_donnees"]:
            export.writerow(base + ["indicateur", axe["id"], "", missing["id"], missing["label"], "Ensemble",
                                    "", "", "", "", "", "", "", ""] + blank + ["oui"])
    return export.response(f"territoire-{data['niveau']}{'-' + data['code'] if data['code'] else ''}.csv")


def _geojson(territory: territories.Territory, data: dict[str, Any]) -> Response:
    properties: dict[str, Any] = {
        "niveau": data["niveau"], "code": data["code"], "nom": data["nom"],
        "etablissements": data["effectifs"]["ecoles_colleges_lycees"],
        "indicateurs": [{"serie": b["serie"], "libelle": b["libelle"], "valeur": b["valeur"], "unite": b.get("unite"),
                         "statut": b.get("statut"), "taux_nc": b["taux_nc"], "millesime": b.get("millesime"),
                         "periode": b.get("periode"), "jeu_de_donnees": b["source"]["dataset"]}
                        for axe in data["axes"] for b in axe["indicateurs"]],
    }
    collection = {"type": "FeatureCollection", "features": [geometry.feature(territory, properties)]}
    return Response(json.dumps(collection, ensure_ascii=False), mimetype="application/geo+json")


# --------------------------------------------------------------------------- map data

def _map_args(args: dict[str, Any]) -> tuple[Optional[territories.Territory], str]:
    territory = logic.resolve(args.get("niveau"), args.get("code"))
    child = args.get("enfants") or (record.CHILD_LEVEL.get(territory.level) if territory else "")
    return territory, child or ""


@territoire.route("/territoire/carte.json")
def carte() -> Response:
    """Values of the children territories for one series: the choropleth's data."""
    args, error = _args(schema.territoire_map_schema)
    if error:
        return _json({"error": error}, status=400)
    territory, child = _map_args(args)
    if territory is None or child not in record.child_levels(territory.level):
        return _json({"error": tk._("Territoire ou niveau des enfants inconnu.")}, status=404)
    if not aggregates.ensure_fresh(wait=False):
        pagecache.skip_store()  # previous aggregates while the background refresh runs
    serie = args.get("serie") or ""
    dim = args.get("dim") or "ensemble"
    if dim not in ind.DIMENSION_LABELS:
        return _json({"error": tk._("Ventilation inconnue.")}, status=400)
    with replicas.read_connection() as conn:
        data = record.choropleth(conn, territory, child, serie, dim)
        options = record.series_options(conn) if data is None else []
    if data is None:
        return _json({"error": tk._("Indicateur inconnu."), "series": options}, status=404)
    return _json(data, max_age=60)


@territoire.route("/territoire/contours.geojson")
def contours() -> Response:
    """Contours of the children territories (overseas insets on a map of France)."""
    args, error = _args(schema.territoire_map_schema)
    if error:
        return _json({"error": error}, status=400)
    territory, child = _map_args(args)
    if territory is None or child not in record.child_levels(territory.level):
        return _json({"error": tk._("Territoire ou niveau des enfants inconnu.")}, status=404)
    text = geometry.children_geojson(territory.level, territory.code, child)
    return Response(text, mimetype="application/geo+json", headers={"Cache-Control": "public, max-age=86400"})


@territoire.route("/territoire/etablissements.json")
def etablissements() -> Response:
    """Located establishments of a département or a commune (public directories)."""
    args, error = _args(schema.territoire_map_schema)
    if error:
        return _json({"error": error}, status=400)
    territory = logic.resolve(args.get("niveau"), args.get("code"))
    if territory is None or territory.level not in (territories.DEPARTEMENT, territories.COMMUNE):
        return _json({"error": tk._("Points disponibles pour un département ou une commune.")}, status=404)
    if not aggregates.ensure_fresh(wait=False):
        pagecache.skip_store()  # previous aggregates while the background refresh runs
    with replicas.read_connection() as conn:
        rows = aggregates.establishments(conn, territory.level, territory.code)
    return _json({"niveau": territory.level, "code": territory.code, "etablissements": [
        {**r, "chemin": f"/etablissement/{r['uai']}"} for r in rows]}, max_age=60)


# --------------------------------------------------------------------------- état des lieux

@territoire.route("/etat-des-lieux")
def etat() -> Any:
    args, error = _args(schema.etat_des_lieux_schema)
    if error:
        return tk.abort(400, error)
    if not aggregates.ensure_fresh(wait=False):
        pagecache.skip_store()  # previous aggregates while the background refresh runs
    with replicas.read_connection() as conn:
        data = etat_des_lieux.build(conn)
    if args.get("format") == "json":
        return _json(data)
    return tk.render("ecarto/territoire/etat_des_lieux.html", {"data": data})
