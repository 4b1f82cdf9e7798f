"""Ingestion of UAI- and commune-keyed resources into PostgreSQL (issue 4).

Python API (the contract the pages, harvesters and CLI rely on):

- ``ingest_resource(resource_id, path=None) -> IngestReport``: load the resource's file (from
  CKAN's storage, its URL, or ``path``) into ``<ingest_schema>.r_<resource id>``;
- ``read_table(path, ...)``: the robust chunked reader;
- ``drop_resource(resource_id)``: drop the table and its registry row;
- ``on_resource_changed`` / ``on_resource_deleted``: what the plugin's IResourceController hooks
  delegate to (synchronous for small uploads, a background job otherwise).

Where it lives: ``api`` (resources: load, drop, job), ``hooks`` (the resource hooks), ``loader``
(one file into one table), ``registry`` (every query on the registry table), ``events`` (what
ingestion announces: the directory and the aggregates subscribe in plugin.py). This module only
re-exports.
"""
from __future__ import annotations

from ckanext.ecarto.ingest.api import (
    TABULAR_EXTENSIONS, TABULAR_FORMATS, download, drop_resource, ingest_job, ingest_resource, is_tabular,
    local_copy, wants_ingestion,
)
from ckanext.ecarto.ingest.hooks import SKIP_FLAG, on_resource_changed, on_resource_deleted, sync_limit
from ckanext.ecarto.ingest.loader import (
    REGISTRY, drop_table, file_sha256, ingest_file, record_failure, status, table_basename,
)
from ckanext.ecarto.ingest.reader import ReadError, Table, TableFormat, read_table
from ckanext.ecarto.ingest.report import IngestReport

__all__ = [
    "IngestReport", "ReadError", "REGISTRY", "SKIP_FLAG", "TABULAR_EXTENSIONS", "TABULAR_FORMATS", "Table",
    "TableFormat", "download", "drop_resource", "drop_table", "file_sha256", "ingest_file", "ingest_job",
    "ingest_resource", "is_tabular", "local_copy", "on_resource_changed", "on_resource_deleted", "read_table",
    "record_failure", "status", "sync_limit", "table_basename", "wants_ingestion",
]
