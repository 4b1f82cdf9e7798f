"""The availability checks of resources: one row per resource, its last check (created by the
migration ``0005_resource_availability``; ``ckan db upgrade -p ecarto``). Declared on CKAN's
MetaData so that the test fixture ``clean_db`` empties it. Only ``store.py`` queries it."""
from __future__ import annotations

import sqlalchemy as sa

from ckan.model import meta

AVAILABILITY_TABLE = "ecarto_resource_availability"


def _columns() -> list[sa.Column]:
    return [
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("url", sa.UnicodeText, nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        # the HTTP status of the last answer (None: no answer — refused, timed out, unreachable)
        sa.Column("http_status", sa.Integer),
        sa.Column("detail", sa.UnicodeText),
        sa.Column("checked_at", sa.DateTime, nullable=False),  # UTC
    ]


availability_table = meta.metadata.tables.get(AVAILABILITY_TABLE)
if availability_table is None:
    availability_table = sa.Table(AVAILABILITY_TABLE, meta.metadata, *_columns())
