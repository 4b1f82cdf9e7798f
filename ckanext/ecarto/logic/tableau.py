"""The table preview of ingested resources (resource view ``ecarto_tableau``, views/tableau.py):
the action that reads a page of an ingested table, its auth, and the default views every
ingested resource gets.

``ecarto_table_rows`` reads the resource's own table (``ingest/preview.py``) after the caller
passed ``resource_show``'s auth, which is the dataset's ``package_show`` auth: a private
dataset's rows are read by its organization's members only.

Default views: ingestion can finish long after ``resource_create`` (a background job), when
CKAN's own default views have been decided without the table. So once a load is committed
(``ecarto_ingest_committed``, wired by the ``ecarto_tableau`` plugin), the resource gets the
table view and, when it is UAI-keyed, the map view ``ecarto_carte_uai`` (each view plugin's
``can_view`` decides). CKAN's ``add_views_to_resource`` skips a type the resource already has:
re-ingesting creates no duplicate. ``ckan ecarto vues creer`` does the same for every loaded
resource of an existing portal.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any, Callable, Optional

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import datapreview
from ckan.types import AuthResult, Context, DataDict, Schema

from ckanext.ecarto.ingest import messages as ingest_messages
from ckanext.ecarto.ingest import preview
from ckanext.ecarto.logic import schema

log = logging.getLogger(__name__)

VIEW_TYPE = "ecarto_tableau"
MAP_VIEW_TYPE = "ecarto_carte_uai"
DEFAULT_LIMIT = 25
MAX_OFFSET = 50_000_000
ORDERS = ("asc", "desc")


# --------------------------------------------------------------------------- reading rows

def table_rows_schema() -> Schema:
    return {
        "id": [schema.required, schema.text(schema.ID_LENGTH)],
        "limit": [schema.default(DEFAULT_LIMIT), schema.integer(1, preview.MAX_LIMIT)],
        "offset": [schema.default(0), schema.integer(0, MAX_OFFSET)],
        "sort": [schema.empty_to_missing, schema.ignore_missing, schema.text(schema.NAME_LENGTH)],
        "order": [schema.default("asc"), schema.choice(ORDERS)],
    }


def page_schema() -> Schema:
    """The query of the preview's JSON pages (``/apercu/<resource id>.json``)."""
    return {
        "page": [schema.empty_to_missing, schema.default(1), schema.integer(1, schema.MAX_PAGE)],
        "lignes": [schema.empty_to_missing, schema.default(DEFAULT_LIMIT), schema.integer(1, preview.MAX_LIMIT)],
        "tri": [schema.empty_to_missing, schema.ignore_missing, schema.text(schema.NAME_LENGTH)],
        "ordre": [schema.empty_to_missing, schema.default("asc"), schema.choice(ORDERS)],
    }


def validate_page_query(args: dict[str, Any]) -> dict[str, Any]:
    """`page_schema` applied (ValidationError with French messages), as the action's parameters."""
    query = schema.validate(args, page_schema)
    data = {"limit": query["lignes"], "offset": (query["page"] - 1) * query["lignes"], "order": query["ordre"],
            "page": query["page"]}
    if query.get("tri"):
        data["sort"] = query["tri"]
    return data


def json_value(value: Any) -> Any:
    """A cell as JSON carries it: dates as ISO text, exact numbers as numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def column_info(entry: dict[str, Any]) -> dict[str, Any]:
    """What a reader needs of a column: its SQL name, its label (the data dictionary's when
    there is one), the file's header, type and unit."""
    return {"name": entry["name"], "label": entry.get("label") or entry.get("source") or entry["name"],
            "source": entry.get("source") or entry["name"], "type": entry.get("type"),
            "unit": entry.get("unit"), "description": entry.get("description")}


