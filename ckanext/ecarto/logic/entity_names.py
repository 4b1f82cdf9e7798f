"""French names of the harvest source, a dataset type of its own (``harvest``).

CKAN's ``h.humanize_entity_type`` names a non-default dataset type by its raw name,
capitalized, where it has no template for the purpose: activity streams read
« admin a créé le Harvest … ». Chained over it, the ``harvest`` type gets French names.
"""
from __future__ import annotations

from typing import Callable, Optional

import ckan.plugins.toolkit as tk


def _harvest_names() -> dict[str, str]:
    return {
        # « {actor} a créé le {dataset_type} {dataset} » (ckanext-activity)
        "activity_record": tk._("moissonnage"),
        "breadcrumb": tk._("Sources de moissonnage"),
        "main nav": tk._("Sources de moissonnage"),
        "page title": tk._("Sources de moissonnage"),
        "content tab": tk._("Sources de moissonnage"),
        "facet label": tk._("Sources de moissonnage"),
        "add link": tk._("Ajouter une source de moissonnage"),
        "create label": tk._("Nouvelle source de moissonnage"),
        "create title": tk._("Nouvelle source de moissonnage"),
        "edit label": tk._("Modifier la source de moissonnage"),
        "update label": tk._("Modifier la source de moissonnage"),
        "save label": tk._("Enregistrer"),
        "view label": tk._("Voir la source"),
        "no description": tk._("Cette source de moissonnage n’a pas de description."),
        "search placeholder": tk._("Rechercher une source de moissonnage…"),
    }


@tk.chained_helper
def humanize_entity_type(next_helper: Callable[[str, str, str], Optional[str]],
                         entity_type: str, object_type: str, purpose: str) -> Optional[str]:
    if entity_type == "package" and object_type == "harvest":
        return _harvest_names().get(purpose, tk._("Source de moissonnage"))
    return next_helper(entity_type, object_type, purpose)
