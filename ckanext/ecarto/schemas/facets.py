"""Catalogue facets added by the schemas: territory code (beside the axis, territory level and
millésime facets of the search backend) and the producer/licence/format facets CKAN has."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk


def dataset_facets(facets: dict[str, Any]) -> dict[str, Any]:
    facets.setdefault("organization", tk._("Producteurs"))
    facets["territoire_code"] = tk._("Code du territoire")
    facets.setdefault("license_id", tk._("Licences"))
    facets.setdefault("res_format", tk._("Formats"))
    return facets
