"""CKAN's search index and queries on PostgreSQL (placeholder until the backend lands)."""
from __future__ import annotations

from typing import Any


def configure(config: Any) -> None:
    """Install the PostgreSQL backend unless `ckanext.ecarto.search_backend = solr`."""
    if (config.get("ckanext.ecarto.search_backend") or "postgres") == "solr":
        return
    if not config.get("solr_url"):
        config["solr_url"] = "http://127.0.0.1:1/solr-unused"
