"""A small portal for the publication tests, built once per module: the Occitanie annuaire as
establishment directory (published by the ministry), the organization of a département with an
editor, a read-only member and an outsider, each with an API token."""
from __future__ import annotations

import http.server
import io
import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.publication import files


@dataclass
class Portal:
    sysadmin: dict[str, Any]
    org: dict[str, Any]
    editor: dict[str, Any]
    member: dict[str, Any]
    outsider: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)
    password: str = "motdepasse-de-test-123"

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": self.tokens[who]}

    def user(self, who: str) -> dict[str, Any]:
        return getattr(self, who)


def upload(content: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename)


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = helpers.call_action("organization_create", dict(ctx), name="menj", title="Ministère de l'Éducation nationale")
    annuaire = helpers.call_action("package_create", ctx, name="annuaire-occitanie", owner_org=menj["id"],
                                   title="Annuaire de l'éducation — Occitanie", axe="etablissements",
                                   millesime="2024", license_id="etalab-2.0")
    helpers.call_action("resource_create", ctx, package_id=annuaire["id"], name="Annuaire Occitanie",
                        format="CSV", upload=upload(files.occitanie_text().encode("utf-8"), "annuaire.csv"))
    org = helpers.call_action("organization_create", dict(ctx), name="departement-haute-garonne",
                              title="Département de la Haute-Garonne")
    password = Portal.__dataclass_fields__["password"].default
    people = {who: factories.User(name=f"{who}-hg", password=password) for who in ("editor", "member", "outsider")}
    for who, role in (("editor", "editor"), ("member", "member")):
        helpers.call_action("organization_member_create", ctx, id=org["id"], username=people[who]["name"], role=role)
    portal = Portal(sysadmin=sysadmin, org=org, **people)
    for who in ("editor", "member", "outsider"):
        portal.tokens[who] = factories.APIToken(user=people[who]["name"])["token"]
    model.Session.remove()
    return portal


@pytest.fixture
def new_dataset(portal):
    """new_dataset(name, axe=..., private=...): a dataset of the département, created by its editor."""
    def create(name: str, **fields: Any) -> dict[str, Any]:
        data = {"name": name, "title": fields.pop("title", f"Données {name}"), "owner_org": portal.org["id"],
                "axe": fields.pop("axe", "etablissements"), "millesime": fields.pop("millesime", "2023"), **fields}
        return helpers.call_action("package_create", {"user": portal.editor["name"]}, **data)
    return create


@pytest.fixture
def file_server(tmp_path):
    """A loopback HTTP server serving tmp_path (a collectivité's own open data site)."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
