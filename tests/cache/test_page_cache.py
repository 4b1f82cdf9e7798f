"""The anonymous page cache (ckanext/ecarto/pagecache.py): served from Redis to anonymous visitors,
never to logged-in ones, never holding private data, stale from the next write or ingestion."""
from __future__ import annotations

import datetime
import html
import re
import time
from typing import Any
from urllib.parse import quote

import pytest

import ckan.model as model
import ckan.tests.helpers as helpers

from ckanext.ecarto import pagecache
from ckanext.ecarto.ingest import events as ingest_events

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("with_plugins", "cache_on")

HEADER = pagecache.HEADER
PRIVATE = "ips-prive-cache"
PRIVATE_WORD = "zébulon"             # in the private dataset's title only
PRIVATE_TITLE = "IPS confidentiel"


def anonymous(app: Any) -> Any:
    """A new visitor without any cookie."""
    return app.test_client()


def logged_in(app: Any, name: str) -> Any:
    """A visitor who logged in through the login form (CKAN's session cookie)."""
    client = app.test_client()
    login = client.post("/user/login", data={"login": name, "password": PASSWORD}, follow_redirects=False)
    assert login.status_code == 302 and "/user/login" not in login.headers["Location"]
    return client


def urls(portal: Any) -> list[str]:
    return ["/dataset/" + PRIVATE, "/dataset/", "/dataset/?q=" + quote(PRIVATE_WORD),
            "/api/3/action/package_search?q=" + quote(PRIVATE_WORD) + "&include_private=true",
            f"/etablissement/{portal.uai}", f"/etablissement/{portal.uai}.json"]


def test_second_anonymous_request_is_a_hit_with_etag_and_304(app, cache_portal):
    first = anonymous(app).get("/dataset/")
    assert first.status_code == 200 and first.headers[HEADER] == "miss"
    second = anonymous(app).get("/dataset/")
    assert second.headers[HEADER] == "hit"
    assert second.get_data() == first.get_data()
    etag, modified = second.headers["ETag"], second.headers["Last-Modified"]
    assert etag == first.headers["ETag"]
    assert anonymous(app).get("/dataset/", headers={"If-None-Match": etag}).status_code == 304
    assert anonymous(app).get("/dataset/", headers={"If-Modified-Since": modified}).status_code == 304
    assert anonymous(app).get("/dataset/", headers={"If-None-Match": '"autre"'}).status_code == 200
    head = anonymous(app).head("/dataset/")
    assert head.status_code == 200 and head.headers[HEADER] == "hit" and head.get_data() == b""


def test_cached_page_sets_no_cookie_and_shares_no_csrf_token(app, cache_portal):
    for state in ("miss", "hit"):
        response = anonymous(app).get("/")
        assert response.headers[HEADER] == state
        assert "Set-Cookie" not in response.headers
        assert 'name="_csrf_token" content=""' in response.get_data(as_text=True)


def test_private_dataset_editor_and_anonymous_on_the_same_urls(app, cache_portal):
    editor = logged_in(app, cache_portal.editor["name"])
    for round_ in range(2):
        for url in urls(cache_portal):
            seen = editor.get(url)
            assert seen.status_code == 200, url
            assert seen.headers[HEADER] == "bypass", url
            assert PRIVATE in seen.get_data(as_text=True), url
            for state in ("miss", "hit") if round_ == 0 else ("hit",):
                page = anonymous(app).get(url)
                if url == "/dataset/" + PRIVATE:
                    assert page.status_code == 404 and page.headers[HEADER] == "bypass"
                else:
                    assert page.status_code == 200 and page.headers[HEADER] == state, url
                    assert PRIVATE not in page.get_data(as_text=True), url
                assert PRIVATE_TITLE not in page.get_data(as_text=True), url
    # an API token is a logged-in visitor too
    api = anonymous(app).get(urls(cache_portal)[3], headers={"Authorization": cache_portal.token})
    assert api.headers[HEADER] == "bypass" and PRIVATE in api.get_data(as_text=True)


