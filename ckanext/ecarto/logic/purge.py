"""Purging cleans: what was derived from a dataset's files goes with the dataset.

CKAN's ``dataset_purge`` removes a dataset without calling the resource hooks, and
ckanext-harvest's ``harvest_source_clear`` deletes the datasets of a source by SQL: the ingested
tables of their resources, their rows of the establishment directory and their share of the
territory aggregates would stay behind (``ecarto_ingest_status`` still saying ``ok``). The chained
actions (``harvest_guard.get_actions``) collect the resource ids **before** the purge or the clear,
let it run, then drop each resource through the ingestion's public ``drop_resource`` (table,
registry row, directory rows; the aggregates follow its signal).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

import ckan.model as model
from ckan.types import Context, DataDict

from ckanext.harvest.model import HarvestObject

from ckanext.ecarto import ingest

log = logging.getLogger(__name__)

Action = Callable[[Context, DataDict], Any]


def resource_ids_of_packages(package_ids: Iterable[str]) -> list[str]:
    """Every resource of these datasets, whatever its state (a deleted resource may still have
    left a registry row behind when its hook failed)."""
    ids = [p for p in package_ids if p]
    if not ids:
        return []
    rows = model.Session.query(model.Resource.id).filter(model.Resource.package_id.in_(ids)).all()
    return [row[0] for row in rows]


def package_ids_of_source(source_id: str) -> list[str]:
    """The datasets a harvest source created (those its ``harvest_source_clear`` deletes)."""
    rows = (model.Session.query(HarvestObject.package_id)
            .filter(HarvestObject.harvest_source_id == source_id)
            .filter(HarvestObject.package_id.isnot(None)).distinct().all())
    return [row[0] for row in rows]


def drop_resources(resource_ids: Iterable[str]) -> int:
    """Drop what the ingestion derived from these resources; returns how many had something. A
    failure is logged and does not stop the others (the purge itself is already done)."""
    dropped = 0
    for resource_id in resource_ids:
        try:
            dropped += bool(ingest.drop_resource(resource_id))
        except Exception:  # noqa: BLE001 - the purge happened: clean as much as possible
            log.exception("Données de la ressource %s non supprimées après la purge", resource_id)
    return dropped


def _source_id(data_dict: DataDict) -> str:
    ident = data_dict.get("id") if isinstance(data_dict, dict) else None
    if not isinstance(ident, str) or not ident:
        return ""
    package = model.Package.get(ident)
    return package.id if package is not None else ident


def around_source_clear(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """``harvest_source_clear``, then the tables of the cleared datasets' resources dropped."""
    package_ids = package_ids_of_source(_source_id(data_dict))
    resource_ids = resource_ids_of_packages(package_ids)
    result = next_action(context, data_dict)
    # ckanext-harvest runs its own "BEGIN; … COMMIT;" through the session's connection: the session
    # still believes a transaction is open while the server has none, so the next statements would
    # run outside any transaction (deferred constraints checked at once). Commit to resynchronise.
    model.Session.commit()
    drop_resources(resource_ids)
    return result


def around_dataset_purge(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """``dataset_purge``, then the tables of the purged dataset's resources dropped."""
    ident = data_dict.get("id") if isinstance(data_dict, dict) else None
    package = model.Package.get(ident) if isinstance(ident, str) and ident else None
    resource_ids = resource_ids_of_packages([package.id]) if package is not None else []
    result = next_action(context, data_dict)
    drop_resources(resource_ids)
    return result
