"""Publication pages of the collectivités and the axes' downloadable templates.

- ``/dataset/<id>/publier``: deposit a file (or a URL) for the dataset's axis;
- ``/dataset/<id>/publier/<token>``: its validation report; fix and deposit again, choose the
  UAI column, correct the roles of the columns (``…/roles``), or publish when nothing blocks;
- ``/dataset/<id>/publication/<resource_id>``: what publishing did (rows loaded, pages fed);
(the axes' templates and schemas, ``/schemas/<axe>…``, are in ``views/schemas.py``).

Only those who may add resources to the dataset (editors and admins of its organization, by
CKAN's auth) reach the publication pages.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core import access
from ckanext.ecarto.ingest import registry
from ckanext.ecarto.logic import publication as logic
from ckanext.ecarto.validation import staging
from ckanext.ecarto.views._common import user_name
from ckanext.ecarto.views.colonnes import submitted_roles

publication = Blueprint("ecarto_publication", __name__)


def _package_for_publishing(ident: str, resource_id: Optional[str] = None) -> dict[str, Any]:
    """The dataset, when the current user may publish in it.

    CKAN's convention: whoever cannot read the dataset gets the page its dataset view gives them
    (404 "Dataset not found", nothing of the dataset in it, not even whether it exists); a reader
    who may not publish gets 403."""
    context = {"user": user_name()}
    try:
        package = tk.get_action("package_show")(context, {"id": ident})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Dataset not found"))
    try:
        tk.check_access("ecarto_publish_resource", context,
                        {"package_id": package["id"], "resource_id": resource_id})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Seuls les membres (éditeurs ou administrateurs) de "
                                  "l'organisation productrice peuvent publier dans ce jeu de données."))
    return package


def _common(package: dict[str, Any]) -> dict[str, Any]:
    axe = logic.dataset_axe(package)
    return {
        "pkg": package, "pkg_dict": package, "axe": axe,
        "axe_label": tk.h.scheming_choices_label(_axe_choices(), axe) if axe else None,
        "max_mb": round(logic.max_bytes() / 1048576),
        "replaceable": [r for r in package.get("resources", [])],
    }


def _axe_choices() -> list[dict[str, Any]]:
    try:
        from ckanext.scheming.helpers import scheming_get_dataset_schema  # optional dependency: ckanext-scheming
        schema = scheming_get_dataset_schema("dataset") or {}
        return next((f.get("choices", []) for f in schema.get("dataset_fields", []) if f["field_name"] == "axe"), [])
    except Exception:  # noqa: BLE001
        return []


@publication.route("/dataset/<id>/publier", methods=["GET", "POST"])
def upload(id: str) -> Any:
    """The one form that adds a resource to a dataset of an axis (CKAN's resource form shows
    it too): a data table goes to its validation report, a document (PDF…) is added as is."""
    resource_id = request.values.get("resource_id") or None
    package = _package_for_publishing(id, resource_id)
    extra = _common(package)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        next_page, errors = _deposit(package, extra["axe"], resource_id)
        if next_page:
            return tk.redirect_to(next_page)
    return tk.render("ecarto/publication/upload.html", {**extra, "errors": errors, "resource_id": resource_id,
                                                        "form": request.form})


def _deposit(package: dict[str, Any], axe: Optional[str],
             resource_id: Optional[str]) -> tuple[Optional[str], dict[str, list[str]]]:
    """Handle a deposit: (the page to go to, None) or (None, the form's errors)."""
    upload_file = request.files.get("upload")
    url = (request.form.get("url") or "").strip()
    name, description = request.form.get("name"), request.form.get("description")
    try:
        if not resource_id and not logic.is_tabular_upload(getattr(upload_file, "filename", None), url):
            resource = logic.publish_document({"user": user_name()}, package, upload=upload_file, url=url,
                                              name=name, description=description)
            return tk.h.url_for(f"{package.get('type') or 'dataset'}_resource.read", id=package["name"],
                                resource_id=resource["id"]), {}
        if axe is None:
            return None, {"axe": [tk._("Choisissez d'abord l'axe du jeu de données (modifier le jeu de données).")]}
        staged = logic.stage_input({"upload": upload_file, "url": url, "uai_column": request.form.get("uai_column"),
                                    "feuille": request.form.get("feuille")},
                                   package_id=package["id"], user=user_name() or "", resource_id=resource_id)
    except tk.ValidationError as exc:
        return None, exc.error_dict
    staged.options.update({k: v for k, v in (("name", name), ("description", description)) if v})
    logic.validate_staged(staged, axe, access.reader_for(user_name()))
    return tk.h.url_for("ecarto_publication.report", id=package["name"], token=staged.token), {}


def _staged(package: dict[str, Any], token: str) -> staging.Staged:
    try:
        return staging.load(token, package_id=package["id"], user=user_name())
    except staging.StagingError as exc:
        return tk.abort(404, str(exc))


@publication.route("/dataset/<id>/publier/<token>")
def report(id: str, token: str) -> Any:
    package = _package_for_publishing(id)
    staged = _staged(package, token)
    extra = _common(package)
    replaced = next((r for r in package.get("resources", []) if r["id"] == staged.resource_id), None)
    return tk.render("ecarto/publication/report.html", {
        **extra, "staged": staged, "report": staged.report or {}, "replaced": replaced,
        "resource_id": staged.resource_id, "errors": {},
    })


@publication.route("/dataset/<id>/publier/<token>/colonne", methods=["POST"])
def choose_column(id: str, token: str) -> Any:
    """Validate the same file again with the UAI column the publisher chose."""
    package = _package_for_publishing(id)
    staged = _staged(package, token)
    column = (request.form.get("uai_column") or "").strip() or None
    staged.options["uai_column"] = column
    logic.validate_staged(staged, logic.dataset_axe(package) or "", access.reader_for(user_name()))
    return tk.redirect_to("ecarto_publication.report", id=package["name"], token=token)


@publication.route("/dataset/<id>/publier/<token>/roles", methods=["POST"])
def choose_roles(id: str, token: str) -> Any:
    """Validate the same file again with the column roles the publisher corrected (``reset``:
    back to the inferred roles); they are written into the resource's data dictionary at
    publication."""
    package = _package_for_publishing(id)
    staged = _staged(package, token)
    if request.form.get("reset"):
        staged.options["data_dictionary"] = []
    else:
        try:
            staged.options["data_dictionary"] = logic.staged_role_changes(staged, submitted_roles(request.form))
        except tk.ValidationError as exc:
            tk.h.flash_error(" ".join(m for ms in exc.error_dict.values() for m in ms))
            return tk.redirect_to("ecarto_publication.report", id=package["name"], token=token)
    logic.validate_staged(staged, logic.dataset_axe(package) or "", access.reader_for(user_name()))
    return tk.redirect_to("ecarto_publication.report", id=package["name"], token=token, _anchor="colonnes")


@publication.route("/dataset/<id>/publier/<token>/publier", methods=["POST"])
def publish(id: str, token: str) -> Any:
    package = _package_for_publishing(id)
    staged = _staged(package, token)
    if not staged.report or staged.report.get("blocking"):
        tk.h.flash_error(tk._("Ce fichier a des erreurs bloquantes : il ne peut pas être publié."))
        return tk.redirect_to("ecarto_publication.report", id=package["name"], token=token)
    try:
        outcome = logic.publish_staged({"user": user_name()}, staged, name=request.form.get("name"),
                                       description=request.form.get("description"))
    except tk.ValidationError as exc:
        tk.h.flash_error(tk._("Publication impossible : {error}").format(error=exc.error_summary))
        return tk.redirect_to("ecarto_publication.report", id=package["name"], token=token)
    return tk.redirect_to("ecarto_publication.done", id=package["name"], resource_id=outcome["resource"]["id"])


@publication.route("/dataset/<id>/publier/<token>/abandonner", methods=["POST"])
def discard(id: str, token: str) -> Any:
    package = _package_for_publishing(id)
    _staged(package, token)
    staging.discard(token)
    return tk.redirect_to("ecarto_publication.upload", id=package["name"])


@publication.route("/dataset/<id>/publication/<resource_id>")
def done(id: str, resource_id: str) -> Any:
    package = _package_for_publishing(id, resource_id)
    resource = next((r for r in package.get("resources", []) if r["id"] == resource_id), None)
    if resource is None:
        return tk.abort(404, tk._("Ressource introuvable."))
    status = registry.status(resource_id) or {}
    pages = logic.pages_of(resource_id, access.reader_for(user_name()))
    return tk.render("ecarto/publication/done.html", {**_common(package), "resource": resource,
                                                      "status": status, "pages": pages})
