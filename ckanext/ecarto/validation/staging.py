"""Files waiting between their validation report and their publication.

An upload (or a downloaded URL) is kept in ``<ckan.storage_path>/ecarto-publication/<token>/``
(``ckanext.ecarto.publication_staging_path`` if set; a folder every web node shares)
with a ``meta.json`` (dataset, user, original name or URL, options, report). Nothing touches the
dataset's resources until the publisher confirms a report without blocking errors, so the
version online stays in place while a new one is being checked. Stale stagings are removed
after a day.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Optional

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.translation import _

MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


class StagingError(ValueError):
    """Unknown, expired or foreign staging (French message)."""


@dataclass
class Staged:
    token: str
    package_id: str
    user: str
    filename: str
    path: str
    size: int
    source_url: Optional[str] = None
    resource_id: Optional[str] = None           # the resource to replace, if any
    options: dict[str, Any] = field(default_factory=dict)
    report: Optional[dict[str, Any]] = None
    created: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def root() -> str:
    """The stagings' folder: shared by every web node (a report made on one node is confirmed
    on another), `ckanext.ecarto.publication_staging_path` or CKAN's storage folder."""
    try:
        folder = tk.config.get("ckanext.ecarto.publication_staging_path")
        base = tk.config.get("ckan.storage_path")
    except Exception:  # noqa: BLE001
        folder = base = None
    folder = folder or os.path.join(base or tempfile.gettempdir(), "ecarto-publication")
    os.makedirs(folder, exist_ok=True)
    return folder


def safe_filename(name: str) -> str:
    """A file name without folders nor odd characters, keeping its extension."""
    name = os.path.basename((name or "").replace("\\", "/")).strip() or "fichier.csv"
    name = re.sub(r"[^\w.\- ]+", "_", name, flags=re.UNICODE).strip(" .") or "fichier.csv"
    return name[:120]


def _folder(token: str) -> str:
    if not _TOKEN.match(token or ""):
        raise StagingError(_("Dépôt inconnu."))
    return os.path.join(root(), token)


def create(stream: IO[bytes], *, filename: str, package_id: str, user: str, max_bytes: Optional[int] = None,
           source_url: Optional[str] = None, resource_id: Optional[str] = None,
           options: Optional[dict[str, Any]] = None) -> Staged:
    """Copy `stream` into a new staging. Stops copying past `max_bytes` + 1 MB (the report then
    says the file is too large; a huge upload never fills the disk)."""
    cleanup()
    token = uuid.uuid4().hex
    folder = _folder(token)
    os.makedirs(folder)
    name = safe_filename(filename)
    path = os.path.join(folder, name)
    size = 0
    cap = (max_bytes + (1 << 20)) if max_bytes else None
    with open(path, "wb") as out:
        while True:
            block = stream.read(1 << 20)
            if not block:
                break
            size += len(block)
            out.write(block)
            if cap is not None and size > cap:
                break
    staged = Staged(token=token, package_id=package_id, user=user, filename=name, path=path, size=size,
                    source_url=source_url, resource_id=resource_id, options=dict(options or {}))
    save(staged)
    return staged


def save(staged: Staged) -> None:
    with open(os.path.join(_folder(staged.token), "meta.json"), "w", encoding="utf-8") as f:
        json.dump(staged.as_dict(), f, ensure_ascii=False, default=str)


def load(token: str, *, package_id: Optional[str] = None, user: Optional[str] = None) -> Staged:
    """The staging `token`, checked to belong to `package_id` and `user` when given."""
    meta = os.path.join(_folder(token), "meta.json")
    if not os.path.exists(meta):
        raise StagingError(_("Ce dépôt n'existe plus (publié, abandonné ou expiré) : déposez le fichier à "
                             "nouveau."))
    with open(meta, encoding="utf-8") as f:
        staged = Staged(**json.load(f))
    if package_id is not None and staged.package_id != package_id:
        raise StagingError(_("Ce dépôt appartient à un autre jeu de données."))
    if user is not None and staged.user != user:
        raise StagingError(_("Ce dépôt a été fait par une autre personne."))
    return staged


def discard(token: str) -> None:
    try:
        shutil.rmtree(_folder(token), ignore_errors=True)
    except StagingError:
        pass


def cleanup(max_age: int = MAX_AGE_SECONDS) -> None:
    """Remove stagings older than `max_age` seconds."""
    folder = root()
    now = time.time()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if _TOKEN.match(name) and now - os.path.getmtime(path) > max_age:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
