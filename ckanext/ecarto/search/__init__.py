"""CKAN's search layer on PostgreSQL.

CKAN's index and query code (flattening, permission labels, plugin hooks, facets,
`ckan search-index …`, the `clean_index` test fixture, organization counts, autocomplete)
talks to Solr through one connection object made by `make_connection()`. With
`ckanext.ecarto.search_backend = postgres` (the default) that function returns a
`PgSolrConnection` instead, and everything above it keeps working unchanged.
With `solr`, CKAN's own functions are left (or put back) in place: pysolr talks to `solr_url`.
"""
from __future__ import annotations

import logging
from typing import Any

import ckan.lib.search as ckan_search
import ckan.lib.search.common as ckan_common
import ckan.lib.search.index as ckan_index
import ckan.lib.search.query as ckan_query
import ckan.plugins.toolkit as tk

from ckanext.ecarto.search.connection import PgSolrConnection

log = logging.getLogger(__name__)

PLACEHOLDER_SOLR_URL = "http://127.0.0.1:1/solr-unused"
BBOX_FIELD = "ecarto_bbox"
_installed = False
# The modules that imported CKAN's `make_connection` by name (each has its own reference).
_CKAN_MODULES = (ckan_search, ckan_common, ckan_index, ckan_query)
# CKAN's own functions, kept to give the hand back to Solr when the configuration says `solr`
# after the PostgreSQL backend was installed in the same process (a configuration reload, tests).
_CKAN_MAKE_CONNECTION = ckan_common.make_connection
_CKAN_CHECK_SCHEMA = ckan_search.check_solr_schema_version
_CKAN_IS_AVAILABLE = ckan_common.is_available


def backend_name(config: Any) -> str:
    return (config.get("ckanext.ecarto.search_backend") or "postgres").strip()


def make_connection(decode_dates: bool = True) -> Any:
    return PgSolrConnection()


def _schema_version_ok(*args: Any, **kwargs: Any) -> bool:
    """No Solr schema to check: the index lives in PostgreSQL."""
    return True


def _set_connection_factory(factory: Any) -> None:
    """`factory` as `make_connection` in every module that imported it, ckanext-harvest's included."""
    for module in _CKAN_MODULES:
        module.make_connection = factory
    try:
        # optional dependency: ckanext-harvest, when installed, keeps its own make_connection
        import ckanext.harvest.logic.action.update as harvest_update
        harvest_update.make_connection = factory
    except ImportError:
        pass


def install_pg_backend() -> None:
    """Point every module that imported `make_connection` at the PostgreSQL connection."""
    global _installed
    _set_connection_factory(make_connection)
    ckan_search.check_solr_schema_version = _schema_version_ok
    ckan_common.is_available = lambda: True
    _installed = True


def restore_solr_backend() -> None:
    """CKAN's own Solr functions back in place (pysolr to `solr_url`)."""
    global _installed
    _set_connection_factory(_CKAN_MAKE_CONNECTION)
    ckan_search.check_solr_schema_version = _CKAN_CHECK_SCHEMA
    ckan_common.is_available = _CKAN_IS_AVAILABLE
    _installed = False


def configure(config: Any) -> None:
    """Install the PostgreSQL backend unless `ckanext.ecarto.search_backend = solr`."""
    if backend_name(config) == "solr":
        solr_url = (config.get("solr_url") or "").strip()
        if not solr_url or solr_url == PLACEHOLDER_SOLR_URL:
            raise ValueError("ckanext.ecarto.search_backend = solr demande solr_url "
                             "(l'adresse du cœur Solr qui porte le schéma de CKAN)")
        restore_solr_backend()
        return
    if backend_name(config) != "postgres":
        raise ValueError("ckanext.ecarto.search_backend doit valoir postgres ou solr")
    if not config.get("solr_url"):
        config["solr_url"] = PLACEHOLDER_SOLR_URL
    install_pg_backend()


def is_active() -> bool:
    return _installed


def before_dataset_search(search_params: dict[str, Any]) -> dict[str, Any]:
    """`ext_bbox=minx,miny,maxx,maxy` (ckanext-spatial's convention) as a filter on the
    dataset's `spatial` bounding box; with Solr, ckanext-spatial does this itself."""
    if not _installed:
        return search_params
    extras = search_params.get("extras") or {}
    bbox = extras.get("ext_bbox")
    if bbox:
        clause = f'+{BBOX_FIELD}:"{str(bbox).replace(chr(34), "")}"'
        search_params["fq"] = f"{search_params.get('fq') or ''} {clause}".strip()
    return search_params


def portal_facets(facets: dict[str, Any]) -> dict[str, Any]:
    """CKAN's facets plus the axis, the territory level and the millésime of the datasets."""
    facets["axe"] = tk._("Axe")
    facets["territoire_niveau"] = tk._("Territoire couvert")
    facets["millesime"] = tk._("Millésime")
    return facets
