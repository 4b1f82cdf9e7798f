"""The "additional information" table of a resource page in French.

CKAN's ``h.format_resource_items`` lists every key of the resource dict as its raw name
("Has views", "State", "Url type: upload"). Chained over it: internal keys dropped (the dates and
format are shown above the loop by the template; the data dictionary has its own section), the
portal's and CKAN's known keys named in French, booleans as « oui » / « non ». Keys harvested
from elsewhere keep their name.
"""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk

# CKAN's key with "_" → " " (format_resource_items's output)
HIDDEN = frozenset({
    "package id", "position", "state", "url type", "has views", "cache url", "cache last updated",
    "resource type", "datastore active", "datastore contains all records of source file",
    "data dictionary", "created", "metadata modified", "last modified", "format", "tracking summary",
})


def _labels() -> dict[str, str]:
    return {
        "id": tk._("Identifiant"),
        "size": tk._("Taille"),
        "mimetype": tk._("Type MIME"),
        "mimetype inner": tk._("Type MIME du fichier compressé"),
        "hash": tk._("Empreinte"),
        "uai column": tk._("Colonne de l’UAI"),
        "commune column": tk._("Colonne du code commune"),
    }


@tk.chained_helper
def format_resource_items(next_helper: Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]],
                          items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    labels = _labels()
    booleans = {"True": tk._("oui"), "False": tk._("non")}
    rows = []
    for key, value in next_helper(items):
        if key in HIDDEN:
            continue
        if isinstance(value, str) and value in booleans:
            value = booleans[value]
        rows.append((labels.get(key, key), value))
    return rows
