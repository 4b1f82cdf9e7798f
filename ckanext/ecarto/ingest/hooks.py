"""What the plugin's IResourceController hooks delegate to: a saved tabular resource is
ingested (synchronously when small, in a background job otherwise), a deleted one dropped. A
hook never fails the request that saved or deleted the resource.

How a file is loaded is given by the caller (``load`` and ``job``): the plugin passes those of
``validation.gate``, which validate the file for its dataset's axis before loading it (the
validation sits above the ingestion in the architecture); without them the file is loaded as
is."""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest.api import drop_resource, ingest_job, ingest_resource, local_copy, wants_ingestion
from ckanext.ecarto.ingest.loader import record_failure, status
from ckanext.ecarto.ingest.queue import enqueue_once
from ckanext.ecarto.ingest.report import IngestReport

log = logging.getLogger(__name__)

# Context flag of the resource actions called by code that ingests by itself afterwards
# (publication, harvests, `ckan ecarto load`): the hooks then do nothing.
SKIP_FLAG = "ecarto_skip_ingest"

# (resource id, local path) -> report: loads a file now; a job function (resource id) loads
# it in the background.
Load = Callable[[str, str], IngestReport]
Job = Callable[..., Any]


def _plain_load(resource_id: str, path: str) -> IngestReport:
    return ingest_resource(resource_id, path)


def sync_limit() -> int:
    """Largest uploaded file loaded during the request that saved it (larger: a background job)."""
    return int(tk.config.get("ckanext.ecarto.ingest_sync_max_bytes") or 20 * 1024 * 1024)


def on_resource_changed(context: dict[str, Any], resource: dict[str, Any], *, load: Optional[Load] = None,
                        job: Optional[Job] = None) -> Optional[IngestReport]:
    """IResourceController after create/update: ingest a tabular file (sync when small) with
    `load` (default: as is), or enqueue `job` (default: ``ingest_job``).

    Never fails the request that saved the resource: problems are logged and, for bad files,
    written to the registry (see ``ecarto_ingest_status``)."""
    if context.get(SKIP_FLAG):
        return None
    try:
        return _on_resource_changed(resource, load or _plain_load, job or ingest_job)
    except Exception as exc:  # noqa: BLE001
        log.exception("Ingestion de la ressource %s impossible", resource.get("id"))
        _record_unexpected(resource, exc)
        return None


def _record_unexpected(resource: dict[str, Any], exc: Exception) -> None:
    """Say in the ingestion status that something went wrong (best effort: the request that
    saved the resource must not fail)."""
    if not resource.get("id") or not resource.get("package_id"):
        return
    try:
        record_failure(resource["id"], resource["package_id"],
                       _("Erreur inattendue pendant le chargement."), "internal", f"{type(exc).__name__}: {exc}")
    except Exception:  # noqa: BLE001
        log.exception("Échec du chargement de %s non enregistré", resource.get("id"))


def _on_resource_changed(resource: dict[str, Any], load: Load, job: Job) -> Optional[IngestReport]:
    if not wants_ingestion(resource):
        if status(resource["id"]) is not None:
            drop_resource(resource["id"])
        return None
    path, temporary = local_copy(resource)
    try:
        if path is not None and os.path.getsize(path) <= sync_limit():
            report = load(resource["id"], path)
            log.info("Ingestion de %s : %s", resource["id"], report.message)
            return report
    finally:
        if temporary and path:
            os.unlink(path)
    if path is None and not (resource.get("url") or "").startswith(("http://", "https://")):
        return None
    title = _("eCarto : chargement de {resource}").format(resource=resource["id"])
    enqueue_once(job, resource["id"], title=title)   # one waiting job per resource, whatever the node
    return None


def on_resource_deleted(context: dict[str, Any], resource: dict[str, Any]) -> None:
    """IResourceController before delete: drop the resource's table."""
    resource_id = resource.get("id")
    if not resource_id:
        return
    try:
        drop_resource(resource_id)
    except Exception:  # noqa: BLE001 - deleting the resource must still work
        log.exception("Table de la ressource %s non supprimée", resource_id)
