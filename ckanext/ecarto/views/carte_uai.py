"""Resource view `ecarto_carte_uai`: a map of the establishments of any resource with a UAI
column, coloured by a column the view's editor (or the visitor) chooses.

A separate plugin (``ecarto_carte_uai`` in ``ckan.plugins``, after ``ecarto``, class
``CarteUaiPlugin`` in plugin.py) so a portal can offer it or not. Positions come from the public establishment directories (the territory
tables of ``territoires/aggregates.py``); values from the resource's ingested table, read only
after ``resource_show`` allowed the visitor (a private resource's values stay private).
"""
from __future__ import annotations

import json
from typing import Any, Optional

from flask import Blueprint, Response, request

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.ecarto import pagecache
from ckanext.ecarto.ingest import loader, registry
from ckanext.ecarto.territoires import aggregates
from ckanext.ecarto.territoires import indicators as ind
from ckanext.ecarto.views._common import action_context, json_response

VIEW_TYPE = "ecarto_carte_uai"
MAX_POINTS = 30_000
MAX_CATEGORIES = 8

carte_uai = Blueprint("ecarto_carte_uai", __name__)


def _registry(resource_id: str) -> Optional[dict[str, Any]]:
    try:
        row = registry.status(resource_id)
    except Exception:  # noqa: BLE001 - no registry yet (fresh database)
        return None
    if not row or row.get("status") != "ok" or row.get("key_kind") != "uai" or not row.get("table_name"):
        return None
    if isinstance(row.get("columns"), str):
        row["columns"] = json.loads(row["columns"])
    return row


def value_columns(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Columns a map can be coloured by (not the key, not internal)."""
    return [{"name": c["name"], "label": c.get("label") or c.get("source") or c["name"], "type": c.get("type")}
            for c in row["columns"]
            if not c["name"].startswith("_") and c.get("source") != row.get("key_column")]


def map_data(resource_id: str, column: Optional[str]) -> Optional[dict[str, Any]]:
    """Located establishments of the resource with the chosen column's value, and the legend."""
    row = _registry(resource_id)
    if row is None:
        return None
    columns = {c["name"]: c for c in value_columns(row)}
    chosen = columns.get(column or "") or next(
        (c for c in columns.values() if c["type"] in ("number", "integer", "boolean")), None) \
        or next(iter(columns.values()), None)
    if not aggregates.ensure_fresh(wait=False):
        pagecache.skip_store()  # previous aggregates while the background refresh runs
    conn = model.Session.connection()
    if not aggregates.tables_exist(conn):
        return {"colonne": None, "colonnes": list(columns.values()), "points": [], "legende": {}}
    points = aggregates.located_values(conn, row["table_name"], chosen["name"] if chosen else None, MAX_POINTS)
    total = loader.distinct_keys(conn, row["table_name"])
    for point in points:
        if hasattr(point["valeur"], "isoformat"):
            point["valeur"] = point["valeur"].isoformat()
        elif point["valeur"] is not None and not isinstance(point["valeur"], (int, float, bool, str)):
            point["valeur"] = float(point["valeur"])
    return {"colonne": chosen, "colonnes": list(columns.values()), "points": points,
            "n_lignes_uai": total, "n_localises": len(points), "legende": _legend(chosen, points)}


def _legend(column: Optional[dict[str, Any]], points: list[dict[str, Any]]) -> dict[str, Any]:
    if column is None:
        return {}
    values = [pt["valeur"] for pt in points if pt["valeur"] is not None]
    if column["type"] in ("number", "integer") and values:
        return {"type": "classes", "classes": ind.classes([float(v) for v in values])}
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    top = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_CATEGORIES]
    return {"type": "categories", "categories": sorted(top)}


@carte_uai.route("/territoire/carte-uai/<resource_id>.json")
def data(resource_id: str) -> Response:
    try:
        tk.check_access("resource_show", action_context(), {"id": resource_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return json_response({"error": tk._("Ressource introuvable.")}, status=404)
    result = map_data(resource_id, request.args.get("colonne"))
    if result is None:
        return json_response({"error": tk._("Cette ressource n'a pas de colonne UAI chargée.")}, status=404)
    return json_response(result, default=str)


def view_info() -> dict[str, Any]:
    """IResourceView.info of the plugin."""
    ignore_missing = tk.get_validator("ignore_missing")
    unicode_safe = tk.get_validator("unicode_safe")
    return {
        "name": VIEW_TYPE,
        "title": tk._("Carte des établissements"),
        "default_title": tk._("Carte des établissements"),
        "default_description": tk._("Les établissements de cette ressource, localisés par leur UAI."),
        "icon": "map-marker",
        "iframed": False,
        "always_available": False,
        "schema": {"colonne": [ignore_missing, unicode_safe]},
    }


def can_view(data_dict: dict[str, Any]) -> bool:
    """Offered for resources whose table was ingested with a UAI key."""
    resource = data_dict.get("resource") or {}
    return bool(resource.get("id")) and _registry(resource["id"]) is not None


def template_variables(data_dict: dict[str, Any]) -> dict[str, Any]:
    resource = data_dict.get("resource") or {}
    row = _registry(resource.get("id", "")) if resource else None
    return {"colonnes": value_columns(row) if row else [],
            "colonne": (data_dict.get("resource_view") or {}).get("colonne") or ""}
