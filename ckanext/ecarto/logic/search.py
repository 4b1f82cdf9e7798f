"""CKAN's `package_search`, chained: its parameters are checked first by the extension's schema
(logic/schema.py, French messages; CKAN's own validators answer 500 on `start=` or `fl: 31`),
and CKAN's English refusal of unknown parameters is said in French."""
from __future__ import annotations

import re
from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan.lib.search.common import SearchQueryError

from ckanext.ecarto.logic import schema

Action = Callable[[dict[str, Any], dict[str, Any]], Any]
_UNKNOWN = re.compile(r"^Invalid search parameters: \[(.*)\]$")


@tk.side_effect_free
@tk.chained_action
def package_search(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    data_dict = schema.validate(data_dict, schema.package_search_schema, context)
    try:
        return up_func(context, data_dict)
    except SearchQueryError as exc:
        unknown = _UNKNOWN.match(str(exc.args[0]) if exc.args else "")
        if unknown:
            names = ", ".join(name.strip(" '\"") for name in unknown.group(1).split(","))
            raise SearchQueryError(f"Paramètres de recherche inconnus : {names}") from exc
        raise


def get_actions() -> dict[str, Action]:
    return {"package_search": package_search}
