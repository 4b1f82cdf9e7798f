"""Action and auth of the territory pages: `ecarto_territoire_show`."""
from __future__ import annotations

from typing import Any, Optional

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.ecarto import replicas
from ckanext.ecarto.logic import schema
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates, record


def resolve(niveau: Any, code: Any) -> Optional[territories.Territory]:
    """The territory named by a level and a code in any accepted spelling (`31`/`031`,
    `2A`/`02A`, académie codes of the ministry), or None."""
    level = str(niveau or "").strip().lower()
    if level == territories.FRANCE:
        return territories.get(territories.FRANCE, "")
    if level not in territories.LEVELS or not str(code or "").strip():
        return None
    text = str(code).strip()
    if level == territories.ACADEMIE and text[:1] in ("A", "a") and text[1:].isdigit():
        text = text[1:]          # "A16", as some ministry exports write it
    return territories.get(level, text)


def suggestions(niveau: Any, code: Any, limit: int = 8) -> list[dict[str, Any]]:
    """Territories close to a wrong level/code: same code at other levels, names matching."""
    text = str(code or "").strip()[: schema.QUERY_LENGTH]    # a name, at most a search box's length
    found: list[territories.Territory] = []
    for level in territories.LEVELS[1:]:
        territory = territories.get(level, text)
        if territory is not None:
            found.append(territory)
    if text and not text.isdigit():
        found.extend(territories.search(text, limit=limit))
    level = str(niveau or "").strip().lower()
    if level in territories.LEVELS[1:] and text.isalnum() and not found:
        code_ = territories.normalise_code(level, text)
        for size in (len(code_) - 1, 2, 1):     # codes sharing the longest prefix
            if size <= 0:
                continue
            found.extend(t for t in territories.all_of(level) if t.code.startswith(code_[:size]))
            if found:
                break
    seen: dict[tuple[str, str], territories.Territory] = {}
    for territory in found:
        seen.setdefault(territory.key, territory)
    return [record.link(t) for t in list(seen.values())[:limit]]


def not_found_message(niveau: Any, code: Any) -> str:
    level = str(niveau or "").strip().lower()
    if level not in territories.LEVELS:
        return tk._("Niveau de territoire inconnu : « {niveau} » (niveaux : france, region, academie, "
                    "departement, commune).").format(niveau=niveau or "")
    return tk._("Aucun territoire de niveau {niveau} n'a le code « {code} ».").format(niveau=level, code=code or "")


@tk.side_effect_free
def ecarto_territoire_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A territory: counts of establishments by type and sector (directories), the indicators
    of the four axes aggregated from the public data loaded on the portal (value, n.c. share,
    source and millésime, parent territory and France, breakdown by type, sector, REP), its
    parents and children. No ranking.

    :param niveau: france, region, academie, departement or commune
    :param code: INSEE code (région, département — ``31`` or ``031``, ``2A`` or ``02A`` —,
        commune) or the ministry's académie code; ignored for france
    """
    data_dict = schema.validate(data_dict, schema.territoire_show_schema, context)
    tk.check_access("ecarto_territoire_show", context, data_dict)
    territory = resolve(data_dict.get("niveau"), data_dict.get("code"))
    if territory is None:
        raise tk.ObjectNotFound(not_found_message(data_dict.get("niveau"), data_dict.get("code")))
    aggregates.ensure_fresh(wait=False)
    with replicas.read_connection() as conn:       # a hot standby when one is usable
        return record.build(conn, territory)


@tk.auth_allow_anonymous_access
def ecarto_territoire_show_auth(context: Context, data_dict: DataDict) -> dict[str, bool]:
    return {"success": True}


def get_actions() -> dict[str, Any]:
    return {"ecarto_territoire_show": ecarto_territoire_show}


def get_auth_functions() -> dict[str, Any]:
    return {"ecarto_territoire_show": ecarto_territoire_show_auth}
