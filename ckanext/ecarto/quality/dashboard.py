"""The editors' quality dashboard: the datasets of the organizations where the user may edit
datasets (``organization_list_for_user`` with ``update_dataset``; every organization for a
sysadmin), public and private — a private dataset is only listed to the members of its
organization, since only they may edit it —, worst score first by default, through
``package_search`` (the permission labels of the search apply)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.ecarto.quality import FIELD

MAX_ROWS = 1000
SORTS: dict[str, str] = {
    "score": "qualite_score asc, title_string asc",
    "score-desc": "qualite_score desc, title_string asc",
    "titre": "title_string asc",
    "organisation": "organization asc, qualite_score asc",
}
DEFAULT_SORT = "score"


@dataclass
class Row:
    name: str
    title: str
    organization: str
    private: bool
    score: int
    missing: list[dict[str, Any]]


def sort_clause(choice: str) -> str:
    return SORTS.get(choice, SORTS[DEFAULT_SORT])


def editable_organizations(user: str) -> list[dict[str, Any]]:
    return tk.get_action("organization_list_for_user")(
        {"user": user}, {"id": user, "permission": "update_dataset", "include_dataset_count": False})


def rows_for(user: str, choice: str = DEFAULT_SORT) -> list[Row]:
    """The user's editable datasets with their score and missing criteria."""
    orgs = editable_organizations(user)
    if not orgs:
        return []
    owners = " OR ".join(f'"{org["id"]}"' for org in orgs)
    found = tk.get_action("package_search")({"user": user}, {
        "fq": f"+dataset_type:dataset +owner_org:({owners})", "include_private": True,
        "rows": MAX_ROWS, "sort": sort_clause(choice)})
    rows = []
    for pkg in found["results"]:
        quality = pkg.get(FIELD) or {}
        rows.append(Row(
            name=pkg["name"], title=pkg.get("title") or pkg["name"],
            organization=(pkg.get("organization") or {}).get("title") or "",
            private=bool(pkg.get("private")), score=int(quality.get("score_pourcentage") or 0),
            missing=[c for c in quality.get("criteres") or [] if c.get("applicable") and not c.get("ok")]))
    return rows
