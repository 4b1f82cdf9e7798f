"""One path for every tabular file attached to a dataset of an axis (issue 15).

Whatever saved the resource — CKAN's web form, ``resource_create`` / ``resource_update`` /
``resource_patch`` through the API, a link (URL) — its file goes through the same validation as
the publication pages (``validation.report.validate_file`` against the axis's Table Schema)
before the loader sees it:

- a file without blocking error is loaded (``ingest.ingest_resource``), as before;
- a file with blocking errors stays what CKAN saved — a plain download — and is never loaded:
  no table of its own, nothing joined into establishment pages nor territory aggregates. The
  ingestion registry says why (status ``error`` for a new resource, failure code
  ``validation``; a version validated earlier stays in place and the failure is recorded
  beside it), so the resource page, the dataset page and ``ecarto_ingest_status`` show the
  French warning.

Datasets whose axis has no Table Schema (or no axis) keep the plain ingestion. The publication
pages and the CLI call the loader themselves after their own validation (``SKIP_FLAG``).

The validation runs where the ingestion would: during the request for small uploads, in the
background job (``guarded_job``) for large files and links.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Optional

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.ecarto import ingest
from ckanext.ecarto.core import access
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import hooks, messages
from ckanext.ecarto.ingest.report import IngestReport
from ckanext.ecarto.validation import tableschema
from ckanext.ecarto.validation.report import validate_file

log = logging.getLogger(__name__)

FAILURE_CODE = "validation"
MAX_ERRORS_IN_MESSAGE = 5
# Report codes of files refused before their content is checked, as the loader names them
# (the public status then says what is wrong in general terms: « trop de colonnes… »).
FILE_CODES = {"empty-file": "empty"}
# Report codes of a file that cannot be read as a table at all: the reader's own refusal
# (code, French message, technical detail) is recorded, as the loader would record it.
UNREADABLE = frozenset({"not-a-table", "empty-file", "too-many-columns", "line-too-long",
                        "decompressed-too-large", "nul-character"})


def axis_of(package_id: str) -> Optional[str]:
    """The dataset's axis when it has a Table Schema (None: no validation applies)."""
    package = model.Package.get(package_id)
    if package is None:
        return None
    axe = package.extras.get("axe")
    return axe if axe in tableschema.available_axes() else None


def _max_bytes() -> int:
    configured = tk.config.get("ckanext.ecarto.publication_max_bytes")
    if configured:
        return int(configured)
    return int(tk.config.get("ckan.max_resource_size") or 10) * 1024 * 1024


def _already_loaded(resource_id: str, path: str) -> bool:
    """These very bytes were validated and loaded before (a metadata-only update): the loader
    alone decides whether anything needs reloading."""
    row = ingest.status(resource_id)
    return bool(row and row.get("status") == "ok" and not row.get("failure")
                and row.get("sha256") == ingest.file_sha256(path))


def refusal_message(report: dict[str, Any]) -> str:
    """The publisher's message for a file the validation refused: what happens to it, then the
    first blocking errors."""
    errors = [e.get("message") or "" for e in report.get("errors") or []]
    shown = " ; ".join(m.rstrip(".") for m in errors[:MAX_ERRORS_IN_MESSAGE])
    cells = cell_errors(report)
    if cells:
        shown += " — " + " ; ".join(cells)
    more = len(errors) - MAX_ERRORS_IN_MESSAGE
    if more > 0:
        shown += " " + _("(et {n} autre(s) erreur(s))").format(n=more)
    return _("Fichier non validé, {n} erreur(s) bloquante(s) : {errors}. Il reste téléchargeable, mais ses données "
             "ne sont intégrées ni aux fiches des établissements ni aux chiffres des territoires. Corrigez-le et "
             "déposez-le par « Publier des données » pour voir le rapport de validation complet.").format(
        n=len(errors), errors=shown)


def cell_errors(report: dict[str, Any], limit: int = MAX_ERRORS_IN_MESSAGE) -> list[str]:
    """The first values refused by the Table Schema, with their line: what the publisher has
    to correct, since the report itself is not kept for a file saved outside the publication
    pages."""
    found = [_("ligne {line} : {message}").format(line=e.get("line"), message=(e.get("message") or "").rstrip("."))
             for e in ((report.get("schema") or {}).get("errors") or [])[:limit]]
    return found


