"""Publication by the collectivités (issue 7): validate a file for an axis, then publish it as a
resource of one of their datasets and ingest it like harvested data.

Actions:

- ``ecarto_validate_resource``: the validation report of an upload, a URL or an existing
  resource, for an axis (given, or the dataset's);
- ``ecarto_publish_resource``: validate an upload or URL and, only when the report has no
  blocking error, create (or replace) the resource and ingest it. A refused file raises a
  ValidationError carrying the report; nothing of the dataset changes.

The web pages (views/publication.py) use the same functions with a staging step in between, so
the publisher reads the report before confirming.

Column roles (issue 14): the report shows the column model the ingestion will give the file;
the publisher's corrections (``staged_role_changes``) are kept with the staged file, validated
again and written into the resource's ``data_dictionary`` at publication. Later, an editor
corrects them on the resource page (``update_column_roles``): the data dictionary is patched
and the stored file loaded again; a role the data contradict is refused by the loader, the
previous table and dictionary stay.

One path (issue 15): a file attached to a dataset by any other way (CKAN's resource form or
actions, a link) is validated the same way before it is loaded (``on_resource_changed``, the
plugin's resource hook, see ``validation.gate``); the resource form of a dataset of an axis is
this publication form (``is_tabular_upload`` sends documents — PDF, notes — straight to a plain
resource, ``publish_document``).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Optional

import ckan.plugins.toolkit as tk
from ckan.model import meta
from ckan.types import AuthResult, Context, DataDict
from werkzeug.datastructures import FileStorage

from ckanext.ecarto import ingest, remote
from ckanext.ecarto.core import access, roles
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.ingest import columns
from ckanext.ecarto.ingest.coltypes import normalise_header
from ckanext.ecarto.ingest.queue import enqueue_once
from ckanext.ecarto.logic import schema
from ckanext.ecarto.validation import gate, staging, tableschema, validate_file
from ckanext.ecarto.validation.report import model_column, parse_role_choice

log = logging.getLogger(__name__)

FORMATS = {".csv": "CSV", ".tsv": "TSV", ".txt": "CSV", ".xlsx": "XLSX", ".ods": "ODS", ".json": "JSON",
           ".jsonl": "JSON"}
# Files the publication form validates (others — PDF, documents, images — are plain resources).
TABULAR_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods", ".json", ".jsonl", ".csv.gz", ".json.gz")


# --------------------------------------------------------------------------- settings

def max_bytes() -> int:
    """Largest file accepted for publication: ``ckanext.ecarto.publication_max_bytes``, else
    CKAN's ``ckan.max_resource_size`` (MB)."""
    configured = tk.config.get("ckanext.ecarto.publication_max_bytes")
    if configured:
        return int(configured)
    return int(tk.config.get("ckan.max_resource_size") or 10) * 1024 * 1024


def sync_limit() -> int:
    return int(tk.config.get("ckanext.ecarto.ingest_sync_max_bytes") or 20 * 1024 * 1024)


def dataset_axe(package: dict[str, Any]) -> Optional[str]:
    axe = package.get("axe")
    return axe if axe in tableschema.available_axes() else None


def _reader(context: Context) -> access.Reader:
    return access.reader_for(context.get("user"))


# --------------------------------------------------------------------------- files in

def _format_for(filename: str) -> str:
    return FORMATS.get(os.path.splitext(filename.lower())[1], "CSV")


def _filename_from_url(url: str) -> str:
    name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return staging.safe_filename(name or "donnees.csv")


