"""Auth of the ingestion actions: reloading a table is editing the resource; reading its status
is reading the resource (so a private dataset's report stays private)."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict


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


def get_auth_functions() -> dict[str, Any]:
    return {
        "ecarto_ingest_resource": ecarto_ingest_resource,
        "ecarto_ingest_status": ecarto_ingest_status,
    }
