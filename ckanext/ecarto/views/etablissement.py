"""`/etablissement` (search) and `/etablissement/<uai>` (page, `.json`, `.csv`)."""
from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint, Response, jsonify, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto import replicas
from ckanext.ecarto.core import access
from ckanext.ecarto.core.uai import check
from ckanext.ecarto.etablissements import finder
from ckanext.ecarto.etablissements import labels
from ckanext.ecarto.etablissements import people as people_mod
from ckanext.ecarto.etablissements.identity import TYPES
from ckanext.ecarto.logic import etablissement as etablissement_logic
from ckanext.ecarto.logic import schema
from ckanext.ecarto.views._common import CsvExport, action_context, json_response, split_format, user_name

etablissement = Blueprint("ecarto_etablissement", __name__)

PAGE_SIZE = 20
AUTOCOMPLETE_ROWS = 10
FORMATS = ("json", "csv")
# the « people » CSV: one row per indicator, French numbers (``etablissements/people.py``)
PEOPLE_SUFFIX = "-indicateurs.csv"


def _query_from_request() -> finder.Query:
    """The search of the page, its parameters checked by the action's schema (French 400)."""
    try:
        params = schema.validate(request.args.to_dict(), schema.etablissement_search_page_schema)
    except tk.ValidationError as exc:
        return tk.abort(400, schema.error_message(exc))
    return etablissement_logic.search_query(params, limit=PAGE_SIZE, offset=(params["page"] - 1) * PAGE_SIZE)


def _search_params(query: finder.Query) -> dict[str, Any]:
    """The parameters of `ecarto_etablissement_search` for the page's query."""
    params = {"q": query.q, "type": query.type, "secteur": query.secteur, "departement": query.departement,
              "academie": query.academie, "commune": query.commune, "rows": query.limit, "start": query.offset}
    return {k: v for k, v in params.items() if v is not None}