def stage_input(data_dict: DataDict, *, package_id: str, user: str,
                resource_id: Optional[str] = None) -> staging.Staged:
    """Stage the ``upload`` (a file) or ``url`` of a request. Raises ValidationError when
    neither is given, a parameter is invalid (``schema.staging_schema``: the publication pages
    call this directly) or the URL cannot be fetched."""
    data_dict = schema.validate({k: data_dict.get(k) for k in schema.staging_schema()}, schema.staging_schema)
    upload = data_dict.get("upload")
    url = data_dict.get("url") or ""
    options = {k: data_dict.get(k) or None for k in ("uai_column", "commune_column", "feuille")}
    limit = max_bytes()
    if upload is not None and hasattr(upload, "stream") and getattr(upload, "filename", None):
        return staging.create(upload.stream, filename=upload.filename, package_id=package_id, user=user,
                              max_bytes=limit, resource_id=resource_id, options=options)
    if url:
        try:
            with remote.open_url(url) as response:
                response.raw.decode_content = True
                return staging.create(response.raw, filename=_filename_from_url(url), package_id=package_id,
                                      user=user, max_bytes=limit, source_url=url, resource_id=resource_id,
                                      options=options)
        except remote.RemoteError as exc:
            raise tk.ValidationError({"url": [str(exc)]})
    raise tk.ValidationError({"upload": [tk._("Déposez un fichier (CSV, XLSX ou ODS) ou indiquez son adresse (URL).")]})


def is_tabular_upload(filename: Optional[str], url: Optional[str] = None) -> bool:
    """Whether a deposit is a data table the validation must check: by the file name or the
    address (an address without a known extension is treated as a table: it is checked)."""
    name = (filename or "").strip().lower()
    if name:
        return "." not in name or name.endswith(TABULAR_SUFFIXES)
    path = (url or "").split("?")[0].split("#")[0].rstrip("/").lower()
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith(TABULAR_SUFFIXES)


def publish_document(context: Context, package: dict[str, Any], *, upload: Any = None, url: str = "",
                     name: Optional[str] = None, description: Optional[str] = None) -> dict[str, Any]:
    """A resource that is not a data table (documentation, PDF, link to a page), created as
    CKAN does; the resource hook still checks that it holds no table."""
    fields: dict[str, Any] = {"package_id": package["id"], "description": description or ""}
    if upload is not None and getattr(upload, "filename", None):
        fields.update(upload=upload, url=upload.filename,
                      name=(name or "").strip() or os.path.splitext(upload.filename)[0])
    elif url:
        fields.update(url=url, name=(name or "").strip() or _filename_from_url(url))
    else:
        raise tk.ValidationError({"upload": [tk._("Déposez un fichier ou indiquez son adresse (URL).")]})
    resource = tk.get_action("resource_create")({"user": context.get("user")}, fields)
    if package.get("state") == "draft":
        tk.get_action("package_patch")({"user": context.get("user")}, {"id": package["id"], "state": "active"})
    return resource


def on_resource_changed(context: Context, resource: dict[str, Any]) -> Any:
    """The plugin's resource hook (after create/update): the file is validated for the
    dataset's axis before it is loaded; a refused file stays a plain download (``gate``)."""
    return gate.on_resource_changed(context, resource)


def dataset_millesime(package_id: Optional[str]) -> Optional[str]:
    """The dataset's millésime: the period the establishment pages give rows of a file without a
    period column, so the report's preview shows the same lines (None without a dataset)."""
    if not package_id:
        return None
    package = tk.get_action("package_show")({"ignore_auth": True}, {"id": package_id})
    return str(package.get("millesime") or "") or None


def validate_staged(staged: staging.Staged, axe: str, reader: access.Reader) -> dict[str, Any]:
    """Validate a staged file and keep the report with it. The column roles are those of the
    replaced resource's data dictionary with the publisher's corrections
    (``options["data_dictionary"]``); the roles inferred without any are remembered
    (``options["inferred_roles"]``) so that a correction back to them is no correction."""
    dictionary = staged_dictionary(staged)
    report = validate_file(staged.path, axe, filename=staged.filename,
                           uai_column=staged.options.get("uai_column"),
                           commune_column=staged.options.get("commune_column"),
                           reader=reader, max_bytes=max_bytes(), data_dictionary=dictionary,
                           sheet=staged.options.get("feuille"), millesime=dataset_millesime(staged.package_id))
    if staged.source_url:
        report["file"]["url"] = staged.source_url
    if dictionary is None and report.get("modele"):
        staged.options["inferred_roles"] = {c["source"]: c["choice"] for c in report["modele"]["columns"]}
    staged.report = report
    staging.save(staged)
    return report


# --------------------------------------------------------------------------- column roles

