"""« Toutes les ressources disponibles »: each remote resource of a dataset is asked for by HTTP
(HEAD, then GET when HEAD fails or is refused), through the outbound guard (``remote.py``: no
private address unless allowed, redirects checked hop by hop), with short timeouts. Always in a
background job or the CLI (``ckan ecarto qualite verifier``), never during a page request.

A check that fails (HTTP error, timeout, connection refused, address refused by the guard) marks
the resource unavailable with the date and the HTTP status when there was one: the score reports
it, nothing is blocked. After the checks, the dataset is re-indexed so that the catalogue's
facet and sort follow."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional

import requests

import ckan.lib.search as ckan_search
import ckan.model as ckan_model
import ckan.plugins.toolkit as tk

from ckanext.ecarto import remote
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.quality import store
from ckanext.ecarto.quality.criteria import active_resources, is_remote

log = logging.getLogger(__name__)

TIMEOUT_OPTION = "ckanext.ecarto.qualite_delai_verification"
DEFAULT_TIMEOUT = 10.0
# HEAD answers that say "ask with GET" rather than "not there"
HEAD_NOT_SUPPORTED = {400, 403, 404, 405, 406, 501}


@dataclass
class Check:
    available: bool
    http_status: Optional[int]
    detail: str


def timeout_seconds() -> float:
    """Seconds allowed to connect, then to receive the answer's headers (per request)."""
    try:
        value = float(tk.config.get(TIMEOUT_OPTION) or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return min(max(value, 0.1), 120.0)


def _ask(url: str, method: str, timeout: float) -> int:
    """The HTTP status of ``url`` (no body read). Raises RemoteError / requests' exceptions."""
    response = remote.fetch(url, method=method, timeout=(timeout, timeout), total_timeout=timeout * 3,
                            max_bytes=0)
    try:
        return response.status_code
    finally:
        response.close()


def check_url(url: str, timeout: Optional[float] = None) -> Check:
    """Whether ``url`` answers: HEAD, then GET when HEAD fails or is refused."""
    timeout = timeout if timeout is not None else timeout_seconds()
    status: Optional[int] = None
    detail = ""
    for method in ("HEAD", "GET"):
        try:
            status = _ask(url, method, timeout)
        except remote.RemoteError as exc:
            return Check(False, None, str(exc))          # refused by the guard: GET would be too
        except requests.Timeout:
            status, detail = None, _("délai de {s} s dépassé").format(s=f"{timeout:g}")
        except requests.RequestException as exc:
            status, detail = None, _("connexion impossible ({error})").format(error=type(exc).__name__)
        if status is not None and status < 400:
            return Check(True, status, "")
        if method == "HEAD" and status is not None and status not in HEAD_NOT_SUPPORTED and status < 500:
            break
    if status is not None:
        detail = _("le serveur a répondu HTTP {status}").format(status=status)
    return Check(False, status, detail)


def check_package(package_id: str, *, checker: Callable[[str], Check] = check_url,
                  reindex: bool = True) -> list[dict[str, Any]]:
    """Check every remote resource of a dataset, store the results, re-index the dataset.
    Returns what was recorded (one dict per resource checked)."""
    pkg = tk.get_action("package_show")({"ignore_auth": True, "for_view": False}, {"id": package_id})
    recorded = []
    not_remote = []
    for resource in active_resources(pkg):
        if not is_remote(resource):
            not_remote.append(resource["id"])
            continue
        result = checker(resource["url"])
        values = {"resource_id": resource["id"], "package_id": pkg["id"], "url": resource["url"],
                  "available": result.available, "http_status": result.http_status,
                  "detail": result.detail[:1000] or None, "checked_at": dt.datetime.utcnow()}
        store.record(values)
        recorded.append({**values, "name": resource.get("name") or resource["url"]})
    store.forget(not_remote)
    if reindex:
        ckan_search.rebuild(pkg["id"])
    return recorded


def check_package_job(package_id: str) -> None:
    """The background job queued when a dataset or one of its resources changes."""
    try:
        check_package(package_id)
    except tk.ObjectNotFound:
        log.info("Disponibilité : le jeu %s n'existe plus", package_id)


def schedule(package_id: Optional[str]) -> None:
    """Queue the check of a dataset's resources (never fails the request that changed it)."""
    if not package_id:
        return
    try:
        tk.enqueue_job(check_package_job, [package_id], title=_("eCarto : disponibilité des ressources de "
                                                               "{dataset}").format(dataset=package_id),
                       rq_kwargs={"timeout": 1800})
    except Exception:  # noqa: BLE001 - no queue: the next `ckan ecarto qualite verifier` does it
        log.warning("Vérification de disponibilité non programmée pour %s", package_id, exc_info=True)


def dataset_ids() -> list[str]:
    """Active datasets (type dataset), public and private: the CLI checks them all."""
    rows = ckan_model.Session.query(ckan_model.Package.id).filter(ckan_model.Package.state == "active",
                                                             ckan_model.Package.type == "dataset")
    return sorted(r.id for r in rows)
