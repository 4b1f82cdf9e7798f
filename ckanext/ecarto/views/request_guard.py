"""A guard in front of every page and API call of the portal (CKAN's own included): what no
parameter may hold is answered 400 with a French message before any view runs.

Why here rather than in each view: CKAN core answers 500 when a NUL byte reaches PostgreSQL
(`/dataset?q=a%00b`, `/dataset?type=dataset%00`, `package_show?id=a%00b`: psycopg2 refuses to
send it) and when Python's JSON parser runs out of stack on a deeply nested body. The guard
refuses:

- a control character (C0 but tab, LF, CR; DEL) in the path or in a query parameter;
- a NUL byte in a form field, a form key or an uploaded file's name (form fields keep the other
  control characters: text pasted from a word processor holds vertical tabs);
- a NUL (``\\u0000``) in a JSON body of the API;
- JSON nested deeper than ``schema.MAX_JSON_DEPTH`` in a body or in a parameter;
- on pages (not the API), a ``page`` parameter that is not a page number from 1 to
  ``schema.MAX_PAGE`` (CKAN's `h.get_page_number` answers in English, and a huge page becomes a
  start that no search can reach).

The extension's actions check their own parameters with their schemas (logic/schema.py); this
guard is what protects the actions and pages of CKAN and of the other plugins.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Iterable, Optional

from flask import Blueprint, Response, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto.logic import schema

log = logging.getLogger(__name__)

blueprint = Blueprint("ecarto_request_guard", __name__)

_NUL = "\x00"
_JSON_NUL = re.compile(rb"\\u0000", re.I)
_PAGE = re.compile(r"\s*[0-9]{1,9}\s*")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _control_message(where: str) -> str:
    return tk._("{where} contient un caractère de contrôle (par exemple l'octet nul %00) : "
                "retirez-le.").format(where=where)


def _depth_message(where: str) -> str:
    return tk._("{where} : données JSON trop imbriquées ({n} niveaux au plus).").format(
        where=where, n=schema.MAX_JSON_DEPTH)


def _too_deep(value: str) -> bool:
    return value.lstrip()[:1] in ("[", "{") and \
        schema.json_text_depth(value, schema.MAX_JSON_DEPTH) > schema.MAX_JSON_DEPTH


def _parameter(name: str) -> str:
    return tk._("Le paramètre « {name} »").format(name=schema.CONTROL_CHARACTERS.sub("?", name)[:60])


def _args_problem(items: Iterable[tuple[str, str]]) -> Optional[str]:
    for key, value in items:
        if schema.CONTROL_CHARACTERS.search(key) or schema.CONTROL_CHARACTERS.search(value):
            return _control_message(_parameter(key))
        if _too_deep(value) or _too_deep(key):
            return _depth_message(_parameter(key))
    return None


def _form_problem() -> Optional[str]:
    for key, value in request.form.items(multi=True):
        # the API also reads a form whose only key is a JSON text (`curl -d '{…}'`)
        json_nul = request.path.startswith("/api/") and _JSON_NUL.search(key.encode("utf-8", "replace"))
        if _NUL in key or _NUL in value or json_nul:
            return _control_message(tk._("Le champ « {name} »").format(name=key.replace(_NUL, "?")[:60]))
        if _too_deep(value) or _too_deep(key):
            return _depth_message(tk._("Le champ « {name} »").format(name=key[:60]))
    for key, upload in request.files.items(multi=True):
        if _NUL in key or _NUL in (upload.filename or ""):
            return _control_message(tk._("Le nom du fichier déposé"))
    return None


def _body_problem() -> Optional[str]:
    """A JSON body of the API: NUL characters and nesting, checked without parsing it."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith("/api/"):
        return None
    if (request.mimetype or "") in _FORM_TYPES:
        return None
    body = request.get_data(cache=True)
    if not body:
        return None
    if _JSON_NUL.search(body):
        return _control_message(tk._("Le corps de la requête"))
    if schema.json_text_depth(body, schema.MAX_JSON_DEPTH) > schema.MAX_JSON_DEPTH:
        return _depth_message(tk._("Le corps de la requête"))
    return None


def problem() -> Optional[str]:
    """What is wrong with the current request, in French, or None."""
    if schema.CONTROL_CHARACTERS.search(request.path):
        return _control_message(tk._("L'adresse demandée"))
    found = _args_problem(request.args.items(multi=True))
    if found:
        return found
    if not request.path.startswith("/api/") and "page" in request.args \
            and not all(_PAGE.fullmatch(v) and 1 <= int(v) <= schema.MAX_PAGE for v in request.args.getlist("page")):
        return tk._("Le paramètre « page » doit être un numéro de page (un nombre entier de 1 à {n}).").format(
            n=schema.MAX_PAGE)
    if request.method in ("POST", "PUT", "PATCH"):
        if (request.mimetype or "") in _FORM_TYPES:
            found = _form_problem()
        else:
            found = _body_problem()
    return found


def _json_response(payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=400, mimetype="application/json")


@blueprint.before_app_request
def refuse_invalid_requests() -> Any:
    message = problem()
    if message is None:
        return None
    log.info("Requête refusée (400) : %s %s", request.method, message)
    if request.path.startswith("/api/"):
        return _json_response({"success": False, "error": {"__type": "Validation Error", "message": message}})
    if request.path.endswith((".json", ".geojson", ".csv")) or request.path.endswith("/autocomplete"):
        return _json_response({"error": message})
    return tk.abort(400, message)
