"""`/etablissement` (search) and `/etablissement/<uai>` (page, `.json`, `.csv`)."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.ecarto.etablissements import finder
from ckanext.ecarto.etablissements.identity import TYPES
from ckanext.ecarto.etablissements.uai import check
from ckanext.ecarto.logic import access

etablissement = Blueprint("ecarto_etablissement", __name__)

PAGE_SIZE = 20


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else None}


def _query_from_request() -> finder.Query:
    args = request.args
    page = max(1, tk.h.get_page_number(args) if hasattr(tk.h, "get_page_number") else int(args.get("page", 1)))
    return finder.Query(
        q=args.get("q", ""), type=args.get("type") or None, secteur=args.get("secteur") or None,
        departement=args.get("departement") or None, academie=args.get("academie") or None,
        commune=args.get("commune") or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )


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
    query = finder.Query(q=request.args.get("q", ""), limit=10)
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
    """Every value of the page as rows (`;`, UTF-8 with BOM, as French spreadsheet users expect)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["uai", "section", "indicateur", "libelle", "valeur", "unite", "jeu_de_donnees",
                     "ressource", "millesime", "non_communique"])
    uai = record["uai"]
    for key, value in record["identite"].items():
        if key in {"sources"}:
            continue
        writer.writerow([uai, "identite", key, key, _cell(value), "", "", "", "", ""])
    for axe in record["axes"]:
        for ind in axe["indicateurs"]:
            src = ind.get("source") or {}
            writer.writerow([uai, axe["id"], ind["id"], ind["label"], _cell(ind["valeur"]), ind.get("unit") or "",
                             src.get("dataset", ""), src.get("resource_id", ""), src.get("millesime") or "",
                             "oui" if ind["nc"] else "non"])
    for block in record["autres_donnees"]:
        src = block["source"]
        for col in block["colonnes"]:
            writer.writerow([uai, "autres_donnees", col["colonne"], col["label"], _cell(col["valeur"]),
                             col.get("unit") or "", src["dataset"], src["resource_id"], src.get("millesime") or "",
                             "oui" if col["valeur"] is None else "non"])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="etablissement-{uai}.csv"'})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
