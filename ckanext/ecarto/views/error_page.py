"""The error page in French (``error_document_template.html``).

CKAN renders HTTP errors with werkzeug's English name ("Not Found") and, unless the view gave its
own message (``tk.abort(404, _('…'))``, already translated), werkzeug's English description of
the code. ``error_text`` gives the French title of the code and keeps a view's own message.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from werkzeug.exceptions import default_exceptions


def _titles() -> dict[int, str]:
    return {
        400: tk._("Requête incorrecte"),
        401: tk._("Connexion nécessaire"),
        403: tk._("Accès refusé"),
        404: tk._("Page introuvable"),
        405: tk._("Méthode non autorisée"),
        409: tk._("Conflit"),
        413: tk._("Envoi trop volumineux"),
        429: tk._("Trop de requêtes"),
        500: tk._("Erreur interne du serveur"),
        503: tk._("Service momentanément indisponible"),
    }


def _explanations() -> dict[int, str]:
    return {
        403: tk._("Vous n’avez pas le droit d’accéder à cette page."),
        404: tk._("Cette page n’existe pas ou n’existe plus. Si vous avez saisi l’adresse, vérifiez-la."),
        500: tk._("Le portail a rencontré une erreur. Réessayez dans quelques instants."),
    }


def error_text(code: Any, content: Any) -> dict[str, Any]:
    """``{"code", "title", "message"}`` of the error page: French title of the HTTP code, the
    view's own message, or a French explanation instead of werkzeug's English default."""
    if isinstance(code, (list, tuple)):  # CKAN passes [500] for unhandled exceptions
        code = code[0] if code else 500
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = 500
    message = str(content or "")
    default = getattr(default_exceptions.get(code), "description", None)
    if not message or message == default or message == "Internal server error":
        message = _explanations().get(code, tk._("La demande n’a pas pu aboutir."))
    return {"code": code, "title": _titles().get(code, tk._("Erreur")), "message": message}
