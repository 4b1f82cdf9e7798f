"""CSRF stays on for cookie sessions after API-token requests (issue 12, probe 7).

CKAN 2.12 exempts from CSRF, process-wide and until the worker restarts, every view that one
API-token request reached (`flask_app.ckan_before_request` calls `csrf.exempt`). The probe: an
API-token request to `/dataset/<id>/publier`, then a cookie-session POST without `_csrf_token`
was accepted. test.ini switches CSRF off; these tests switch it on.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pytest

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.publication import files

pytestmark = [pytest.mark.usefixtures("with_plugins"), pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)]


@dataclass
class Publisher:
    org: dict[str, Any]
    editor: dict[str, Any]
    token: str
    password: str = "motdepasse-csrf-123"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.token}


@pytest.fixture(scope="module")
def publisher(module_portal_db) -> Publisher:
    sysadmin = factories.Sysadmin()
    org = helpers.call_action("organization_create", {"user": sysadmin["name"]}, name="departement-csrf",
                              title="Département (CSRF)")
    editor = factories.User(name="editeur-csrf", password=Publisher.password)
    helpers.call_action("organization_member_create", {"user": sysadmin["name"]}, id=org["id"],
                        username=editor["name"], role="editor")
    token = factories.APIToken(user=editor["name"])["token"]
    model.Session.remove()
    return Publisher(org=org, editor=editor, token=token)


def _dataset(publisher: Publisher, name: str) -> dict[str, Any]:
    return helpers.call_action("package_create", {"user": publisher.editor["name"]}, name=name,
                               title=f"IPS {name}", owner_org=publisher.org["id"], axe="etablissements",
                               millesime="2023")


def _ips_upload() -> dict[str, Any]:
    return {"upload": (io.BytesIO(files.ips_haute_garonne()), "ips-31.csv")}


def _csrf_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF field in the form"
    return match.group(1)


def _log_in(app, publisher: Publisher) -> None:
    """Log in with CKAN's login form, as a browser does: from then on a session cookie."""
    token = _csrf_token(app.get("/user/login", status=200).get_data(as_text=True))
    app.post("/user/login", data={"login": publisher.editor["name"], "password": publisher.password,
                                  "_csrf_token": token}, follow_redirects=False)
    assert app.get("/dashboard/datasets", follow_redirects=False).status_code == 200, "not logged in"


def _edit_form(publisher: Publisher, package: dict[str, Any], title: str) -> dict[str, Any]:
    return {"name": package["name"], "title": title, "axe": "etablissements", "owner_org": publisher.org["id"],
            "millesime": "2023", "save": ""}


def test_api_token_clients_still_post_to_html_views_without_a_csrf_token(app, publisher):
    """CKAN's intent, kept: a client authenticated by its API token does not carry a CSRF token."""
    package = _dataset(publisher, "csrf-jeton")
    response = app.post(f"/dataset/{package['name']}/publier", data=_ips_upload(), headers=publisher.headers,
                        follow_redirects=False)
    assert response.status_code == 302
    assert re.search(r"/publier/[0-9a-f]{32}$", response.headers["Location"])

    response = app.post(f"/dataset/edit/{package['name']}", headers=publisher.headers, follow_redirects=False,
                        data=_edit_form(publisher, package, "Titre changé par jeton"))
    assert response.status_code == 302
    assert helpers.call_action("package_show", id=package["id"])["title"] == "Titre changé par jeton"


def test_publication_form_checks_csrf_for_cookie_sessions_after_an_api_token_request(app, publisher):
    package = _dataset(publisher, "csrf-publier")
    url = f"/dataset/{package['name']}/publier"
    # the probe: one API-token request reaches the HTML view…
    app.post(url, data=_ips_upload(), headers=publisher.headers, follow_redirects=False)
    app.get(url, headers=publisher.headers, status=200)

    # …then the editor's browser session (cookie) posts without the token: refused
    _log_in(app, publisher)
    refused = app.post(url, data=_ips_upload(), follow_redirects=False)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)

    # the same session with the form's token: accepted
    token = _csrf_token(app.get(url, status=200).get_data(as_text=True))
    accepted = app.post(url, data={**_ips_upload(), "_csrf_token": token}, follow_redirects=False)
    assert accepted.status_code == 302
    assert re.search(rf"{url}/[0-9a-f]{{32}}$", accepted.headers["Location"])


def test_ckan_dataset_form_checks_csrf_for_cookie_sessions_after_an_api_token_request(app, publisher):
    package = _dataset(publisher, "csrf-modifier")
    url = f"/dataset/edit/{package['name']}"
    response = app.post(url, headers=publisher.headers, follow_redirects=False,
                        data=_edit_form(publisher, package, "Par jeton"))
    assert response.status_code == 302

    _log_in(app, publisher)
    refused = app.post(url, data=_edit_form(publisher, package, "Forgé"), follow_redirects=False)
    assert refused.status_code == 400
    assert helpers.call_action("package_show", id=package["id"])["title"] == "Par jeton"

    token = _csrf_token(app.get(url, status=200).get_data(as_text=True))
    accepted = app.post(url, data={**_edit_form(publisher, package, "Par le formulaire"), "_csrf_token": token},
                        follow_redirects=False)
    assert accepted.status_code == 302
    assert helpers.call_action("package_show", id=package["id"])["title"] == "Par le formulaire"


def test_a_new_application_keeps_the_guard(make_app, publisher):
    """The test suite (and `ckan` commands) build several applications on CKAN's one
    `CSRFProtect`: the guard installed by the first stays in place, exemptions included."""
    first = make_app()
    package = _dataset(publisher, "csrf-deux-apps")
    url = f"/dataset/{package['name']}/publier"
    first.get(url, headers=publisher.headers, status=200)

    second = make_app()
    _log_in(second, publisher)
    assert second.post(url, data=_ips_upload(), follow_redirects=False).status_code == 400
