"""Which datasets a visitor may read, as a SQL condition for the portal's own queries.

The establishment and territory pages read ingested tables directly: every query joins CKAN's
`package` table through this condition so a private dataset never feeds a page, an export or an
aggregate seen by someone outside its organization.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk


@dataclass(frozen=True)
class Reader:
    """Who is reading: anonymous, a member of some organizations, or a sysadmin."""

    user_id: Optional[str] = None
    sysadmin: bool = False
    organization_ids: tuple[str, ...] = ()

    @property
    def anonymous(self) -> bool:
        return self.user_id is None and not self.sysadmin


ANONYMOUS = Reader()


def reader_for(user_name: Optional[str]) -> Reader:
    """The Reader for a CKAN user name (None or unknown: anonymous)."""
    if not user_name:
        return ANONYMOUS
    user = model.User.get(user_name)
    if user is None:
        return ANONYMOUS
    if authz.is_sysadmin(user_name):
        return Reader(user_id=user.id, sysadmin=True)
    orgs = tk.get_action("organization_list_for_user")(
        {"user": user_name, "ignore_auth": True}, {"id": user.id, "permission": "read"}
    )
    return Reader(user_id=user.id, organization_ids=tuple(o["id"] for o in orgs))


def reader_from_context(context: dict[str, Any]) -> Reader:
    if context.get("ignore_auth") and not context.get("user"):
        return Reader(sysadmin=True)
    return reader_for(context.get("user"))


def readable_packages_sql(alias: str = "p") -> str:
    """SQL condition on CKAN's `package` table (aliased `alias`) using bound parameters
    `reader_sysadmin`, `reader_orgs` and `reader_user_id` (see `reader_params`)."""
    return (
        f"({alias}.state = 'active' AND ("
        f":reader_sysadmin OR NOT {alias}.private "
        f"OR {alias}.owner_org = ANY(CAST(:reader_orgs AS text[])) "
        f"OR {alias}.id IN (SELECT package_id FROM package_member WHERE user_id = :reader_user_id)"
        f"))"
    )


def reader_params(reader: Reader) -> dict[str, Any]:
    return {
        "reader_sysadmin": reader.sysadmin,
        "reader_orgs": list(reader.organization_ids),
        "reader_user_id": reader.user_id or "",
    }
