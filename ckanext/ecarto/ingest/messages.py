"""What the ingestion status says, and to whom.

The registry keeps, for each resource, the message written for its publisher (French, precise:
line numbers, column names, limits) and, after a failure, a ``failure`` record: ``code`` (the
kind of problem), ``detail`` (the technical text of the error: a PostgreSQL or library message)
and ``at``. Everyone may read the status of a public resource:

- readers see a French sentence built from the code alone (« Le fichier n'a pas pu être
  intégré : encodage non reconnu. »), never an exception's text;
- the dataset's editors (``package_update``) also see the publisher's message and the
  technical detail, which the logs hold too.

Every stored text goes through ``clean_text``: PostgreSQL refuses NUL characters in text (a
failure whose message quoted a NUL byte of the file used to be lost), control characters are
dropped and long messages cut.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Optional

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.translation import N_, _, ungettext

MAX_MESSAGE_CHARS = 2000
MAX_DETAIL_CHARS = 4000

# code -> public reason (msgid, translated when shown)
PUBLIC_REASONS = {
    "encoding": N_("encodage non reconnu"),
    "nul-character": N_("le fichier contient un caractère nul (fichier binaire ou encodage non pris en charge)"),
    "too-many-columns": N_("trop de colonnes pour la base de données"),
    "row-too-wide": N_("lignes trop larges pour la base de données"),
    "line-too-long": N_("ligne trop longue : ce n'est pas un fichier CSV lisible"),
    "decompressed-too-large": N_("fichier compressé trop volumineux une fois décompressé"),
    "compressed-unreadable": N_("fichier compressé illisible"),
    "malformed": N_("fichier mal formé"),
    "not-a-table": N_("ce n'est pas un tableau CSV, XLSX ou JSON lisible"),
    "empty": N_("fichier vide ou sans données"),
    "missing": N_("fichier introuvable"),
    "download": N_("fichier distant inaccessible"),
    "key-column": N_("colonne des UAI ou des codes commune introuvable"),
    "invalid-keys": N_("trop d'UAI ou de codes commune invalides"),
    "validation": N_("il ne respecte pas le schéma de données de l'axe ; il reste téléchargeable, mais ses "
                     "données ne sont intégrées ni aux fiches des établissements ni aux chiffres des territoires"),
    "database": N_("erreur de la base de données"),
    "internal": N_("erreur interne du portail"),
    "unreadable": N_("fichier illisible"),
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def clean_text(text: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` as storable, displayable text: no NUL nor control characters (tab and line ends
    kept), lone surrogates replaced, at most `limit` characters."""
    if text is None:
        return ""
    value = str(text).encode("utf-8", "replace").decode("utf-8")
    value = _CONTROL.sub("", value)
    if len(value) > limit:
        value = value[:limit - 1].rstrip() + "…"
    return value


def failure_record(code: str, detail: Optional[str] = None) -> dict[str, Any]:
    """The registry's ``failure`` value."""
    return {"code": code if code in PUBLIC_REASONS else "unreadable",
            "detail": clean_text(detail, MAX_DETAIL_CHARS) if detail else None,
            "at": dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S")}


def public_reason(code: Optional[str]) -> str:
    return _(PUBLIC_REASONS.get(code or "", PUBLIC_REASONS["unreadable"]))


def _n(value: int) -> str:
    return f"{int(value):,}".replace(",", "\u00a0")


def _loaded_summary(row: dict[str, Any]) -> str:
    n_rows, n_rejected = int(row.get("n_rows") or 0), int(row.get("n_rejected") or 0)
    rejected = (ungettext("{n} rejetée", "{n} rejetées", n_rejected).format(n=_n(n_rejected))
                if n_rejected else _("aucune rejetée"))
    return ungettext("{n} ligne chargée, {rejected}.", "{n} lignes chargées, {rejected}.", n_rows).format(
        n=_n(n_rows), rejected=rejected)


def _date(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y %H:%M") if isinstance(value, dt.datetime) else "?"


def public_message(row: dict[str, Any]) -> str:
    """The French status anyone who may read the resource sees (no technical text)."""
    failure = row.get("failure") or None
    if row.get("status") == "ok":
        text = _loaded_summary(row)
        if failure:
            text += " " + _("La dernière version du fichier n'a pas pu être intégrée ({date} UTC) : {reason}. "
                            "La version chargée le {loaded} reste affichée.").format(
                date=_date(failure.get("at")), reason=public_reason(failure.get("code")),
                loaded=_date(row.get("loaded_at")))
        return text
    code = (failure or {}).get("code")
    return _("Le fichier n'a pas pu être intégré : {reason}.").format(reason=public_reason(code))


def shape_status(row: dict[str, Any], *, editor: bool) -> dict[str, Any]:
    """The registry row as the status action returns it: the publisher's message and the
    technical detail for editors; for everyone else the public message in their place."""
    out = dict(row)
    out.pop("options_hash", None)
    failure = out.pop("failure", None) or None
    out["public_message"] = public_message(row)
    out["failure"] = {"code": failure.get("code"), "at": failure.get("at")} if failure else None
    if editor:
        out["message"] = clean_text(out.get("message"))
        out["detail"] = (failure or {}).get("detail")
    else:
        out["message"] = out["public_message"]
        out.pop("detail", None)
    return out


def may_edit(context: dict[str, Any], package_id: str) -> bool:
    """Whether the caller of an action may edit the dataset (CKAN's ``package_update``): who
    sees the technical detail of a failure."""
    check_context = {"user": context.get("user"), "auth_user_obj": context.get("auth_user_obj"),
                     "ignore_auth": bool(context.get("ignore_auth"))}
    try:
        tk.check_access("package_update", check_context, {"id": package_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True
