"""Publish local files as CKAN resources, then ingest them: what `ckan ecarto load` and
`ckan ecarto load-sample` do.

Everything goes through CKAN's actions (organization_create, package_create/package_patch,
resource_create/resource_update with an upload), so the search index, the activity stream and
the permission checks stay right; ingestion then runs on the stored file, like for any upload.

Idempotent: a dataset whose metadata is unchanged is not touched, a resource whose file has
the same SHA-256 (kept in the resource's ``hash``) is neither uploaded again nor reloaded.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import ckan.plugins.toolkit as tk
import yaml
from werkzeug.datastructures import FileStorage

from ckanext.ecarto import ingest
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import limits
from ckanext.ecarto.ingest.description import describe_load
from ckanext.ecarto.ingest.loader import IngestReport, Progress
from ckanext.ecarto.ingest.reader import too_large_once_decompressed

# Dataset keys CKAN itself knows (the others must be fields of the scheming schema).
CORE_DATASET_KEYS = frozenset({"name", "title", "notes", "owner_org", "private", "license_id", "url",
                               "author", "author_email", "maintainer", "maintainer_email", "version",
                               "tag_string", "type"})
RESOURCE_KEYS = ("name", "description", "format", "uai_column", "commune_column", "feuille", "millesime",
                 "data_dictionary")
FORMATS_BY_EXTENSION = {".csv": "CSV", ".tsv": "TSV", ".txt": "CSV", ".json": "JSON",
                        ".jsonl": "JSON", ".xlsx": "XLSX", ".ods": "ODS"}


class PublishError(Exception):
    """Something the person running the command must fix (French message)."""


@dataclass
class Published:
    dataset: str
    dataset_action: str          # créé | mis à jour | inchangé (translated)
    resource_id: str
    resource_name: str
    resource_action: str         # créée | remplacée | inchangée (translated)
    report: Optional[IngestReport]


def _context(**extra: Any) -> dict[str, Any]:
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"user": user, "ignore_auth": True, **extra}


def _call(action: str, data: dict[str, Any], **context: Any) -> Any:
    try:
        return tk.get_action(action)(_context(**context), data)
    except tk.ValidationError as exc:
        raise PublishError(_("{action} refusé : {errors}").format(
            action=action, errors=exc.error_summary or exc.error_dict)) from exc


def _show(action: str, ident: str) -> Optional[dict[str, Any]]:
    try:
        return tk.get_action(action)(_context(), {"id": ident})
    except tk.ObjectNotFound:
        return None


# --------------------------------------------------------------------------- organizations

def ensure_organization(name: str, title: Optional[str] = None,
                        description: Optional[str] = None) -> tuple[dict[str, Any], str]:
    """The organization `name`, created (or its title/description updated) when needed."""
    current = _show("organization_show", name)
    wanted = {k: v for k, v in (("title", title), ("description", description)) if v}
    if current is None:
        org = _call("organization_create", {"name": name, "title": title or name,
                                            "description": description or ""})
        return org, _("créée")
    changed = {k: v for k, v in wanted.items() if (current.get(k) or "") != v}
    if changed:
        return _call("organization_patch", {"id": current["id"], **changed}), _("mise à jour")
    return current, _("inchangée")


# --------------------------------------------------------------------------- datasets

def _schema_fields() -> Optional[set[str]]:
    try:
        from ckanext.scheming.helpers import scheming_get_dataset_schema  # optional dependency: ckanext-scheming
    except ImportError:  # pragma: no cover - scheming is in the stack
        return None
    schema = scheming_get_dataset_schema("dataset")
    if not schema:
        return None
    return {f["field_name"] for f in schema.get("dataset_fields", [])}


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return [str(t).strip() for t in value or [] if str(t).strip()]


def dataset_payload(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The keys CKAN will keep (core + scheming fields), and the names of those it would drop."""
    known = _schema_fields()
    payload: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in fields.items():
        if value is None or key == "resources":
            continue
        if key in ("tags", "tag_string"):
            payload["tag_string"] = ",".join(_tags(value))
            continue
        if known is None or key in known or key in CORE_DATASET_KEYS:
            payload[key] = value if isinstance(value, (bool, list, dict)) else str(value)
        else:
            dropped.append(key)
    return payload, dropped


