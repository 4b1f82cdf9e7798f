"""The index table (created by migration 0001_search_index).

Declared on CKAN's MetaData so the test fixture `clean_db` empties it like CKAN's own tables.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from ckan.model import meta

from ckanext.ecarto.core.tables import SEARCH_INDEX_TABLE

TABLE = SEARCH_INDEX_TABLE

# Index document keys that also have their own column (indexed, fast to filter and sort on).
COLUMN_FIELDS = ("id", "name", "site_id", "entity_type", "dataset_type", "state", "capacity",
                 "owner_org", "title_string", "index_id")
DATE_COLUMNS = ("metadata_created", "metadata_modified")
# Serialised dataset dicts of the index document, stored beside `doc` (only read for results).
PAYLOAD_FIELDS = ("data_dict", "validated_data_dict")
# Fields never counted from `facet_values` (long texts, identifiers, geometry): facets on them,
# if ever asked, are computed from `doc` instead.
NOT_FACETED = frozenset(PAYLOAD_FIELDS + ("notes", "title", "title_string", "text", "spatial", "index_id",
                                          "id", "url", "res_url", "res_description", "metadata_created",
                                          "metadata_modified", "permission_labels"))
FACET_SEPARATOR = "\x1f"
# Title sort key, `unaccent(lower(title_string))`, written with each row (migration 0006).
SORT_TITLE = "title_sort"
FACET_MAX_LENGTH = 200


def has_facet_value(key: str, item: Any) -> bool:
    """Whether `facet_values` holds `key<US>item` whenever the document's `key` is `item` or
    a list holding it (so that exact filters can read that indexed array instead of `doc`)."""
    return key not in NOT_FACETED and isinstance(item, str) and 0 < len(item) <= FACET_MAX_LENGTH


def facet_value(key: str, item: str) -> str:
    return f"{key}{FACET_SEPARATOR}{item}"


def facet_values(doc: dict) -> list[str]:
    """`field<US>value` for every short string value of the document (lists included), so that
    facet counts read one flat array instead of the whole document. Each once: a facet counts
    documents, as Solr does (a dataset with two CSV resources is one dataset in « CSV »)."""
    values: dict[str, None] = {}
    for key, value in doc.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if has_facet_value(key, item):
                values[facet_value(key, item)] = None
    return list(values)

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
        sa.Column("facet_values", ARRAY(sa.UnicodeText), nullable=False),
        sa.Column("bbox_minx", sa.Float), sa.Column("bbox_miny", sa.Float),
        sa.Column("bbox_maxx", sa.Float), sa.Column("bbox_maxy", sa.Float),
        sa.Column("doc", JSONB, nullable=False),
        sa.Column("data_dict", sa.UnicodeText),
        sa.Column("validated_data_dict", sa.UnicodeText),
        sa.Column("tsv", TSVECTOR, nullable=False),
        sa.Column(SORT_TITLE, sa.UnicodeText),
    )
