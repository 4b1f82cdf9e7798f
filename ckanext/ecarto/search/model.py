"""The index table (created by migration 0001_search_index).

Declared on CKAN's MetaData so the test fixture `clean_db` empties it like CKAN's own tables.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from ckan.model import meta

TABLE = "ecarto_search_index"

# Index document keys that also have their own column (indexed, fast to filter and sort on).
COLUMN_FIELDS = ("id", "name", "site_id", "entity_type", "dataset_type", "state", "capacity",
                 "owner_org", "title_string", "index_id")
DATE_COLUMNS = ("metadata_created", "metadata_modified")
# Serialised dataset dicts of the index document, stored beside `doc` (only read for results).
PAYLOAD_FIELDS = ("data_dict", "validated_data_dict")

index_table = meta.metadata.tables.get(TABLE)
if index_table is None:
    index_table = sa.Table(
        TABLE, meta.metadata,
        sa.Column("index_id", sa.UnicodeText, primary_key=True),
        sa.Column("id", sa.UnicodeText, nullable=False),
        *(sa.Column(name, sa.UnicodeText) for name in COLUMN_FIELDS if name not in ("id", "index_id")),
        sa.Column("metadata_created", sa.DateTime(timezone=True)),
        sa.Column("metadata_modified", sa.DateTime(timezone=True)),
        sa.Column("permission_labels", ARRAY(sa.UnicodeText), nullable=False),
        sa.Column("bbox_minx", sa.Float), sa.Column("bbox_miny", sa.Float),
        sa.Column("bbox_maxx", sa.Float), sa.Column("bbox_maxy", sa.Float),
        sa.Column("doc", JSONB, nullable=False),
        sa.Column("data_dict", sa.UnicodeText),
        sa.Column("validated_data_dict", sa.UnicodeText),
        sa.Column("tsv", TSVECTOR, nullable=False),
    )