def _differs(current: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for key, value in payload.items():
        if key == "tag_string":
            have = sorted(t["name"] for t in current.get("tags", []))
            if have != sorted(_tags(value)):
                changed[key] = value
        elif key == "owner_org":
            if value not in (current.get("owner_org"), (current.get("organization") or {}).get("name")):
                changed[key] = value
        elif isinstance(value, bool):
            if bool(current.get(key)) != value:
                changed[key] = value
        elif (current.get(key) if current.get(key) is not None else "") != value:
            changed[key] = value
    return changed


def ensure_dataset(fields: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    """(dataset, action, dropped keys): created with package_create, or patched with only the
    fields that changed, or left alone."""
    payload, dropped = dataset_payload(fields)
    name = payload.get("name")
    if not name:
        raise PublishError(_("Nom du jeu de données manquant."))
    current = _show("package_show", name)
    if current is None:
        payload.setdefault("title", name)
        payload.setdefault("license_id", "etalab-2.0")
        return _call("package_create", payload), _("créé"), dropped
    changed = _differs(current, payload)
    if not changed:
        return current, _("inchangé"), dropped
    return _call("package_patch", {"id": current["id"], **changed}), _("mis à jour"), dropped


# --------------------------------------------------------------------------- resources

def _blocks(path: str) -> Iterator[bytes]:
    """The bytes that will be uploaded (a .gz file is published decompressed, up to the
    ingestion's decompressed size limit: a "gzip bomb" is refused, not written out)."""
    if not path.endswith(".gz"):
        with open(path, "rb") as f:
            yield from iter(lambda: f.read(1 << 20), b"")
        return
    cap = limits.max_decompressed_bytes()
    total = 0
    try:
        with gzip.open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                total += len(block)
                if total > cap:
                    raise PublishError(_("{path} : {reason}").format(path=path, reason=too_large_once_decompressed(cap)))
                yield block
    except (OSError, EOFError) as exc:
        raise PublishError(_("{path} : fichier compressé (gzip) illisible ({error}).").format(path=path, error=exc)) from exc


def content_sha256(path: str) -> str:
    """SHA-256 of the bytes that will be uploaded (a .gz file is published decompressed)."""
    digest = hashlib.sha256()
    for block in _blocks(path):
        digest.update(block)
    return digest.hexdigest()


def upload_name(path: str) -> str:
    name = os.path.basename(path)
    return name[:-3] if name.endswith(".gz") else name


def guess_format(path: str) -> str:
    return FORMATS_BY_EXTENSION.get(Path(upload_name(path)).suffix.lower(), "CSV")


def _upload_file(path: str) -> tuple[str, bool]:
    """A plain file to upload (gzip decompressed to a temporary file)."""
    if not path.endswith(".gz"):
        return path, False
    fd, target = tempfile.mkstemp(prefix="ecarto-load-", suffix=Path(upload_name(path)).suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            for block in _blocks(path):
                out.write(block)
    except BaseException:
        os.unlink(target)
        raise
    return target, True


def _stored_file_present(resource: dict[str, Any]) -> bool:
    """Whether CKAN's storage still holds the resource's upload (a portal moved to another
    folder or machine keeps its database but not always its storage): a missing file is
    uploaded again rather than reported as lost."""
    stored, temporary = ingest.local_copy(resource)
    if stored and temporary:
        os.unlink(stored)
    return stored is not None


def publish_file(path: str, package: dict[str, Any], resource: dict[str, Any], *, force: bool = False,
                 progress: Optional[Progress] = None) -> Published:
    """Upload `path` as the resource named ``resource["name"]`` of `package`, then ingest it."""
    if not os.path.isfile(path):
        raise PublishError(_("Fichier introuvable : {path}").format(path=path))
    name = resource.get("name") or upload_name(path)
    sha = content_sha256(path)
    existing = next((r for r in package.get("resources", []) if r.get("name") == name), None)
    fields = {k: resource[k] for k in RESOURCE_KEYS if resource.get(k) not in (None, "")}
    fields["name"] = name
    fields.setdefault("format", guess_format(path))
    if isinstance(fields.get("data_dictionary"), (list, dict)):
        fields["data_dictionary"] = json.dumps(fields["data_dictionary"], ensure_ascii=False)

    if (existing is not None and existing.get("hash") == sha and existing.get("url_type") == "upload"
            and not force and _stored_file_present(existing)):
        changed = {k: v for k, v in fields.items() if (existing.get(k) or "") != v}
        action = _("inchangée")
        if changed:
            _call("resource_patch", {"id": existing["id"], **changed}, **{ingest.SKIP_FLAG: True})
            action = _("mise à jour")
        report = ingest.ingest_resource(existing["id"], progress=progress, force=force)
        return Published(package["name"], "", existing["id"], name, action, report)

    upload_path, temporary = _upload_file(path)
    try:
        with open(upload_path, "rb") as stream:
            data = {**fields, "package_id": package["id"], "hash": sha, "url": upload_name(path),
                    "upload": FileStorage(stream=stream, filename=upload_name(path))}
            if existing is not None:
                data["id"] = existing["id"]
                saved = _call("resource_update", data, **{ingest.SKIP_FLAG: True})
                action = _("remplacée")
            else:
                saved = _call("resource_create", data, **{ingest.SKIP_FLAG: True})
                action = _("créée")
    finally:
        if temporary:
            os.unlink(upload_path)
    report = ingest.ingest_resource(saved["id"], progress=progress, force=force)
    return Published(package["name"], "", saved["id"], name, action, report)


def load(path: str, *, dataset: str, axe: str, organization: Optional[str] = None,
         millesime: Optional[str] = None, title: Optional[str] = None, resource_name: Optional[str] = None,
         resource_format: Optional[str] = None, uai_column: Optional[str] = None,
         commune_column: Optional[str] = None, private: Optional[bool] = None, force: bool = False,
         progress: Optional[Progress] = None, description: Optional[str] = None) -> Published:
    """`ckan ecarto load`: dataset created if needed, file published and ingested.

    Without `description`, a dataset that has none gets a factual one (description.py), completed
    with the rows and key column once the file is loaded; a description already there is kept."""
    fields: dict[str, Any] = {"name": dataset, "axe": axe, "millesime": millesime, "title": title,
                              "private": private, "notes": (description or "").strip() or None}
    producer = None
    if organization:
        org, _action = ensure_organization(organization)
        fields["owner_org"] = org["id"]
        producer = org.get("title") or org.get("name")
    current = _show("package_show", dataset)
    if current is None and not organization and not tk.asbool(tk.config.get("ckan.auth.create_unowned_dataset")):
        raise PublishError(_("Ce portail exige une organisation productrice pour créer le jeu de données "
                             "« {name} » : ajoutez --organization <nom> (créée si elle n'existe pas).").format(
            name=dataset))
    generated = fields["notes"] is None and not (current or {}).get("notes")
    if generated:
        producer = producer or ((current or {}).get("organization") or {}).get("title")
        fields["notes"] = describe_load(path, axe=axe, organization=producer, millesime=millesime)
    package, dataset_action, _dropped = ensure_dataset(fields)
    outcome = publish_file(path, package, {"name": resource_name, "format": resource_format,
                                           "uai_column": uai_column, "commune_column": commune_column},
                           force=force, progress=progress)
    outcome.dataset_action = dataset_action
    if generated and outcome.report is not None and outcome.report.n_rows:
        _call("package_patch", {"id": package["id"], "notes": describe_load(
            path, axe=axe, organization=producer, millesime=millesime, report=outcome.report)})
    return outcome


# --------------------------------------------------------------------------- sample

def sample_dir() -> Path:
    configured = tk.config.get("ckanext.ecarto.sample_data_dir")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "data" / "sample"


def read_manifest(folder: Path) -> dict[str, Any]:
    manifest = folder / "manifest.yaml"
    if not manifest.is_file():
        raise PublishError(_("Manifeste introuvable : {path}").format(path=manifest))
    with open(manifest, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data.get("datasets"), list):
        raise PublishError(_("{path} : liste « datasets » manquante.").format(path=manifest))
    return data


def load_sample(folder: Optional[Path] = None, *, force: bool = False,
                echo: Callable[[str], None] = print,
                progress_for: Optional[Callable[[str, int], Any]] = None) -> list[Published]:
    """`ckan ecarto load-sample`: every organization, dataset and resource of the manifest.

    `progress_for(label, size)` returns a context manager yielding a Progress callback."""
    folder = Path(folder or sample_dir())
    manifest = read_manifest(folder)
    orgs: dict[str, str] = {}
    for org in manifest.get("organizations", []):
        saved, action = ensure_organization(org["name"], org.get("title"), org.get("description"))
        orgs[org["name"]] = saved["id"]
        echo(_("Organisation {name} : {action}").format(name=org["name"], action=action))
    outcomes: list[Published] = []
    for spec in manifest["datasets"]:
        fields = dict(spec)
        org_name = fields.pop("organization", None)
        if org_name:
            if org_name not in orgs:
                orgs[org_name] = ensure_organization(org_name)[0]["id"]
            fields["owner_org"] = orgs[org_name]
        package, dataset_action, dropped = ensure_dataset(fields)
        if dropped:
            echo(_("Jeu de données {name} : {action} (champs non pris en charge par le schéma : {fields})").format(
                name=package["name"], action=dataset_action, fields=", ".join(dropped)))
        else:
            echo(_("Jeu de données {name} : {action}").format(name=package["name"], action=dataset_action))
        for res in spec.get("resources", []):
            path = str(folder / res["file"])
            if progress_for is None:
                outcome = publish_file(path, package, res, force=force)
            else:
                with progress_for(res.get("name") or res["file"], os.path.getsize(path)) as progress:
                    outcome = publish_file(path, package, res, force=force, progress=progress)
            outcome.dataset_action = dataset_action
            outcomes.append(outcome)
            package = _show("package_show", package["id"]) or package
    return outcomes