def failure_code(report: dict[str, Any]) -> str:
    """The registry's failure code of a refused file: the loader's own code when the file
    itself cannot be taken (too many columns, not a table, empty…), ``validation`` otherwise."""
    first = ((report.get("errors") or [{}])[0].get("code") or "")
    code = FILE_CODES.get(first, first)
    return code if code in messages.PUBLIC_REASONS and code != "unreadable" else FAILURE_CODE


def reader_refusal(path: str, sheet: Optional[str] = None) -> Optional[ingest.ReadError]:
    """The reader's own refusal of a file (what the loader would record), None when it reads."""
    try:
        table = ingest.read_table(path, sheet=sheet)
        for _chunk in table.chunks():
            pass
    except ingest.ReadError as exc:
        return exc
    return None


def _refuse(resource: dict[str, Any], path: str, report: dict[str, Any]) -> IngestReport:
    """Record the refusal of a file (never loaded): the reader's words for a file that is no
    readable table, the validation's first errors otherwise."""
    first = ((report.get("errors") or [{}])[0].get("code") or "")
    if first in UNREADABLE:
        refusal = reader_refusal(path, resource.get("feuille") or None)
        if refusal is not None:
            return ingest.record_failure(resource["id"], resource["package_id"], str(refusal), refusal.code,
                                         refusal.detail)
    return ingest.record_failure(resource["id"], resource["package_id"], refusal_message(report),
                                 failure_code(report), _detail(report))


def _detail(report: dict[str, Any]) -> str:
    lines = [f"{e.get('code')}: {e.get('message')}" for e in (report.get("errors") or [])[:50]]
    return "\n".join(lines)


def validate_then_ingest(resource_id: str, path: Optional[str] = None, *, user: Optional[str] = None,
                         force: bool = False) -> IngestReport:
    """Validate the resource's file for its dataset's axis, then load it only when nothing
    blocks; a refused file is recorded (see the module docstring). Never raises for bad files."""
    resource = tk.get_action("resource_show")({"ignore_auth": True}, {"id": resource_id})
    axe = axis_of(resource["package_id"])
    if axe is None:
        return ingest.ingest_resource(resource_id, path, force=force)
    temporary = None
    if path is None:
        path, is_temp = ingest.local_copy(resource)
        temporary = path if is_temp else None
    try:
        if path is None:
            url = resource.get("url") or ""
            if resource.get("url_type") == "upload" or not url.startswith(("http://", "https://")):
                return ingest.ingest_resource(resource_id, force=force)  # the loader says the file is missing
            try:
                temporary = path = ingest.download(url)
            except ingest.ReadError as exc:
                return ingest.record_failure(resource_id, resource["package_id"], str(exc), exc.code, exc.detail)
        if not force and _already_loaded(resource_id, path):
            return ingest.ingest_resource(resource_id, path)
        report = validate_file(
            path, axe, filename=os.path.basename((resource.get("url") or path).split("?")[0]),
            uai_column=resource.get("uai_column") or None, commune_column=resource.get("commune_column") or None,
            reader=access.reader_for(user), max_bytes=_max_bytes(),
            data_dictionary=resource.get("data_dictionary") or None, sheet=resource.get("feuille") or None)
        if report.get("blocking"):
            log.info("Ressource %s refusée par la validation (%s) : %d erreur(s)", resource_id, axe,
                     len(report.get("errors") or []))
            return _refuse(resource, path, report)
        return ingest.ingest_resource(resource_id, path, force=force)
    finally:
        if temporary:
            os.unlink(temporary)


def guarded_job(resource_id: str, force: bool = False) -> dict[str, Any]:
    """Background job (``ckan jobs worker``) for large or linked files: validated, then loaded."""
    report = validate_then_ingest(resource_id, force=force)
    log.info("Ingestion de %s : %s", resource_id, report.message)
    return report.as_dict()


def on_resource_changed(context: dict[str, Any], resource: dict[str, Any]) -> Optional[IngestReport]:
    """IResourceController after create/update: the resource hook of ``ingest.hooks`` with the
    validation in front of the loader."""
    user = context.get("user")

    def load(resource_id: str, path: str) -> IngestReport:
        return validate_then_ingest(resource_id, path, user=user)

    return hooks.on_resource_changed(context, resource, load=load, job=guarded_job)
