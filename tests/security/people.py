"""The publishers of the security tests: the ministry (the trusted directory's organization,
`ckanext.ecarto.identity_organizations`) and a collectivité with one editor."""
from __future__ import annotations

from typing import Any, Optional

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

PASSWORD = "motdepasse-de-test-123"


def _ctx(sysadmin: dict[str, Any]) -> dict[str, Any]:
    # a fresh context for each call: CKAN keeps the created object in the context it is given,
    # and a second organization_create with the same context renames the first organization
    return {"user": sysadmin["name"]}


def ministry(sysadmin: dict[str, Any]) -> dict[str, Any]:
    return helpers.call_action("organization_create", _ctx(sysadmin), name="menj",
                               title="Ministère de l'Éducation nationale")


def collectivite_with_editor(sysadmin: dict[str, Any], name: str, title: str, editor_name: str,
                             password: Optional[str] = PASSWORD) -> tuple[dict[str, Any], dict[str, Any]]:
    """An organization of a collectivité and one editor of it."""
    org = helpers.call_action("organization_create", _ctx(sysadmin), name=name, title=title)
    editor = factories.User(name=editor_name, password=password) if password else factories.User(name=editor_name)
    helpers.call_action("organization_member_create", _ctx(sysadmin), id=org["id"], username=editor["name"],
                        role="editor")
    return org, editor
