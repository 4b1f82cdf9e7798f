"""Shared fixtures. CKAN's own pytest plugin (clean_db, with_plugins, app…) is loaded by the
`--ckan-ini=test.ini` option; see the README for the pitfalls handled here.

Browser tests: the portal served by a real HTTP server on loopback, driven by headless
Chromium (Debian's /usr/bin/chromium) through Playwright. Screenshots go to tests/screenshots/."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server


PLUGIN_MIGRATIONS = ("activity", "harvest", "ecarto")


@pytest.fixture(scope="module")
def module_portal_db(reset_db, migrate_db_for, reset_index):
    """For modules that build one read-only catalogue: plugins loaded, empty database with every
    plugin's tables, empty index, no leftover ingested tables. Unloads the plugins at the end."""
    import sqlalchemy as sa
    import ckan.model as model
    import ckan.plugins as plugins
    from ckanext.ecarto.core.tables import schema_name

    plugins.load_all()
    reset_db()
    for plugin in PLUGIN_MIGRATIONS:
        migrate_db_for(plugin)
    reset_index()
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))
    yield
    plugins.unload_all()


@pytest.fixture
def ecarto_db(clean_db, migrate_db_for, reset_index):
    """An empty CKAN database with the tables of activity, harvest and ecarto, and an empty index.

    The first `clean_db` of a session drops every table and replays only CKAN core's
    migrations, so plugin tables must be migrated again before each test.
    """
    for plugin in PLUGIN_MIGRATIONS:
        migrate_db_for(plugin)
    reset_index()


CHROMIUM = os.environ.get("ECARTO_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
]


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    message = f"Chromium introuvable ({CHROMIUM}) : `make test` l'installe (paquet Debian chromium)."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def live_server(app, monkeypatch) -> Iterator[str]:
    """The CKAN WSGI application of the test session, served over HTTP in a thread.

    `ckan.site_url` points at this server while it runs, so CKAN's absolute redirects (after a
    login or a dataset creation) stay on it."""
    from ckan.common import config

    server = make_server("127.0.0.1", 0, app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(config, "ckan.site_url", url)
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(live_server):
    """A Playwright page in headless Chromium, French locale, 1280×900."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name) saves a full-page PNG under tests/screenshots/."""
    def take(pg, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path
    return take
