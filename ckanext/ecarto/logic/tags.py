"""CKAN's tag actions, limited to the tags of datasets the caller may read.

CKAN 2.12's `tag_list`, `tag_search`, `tag_autocomplete` (also behind ``/api/util/tag/autocomplete``)
and `tag_show` read the `tag` table without looking at who can read the datasets carrying the tags:
the tags of a private dataset leak to anonymous visitors and to users outside its organization.
The chained actions below keep a free tag only when at least one active dataset the caller may read
carries it (anonymous: a public one), with the same rule as the portal's pages
(`access.readable_packages_sql`). Sysadmins see everything, as in CKAN.

Vocabulary tags (``vocabulary_id`` given) are left as CKAN returns them: a sysadmin defines them
and `vocabulary_show` lists them to anyone, whether a dataset uses them or not.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.ecarto.core import access

Action = Callable[[dict[str, Any], dict[str, Any]], Any]


def _vocabulary_tags(data_dict: dict[str, Any]) -> bool:
    return bool(data_dict.get("vocabulary_id"))


def readable_tag_names(reader: access.Reader, names: Iterable[str]) -> set[str]:
    """Among `names`, the free tags carried by an active dataset that `reader` may read."""
    wanted = sorted({name for name in names if isinstance(name, str)})
    if not wanted:
        return set()
    sql = sa.text(
        "SELECT DISTINCT t.name FROM tag t "
        "JOIN package_tag pt ON pt.tag_id = t.id AND pt.state = 'active' "
        "JOIN package p ON p.id = pt.package_id "
        "WHERE t.vocabulary_id IS NULL AND t.name = ANY(CAST(:names AS text[])) "
        f"AND {access.readable_packages_sql('p')}"
    )
    rows = model.Session.execute(sql, {"names": wanted, **access.reader_params(reader)})
    return {row[0] for row in rows}


def _name(tag: Any) -> str:
    return tag["name"] if isinstance(tag, dict) else tag


def _keep_readable(context: dict[str, Any], tags: list[Any]) -> list[Any]:
    reader = access.reader_from_context(context)
    if reader.sysadmin or not tags:
        return tags
    readable = readable_tag_names(reader, (_name(tag) for tag in tags))
    return [tag for tag in tags if _name(tag) in readable]


def _without_paging(data_dict: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data_dict.items() if key not in ("limit", "offset")}


def _paging(data_dict: dict[str, Any]) -> tuple[int, Optional[int]]:
    """`offset` and `limit` as integers (a French 409 rather than CKAN's SQL error)."""
    values: dict[str, Optional[int]] = {}
    for key in ("offset", "limit"):
        raw = data_dict.get(key)
        try:
            values[key] = None if raw in (None, "") else max(int(raw), 0)
        except (TypeError, ValueError):
            raise tk.ValidationError({key: [tk._("Doit être un entier positif.")]})
    return values["offset"] or 0, values["limit"]


def _page(items: list[Any], paging: tuple[int, Optional[int]]) -> list[Any]:
    """`offset`/`limit` applied after filtering, so hidden tags do not eat a page."""
    offset, limit = paging
    items = items[offset:]
    return items if limit is None else items[:limit]


@tk.chained_action
@tk.side_effect_free
def tag_list(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> list[Any]:
    tags = up_func(context, data_dict)
    return tags if _vocabulary_tags(data_dict) else _keep_readable(context, tags)


@tk.chained_action
@tk.side_effect_free
def tag_autocomplete(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> list[str]:
    if _vocabulary_tags(data_dict):
        return up_func(context, data_dict)
    paging = _paging(data_dict)
    names = up_func(context, _without_paging(data_dict))
    return _page(_keep_readable(context, names), paging)


@tk.chained_action
@tk.side_effect_free
def tag_search(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    if _vocabulary_tags(data_dict):
        return up_func(context, data_dict)
    paging = _paging(data_dict)
    found = up_func(context, _without_paging(data_dict))
    results = _keep_readable(context, found["results"])
    return {"count": len(results), "results": _page(results, paging)}


@tk.chained_action
@tk.side_effect_free
def tag_show(up_func: Action, context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    tag = up_func(context, data_dict)
    if tag.get("vocabulary_id") or _keep_readable(context, [tag]):
        return tag
    raise tk.ObjectNotFound()          # exactly CKAN's answer for a tag that does not exist


def get_actions() -> dict[str, Any]:
    return {"tag_list": tag_list, "tag_autocomplete": tag_autocomplete,
            "tag_search": tag_search, "tag_show": tag_show}
