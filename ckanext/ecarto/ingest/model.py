"""The ingestion registry: one row per ingested resource (what the pages read to find tables).

Declared on CKAN's MetaData so that the test fixture ``clean_db`` empties it; created by the
migrations ``0002_ingest``, ``0003_ingest_failure`` and ``0004_ingest_layout`` (``ckan db upgrade -p ecarto``).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ckan.model import meta

from ckanext.ecarto.core.tables import REGISTRY_TABLE

REGISTRY = REGISTRY_TABLE


def _columns() -> list[sa.Column]:
    return [
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("table_name", sa.UnicodeText),
        sa.Column("key_kind", sa.UnicodeText),
        sa.Column("key_column", sa.UnicodeText),
        sa.Column("millesime", sa.UnicodeText),
        sa.Column("columns", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("n_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejects", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("encoding", sa.UnicodeText),
        sa.Column("separator", sa.UnicodeText),
        sa.Column("header_line", sa.Integer),
        sa.Column("sha256", sa.UnicodeText),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("message", sa.UnicodeText),
        sa.Column("loaded_at", sa.DateTime),
        # not read by the pages: how the file was read and with which resource settings
        sa.Column("file_format", sa.UnicodeText),
        sa.Column("options_hash", sa.UnicodeText),
        # the last failure: {code, detail, at} (migration 0003; see ingest/messages.py)
        sa.Column("failure", JSONB),
        # the table's layout: period, reshape, rows per key and period (migration 0004; see
        # ingest/columns.py and ingest/layout.py)
        sa.Column("layout", JSONB),
    ]


registry_table = meta.metadata.tables.get(REGISTRY)
if registry_table is None:
    registry_table = sa.Table(REGISTRY, meta.metadata, *_columns())
