"""CKAN's `package_dictize` for a batch of datasets, in a few set-wise queries.

`package_show` dictizes a dataset with about seventeen SQL round trips (the package, its
resources, tags, groups, organisation, relationships as subject and as object, …). To index
a whole catalogue, `package_dicts(ids)` reads the same tables once per batch and builds, for
each dataset, the dict `model_dictize.package_dictize(pkg, context)` returns — same keys in the
same order, same values — with CKAN's own dictize helpers on the rows of the batch:

- packages (ORM objects, kept in the session: `Package.get` and the plugins' `read` hook then
  find them without a query), resources, tags and the owner organisations: one query each;
- groups and relationships: one query tells which datasets have any; only those (rare in a
  catalogue) are dictized by CKAN's per-dataset queries, group member counts included.

Floor 1: reads CKAN's model only; the orchestration with the plugins' hooks (validation,
`after_dataset_show`, `before_dataset_index`) is `ckanext.ecarto.logic.reindex`.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any, Iterable

from sqlalchemy import false, or_, select

import ckan.lib.dictization as d
import ckan.lib.dictization.model_dictize as model_dictize
import ckan.model as model
from ckan.types import Context

PACKAGE_KEY = "_bulk_package_id"


def _table_value(value: Any) -> Any:
    """A column value as `ckan.lib.dictization.table_dictize` writes it."""
    if value is None or isinstance(value, (dict, int, list)):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _row_dict(row: Any, drop: str = PACKAGE_KEY) -> dict[str, Any]:
    """`table_dictize` of a row without the column that says which dataset it belongs to."""
    return {name: _table_value(value) for name, value in row._mapping.items() if name != drop}


def load_packages(ids: Iterable[str]) -> dict[str, model.Package]:
    """The packages of `ids` (ids only, as `search-index rebuild` gives them), by id."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    found = model.Session.query(model.Package).filter(model.Package.id.in_(wanted)).all()
    return {pkg.id: pkg for pkg in found}


def _resources(ids: list[str]) -> dict[str, list[Any]]:
    res = model.resource_table
    by_package: dict[str, list[Any]] = defaultdict(list)
    for row in model.Session.execute(select(res).where(res.c["package_id"].in_(ids))):
        by_package[row.package_id].append(row)
    return by_package