def _columns_of(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("columns", "layout"):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


@tk.side_effect_free
def ecarto_table_rows(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A page of the table an ingested resource was loaded into (its preview).

    :param id: the resource id
    :param limit: rows per page (1 to 100, default 25)
    :param offset: rows skipped (default 0)
    :param sort: a column name (``name`` of ``columns``) to sort by (default: the file's order)
    :param order: ``asc`` (default) or ``desc``
    :returns: ``status`` (``ok``; ``error`` when the file could not be loaded, with ``message``
        in French and no rows), ``columns`` (``name``, ``label`` — the data dictionary's —,
        ``source``, ``type``, ``unit``), ``rows`` (lists of values in the order of ``columns``),
        ``total``, ``limit``, ``offset``, ``sort``, ``order``
    """
    data_dict = schema.validate(data_dict, table_rows_schema, context)
    tk.check_access("ecarto_table_rows", context, data_dict)
    row = preview.registry_row(data_dict["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("Cette ressource n'a pas été chargée en base."))
    row = _columns_of(row)
    editor = ingest_messages.may_edit(context, row["package_id"])
    shaped = ingest_messages.shape_status(dict(row), editor=editor)
    result: dict[str, Any] = {
        "resource_id": row["resource_id"], "status": row.get("status"), "message": shaped["message"],
        "public_message": shaped["public_message"], "columns": [], "rows": [], "total": 0,
        "limit": data_dict["limit"], "offset": data_dict["offset"], "sort": data_dict.get("sort"),
        "order": data_dict["order"],
        "failure": shaped.get("failure"),
    }
    if row.get("status") != "ok":
        return result
    sort = data_dict.get("sort")
    if sort is not None and sort not in {c.get("name") for c in row.get("columns") or []}:
        raise tk.ValidationError({"sort": [tk._("colonne inconnue « {name} ».").format(name=sort)]})
    found = preview.page_of(row, limit=data_dict["limit"], offset=data_dict["offset"], sort=sort,
                            descending=data_dict["order"] == "desc")
    if found is None:
        result["status"] = "absent"
        result["message"] = tk._("La table de cette ressource n'est plus en base : rechargez la ressource.")
        return result
    model_columns, page = found
    result.update(columns=[column_info(c) for c in model_columns],
                  rows=[[json_value(v) for v in r] for r in page.rows], total=page.total,
                  sort=sort if sort in page.columns else None)
    return result


@tk.auth_allow_anonymous_access
def ecarto_table_rows_auth(context: Context, data_dict: DataDict) -> AuthResult:
    """Reading a table is reading its resource (``resource_show``: the dataset's read rights)."""
    try:
        tk.check_access("resource_show", context, {"id": (data_dict or {}).get("id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": tk._("Vous n'avez pas accès à cette ressource.")}
    except tk.ObjectNotFound:
        return {"success": False, "msg": tk._("Ressource introuvable.")}
    return {"success": True}


def get_actions() -> dict[str, Any]:
    return {"ecarto_table_rows": ecarto_table_rows}


def get_auth_functions() -> dict[str, Any]:
    return {"ecarto_table_rows": ecarto_table_rows_auth}


# --------------------------------------------------------------------------- default views

def is_previewable(resource_id: str) -> bool:
    """Whether the resource has a registry row (loaded, or refused: the view then says why)."""
    try:
        return preview.registry_row(resource_id) is not None
    except Exception:  # noqa: BLE001 - no registry yet (fresh database)
        return False


def default_view_types() -> list[str]:
    """The view types an ingested resource gets, among the loaded view plugins."""
    return [name for name in (VIEW_TYPE, MAP_VIEW_TYPE) if datapreview.get_view_plugin(name) is not None]


def _site_context() -> Context:
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"user": user, "ignore_auth": True}


def ensure_default_views(resource_id: str) -> list[dict[str, Any]]:
    """Create the default views a loaded resource lacks (none when it is not loaded, deleted,
    or already has them). Returns the views created."""
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active":
        return []
    row = preview.registry_row(resource_id)
    if row is None or row.get("status") != "ok":
        return []
    types = default_view_types()
    if not types:
        return []
    context = _site_context()
    resource_dict = tk.get_action("resource_show")(dict(context), {"id": resource_id})
    return datapreview.add_views_to_resource(context, resource_dict, view_types=types)


def _session_busy() -> bool:
    """Whether CKAN's session holds changes of the caller not committed yet (creating a view
    commits the session: it must not commit someone else's work halfway)."""
    session = model.Session()
    return bool(session.new or session.dirty or session.deleted)


def default_views_job(resource_id: str) -> None:
    """Background job: ``ensure_default_views`` when the load's caller could not."""
    ensure_default_views(resource_id)


def on_ingest_committed(sender: str, **_payload: Any) -> None:
    """Subscriber of ``ecarto_ingest_committed`` (wired by the ``ecarto_tableau`` plugin): the
    loaded resource gets its default views. Never raises (the load is committed)."""
    try:
        if _session_busy():
            tk.enqueue_job(default_views_job, [sender], title=f"eCarto : vues de {sender}")
            return
        ensure_default_views(sender)
    except Exception:  # noqa: BLE001 - a missing view never costs the load
        log.warning("Vues par défaut de la ressource %s non créées", sender, exc_info=True)


def create_missing_views(echo: Optional[Callable[[str], None]] = None) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every loaded resource of the portal gets the default views it lacks (``ckan ecarto vues
    creer``): [(resource id, views created)], only resources that got some."""
    done = []
    ids = [rid for (rid,) in model.Session.query(model.Resource.id).filter(model.Resource.state == "active")
           .order_by(model.Resource.package_id, model.Resource.position)]
    for resource_id in ids:
        created = ensure_default_views(resource_id)
        if created:
            done.append((resource_id, created))
            if echo is not None:
                resource = model.Resource.get(resource_id)
                echo(tk._("{dataset} / {resource} : {views}").format(
                    dataset=resource.package.name if resource is not None else "?",
                    resource=(resource.name if resource is not None else None) or resource_id,
                    views=", ".join(v["view_type"] for v in created)))
    return done