def test_a_logged_in_render_is_never_stored(app, cache_portal):
    editor = logged_in(app, cache_portal.editor["name"])
    assert editor.get("/dataset/annuaire-mini").headers[HEADER] == "bypass"
    assert editor.get("/dataset/annuaire-mini").headers[HEADER] == "bypass"
    first = anonymous(app).get("/dataset/annuaire-mini")
    assert first.headers[HEADER] == "miss"
    assert cache_portal.editor["name"] not in first.get_data(as_text=True)


def _cached(app: Any, url: str) -> str:
    anonymous(app).get(url)
    page = anonymous(app).get(url)
    assert page.headers[HEADER] == "hit", url
    return page.get_data(as_text=True)


def test_a_dataset_update_is_visible_on_the_next_anonymous_request(app, cache_portal):
    ctx = {"user": cache_portal.sysadmin["name"]}
    assert "Titre changé" not in _cached(app, "/dataset/annuaire-mini")
    helpers.call_action("package_patch", dict(ctx), id="annuaire-mini", title="Titre changé du jeu")
    try:
        page = anonymous(app).get("/dataset/annuaire-mini")
        assert page.headers[HEADER] == "miss" and "Titre changé du jeu" in page.get_data(as_text=True)
    finally:
        helpers.call_action("package_patch", dict(ctx), id="annuaire-mini",
                            title="Annuaire de l'éducation — quelques collèges")


def test_a_resource_change_is_visible_on_the_next_anonymous_request(app, cache_portal):
    ctx = {"user": cache_portal.sysadmin["name"]}
    resource = cache_portal.datasets["annuaire-mini"]["resources"][0]
    url = f"/dataset/annuaire-mini/resource/{resource['id']}"
    assert "Ressource renommée" not in _cached(app, url)
    helpers.call_action("resource_patch", dict(ctx), id=resource["id"], name="Ressource renommée")
    page = anonymous(app).get(url)
    assert page.headers[HEADER] == "miss" and "Ressource renommée" in page.get_data(as_text=True)


def test_publishing_the_private_dataset_shows_it_on_the_establishment_page(app, cache_portal):
    ctx = {"user": cache_portal.sysadmin["name"]}
    url = f"/etablissement/{cache_portal.uai}.json"
    assert PRIVATE not in _cached(app, url)
    helpers.call_action("package_patch", dict(ctx), id=PRIVATE, private=False)
    try:
        page = anonymous(app).get(url)
        assert page.headers[HEADER] == "miss" and PRIVATE in page.get_data(as_text=True)
    finally:
        helpers.call_action("package_patch", dict(ctx), id=PRIVATE, private=True)
    assert PRIVATE not in anonymous(app).get(url).get_data(as_text=True)


def test_a_committed_ingestion_makes_the_pages_stale(app, cache_portal):
    _cached(app, "/territoire/france")
    ingest_events.announce_committed(model.meta.engine, "une-ressource")
    assert anonymous(app).get("/territoire/france").headers[HEADER] == "miss"


def test_languages_are_cached_separately(app, cache_portal):
    french = anonymous(app).get("/dataset/")
    english = anonymous(app).get("/en/dataset/")
    assert french.headers[HEADER] == "miss" and english.headers[HEADER] == "miss"
    assert 'lang="en"' in english.get_data(as_text=True)
    assert 'lang="en"' in anonymous(app).get("/en/dataset/").get_data(as_text=True)
    assert 'lang="fr"' in anonymous(app).get("/dataset/").get_data(as_text=True)


def test_query_parameters_in_any_order_share_an_entry(app, cache_portal):
    assert anonymous(app).get("/dataset/?q=ips&sort=name+asc").headers[HEADER] == "miss"
    assert anonymous(app).get("/dataset/?sort=name+asc&q=ips").headers[HEADER] == "hit"


