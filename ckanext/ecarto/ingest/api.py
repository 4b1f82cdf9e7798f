"""The ingestion's Python API on CKAN resources: load a resource's file (uploaded, linked, or a
given path) with the loader, drop it, and the background job for large or remote files."""
from __future__ import annotations

import logging
import os
import tempfile
from typing import Any, Optional

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import files
from ckan.lib import uploader as ckan_uploader

from ckanext.ecarto import remote
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest.loader import drop_table, ingest_file, record_failure
from ckanext.ecarto.ingest.reader import ReadError
from ckanext.ecarto.ingest.report import IngestReport

log = logging.getLogger(__name__)

TABULAR_FORMATS = frozenset({"csv", "tsv", "txt", "text/csv", "xlsx", "xls", "ods", "json", "jsonl", "ndjson"})
TABULAR_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".ods", ".json", ".jsonl", ".csv.gz", ".json.gz")


def _resource(resource_id: str) -> dict[str, Any]:
    return tk.get_action("resource_show")({"ignore_auth": True}, {"id": resource_id})


def _package_millesime(package_id: str) -> Optional[str]:
    return _package_extra(package_id, "millesime")


def _package_extra(package_id: str, name: str) -> Optional[str]:
    package = model.Package.get(package_id)
    if package is None:
        return None
    value = package.extras.get(name)
    return value or None


def is_tabular(resource: dict[str, Any]) -> bool:
    fmt = (resource.get("format") or "").strip().lower().lstrip(".")
    url = (resource.get("url") or "").split("?")[0].lower()
    return fmt in TABULAR_FORMATS or url.endswith(TABULAR_EXTENSIONS)


def wants_ingestion(resource: dict[str, Any]) -> bool:
    """A tabular file, or a resource whose key column is declared."""
    if resource.get("uai_column") or resource.get("commune_column"):
        return True
    return is_tabular(resource)


def local_copy(resource: dict[str, Any]) -> tuple[Optional[str], bool]:
    """(path, temporary) of an uploaded resource's file, (None, False) for a link or a missing
    file. A `temporary` path must be removed by the caller.

    CKAN 2.12 keeps uploads either with the legacy uploader (an absolute path) or in a
    file-keeper storage (a location inside the storage): both are resolved; a storage that is not
    on the local disk is copied to a temporary file."""
    if resource.get("url_type") != "upload":
        return None, False
    upload = ckan_uploader.get_resource_uploader(dict(resource))
    location = upload.get_path(resource["id"])
    storage = getattr(upload, "storage", None)
    if storage is None:
        return (location, False) if location and os.path.exists(location) else (None, False)
    try:
        full = storage.full_path(location)
        if os.path.isabs(full) and os.path.exists(full):
            return full, False
    except Exception:  # noqa: BLE001 - not a local storage
        pass
    fd, target = tempfile.mkstemp(prefix="ecarto-ingest-")
    try:
        with os.fdopen(fd, "wb") as out:
            for block in storage.stream(files.FileData(location)):
                out.write(block)
    except Exception:  # noqa: BLE001 - missing file
        os.unlink(target)
        return None, False
    return target, True


def download(url: str) -> str:
    """Fetch a linked file to a temporary path (size-limited like CKAN uploads; public addresses
    only, see remote.py)."""
    limit = int(tk.config.get("ckan.max_resource_size") or 10) * 1024 * 1024
    fd, path = tempfile.mkstemp(prefix="ecarto-ingest-", suffix=os.path.splitext(url.split("?")[0])[1])
    size = 0
    try:
        with remote.open_url(url) as response, os.fdopen(fd, "wb") as out:
            for block in response.iter_content(1 << 20):
                size += len(block)
                if size > limit:
                    raise ReadError(_("Fichier distant trop volumineux (plus de {size} Mo).").format(
                        size=limit // (1024 * 1024)), code="download")
                out.write(block)
    except remote.RemoteError as exc:
        os.unlink(path)
        raise ReadError(str(exc), code="download", detail=repr(exc)) from exc
    except Exception:
        os.unlink(path)
        raise
    return path


def ingest_resource(resource_id: str, path: Optional[str] = None, *, force: bool = False,
                    progress: Any = None) -> IngestReport:
    """Load a resource's file into PostgreSQL and record it in the registry.

    The file is ``path`` when given, else the uploaded file in CKAN's storage, else the
    resource's URL (downloaded). Never raises for bad files: see the report's ``status``.
    """
    resource = _resource(resource_id)
    package_id = resource["package_id"]
    millesime = resource.get("millesime") or _package_millesime(package_id)
    temporary = None
    if path is None:
        path, is_temp = local_copy(resource)
        temporary = path if is_temp else None
    if path is None:
        url = resource.get("url") or ""
        if resource.get("url_type") == "upload" or not url.startswith(("http://", "https://")):
            return record_failure(resource_id, package_id, _(
                "Le fichier de la ressource est introuvable (ni fichier déposé ni URL téléchargeable)."),
                "missing")
        try:
            temporary = path = download(url)
        except ReadError as exc:
            log.info("Téléchargement de %s refusé : %s", resource_id, exc)
            return record_failure(resource_id, package_id, str(exc), exc.code, exc.detail)
    try:
        return ingest_file(
            path, resource_id=resource_id, package_id=package_id,
            uai_column=resource.get("uai_column") or None,
            commune_column=resource.get("commune_column") or None,
            millesime=millesime, data_dictionary=resource.get("data_dictionary") or None,
            axe=_package_extra(package_id, "axe"), force=force, progress=progress,
            sheet=resource.get("feuille") or None,
        )
    finally:
        if temporary:
            os.unlink(temporary)


def drop_resource(resource_id: str) -> bool:
    """Drop the table and registry row of a resource (True when something existed)."""
    return drop_table(resource_id)


def ingest_job(resource_id: str, force: bool = False) -> dict[str, Any]:
    """Background job (``ckan jobs worker``) for large or remote files."""
    report = ingest_resource(resource_id, force=force)
    log.info("Ingestion de %s : %s", resource_id, report.message)
    return report.as_dict()
