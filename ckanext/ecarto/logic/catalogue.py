"""What a harvester walking the catalogue sees: datasets only (issue 17).

ckanext-harvest stores a harvest source as a public package of type ``harvest``. CKAN's
``package_list`` lists every active public package whatever its type, so data.gouv.fr's CKAN
harvester (which walks ``package_list`` then ``package_show``) met the source and failed on it
("not a valid value for dictionary value @ data['type']"). Here ``package_list`` lists packages of
type ``dataset`` only, with CKAN's own parameters, paging and order.

``/dataset/<id>.ttl|.rdf|.jsonld`` (ckanext-dcat's ``dcat_dataset_show``) answers 404 for a
package that is not a dataset. The other endpoints already leave sources out: ``package_search``
(ckanext-harvest adds ``-dataset_type:harvest`` unless the query asks for that type) and
``/catalog.*`` (ckanext-dcat excludes ``harvest`` and ``showcase``).
"""
from __future__ import annotations

from typing import Any, Callable

import ckan.logic.schema as core_schema
import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context, DataDict

from ckanext.ecarto import replicas

Action = Callable[[Context, DataDict], Any]
DATASET_TYPE = "dataset"


@tk.side_effect_free
@tk.chained_action
def package_list(next_action: Action, context: Context, data_dict: DataDict) -> list[str]:
    """CKAN's package_list (names — ids with API v2 — of the active public packages, by name,
    ``limit``/``offset``), of type ``dataset`` only: never harvest sources."""
    data_dict, errors = tk.navl_validate(data_dict or {}, core_schema.default_pagination_schema(), context)
    if errors:
        raise tk.ValidationError(errors)
    tk.check_access("package_list", context, data_dict)
    table = model.package_table
    column = table.c["id"] if context.get("api_version", 1) == 2 else table.c["name"]
    query = (sa.select(column)
             .where(table.c["state"] == "active", table.c["private"].is_(False),
                    table.c["type"] == DATASET_TYPE)
             .order_by(column))
    if data_dict.get("limit"):
        query = query.limit(data_dict["limit"])
    if data_dict.get("offset"):
        query = query.offset(data_dict["offset"])
    with replicas.read_connection() as conn:       # a hot standby when one is usable
        return list(conn.execute(query).scalars().all())


@tk.side_effect_free
@tk.chained_action
def dcat_dataset_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """ckanext-dcat's `/dataset/<id>.ttl|.rdf|.jsonld`: a package that is not a dataset (a harvest
    source) is not found, as in the catalogue."""
    ident = data_dict.get("id") if isinstance(data_dict, dict) else None
    package = model.Package.get(ident) if isinstance(ident, str) and ident else None
    if package is not None and package.type != DATASET_TYPE:
        raise tk.ObjectNotFound(tk._("Jeu de données introuvable."))
    return next_action(context, data_dict)


def get_actions() -> dict[str, Action]:
    """`dcat_dataset_show` only when ckanext-dcat is loaded (a chained action needs its base)."""
    actions: dict[str, Action] = {"package_list": package_list}
    if plugins.plugin_loaded("dcat"):
        actions["dcat_dataset_show"] = dcat_dataset_show
    return actions