def _replaced_dictionary(staged: staging.Staged) -> Any:
    """The data dictionary of the resource a staged file replaces (None for a new resource)."""
    if not staged.resource_id:
        return None
    try:
        resource = tk.get_action("resource_show")({"ignore_auth": True}, {"id": staged.resource_id})
    except tk.ObjectNotFound:
        return None
    return resource.get("data_dictionary") or None


def merge_dictionary(existing: Any, changes: list[dict[str, Any]]) -> Any:
    """The data dictionary `existing` (JSON text, list of columns or {"columns", "layout"}) with
    the roles of `changes` ({column, role, aggregation}; role None: back to the inferred role):
    an entry of the same column keeps its other fields (label, unit…). Same shape as `existing`;
    None when nothing is left."""
    entries, layout = columns.dictionary_parts(existing)
    merged = [dict(e) for e in entries if isinstance(e, dict)]
    by_column = {normalise_header(str(e.get("column") or "")): e for e in merged}
    for change in changes:
        entry = by_column.get(normalise_header(change["column"]))
        if entry is None:
            entry = {"column": change["column"]}
            merged.append(entry)
            by_column[normalise_header(change["column"])] = entry
        for key in ("role", "aggregation"):
            entry.pop(key, None)
        if change.get("role"):
            entry["role"] = change["role"]
        if change.get("role") == roles.MEASURE and change.get("aggregation"):
            entry["aggregation"] = change["aggregation"]
    merged = [e for e in merged if set(e) - {"column"}]
    if layout:
        return {"columns": merged, "layout": layout}
    return merged or None


def staged_dictionary(staged: staging.Staged) -> Any:
    """The data dictionary a staged file is validated and published with."""
    changes = staged.options.get("data_dictionary") or []
    existing = _replaced_dictionary(staged)
    return merge_dictionary(existing, changes) if changes else existing


def _changed(submitted: dict[str, str], shown: dict[str, dict[str, Any]]) -> dict[str, tuple[str, Optional[str]]]:
    """The roles chosen in a form ({column: choice}) for columns shown as editable, when they
    differ from the shown ones, checked."""
    parsed = {}
    for column, choice in submitted.items():
        if column not in shown or choice == shown[column].get("choice"):
            continue
        role = parse_role_choice(choice)
        if role is None:
            raise tk.ValidationError({"role": [tk._("Rôle inconnu pour la colonne « {column} » : « {role} ».").format(
                column=column, role=choice)]})
        parsed[column] = role
    return parsed


