"""Resource view ``ecarto_tableau``: the table an ingested resource was loaded into, page by
page (read on the server: plain links, no script), with the data dictionary's labels as column
headers and a sort by column.

A separate plugin (``ecarto_tableau`` in ``ckan.plugins``, after ``ecarto``, class
``TableauPlugin`` in plugin.py). Rows come from the action ``ecarto_table_rows``
(logic/tableau.py), called with the visitor's rights: a private dataset's rows are shown to its
organization only. ``/apercu/<resource id>.json`` gives the same pages to scripts.
"""
from __future__ import annotations

import math
from typing import Any, Optional
from urllib.parse import urlencode

from flask import Blueprint, Response, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto.logic import tableau as tableau_logic
from ckanext.ecarto.views._common import action_context, json_response

VIEW_TYPE = tableau_logic.VIEW_TYPE
ROWS_CHOICES = (10, 25, 50, 100)
MAX_PAGE = 1_000_000
ANCHOR = "apercu-tableau"
NUMERIC_TYPES = ("number", "integer")

tableau = Blueprint("ecarto_tableau", __name__)


# --------------------------------------------------------------------------- parameters

def _page_number(value: Optional[str]) -> int:
    """`?page=` as a page number (1 for anything that is not one)."""
    try:
        number = int(value or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def _rows_per_page(resource_view: dict[str, Any]) -> int:
    try:
        value = int(resource_view.get("lignes") or tableau_logic.DEFAULT_LIMIT)
    except (TypeError, ValueError):
        return tableau_logic.DEFAULT_LIMIT
    return value if value in ROWS_CHOICES else tableau_logic.DEFAULT_LIMIT


def _order(value: Optional[str]) -> str:
    return "desc" if value == "desc" else "asc"


def _read(resource_id: str, *, limit: int, page: int, sort: Optional[str], order: str) -> dict[str, Any]:
    """One page through the action, with the visitor's rights; an unknown sort column is
    dropped rather than refused (a link copied from an older version of the file)."""
    data = {"id": resource_id, "limit": limit, "offset": (page - 1) * limit, "order": order}
    if sort:
        data["sort"] = sort
    action = tk.get_action("ecarto_table_rows")
    try:
        return action(action_context(), data)
    except tk.ValidationError:
        if "sort" not in data:
            raise
        data.pop("sort")
        return action(action_context(), data)


# --------------------------------------------------------------------------- display

def cell_text(value: Any, kind: Optional[str]) -> str:
    """A cell as a French reader reads it: decimal comma, oui/non, empty for no value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return tk._("oui") if value else tk._("non")
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        return text.replace(".", ",")
    return str(value)


def _count(n: int) -> str:
    """`6864` -> `6 864` (non-breaking space), as the portal writes counts."""
    return f"{n:,}".replace(",", "\u00a0")


def _query(**changes: Any) -> str:
    """The current address's query string with `changes` (None removes a parameter), and the
    anchor of the table: links keep the page's other parameters (``view_id``…)."""
    args = {k: v for k, v in request.args.items()}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return "?" + urlencode(args) + "#" + ANCHOR


def _pages(result: dict[str, Any], page: int, view_id: Optional[str]) -> dict[str, Any]:
    limit = result["limit"]
    total = result["total"]
    count = max(1, math.ceil(total / limit))
    first = result["offset"] + 1 if result["rows"] else 0
    last = result["offset"] + len(result["rows"])

    def link(number: int) -> str:
        return _query(view_id=view_id, page=None if number == 1 else number)

    return {"page": page, "count": count, "first_row": first, "last_row": last, "total": total,
            "page_text": _count(page), "count_text": _count(count), "first_row_text": _count(first),
            "last_row_text": _count(last), "total_text": _count(total),
            "previous": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < count else None,
            "first": link(1) if page > 1 else None,
            "last": link(count) if page < count else None}


def _sort_links(result: dict[str, Any], view_id: Optional[str]) -> dict[str, str]:
    """Per column, the link that sorts by it (ascending, or descending when it already is)."""
    links = {}
    for column in result["columns"]:
        name = column["name"]
        order = "desc" if result.get("sort") == name and result.get("order") == "asc" else "asc"
        links[name] = _query(view_id=view_id, page=None, tri=name, ordre=order)
    return links


def _error(message: str) -> dict[str, Any]:
    return {"erreur": message, "resultat": None}


def template_variables(data_dict: dict[str, Any]) -> dict[str, Any]:
    """What ``ecarto/tableau/view.html`` shows: the page asked for by ``?page=``, ``?tri=``,
    ``?ordre=``, or the reason there is nothing to show (in French)."""
    resource = data_dict.get("resource") or {}
    resource_view = data_dict.get("resource_view") or {}
    view_id = resource_view.get("id")
    limit = _rows_per_page(resource_view)
    page = _page_number(request.args.get("page"))
    sort = (request.args.get("tri") or "").strip() or None
    order = _order(request.args.get("ordre"))
    try:
        result = _read(resource.get("id") or "", limit=limit, page=page, sort=sort, order=order)
        if not result["rows"] and result["total"] and page > 1:  # past the last page: show the last one
            page = max(1, math.ceil(result["total"] / limit))
            result = _read(resource["id"], limit=limit, page=page, sort=result.get("sort"), order=order)
    except tk.NotAuthorized:
        return _error(tk._("Vous n'avez pas accès aux données de cette ressource."))
    except tk.ValidationError:
        return _error(tk._("Cette page de l'aperçu n'existe pas : revenez à la première page."))
    except tk.ObjectNotFound:
        return _error(tk._("Aperçu indisponible : cette ressource n'a pas été chargée en base (ce n'est pas un "
                           "tableau, ou il n'a pas de colonne UAI ni code commune)."))
    if result["status"] != "ok":
        return _error(tk._("Aperçu indisponible. {reason}").format(reason=result["message"]))
    types = [c.get("type") for c in result["columns"]]
    rows = [[cell_text(v, t) for v, t in zip(r, types)] for r in result["rows"]]
    return {"erreur": None, "resultat": result, "lignes": rows, "numeriques": [t in NUMERIC_TYPES for t in types],
            "pagination": _pages(result, page, view_id), "tri_liens": _sort_links(result, view_id),
            "tri_libelle": next((c["label"] for c in result["columns"] if c["name"] == result.get("sort")), ""),
            "ancre": ANCHOR, "json_url": tk.url_for("ecarto_tableau.data", resource_id=resource["id"])}


# --------------------------------------------------------------------------- JSON pages

@tableau.route("/apercu/<resource_id>.json")
def data(resource_id: str) -> Response:
    """A page of the table as JSON: ``?page=`` (from 1), ``?lignes=`` (1 to 100), ``?tri=``, ``?ordre=``."""
    try:
        query = tableau_logic.validate_page_query(dict(request.args))
        page = query.pop("page")
        result = tk.get_action("ecarto_table_rows")(action_context(), {"id": resource_id, **query})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return json_response({"error": tk._("Ressource introuvable.")}, status=404)
    except tk.ValidationError as exc:
        return json_response({"error": exc.error_dict}, status=400)
    return json_response({**result, "page": page})


# --------------------------------------------------------------------------- the view plugin

def view_info() -> dict[str, Any]:
    """IResourceView.info of the plugin."""
    ignore_missing = tk.get_validator("ignore_missing")
    int_validator = tk.get_validator("int_validator")
    return {
        "name": VIEW_TYPE,
        "title": tk._("Tableau"),
        "default_title": tk._("Aperçu du tableau"),
        "default_description": tk._("Les premières lignes des données chargées, page par page."),
        "icon": "table",
        "iframed": False,
        "always_available": False,
        "schema": {"lignes": [ignore_missing, int_validator]},
    }


def can_view(data_dict: dict[str, Any]) -> bool:
    """Offered for resources the portal tried to load (loaded, or refused: the view says why)."""
    resource = data_dict.get("resource") or {}
    return bool(resource.get("id")) and tableau_logic.is_previewable(resource["id"])
