"""`/etablissement` (search) and `/etablissement/<uai>` (page, `.json`, `.csv`)."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.ecarto.etablissements import finder
from ckanext.ecarto.etablissements.identity import TYPES
from ckanext.ecarto.etablissements.uai import check
from ckanext.ecarto.logic import access, schema
from ckanext.ecarto.logic import etablissement as etablissement_logic
from ckanext.ecarto.views._common import CsvExport

etablissement = Blueprint("ecarto_etablissement", __name__)

PAGE_SIZE = 20


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else None}


def _query_from_request() -> finder.Query:
    """The search of the page, its parameters checked by the action's schema (French 400)."""
    try:
        params = schema.validate(request.args.to_dict(), schema.etablissement_search_page_schema)
    except tk.ValidationError as exc:
        return tk.abort(400, schema.error_message(exc))
    return etablissement_logic.search_query(params, limit=PAGE_SIZE, offset=(params["page"] - 1) * PAGE_SIZE)


@etablissement.route("/etablissement")
def search() -> str:
    query = _query_from_request()
    reader = access.reader_for(_context()["user"])
    results = finder.search(model.Session.connection(), query, reader)
    page = query.offset // PAGE_SIZE + 1
    return tk.render("ecarto/etablissement/search.html", {
        "query": query, "results": results, "types": TYPES, "page": page,
        "pages": max(1, -(-results.count // PAGE_SIZE)),
    })


@etablissement.route("/etablissement/autocomplete")
def autocomplete() -> Response:
    try:
        params = schema.validate(request.args.to_dict(), schema.autocomplete_schema)
    except tk.ValidationError as exc:
        return Response(json.dumps({"error": schema.error_message(exc)}, ensure_ascii=False),
                        status=400, mimetype="application/json")
    query = finder.Query(q=params["q"], limit=10)
    if len(query.q.strip()) < 2:
        return jsonify([])
    reader = access.reader_for(_context()["user"])
    results = finder.search(model.Session.connection(), query, reader)
    return jsonify([{"uai": r["uai"], "nom": r["nom"], "commune": r["commune_nom"],
                     "url": tk.url_for("ecarto_etablissement.read", ident=r["uai"])} for r in results.items])


def _split_format(ident: str) -> tuple[str, str]:
    for fmt in ("json", "csv"):
        if ident.lower().endswith("." + fmt):
            return ident[: -len(fmt) - 1], fmt
    return ident, "html"


@etablissement.route("/etablissement/<ident>", endpoint="read")
def read(ident: str) -> Any:
    raw, fmt = _split_format(ident)
    verdict = check(raw)
    if not verdict.valid:
        return _error(400, verdict.message, fmt, uai=verdict.value)
    try:
        record = tk.get_action("ecarto_etablissement_show")(_context(), {"uai": verdict.value})
    except tk.ObjectNotFound:
        reader = access.reader_for(_context()["user"])
        suggestions = finder.suggestions(model.Session.connection(), verdict.value, reader)
        message = tk._("Aucun établissement {uai} dans les données du portail.").format(uai=verdict.value)
        return _error(404, message, fmt, uai=verdict.value, suggestions=suggestions)
    if fmt == "json":
        return Response(json.dumps(record, ensure_ascii=False, indent=1), mimetype="application/json")
    if fmt == "csv":
        return _csv(record)
    return tk.render("ecarto/etablissement/read.html", {
        "record": record, "ident": record["identite"],
        "tiles_url": tk.config.get("ckanext.ecarto.map_tiles_url"),
        "tiles_attribution": tk.config.get("ckanext.ecarto.map_tiles_attribution"),
    })


def _error(status: int, message: str, fmt: str, **extra: Any) -> Any:
    if fmt in {"json", "csv"}:
        return Response(json.dumps({"error": message, **extra}, ensure_ascii=False),
                        status=status, mimetype="application/json")
    return tk.render("ecarto/etablissement/error.html",
                     {"status": status, "message": message, **extra}), status


def _csv(record: dict[str, Any]) -> Response:
    """Every value of the page as rows (`;`, UTF-8 with BOM, as French spreadsheet users expect);
    cells neutralised against formula injection by `_common.CsvExport`."""
    export = CsvExport()
    export.writerow(["uai", "section", "indicateur", "libelle", "valeur", "unite", "jeu_de_donnees",
                     "ressource", "millesime", "non_communique"])
    uai = record["uai"]
    for key, value in record["identite"].items():
        if key in {"sources"}:
            continue
        export.writerow([uai, "identite", key, key, value, "", "", "", "", ""])
    for axe in record["axes"]:
        for ind in axe["indicateurs"]:
            src = ind.get("source") or {}
            export.writerow([uai, axe["id"], ind["id"], ind["label"], ind["valeur"], ind.get("unit") or "",
                             src.get("dataset", ""), src.get("resource_id", ""), src.get("millesime") or "",
                             "oui" if ind["nc"] else "non"])
    for block in record["autres_donnees"]:
        src = block["source"]
        for col in block["colonnes"]:
            export.writerow([uai, "autres_donnees", col["colonne"], col["label"], col["valeur"],
                             col.get("unit") or "", src["dataset"], src["resource_id"], src.get("millesime") or "",
                             "oui" if col["valeur"] is None else "non"])
    return export.response(f"etablissement-{uai}.csv")