def _entry(column: str, role: str, aggregation: Optional[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"column": column, "role": role}
    if role == roles.MEASURE and aggregation:
        entry["aggregation"] = aggregation
    return entry


def staged_role_changes(staged: staging.Staged, submitted: dict[str, str]) -> list[dict[str, Any]]:
    """The publisher's corrections of the roles shown in a staged file's report ({column:
    choice} from the form), merged with the earlier ones: only roles that differ from the
    inferred ones are kept. Raises ValidationError for an unknown role."""
    model = (staged.report or {}).get("modele") or {}
    shown = {c["source"]: c for c in model.get("columns") or [] if c.get("editable")}
    inferred = staged.options.get("inferred_roles") or {}
    changes = {e["column"]: e for e in staged.options.get("data_dictionary") or []}
    for column, (role, aggregation) in _changed(submitted, shown).items():
        if inferred.get(column) == submitted[column]:
            changes.pop(column, None)
        else:
            changes[column] = _entry(column, role, aggregation)
    return list(changes.values())


def resource_model(row: Optional[dict[str, Any]]) -> list[dict[str, Any]]:
    """The columns of an ingested resource's model as the pages show them (``model_column``):
    the key once, the period (not editable when it comes from columns of periods)."""
    if not row:
        return []
    reshaped = bool((columns.layout_of(row).get("reshape") or {}).get("periods_from_columns"))
    kept = row.get("columns") or []
    if any(c.get("name") != "_key" and c.get("source") == row.get("key_column") for c in kept):
        kept = [c for c in kept if c.get("name") != "_key"]  # the key column of the file says it
    shown = []
    for col in kept:
        shaped = model_column(col)
        if col.get("name") == columns.PERIOD_COLUMN and reshaped:
            shaped["editable"] = False
        shown.append(shaped)
    return shown


def _attempt(row: Optional[dict[str, Any]]) -> tuple[Any, ...]:
    row = row or {}
    return (row.get("loaded_at"), row.get("message"), json.dumps(row.get("failure"), sort_keys=True, default=str))


def update_column_roles(context: Context, resource_id: str, submitted: dict[str, str]) -> dict[str, Any]:
    """An editor's corrections of an ingested resource's roles ({column: choice}): the
    resource's data dictionary is patched (merged) and its stored file loaded again, so that
    the pages follow without a new upload. A role the data contradict is refused by the loader:
    the previous table stays and so does the dictionary that describes it.

    Returns {"changed": bool, "refused": bool, "queued": bool, "message": str|None}. Raises
    NotAuthorized (who may not update the resource), ObjectNotFound, ValidationError."""
    resource = tk.get_action("resource_show")(context, {"id": resource_id})
    tk.check_access("resource_update", context, {"id": resource_id})
    before = ingest.status(resource_id)
    shown = {c["source"]: c for c in resource_model(before) if c.get("editable")}
    changes = [_entry(column, role, aggregation)
               for column, (role, aggregation) in _changed(submitted, shown).items()]
    if not changes:
        return {"changed": False, "refused": False, "queued": False, "message": None}
    previous = resource.get("data_dictionary") or ""
    merged = merge_dictionary(previous, changes)
    user = context.get("user")
    tk.get_action("resource_patch")({"user": user}, {
        "id": resource_id, "data_dictionary": json.dumps(merged, ensure_ascii=False) if merged else ""})
    after = ingest.status(resource_id)
    if _attempt(after) == _attempt(before):
        # a large or remote file: loaded by a background job
        return {"changed": True, "refused": False, "queued": True, "message": None}
    if after and after.get("failure"):
        # refused: the previous version stays, described by the previous dictionary (no reload)
        tk.get_action("resource_patch")({"user": user, ingest.SKIP_FLAG: True},
                                        {"id": resource_id, "data_dictionary": previous})
        return {"changed": False, "refused": True, "queued": False, "message": after.get("message")}
    return {"changed": True, "refused": False, "queued": False, "message": (after or {}).get("message")}


# --------------------------------------------------------------------------- publishing

def publish_staged(context: Context, staged: staging.Staged, *, name: Optional[str] = None,
                   description: Optional[str] = None) -> dict[str, Any]:
    """Create or replace the resource from a staged file whose report has no blocking error,
    then ingest it. Returns {"resource", "ingest", "package"}."""
    report = staged.report
    if not report or report.get("blocking"):
        raise tk.ValidationError({"fichier": [tk._("Ce fichier a des erreurs bloquantes : il ne peut pas être publié.")]})
    user = context.get("user")
    package = tk.get_action("package_show")({"user": user}, {"id": staged.package_id})
    key = report.get("key") or {}
    fields: dict[str, Any] = {
        "name": (name or "").strip() or os.path.splitext(staged.filename)[0],
        "format": _format_for(staged.filename),
        "uai_column": key.get("column") if key.get("kind") == "uai" else "",
        "commune_column": key.get("column") if key.get("kind") == "commune" else "",
        "feuille": staged.options.get("feuille") or "",
    }
    if description is not None:
        fields["description"] = description
    if staged.options.get("data_dictionary"):
        dictionary = staged_dictionary(staged)
        fields["data_dictionary"] = json.dumps(dictionary, ensure_ascii=False) if dictionary else ""
    action_context = {"user": user, ingest.SKIP_FLAG: True}
    stream = None
    try:
        if staged.source_url:
            fields.update(url=staged.source_url, url_type="")
        else:
            stream = open(staged.path, "rb")
            fields.update(url=staged.filename, upload=FileStorage(stream=stream, filename=staged.filename))
        if staged.resource_id:
            resource = tk.get_action("resource_patch")(action_context, {"id": staged.resource_id, **fields})
        else:
            resource = tk.get_action("resource_create")(action_context, {"package_id": package["id"], **fields})
    finally:
        if stream is not None:
            stream.close()
    if package.get("state") == "draft":
        # the dataset form's second step: a dataset becomes visible with its first data
        tk.get_action("package_patch")({"user": user}, {"id": package["id"], "state": "active"})
    ingest_report = _ingest(resource["id"], staged)
    staging.discard(staged.token)
    return {"resource": resource, "ingest": ingest_report, "package": package["name"]}


def _ingest(resource_id: str, staged: staging.Staged) -> dict[str, Any]:
    """Load the validated bytes now (small files) or in a background job (large ones)."""
    if staged.size <= sync_limit():
        return ingest.ingest_resource(resource_id, staged.path, force=True).as_dict()
    job_id, _new = enqueue_once(ingest.ingest_job, resource_id, True, title=f"eCarto : chargement de {resource_id}")
    return {"queued": True, "job_id": job_id, "status": "queued",
            "message": "Fichier volumineux : chargement en base en arrière-plan."}


def pages_of(resource_id: str, reader: access.Reader, limit: int = 10) -> list[dict[str, Any]]:
    """Establishment pages that now show a published resource: (uai, nom) of its UAIs the
    directory knows, for the links after publication."""
    row = ingest.status(resource_id)
    if not row or row.get("status") != "ok" or row.get("key_kind") != "uai" or not row.get("table_name"):
        return []
    with meta.engine.connect() as conn:
        return directory.named_uais_of(conn, row["table_name"], reader, limit)


# --------------------------------------------------------------------------- actions

def _axe_for(context: Context, data_dict: DataDict) -> str:
    axe = data_dict.get("axe") or ""
    if not axe:
        package_id = data_dict.get("package_id")
        if not package_id and data_dict.get("id"):
            package_id = tk.get_action("resource_show")(context, {"id": data_dict["id"]})["package_id"]
        if package_id:
            axe = dataset_axe(tk.get_action("package_show")(context, {"id": package_id})) or ""
    if axe not in tableschema.available_axes():
        raise tk.ValidationError({"axe": [tk._("Axe inconnu ou manquant. Axes possibles : {axes}.").format(
            axes=", ".join(tableschema.available_axes()))]})
    return axe


def ecarto_validate_resource(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The validation report of a file for an axis, as the publication pages show it.

    :param upload: the file (multipart upload), or
    :param url: its address, or
    :param id: an existing resource (its stored file or URL)
    :param axe: the axis (default: the dataset's, from ``package_id`` or the resource)
    :param package_id: the dataset the file is meant for (optional)
    :param uai_column: the UAI column when it is not detected (optional)
    :param feuille: the sheet of an XLSX or ODS workbook, by name or number (default: the first)
    :param commune_column: the commune code column (optional)
    :returns: the report (``valid``, ``blocking``, ``verdict``, ``summary``, ``file``, ``key``,
        ``uai``, ``schema``, ``preview``, ``errors``, ``warnings``, ``infos``…)
    """
    data_dict = schema.validate(data_dict, schema.validate_resource_schema, context)
    tk.check_access("ecarto_validate_resource", context, data_dict)
    axe = _axe_for(context, data_dict)
    user = context.get("user") or ""
    reader = _reader(context)
    if data_dict.get("id") and not data_dict.get("upload") and not data_dict.get("url"):
        return _validate_existing(context, data_dict, axe, reader)
    staged = stage_input(data_dict, package_id=data_dict.get("package_id") or "", user=user)
    try:
        return validate_staged(staged, axe, reader)
    finally:
        staging.discard(staged.token)


def _validate_existing(context: Context, data_dict: DataDict, axe: str, reader: access.Reader) -> dict[str, Any]:
    resource = tk.get_action("resource_show")(context, {"id": data_dict["id"]})
    path, temporary = ingest.local_copy(resource)
    try:
        if path is None:
            url = resource.get("url") or ""
            staged = stage_input({"url": url, "feuille": resource.get("feuille"),
                                  **{k: data_dict.get(k) for k in ("uai_column", "commune_column", "feuille") if data_dict.get(k)}},
                                 package_id=resource["package_id"], user=context.get("user") or "")
            try:
                return validate_staged(staged, axe, reader)
            finally:
                staging.discard(staged.token)
        return validate_file(path, axe, filename=os.path.basename(resource.get("url") or path),
                             uai_column=data_dict.get("uai_column") or resource.get("uai_column") or None,
                             commune_column=data_dict.get("commune_column") or resource.get("commune_column") or None,
                             reader=reader, max_bytes=max_bytes(),
                             data_dictionary=resource.get("data_dictionary") or None,
                             sheet=data_dict.get("feuille") or resource.get("feuille") or None,
                             millesime=dataset_millesime(resource["package_id"]))
    finally:
        if temporary and path:
            os.unlink(path)


def ecarto_publish_resource(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Validate a file and publish it only when its report has no blocking error.

    :param package_id: the dataset (its axis decides the schema)
    :param upload: the file (multipart upload), or
    :param url: its address
    :param resource_id: the resource to replace (default: a new resource)
    :param name: the resource's name (default: the file name)
    :param description: the resource's description (optional)
    :param uai_column: the UAI column when it is not detected (optional)
    :param feuille: the sheet of an XLSX or ODS workbook, by name or number (default: the first)
    :returns: {"resource", "report", "ingest", "package"}; a refused file raises a
        ValidationError whose ``rapport`` holds the report, and changes nothing
    """
    data_dict = schema.validate(data_dict, schema.publish_resource_schema, context)
    package_id = data_dict["package_id"]
    tk.check_access("ecarto_publish_resource", context, data_dict)
    package = tk.get_action("package_show")(context, {"id": package_id})
    axe = dataset_axe(package)
    if axe is None:
        raise tk.ValidationError({"axe": [tk._("Le jeu de données n'a pas d'axe : choisissez-en un avant de publier.")]})
    resource_id = data_dict.get("resource_id") or None
    if resource_id:
        resource = tk.get_action("resource_show")(context, {"id": resource_id})
        if resource["package_id"] != package["id"]:
            raise tk.ValidationError({"resource_id": [tk._("Cette ressource appartient à un autre jeu de données.")]})
    staged = stage_input(data_dict, package_id=package["id"], user=context.get("user") or "", resource_id=resource_id)
    try:
        report = validate_staged(staged, axe, _reader(context))
        if report["blocking"]:
            raise tk.ValidationError({"fichier": [report["summary"]], "rapport": [report]})
        outcome = publish_staged(context, staged, name=data_dict.get("name"), description=data_dict.get("description"))
    finally:
        staging.discard(staged.token)
    return {**outcome, "report": report}


# --------------------------------------------------------------------------- auth

def validate_auth(context: Context, data_dict: DataDict) -> AuthResult:
    """Any logged-in user may have a file checked (CKAN refuses anonymous callers before this);
    an existing resource needs read access, a dataset named needs edit access."""
    try:
        if data_dict.get("id"):
            tk.check_access("resource_show", context, {"id": data_dict["id"]})
        if data_dict.get("package_id"):
            tk.check_access("package_update", context, {"id": data_dict["package_id"]})
    except tk.NotAuthorized:
        return {"success": False, "msg": tk._("Vous n'avez pas accès à ce jeu de données.")}
    except tk.ObjectNotFound:
        return {"success": False, "msg": tk._("Jeu de données ou ressource introuvable.")}
    return {"success": True}


def publish_auth(context: Context, data_dict: DataDict) -> AuthResult:
    """Publishing is adding or replacing a resource: editors and admins of the dataset's
    organization (CKAN's own rules)."""
    try:
        if data_dict.get("resource_id"):
            tk.check_access("resource_update", context, {"id": data_dict["resource_id"]})
        else:
            tk.check_access("resource_create", context, {"package_id": data_dict.get("package_id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": tk._("Seuls les membres (éditeurs ou administrateurs) de l'organisation "
                                              "productrice peuvent publier dans ce jeu de données.")}
    except tk.ObjectNotFound:
        return {"success": False, "msg": tk._("Jeu de données ou ressource introuvable.")}
    return {"success": True}


def get_actions() -> dict[str, Any]:
    return {"ecarto_validate_resource": ecarto_validate_resource,
            "ecarto_publish_resource": ecarto_publish_resource}


def get_auth_functions() -> dict[str, Any]:
    return {"ecarto_validate_resource": validate_auth, "ecarto_publish_resource": publish_auth}
