"""Auth of the ingestion actions: reloading a table is editing the resource; reading its status
is reading the resource (so a private dataset's report stays private).

Auth of ckanext-harvest (chained, see ``get_harvest_auth_functions``): harvest sources make the
server fetch URLs and load what they find, so creating, editing, deleting and running them is
for sysadmins only by default (``ckanext.ecarto.harvest.sysadmin_only``), whatever the
organization roles — ckanext-harvest's default lets any organization editor do it. Sysadmins
never reach these functions (CKAN lets them through first). They also answer a clean 403 where
ckanext-harvest's own functions crash (anonymous user, missing parameter).
"""
from __future__ import annotations

import importlib

from typing import Any, Callable, Optional

import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict
from ckan.common import request

HARVEST_TYPE = "harvest"     # ckanext-harvest's dataset type of a harvest source


def _delegate(action: str, context: Context, data_dict: DataDict) -> AuthResult:
    try:
        tk.check_access(action, context, {"id": data_dict.get("id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": tk._("Vous n'avez pas accès à cette ressource.")}
    except tk.ObjectNotFound:
        return {"success": False, "msg": tk._("Ressource introuvable.")}
    return {"success": True}


def ecarto_ingest_resource(context: Context, data_dict: DataDict) -> AuthResult:
    return _delegate("resource_update", context, data_dict)


@tk.auth_allow_anonymous_access
def ecarto_ingest_status(context: Context, data_dict: DataDict) -> AuthResult:
    return _delegate("resource_show", context, data_dict)


# --------------------------------------------------------------------------- harvest sources

AuthFunction = Callable[[Context, DataDict], AuthResult]


def harvest_sysadmin_only() -> bool:
    return tk.asbool(tk.config.get("ckanext.ecarto.harvest.sysadmin_only", True))


def _sysadmins_only() -> AuthResult:
    return {"success": False, "msg": tk._("Seuls les administrateurs du portail peuvent créer, modifier, lancer "
                                          "ou supprimer les moissonnages.")}


def _known_user(context: Context) -> bool:
    user = context.get("user")
    return bool(user) and model.User.get(user) is not None


def _gated(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    """Sysadmins only when the option is on; otherwise ckanext-harvest's rule (organization
    roles), with a 403 instead of its crashes on an anonymous user or a missing parameter."""
    if harvest_sysadmin_only() or not _known_user(context):
        return _sysadmins_only()
    try:
        return next_auth(context, data_dict or {})
    except (KeyError, AttributeError, TypeError):
        return {"success": False, "msg": tk._("Demande incomplète : précisez la source de moissonnage.")}


def _sysadmins(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    """Already sysadmin-only in ckanext-harvest (which crashes for an anonymous user)."""
    return _sysadmins_only()


def _requested_type() -> Optional[str]:
    """The dataset type of the page being served (``/harvest/new`` → harvest), if any."""
    try:
        return (request.view_args or {}).get("package_type")
    except RuntimeError:   # outside a request (CLI, jobs)
        return None


def _is_harvest_source(context: Context, data_dict: DataDict, *, new: bool) -> bool:
    data_dict = data_dict or {}
    if data_dict.get("type") == HARVEST_TYPE:
        return True
    if new:
        return not data_dict and _requested_type() == HARVEST_TYPE
    package = context.get("package")
    ident = data_dict.get("id") or data_dict.get("name")
    if package is None and isinstance(ident, str) and ident:
        package = model.Package.get(ident)
    return package is not None and package.type == HARVEST_TYPE


@tk.chained_auth_function
def package_create(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    # the web form /harvest/new creates a source through package_create, not harvest_source_create
    if harvest_sysadmin_only() and _is_harvest_source(context, data_dict, new=True):
        return _sysadmins_only()
    return next_auth(context, data_dict)


@tk.chained_auth_function
def package_update(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    if harvest_sysadmin_only() and _is_harvest_source(context, data_dict, new=False):
        return _sysadmins_only()
    return next_auth(context, data_dict)


@tk.chained_auth_function
def package_delete(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    if harvest_sysadmin_only() and _is_harvest_source(context, data_dict, new=False):
        return _sysadmins_only()
    return next_auth(context, data_dict)


_GATED = ("harvest_source_create", "harvest_source_update", "harvest_source_delete", "harvest_source_clear",
          "harvest_source_reindex", "harvest_job_create", "harvest_send_job_to_gather_queue", "harvest_job_list",
          "harvest_job_show")
_SYSADMINS = ("harvest_jobs_run", "harvest_job_abort", "harvest_sources_reindex", "harvest_sources_clear",
              "harvest_objects_import", "harvest_job_create_all", "harvest_object_create",
              "harvest_get_notifications_recipients",
              # ckanext-harvest 1.6 registers these *actions* as auth functions too (its plugin's
              # _get_logic_functions shares one dict between get_actions and get_auth_functions):
              # harvest_log_list's "auth" calls itself for ever (500).
              "harvest_log_list", "harvest_abort_failed_jobs", "harvest_source_index_clear",
              "harvest_source_job_history_clear", "harvest_sources_job_history_clear")


def _upstream(module: str, name: str) -> AuthFunction:
    return getattr(importlib.import_module(f"ckanext.harvest.logic.auth.{module}"), name)


# Actions registered as auth by the same upstream bug: chained to the auth they should have
# (the action harvest_source_patch must never run as an auth check).
_GATED_AS = {"harvest_source_patch": ("update", "harvest_source_update"),
             "harvest_job_report": ("get", "harvest_job_show")}


def _chained(rule: Callable[[AuthFunction, Context, DataDict], AuthResult], name: str,
             instead: Optional[tuple[str, str]] = None) -> Any:
    def auth(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
        return rule(_upstream(*instead) if instead else next_auth, context, data_dict)
    auth.__name__ = name
    auth.__doc__ = rule.__doc__
    return tk.chained_auth_function(auth)


def get_harvest_auth_functions() -> dict[str, Any]:
    """ckanext-harvest's auth, chained (see the module docstring); package_* auth is chained
    for harvest sources' datasets. Nothing when ckanext-harvest is not loaded (a chain needs its
    base)."""
    if not plugins.plugin_loaded("harvest"):
        return {}
    functions: dict[str, Any] = {name: _chained(_gated, name) for name in _GATED}
    functions.update({name: _chained(_gated, name, instead) for name, instead in _GATED_AS.items()})
    functions.update({name: _chained(_sysadmins, name) for name in _SYSADMINS})
    functions.update(package_create=package_create, package_update=package_update, package_delete=package_delete)
    return functions


def get_auth_functions() -> dict[str, Any]:
    return {
        "ecarto_ingest_resource": ecarto_ingest_resource,
        "ecarto_ingest_status": ecarto_ingest_status,
    }
