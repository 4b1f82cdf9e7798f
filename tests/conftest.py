"""Shared fixtures. CKAN's own pytest plugin (clean_db, with_plugins, app…) is loaded by the
`--ckan-ini=test.ini` option; see ../shared/docs or the README for the pitfalls handled here."""
from __future__ import annotations

import pytest


@pytest.fixture
def ecarto_db(clean_db, migrate_db_for, reset_index):
    """An empty CKAN database with the tables of activity, harvest and ecarto, and an empty index.

    The first `clean_db` of a session drops every table and replays only CKAN core's
    migrations, so plugin tables must be migrated again before each test.
    """
    for plugin in ("activity", "harvest", "ecarto"):
        migrate_db_for(plugin)
    reset_index()
