"""The portal's own PostgreSQL names: the schema of the ingested tables and the tables the
portal keeps beside CKAN's. Defined here only; each table has one owner module that runs every
query on it (the registry: ``ingest/registry.py``; the directory: ``etablissements/directory.py``;
the aggregates: ``territoires/aggregates.py``; the search index: ``search/``).
"""
from __future__ import annotations

import re

SCHEMA_OPTION = "ckanext.ecarto.ingest_schema"
DEFAULT_SCHEMA = "ecarto_data"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

# In CKAN's schema (public): one row per ingested resource.
REGISTRY_TABLE = "ecarto_ingested_resource"
# In CKAN's schema: the PostgreSQL search index that replaces Solr.
SEARCH_INDEX_TABLE = "ecarto_search_index"

# In the ingest schema: one table per ingested resource, ``r_<resource id>``.
RESOURCE_TABLE_PREFIX = "r_"
# In the ingest schema: the establishments of every directory dataset, one row per (resource, UAI).
DIRECTORY_TABLE = "etablissement_source"
# In the ingest schema: the territory aggregates, rebuilt together then swapped in.
AGGREGATE_TABLES: tuple[str, ...] = ("territoire_departement", "territoire_commune",
                                     "territoire_etablissement", "territoire_serie",
                                     "territoire_agregat", "territoire_effectif")
# In the ingest schema: the data version the aggregates were computed for.
AGGREGATE_STATE_TABLE = "territoire_etat"


def schema_name() -> str:
    """The schema of the ingested tables (``ckanext.ecarto.ingest_schema``), checked: it is
    written into SQL as an identifier."""
    try:
        # optional dependency: CKAN is loaded lazily, scripts and bench run without an app
        import ckan.plugins.toolkit as tk
        name = tk.config.get(SCHEMA_OPTION) or DEFAULT_SCHEMA
    except Exception:  # noqa: BLE001 - outside a CKAN app (scripts)
        name = DEFAULT_SCHEMA
    if not _SCHEMA_NAME.match(name):
        raise ValueError(f"{SCHEMA_OPTION} invalide : {name!r}")
    return name


def qualified(table: str) -> str:
    """``"<schema>".<table>`` for a table of the ingest schema."""
    return f'"{schema_name()}".{table}'