def _tags(ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    tag, pkg_tag = model.tag_table, model.package_tag_table
    q = select(tag, pkg_tag.c["state"], pkg_tag.c["package_id"].label(PACKAGE_KEY)).join(
        pkg_tag, tag.c["id"] == pkg_tag.c["tag_id"]).where(pkg_tag.c["package_id"].in_(ids))
    by_package: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in model.Session.execute(q):
        by_package[row._mapping[PACKAGE_KEY]].append(_row_dict(row))
    return by_package


def _with_groups(ids: list[str]) -> set[str]:
    member, group = model.member_table, model.group_table
    q = select(member.c["table_id"]).join(group, group.c["id"] == member.c["group_id"]).where(
        member.c["table_id"].in_(ids), member.c["state"] == "active",
        group.c["is_organization"] == false()).distinct()
    return {row[0] for row in model.Session.execute(q)}


def _with_relationships(ids: list[str]) -> set[str]:
    rel = model.package_relationship_table
    q = select(rel.c["subject_package_id"], rel.c["object_package_id"]).where(
        or_(rel.c["subject_package_id"].in_(ids), rel.c["object_package_id"].in_(ids)))
    wanted = set(ids)
    return {pid for row in model.Session.execute(q) for pid in row if pid in wanted}


def _organizations(org_ids: set[str], context: Context) -> dict[str, dict[str, Any]]:
    """The active owner organisations, dictized as `package_dictize` does (without extras)."""
    if not org_ids:
        return {}
    group = model.group_table
    q = select(group).where(group.c["id"].in_(list(org_ids))).where(group.c["state"] == "active")
    found = {}
    for row in model.Session.execute(q):
        org = d.obj_list_dictize([row], context)[0]
        del org["extras"]
        found[row.id] = org
    return found


def _groups_of(pkg: model.Package, context: Context) -> list[dict[str, Any]]:
    """CKAN's own query and dictization (member counts included): few datasets have groups."""
    member, group = model.member_table, model.group_table
    q = select(group, member.c["capacity"]).join(member, group.c["id"] == member.c["group_id"]).where(
        member.c["table_id"] == pkg.id, member.c["state"] == "active", group.c["is_organization"] == false())
    result = model.Session.execute(q)
    context["with_capacity"] = False
    return model_dictize.group_list_dictize(result, context, with_package_counts=False)


def _relationships_of(pkg: model.Package, column: str, context: Context) -> list[dict[str, Any]]:
    rel = model.package_relationship_table
    return d.obj_list_dictize(model.Session.execute(select(rel).where(rel.c[column] == pkg.id)), context)


def package_dicts(packages: dict[str, model.Package], context: Context) -> dict[str, dict[str, Any]]:
    """`package_dictize(pkg, context)` of every package of `packages` (without plugin data)."""
    ids = list(packages)
    if not ids:
        return {}
    resources = _resources(ids)
    tags = _tags(ids)
    grouped = _with_groups(ids)
    related = _with_relationships(ids)
    orgs = _organizations({pkg.owner_org for pkg in packages.values() if pkg.owner_org}, context)
    return {pid: _package_dict(pkg, context, resources.get(pid, []), tags.get(pid, []),
                               pid in grouped, pid in related, orgs)
            for pid, pkg in packages.items()}


def _package_dict(pkg: model.Package, context: Context, resources: list[Any], tags: list[dict[str, Any]],
                  grouped: bool, related: bool, orgs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Step by step what `model_dictize.package_dictize` does, in its order (the JSON of the index
    keeps the keys' order)."""
    result_dict = d.table_dictize(pkg, context)
    if result_dict.get("title"):
        result_dict["title"] = result_dict["title"].strip()
    result_dict.pop("plugin_data", None)
    result_dict["resources"] = model_dictize.resource_list_dictize(resources, context)
    result_dict["num_resources"] = len(result_dict.get("resources", []))
    active_tags = [dict(tag) for tag in tags if tag["state"] == "active"] if context.get("active", True) \
        else [dict(tag) for tag in tags]
    result_dict["tags"] = sorted(active_tags, key=lambda x: x["name"])
    result_dict["num_tags"] = len(result_dict["tags"])
    for tag_dict in result_dict["tags"]:
        tag_dict["display_name"] = tag_dict["name"]
    result_dict["extras"] = [{"key": k, "value": v} for k, v in (result_dict["extras"] or {}).items()]
    result_dict["groups"] = _groups_of(pkg, context) if grouped else []
    context["with_capacity"] = False
    org = orgs.get(pkg.owner_org) if pkg.owner_org else None
    result_dict["organization"] = dict(org) if org else None
    if related:
        result_dict["relationships_as_subject"] = _relationships_of(pkg, "subject_package_id", context)
        result_dict["relationships_as_object"] = _relationships_of(pkg, "object_package_id", context)
    else:
        result_dict["relationships_as_subject"] = []
        result_dict["relationships_as_object"] = []
    result_dict["isopen"] = pkg.isopen()
    result_dict["type"] = pkg.type or "dataset"
    if pkg.license and pkg.license.url:
        result_dict["license_url"] = pkg.license.url
        result_dict["license_title"] = pkg.license.title.split("::")[-1]
    elif pkg.license:
        result_dict["license_title"] = pkg.license.title
    else:
        result_dict["license_title"] = pkg.license_id
    result_dict["metadata_modified"] = pkg.metadata_modified.isoformat()
    result_dict["metadata_created"] = pkg.metadata_created.isoformat() if pkg.metadata_created else None
    return result_dict
