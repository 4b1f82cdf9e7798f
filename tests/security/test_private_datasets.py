"""A private dataset stays invisible to those outside its organization (issue 12, probe 10).

- `/dataset/<private>/publier` answered 403 with the dataset's id to anonymous visitors where the
  dataset page answers 404: now the same 404 for whoever cannot read the dataset (anonymous or a
  logged-in outsider); a member who can read but not publish gets 403, as CKAN does.
- CKAN's `tag_list`, `tag_autocomplete` (and its `/api/util/tag/autocomplete` routes), `tag_search`
  and `tag_show` returned a private dataset's tags to anyone: they now show only the tags of
  datasets the caller may read; the catalogue's tag facet never did, and must not.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.publication import files

pytestmark = pytest.mark.usefixtures("with_plugins")

SECRET_TAG = "projet-confidentiel-tablettes"
SECRET_TAG_2 = "projet-confidentiel-cartables"
PUBLIC_TAG = "projet-public-tablettes"
WHO = ("anonymous", "outsider", "member", "editor", "sysadmin")


@dataclass
class Portal:
    org: dict[str, Any]
    users: dict[str, dict[str, Any]]
    private: dict[str, Any]
    public: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": self.tokens[who]} if who in self.tokens else {}

    def user(self, who: str) -> Optional[str]:
        return self.users[who]["name"] if who in self.users else None


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    """A département's organization with a private and a public dataset, each tagged; an editor,
    a read-only member, an outsider and a sysadmin, each with an API token."""
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    org = helpers.call_action("organization_create", ctx, name="departement-prive", title="Département (privé)")
    users = {"sysadmin": sysadmin, **{who: factories.User(name=f"{who}-prive") for who in ("editor", "member", "outsider")}}
    for who in ("editor", "member"):
        helpers.call_action("organization_member_create", ctx, id=org["id"], username=users[who]["name"], role=who)
    common = {"owner_org": org["id"], "axe": "etablissements", "millesime": "2023"}
    private = helpers.call_action("package_create", {"user": users["editor"]["name"]}, name="ips-brouillon-prive",
                                  title="IPS (en préparation)", private=True,
                                  tags=[{"name": SECRET_TAG}, {"name": SECRET_TAG_2}], **common)
    public = helpers.call_action("package_create", {"user": users["editor"]["name"]}, name="ips-public",
                                 title="IPS publié", private=False, tags=[{"name": PUBLIC_TAG}], **common)
    portal = Portal(org=org, users=users, private=private, public=public)
    for who, user in users.items():
        portal.tokens[who] = factories.APIToken(user=user["name"])["token"]
    model.Session.remove()
    return portal


def _body(response) -> str:
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- publication pages

@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_publication_page_of_a_private_dataset_is_not_found_for_non_readers(app, portal, who):
    name, dataset_id = portal.private["name"], portal.private["id"]
    dataset_page = app.get(f"/dataset/{name}", headers=portal.headers(who))
    assert dataset_page.status_code == 404
    for method, url in (("get", f"/dataset/{name}/publier"), ("post", f"/dataset/{name}/publier"),
                        ("get", f"/dataset/{name}/publier/{'0' * 32}"),
                        ("get", f"/dataset/{name}/publication/{'0' * 32}")):
        data = {"upload": (io.BytesIO(files.ips_haute_garonne()), "ips.csv")} if method == "post" else None
        response = getattr(app, method)(url, headers=portal.headers(who), data=data, follow_redirects=False)
        assert response.status_code == 404, url
        body = _body(response)
        assert dataset_id not in body
        assert "Jeu de données introuvable" in body              # CKAN's own "Dataset not found"
    assert helpers.call_action("package_show", id=dataset_id)["resources"] == []


def test_publication_page_of_a_private_dataset_for_its_readers_and_editors(app, portal):
    url = f"/dataset/{portal.private['name']}/publier"
    refused = app.get(url, headers=portal.headers("member"))     # reads it, may not publish
    assert refused.status_code == 403
    assert portal.private["id"] not in _body(refused)
    assert app.get(url, headers=portal.headers("editor")).status_code == 200


def test_unknown_dataset_answers_the_same_404(app, portal):
    response = app.get("/dataset/ce-jeu-n-existe-pas/publier")
    assert response.status_code == 404 and "Jeu de données introuvable" in _body(response)


# --------------------------------------------------------------------------- tags

def _action(app, portal, who: str, action: str, **params: Any) -> Any:
    response = app.post(f"/api/3/action/{action}", json=params, headers=portal.headers(who))
    body = response.get_json()
    return response.status_code, body.get("result") if body.get("success") else body.get("error")


def _sees_secret(who: str) -> bool:
    return who in ("member", "editor", "sysadmin")


def test_tag_list(app, portal):
    for who in WHO:
        status, tags = _action(app, portal, who, "tag_list")
        assert status == 200 and PUBLIC_TAG in tags
        assert (SECRET_TAG in tags) is _sees_secret(who), who
        status, tags = _action(app, portal, who, "tag_list", query="projet", all_fields=True)
        names = {tag["name"] for tag in tags}
        assert PUBLIC_TAG in names and (SECRET_TAG in names) is _sees_secret(who), who


def test_tag_autocomplete_and_search(app, portal):
    for who in WHO:
        status, names = _action(app, portal, who, "tag_autocomplete", q="projet")
        assert status == 200 and PUBLIC_TAG in names
        assert (SECRET_TAG in names) is _sees_secret(who), who
        status, found = _action(app, portal, who, "tag_search", query="tablettes")
        names = [tag["name"] for tag in found["results"]]
        assert PUBLIC_TAG in names and (SECRET_TAG in names) is _sees_secret(who), who
        assert found["count"] == len(names)


def test_hidden_tags_do_not_take_the_places_of_visible_ones(app, portal):
    """Two private tags sort before the public one: a limit of 1 still returns the public tag."""
    for who in ("anonymous", "outsider"):
        status, names = _action(app, portal, who, "tag_autocomplete", q="projet", limit=1)
        assert (status, names) == (200, [PUBLIC_TAG]), who
        status, found = _action(app, portal, who, "tag_search", query="projet", limit=1)
        assert [tag["name"] for tag in found["results"]] == [PUBLIC_TAG] and found["count"] == 1, who


@pytest.mark.parametrize("route", ["/api/util/tag/autocomplete", "/api/2/util/tag/autocomplete"])
def test_tag_autocomplete_route_of_the_dataset_form(app, portal, route):
    for who in WHO:
        response = app.get(route, query_string={"incomplete": "projet"}, headers=portal.headers(who))
        names = [item["Name"] for item in response.get_json()["ResultSet"]["Result"]]
        assert PUBLIC_TAG in names
        assert (SECRET_TAG in names) is _sees_secret(who), who


def test_tag_show(app, portal):
    missing = _action(app, portal, "anonymous", "tag_show", id="mot-cle-qui-n-existe-pas")
    assert missing[0] == 404
    for who in WHO:
        status, tag = _action(app, portal, who, "tag_show", id=PUBLIC_TAG)
        assert status == 200 and tag["name"] == PUBLIC_TAG
        status, tag = _action(app, portal, who, "tag_show", id=SECRET_TAG, include_datasets=True)
        if _sees_secret(who):
            assert status == 200 and tag["name"] == SECRET_TAG, who
        else:
            assert (status, tag) == missing, who           # the same answer as a tag that does not exist


def test_tag_paging_parameters_are_checked(app, portal):
    status, error = _action(app, portal, "anonymous", "tag_autocomplete", q="projet", limit="abc")
    assert status == 409 and "limit" in error


def test_catalogue_tag_facet(app, portal):
    for who in WHO:
        status, result = _action(app, portal, who, "package_search", **{"facet.field": ["tags"]},
                                 include_private=True)
        facet = {item["name"] for item in result["search_facets"]["tags"]["items"]}
        assert PUBLIC_TAG in facet
        assert (SECRET_TAG in facet) is _sees_secret(who), who
        page = _body(app.get("/dataset/", headers=portal.headers(who)))
        assert PUBLIC_TAG in page
        assert (SECRET_TAG in page) is _sees_secret(who), who
