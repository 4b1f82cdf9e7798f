"""Chained package_create/package_update: what package_show adds for data.gouv.fr's CKAN
harvester (the mirrored `extras`) is taken out again before validation, so that a
package_show → package_update round trip of an unchanged dataset succeeds."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk

from ckanext.ecarto.schemas import strip_mirrored_extras

Action = Callable[[dict[str, Any], dict[str, Any]], Any]


@tk.chained_action
def package_create(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return up_func(context, strip_mirrored_extras(data_dict))


@tk.chained_action
def package_update(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return up_func(context, strip_mirrored_extras(data_dict))


def get_actions() -> dict[str, Action]:
    return {"package_create": package_create, "package_update": package_update}