def test_login_page_and_posts_are_never_cached(app, cache_portal):
    for _ in range(2):
        login = anonymous(app).get("/user/login")
        assert login.headers[HEADER] == "bypass"
    assert anonymous(app).post("/dataset/").headers.get(HEADER) in ("bypass", None)


@pytest.mark.ckan_config("ckanext.ecarto.page_cache.redis_url", "redis://127.0.0.1:1/0")
def test_pages_are_served_when_redis_is_down(app, cache_portal):
    for url in urls(cache_portal)[1:] + ["/", "/territoire/france"]:
        page = anonymous(app).get(url)
        assert page.status_code == 200, url
        assert page.headers[HEADER] == "bypass", url
    assert anonymous(app).get(urls(cache_portal)[0]).status_code == 404     # the private dataset


def test_static_files_are_cacheable_by_browsers(app, cache_portal):
    logo = anonymous(app).get("/base/images/ckan-logo.png")
    assert logo.status_code == 200
    assert "max-age=3600" in logo.headers["Cache-Control"] and "public" in logo.headers["Cache-Control"]


def test_a_commit_outside_any_action_makes_the_pages_stale(app, cache_portal):
    assert "Titre écrit en base" not in _cached(app, "/dataset/annuaire-mini")
    package = model.Package.get("annuaire-mini")
    previous, package.title = package.title, "Titre écrit en base"
    package.metadata_modified = datetime.datetime.utcnow()     # else package_show answers from its index
    model.Session.commit()
    try:
        page = anonymous(app).get("/dataset/annuaire-mini")
        assert page.headers[HEADER] == "miss" and "Titre écrit en base" in page.get_data(as_text=True)
    finally:
        package = model.Package.get("annuaire-mini")
        package.title = previous
        model.Session.commit()


def test_reads_do_not_make_the_pages_stale(app, cache_portal):
    url = f"/etablissement/{cache_portal.uai}"
    _cached(app, url)
    helpers.call_action("package_show", {"user": ""}, id="annuaire-mini")
    helpers.call_action("ecarto_etablissement_show", {"user": ""}, uai=cache_portal.uai)
    assert anonymous(app).get(url).headers[HEADER] == "hit"


def test_a_restart_with_another_configuration_renders_again(app, cache_portal, ckan_config, monkeypatch):
    before = pagecache.fingerprint()
    assert "moins de 70 %" not in re.sub(r"\s+", " ", html.unescape(_cached(app, "/about")))
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.coverage_threshold", "0.7")
    assert pagecache.fingerprint() != before
    restarted = helpers._get_test_app()
    page = restarted.test_client().get("/about")
    assert page.headers[HEADER] == "miss"
    assert "moins de 70 %" in re.sub(r"\s+", " ", html.unescape(page.get_data(as_text=True)))


@pytest.mark.ckan_config("ckanext.ecarto.read_urls", "postgresql://lecture@127.0.0.1:1/replique-inutilisee")
@pytest.mark.ckan_config("ckanext.ecarto.page_cache.replica_settle_seconds", "30")
def test_with_replicas_a_page_rendered_just_after_a_change_lives_only_the_settling_time(cache_portal):
    client = pagecache.connection()
    pagecache.bump("test")
    assert pagecache.entry_ttl(client) == 30
    client.set(pagecache.bumped_at_key(), repr(time.time() - 60))
    assert pagecache.entry_ttl(client) == pagecache.ttl()


def test_any_request_with_the_session_cookie_bypasses_the_cache(app, cache_portal):
    anonymous(app).get("/dataset/")
    assert anonymous(app).get("/dataset/").headers[HEADER] == "hit"
    for cookie in ("ckan=abc", "autre=1; ckan=abc", 'x="a b"; ckan=abc', "remember_token=u1"):
        raw = app.test_client(use_cookies=False)             # the Cookie header as given
        assert raw.get("/dataset/", headers={"Cookie": cookie}).headers[HEADER] == "bypass", cookie
    raw = app.test_client(use_cookies=False)
    assert raw.get("/dataset/", headers={"Cookie": "_pk_id=1"}).headers[HEADER] == "hit"
