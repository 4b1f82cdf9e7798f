"""The column model of a resource on its page (issue 14): what the portal understands of each
column (role, type, aggregation, unit), its periods and reshape, and for the dataset's editors
(who may ``resource_update``) the form correcting the roles:

- ``POST /dataset/<id>/resource/<resource_id>/roles`` (GET: back to the resource page): the
  resource's data dictionary is patched with the corrected roles and its stored file loaded
  again (``logic.publication.update_column_roles``); the pages follow without a new upload. A
  role the data contradict is refused with the column and examples, the previous version stays.

The resource page (``templates/package/resource_read.html``) reads the model through the
``h.ecarto_column_model`` helper (``column_model``).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from flask import Blueprint, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto.etablissements import destinations
from ckanext.ecarto.ingest import columns
from ckanext.ecarto.logic import publication as logic
from ckanext.ecarto.validation.report import period_summary, reshape_summary, role_options
from ckanext.ecarto.views._common import action_context

colonnes = Blueprint("ecarto_colonnes", __name__)

_COLUMN_FIELD = re.compile(r"^column-(\d{1,4})$")


def submitted_roles(form: Mapping[str, Any]) -> dict[str, str]:
    """{column: role choice} of a role form (fields ``column-<i>`` and ``role-<i>``)."""
    found = {}
    for name in form.keys():
        match = _COLUMN_FIELD.match(name)
        if not match:
            continue
        column = (form.get(name) or "").strip()
        choice = (form.get(f"role-{match.group(1)}") or "").strip()
        if column and choice:
            found[column] = choice
    return found


def _may_edit(context: dict[str, Any], resource_id: str) -> bool:
    try:
        tk.check_access("resource_update", dict(context), {"id": resource_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def column_model(resource_id: str) -> Optional[dict[str, Any]]:
    """The column model of an ingested resource as its page shows it (None when the resource
    was never loaded or cannot be read): {status, message, failure, loaded_at, columns [model
    columns, see ``validation.report.model_column``], period {…, summary}, reshape {…,
    summary}, rows_per_key_period, has_units, can_edit, choices}."""
    context = action_context()
    try:
        row = tk.get_action("ecarto_ingest_status")(dict(context), {"id": resource_id, "rejects_limit": 0})
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        return None
    layout = columns.layout_of(row)
    period = layout.get("period")
    if period:
        period = {**period, "summary": period_summary(period.get("values") or [], period.get("kind"))}
    reshape = layout.get("reshape")
    if reshape:
        reshape = {**reshape, "summary": reshape_summary(reshape)}
    model = logic.resource_model(row)
    where = _destinations(context, row)
    for col in model:
        col["destination"] = where.get(col.get("source") or col.get("name"))
    return {
        "status": row.get("status"), "message": row.get("message"), "failure": row.get("failure"),
        "loaded_at": row.get("loaded_at"), "columns": model, "period": period, "reshape": reshape,
        "rows_per_key_period": layout.get("rows_per_key_period"),
        "has_units": any(c.get("unit") for c in model), "has_destinations": bool(where),
        "can_edit": bool(model) and _may_edit(context, resource_id), "choices": role_options(),
    }


def _resource_page(package: dict[str, Any], resource_id: str) -> str:
    return tk.h.url_for(f"{package.get('type') or 'dataset'}_resource.read", id=package["name"],
                        resource_id=resource_id, _anchor="colonnes")


@colonnes.route("/dataset/<id>/resource/<resource_id>/roles", methods=["GET", "POST"])
def update_roles(id: str, resource_id: str) -> Any:
    """POST: the roles corrected by an editor; GET: the resource page, where the form is."""
    context = action_context()
    try:
        package = tk.get_action("package_show")(dict(context), {"id": id})
        resource = tk.get_action("resource_show")(dict(context), {"id": resource_id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Ressource introuvable."))
    if resource["package_id"] != package["id"]:
        return tk.abort(404, tk._("Ressource introuvable."))
    if request.method != "POST":
        return tk.redirect_to(_resource_page(package, resource_id))
    try:
        outcome = logic.update_column_roles(dict(context), resource_id, submitted_roles(request.form))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Seuls les éditeurs du jeu de données peuvent corriger les rôles de ses colonnes."))
    except tk.ValidationError as exc:
        tk.h.flash_error(" ".join(str(m) for ms in exc.error_dict.values() for m in ms))
        return tk.redirect_to(_resource_page(package, resource_id))
    if outcome["refused"]:
        tk.h.flash_error(tk._("Rôles refusés : {message}").format(message=outcome["message"]))
    elif outcome["queued"]:
        tk.h.flash_success(tk._("Rôles enregistrés : le fichier est rechargé en arrière-plan, les pages suivront."))
    elif outcome["changed"]:
        tk.h.flash_success(tk._("Rôles enregistrés : le fichier a été rechargé et les pages suivent."))
    else:
        tk.h.flash_notice(tk._("Aucun rôle n'a changé."))
    return tk.redirect_to(_resource_page(package, resource_id))


def _destinations(context: dict[str, Any], row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Where each column of the resource appears on the portal (``etablissements/destinations``,
    the rule the pages and the validation report follow), by source header; empty when the
    resource or its dataset cannot be read."""
    if row.get("status") != "ok" or not row.get("columns"):
        return {}
    try:
        package = tk.get_action("package_show")(dict(context), {"id": row.get("package_id")})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return {}
    resource = {**row, "axe": package.get("axe"), "package_name": package.get("name"),
                "organization_title": (package.get("organization") or {}).get("title")}
    found = {d.column: d.as_dict() for d in destinations.destinations(resource)}
    period = columns.period_of(row) or {}
    if period.get("source") and period["source"] not in found:
        found[period["source"]] = destinations.column_destination(resource, {
            "name": columns.PERIOD_COLUMN, "source": period["source"], "role": "period"}).as_dict()
    return found
