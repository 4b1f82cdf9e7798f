"""Catalogue facets added by the schemas — the territory (level and code together, beside the
axis, territory level and millésime facets of the search backend) and the producer/licence/format
facets CKAN has — and the French labels of their values (IPackageController.after_dataset_search:
the codes stay in the URLs, people read the labels in the facet lists and the filter pills)."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk

from ckanext.ecarto.schemas import labels

# Indexed field of the territory facet: `region-76`, `departement-31`, `france`.
TERRITORY_FIELD = "territoire"


def dataset_facets(facets: dict[str, Any]) -> dict[str, Any]:
    facets.setdefault("organization", tk._("Producteurs"))
    facets["territoire_niveau"] = tk._("Niveau du territoire")
    facets.pop("territoire_code", None)   # ambiguous alone (76: région or département)
    facets[TERRITORY_FIELD] = tk._("Territoire couvert")
    facets.setdefault("license_id", tk._("Licences"))
    facets.setdefault("res_format", tk._("Formats"))
    return facets


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The territory facet's value of a dataset (none when it declares no known territory)."""
    value = labels.territory_facet_value(pkg_dict.get("territoire_niveau"), pkg_dict.get("territoire_code"))
    if value:
        pkg_dict[TERRITORY_FIELD] = value
    else:
        pkg_dict.pop(TERRITORY_FIELD, None)
    return pkg_dict


def _territory_facet_label(value: str) -> str:
    territory = labels.territory_of_facet_value(value)
    return labels.territory_label(territory) if territory else value


# Facet field -> label of one of its values.
VALUE_LABELS: dict[str, Callable[[str], str]] = {
    "axe": labels.axis_label,
    "territoire_niveau": labels.level_label,
    TERRITORY_FIELD: _territory_facet_label,
    "frequency": labels.frequency_label,
}


def label_facet_values(search_results: dict[str, Any]) -> dict[str, Any]:
    """French `display_name` of the values of the portal's facets (search_facets items)."""
    facets = search_results.get("search_facets") or {}
    for name, label_of in VALUE_LABELS.items():
        facet = facets.get(name)
        if not isinstance(facet, dict):
            continue
        for item in facet.get("items") or []:
            value = item.get("name")
            if isinstance(value, str) and value:
                item["display_name"] = label_of(value) or value
    return search_results
