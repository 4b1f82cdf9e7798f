"""Fixtures of the ingestion tests: an empty database and data schema, and `load`."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Optional

import pytest
import sqlalchemy as sa


@pytest.fixture
def ingest_db(with_plugins, clean_db, migrate_db_for):
    """Empty CKAN database with the ecarto tables, and no leftover ingested data tables (the
    data schema is outside what clean_db drops). No search index: loader tests need none;
    tests creating datasets use `ecarto_db` too. The activity plugin (in test.ini) needs its
    own migration for package_create to record activities."""
    from ckan.model import meta

    migrate_db_for("activity")
    migrate_db_for("ecarto")
    from ckanext.ecarto.core.tables import schema_name

    with meta.engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))
    yield


@pytest.fixture
def engine():
    from ckan.model import meta
    return meta.engine


@pytest.fixture
def load(ingest_db):
    """Ingest a file as a fresh resource id (or a given one) without CKAN objects."""
    from ckanext.ecarto.ingest import ingest_file

    def run(path: Path, resource_id: Optional[str] = None, **kw: Any):
        return ingest_file(str(path), resource_id=resource_id or str(uuid.uuid4()),
                           package_id=kw.pop("package_id", "package-test"), **kw)
    return run