@etablissement.route("/etablissement")
def search() -> str:
    query = _query_from_request()
    found = tk.get_action("ecarto_etablissement_search")(action_context(), _search_params(query))
    results = finder.Results(count=found["count"], items=found["results"], facets=found["facets"])
    page = query.offset // PAGE_SIZE + 1
    return tk.render("ecarto/etablissement/search.html", {
        "query": query, "results": results, "types": TYPES, "page": page,
        "secteurs": {code: labels.sector_label(code) for code in labels.SECTORS},
        "pages": max(1, -(-results.count // PAGE_SIZE)),
    })


@etablissement.route("/etablissement/autocomplete")
def autocomplete() -> Response:
    try:
        params = schema.validate(request.args.to_dict(), schema.query_only_schema)
    except tk.ValidationError as exc:
        return json_response({"error": schema.error_message(exc)}, status=400)
    if len(params["q"].strip()) < 2:
        return jsonify([])
    found = tk.get_action("ecarto_etablissement_search")(action_context(),
                                                         {"q": params["q"], "rows": AUTOCOMPLETE_ROWS})
    return jsonify([{"uai": r["uai"], "nom": r["nom"], "commune": r["commune_nom"],
                     "url": tk.url_for("ecarto_etablissement.read", ident=r["uai"])} for r in found["results"]])


@etablissement.route("/etablissement/<ident>", endpoint="read")
def read(ident: str) -> Any:
    people = ident.lower().endswith(PEOPLE_SUFFIX)
    raw, fmt = (ident[: -len(PEOPLE_SUFFIX)], "csv") if people else split_format(ident, FORMATS)
    verdict = check(raw)
    if not verdict.valid:
        return _error(400, verdict.message, fmt, uai=verdict.value)
    try:
        record = tk.get_action("ecarto_etablissement_show")(action_context(), {"uai": verdict.value})
    except tk.ObjectNotFound:
        reader = access.reader_for(user_name())
        with replicas.read_connection() as conn:
            suggestions = finder.suggestions(conn, verdict.value, reader)
        message = tk._("Aucun établissement {uai} dans les données du portail.").format(uai=verdict.value)
        return _error(404, message, fmt, uai=verdict.value, suggestions=suggestions)
    if fmt == "json":
        return json_response(record, indent=1)
    if people:
        return _people_csv(record)
    if fmt == "csv":
        return _csv(record)
    view = people_mod.page_view(record)
    return tk.render("ecarto/etablissement/read.html", {
        "record": view, "ident": view["identite"], "people_csv": record["uai"] + PEOPLE_SUFFIX,
        "tiles_url": tk.config.get("ckanext.ecarto.map_tiles_url"),
        "tiles_attribution": tk.config.get("ckanext.ecarto.map_tiles_attribution"),
    })


def _error(status: int, message: str, fmt: str, **extra: Any) -> Any:
    if fmt in FORMATS:
        return json_response({"error": message, **extra}, status=status)
    return tk.render("ecarto/etablissement/error.html",
                     {"status": status, "message": message, **extra}), status


def _csv(record: dict[str, Any]) -> Response:
    """Every value of the page as rows (`;`, UTF-8 with BOM, as French spreadsheet users expect);
    cells neutralised against formula injection by `_common.CsvExport`. Each value carries its
    period (`periode`); earlier periods follow as rows with `actuelle` « non »."""
    export = CsvExport()
    export.writerow(["uai", "section", "indicateur", "libelle", "valeur", "unite", "jeu_de_donnees",
                     "ressource", "millesime", "non_communique", "periode", "statut", "actuelle", "niveau"])
    uai = record["uai"]
    for key, value in record["identite"].items():
        if key in {"sources"}:
            continue
        export.writerow([uai, "identite", key, key, value, "", "", "", "", "", "", "", "", "etablissement"])
    for axe in record["axes"]:
        for ind in axe["indicateurs"]:
            _csv_value(export, uai, axe["id"], ind["id"], ind, "etablissement")
        for item in axe.get("niveau_commune") or []:
            _csv_value(export, uai, axe["id"], item["colonne"], item, "commune")
    for block in record["autres_donnees"]:
        for col in block["colonnes"]:
            _csv_value(export, uai, "autres_donnees", col["colonne"], col, "etablissement", block["source"])
    return export.response(f"etablissement-{uai}.csv")


def _people_csv(record: dict[str, Any]) -> Response:
    """One row per indicator, as the page reads (``people.indicator_rows``): `;`, UTF-8 with
    BOM, values already in French format (text cells, neutralised like every export)."""
    export = CsvExport()
    for row in people_mod.indicator_rows(record):
        export.writerow(row)
    return export.response(f"etablissement-{record['uai']}-indicateurs.csv")


def _csv_value(export: CsvExport, uai: str, section: str, name: str, item: dict[str, Any], level: str,
               block_source: Optional[dict[str, Any]] = None) -> None:
    """The current value of an item, then its history (oldest first)."""
    src = item.get("source") or block_source or {}
    statut = item.get("statut") or ("nc" if item.get("valeur") is None else "valeur")
    export.writerow([uai, section, name, item["label"], _cell(item.get("valeur")), item.get("unit") or "",
                     src.get("dataset", ""), src.get("resource_id", ""), src.get("millesime") or "",
                     "oui" if statut == "nc" else "non", item.get("periode") or "", statut, "oui", level])
    for old in item.get("historique") or []:
        osrc = old.get("source") or {}
        export.writerow([uai, section, name, item["label"], _cell(old.get("valeur")), item.get("unit") or "",
                         osrc.get("dataset", ""), osrc.get("resource_id", ""), osrc.get("millesime") or "",
                         "oui" if old.get("valeur") is None else "non", old.get("periode") or "",
                         "valeur" if old.get("valeur") is not None else "nc", "non", level])


def _cell(value: Any) -> Any:
    """Flags as « Oui »/« Non », as on the page."""
    if value is True:
        return "Oui"
    if value is False:
        return "Non"
    return value
