"""Actions and auth of the establishment pages: `ecarto_etablissement_show`,
`ecarto_etablissement_search`."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.ecarto import replicas
from ckanext.ecarto.core import access
from ckanext.ecarto.core.uai import check
from ckanext.ecarto.etablissements import directory, finder, record
from ckanext.ecarto.logic import schema


@tk.side_effect_free
def ecarto_etablissement_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Everything the portal knows about one establishment, from the datasets the caller may read.

    :param uai: the establishment's UAI (7 digits + check letter, e.g. ``0311131L``)
    :param references: include reference values (default true)
    :returns: identity, the four axes (current value of the latest period with its ``periode``,
        ``statut`` — valeur, nc, non_applicable, periodes_non_ordonnables —, unit, source,
        millésime, history of the earlier periods, references on the same period, and the
        commune-level measures of the axis in ``niveau_commune``), other UAI-keyed data and
        commune-level context (see ``etablissements/record.py``)
    """
    data_dict = schema.validate(data_dict, schema.etablissement_show_schema, context)
    tk.check_access("ecarto_etablissement_show", context, data_dict)
    verdict = check(data_dict.get("uai"))
    if not verdict.valid:
        raise tk.ValidationError({"uai": [verdict.message]})
    reader = access.reader_from_context(context)
    with replicas.read_connection() as conn:       # a hot standby when one is usable
        if not directory.exists(conn):
            raise tk.ObjectNotFound(tk._("Aucun annuaire d'établissements n'est chargé."))
        result = record.build(conn, verdict.value, reader, with_references=data_dict["references"])
    if result is None:
        raise tk.ObjectNotFound(tk._("Établissement {uai} inconnu.").format(uai=verdict.value))
    return result


@tk.side_effect_free
def ecarto_etablissement_search(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Find establishments by name, commune or UAI (accents and case ignored).

    :param q: words to find; :param type: ecole|college|lycee|autre; :param secteur: public|prive;
    :param departement: INSEE or MENJ code; :param academie: académie code; :param commune: INSEE code;
    :param rows: results per page (1 to 100, default 20); :param start: offset (0 to 1,000,000)

    Parameters are checked by ``schema.etablissement_search_schema`` (409 with a French message).
    """
    data_dict = schema.validate(data_dict, schema.etablissement_search_schema, context)
    tk.check_access("ecarto_etablissement_search", context, data_dict)
    query = search_query(data_dict, limit=data_dict["rows"], offset=data_dict["start"])
    with replicas.read_connection() as conn:
        res = finder.search(conn, query, access.reader_from_context(context))
    return {"count": res.count, "results": res.items, "facets": res.facets}


def search_query(params: dict[str, Any], limit: int, offset: int) -> finder.Query:
    """The finder's query from validated parameters (etablissement_search_schema or the page's)."""
    return finder.Query(
        q=params.get("q") or "",
        type=params.get("type") or None,
        secteur=params.get("secteur") or None,
        departement=params.get("departement") or None,
        academie=params.get("academie") or None,
        commune=params.get("commune") or None,
        limit=limit,
        offset=offset,
    )


@tk.auth_allow_anonymous_access
def ecarto_etablissement_show_auth(context: Context, data_dict: DataDict) -> dict[str, bool]:
    return {"success": True}


@tk.auth_allow_anonymous_access
def ecarto_etablissement_search_auth(context: Context, data_dict: DataDict) -> dict[str, bool]:
    return {"success": True}


def get_actions() -> dict[str, Any]:
    return {
        "ecarto_etablissement_show": ecarto_etablissement_show,
        "ecarto_etablissement_search": ecarto_etablissement_search,
    }


def get_auth_functions() -> dict[str, Any]:
    return {
        "ecarto_etablissement_show": ecarto_etablissement_show_auth,
        "ecarto_etablissement_search": ecarto_etablissement_search_auth,
    }
