"""Metadata quality of the datasets: data.gouv.fr's criteria (udata 17.18.0,
``Dataset.compute_quality``) and the portal's own (UAI column, data dictionary, latest period),
each ok or missing with what to do in French (``criteria.py``).

Where it shows: ``package_show`` (field ``qualite``, added by ``after_dataset_show``), the dataset
page (``templates/ecarto/qualite/_score.html``), the catalogue (indexed fields ``qualite_score``
— sort — and ``qualite`` / ``qualite_manque`` — facets), the editors' dashboard
(``/tableau-de-bord/qualite``). It is computed whenever a dataset is shown or indexed, so it
follows every change of the dataset or its resources; a load or a removal in the ingestion
registry re-indexes the dataset (``on_ingest_committed``); the availability of remote resources
is checked in a background job (``availability.py``) that re-indexes the dataset afterwards.

Floor 3: it reads the ingestion registry and the column model (floor 2) and uses the outbound
guard (floor 1); the pages, the CLI and the plugin above use it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional

import ckan.lib.search as ckan_search
import ckan.model as ckan_model
import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import registry
from ckanext.ecarto.quality import availability, store
from ckanext.ecarto.quality.criteria import (
    DEFAULT_UAI_RATE, Facts, Quality, active_resources, evaluate, is_remote, percent,
)

log = logging.getLogger(__name__)

FIELD = "qualite"                 # package_show field; also the facet of score buckets
SCORE_FIELD = "qualite_score"     # indexed: the portal's score in percent (sort)
MISSING_FIELD = "qualite_manque"  # indexed: codes of the missing criteria (facet)
UAI_RATE_OPTION = "ckanext.ecarto.qualite_taux_uai_min"
# Facet buckets of the score, worst last: (code, lowest percent)
BUCKETS: tuple[tuple[str, int], ...] = (("bonne", 80), ("moyenne", 50), ("faible", 0))


def bucket_labels() -> dict[str, str]:
    return {"bonne": _("Bonne (80 % et plus)"), "moyenne": _("Moyenne (50 à 79 %)"),
            "faible": _("À améliorer (moins de 50 %)")}


def bucket_of(score_percent: int) -> str:
    return next(code for code, low in BUCKETS if score_percent >= low)


def uai_rate_min() -> float:
    try:
        value = float(tk.config.get(UAI_RATE_OPTION) or DEFAULT_UAI_RATE)
    except (TypeError, ValueError):
        return DEFAULT_UAI_RATE
    return min(max(value, 0.0), 1.0)


class _Prefetched:
    """Registry rows and availability checks of a batch of resources (`facts_prefetched`)."""

    def __init__(self, resource_ids: list[str]):
        self.ids = set(resource_ids)
        self.registry = registry.statuses(resource_ids)
        self.availability = store.checks_of(resource_ids)

    def covers(self, resource_ids: list[str]) -> bool:
        return self.ids.issuperset(resource_ids)


_local = threading.local()


@contextmanager
def facts_prefetched(pkgs: Iterable[dict[str, Any]]) -> Iterator[None]:
    """Inside the block, the facts of these datasets' resources come from two set-wise queries
    (the ingestion registry and the availability checks of the whole batch) instead of two to
    three queries per dataset: the bulk reindex (`ckanext.ecarto.logic.reindex`). A dataset
    whose resources were not all prefetched is read as outside the block; so is every dataset
    when the batch could not be read (tables not created yet)."""
    ids = list(dict.fromkeys(r["id"] for pkg in pkgs for r in active_resources(pkg) if r.get("id")))
    previous = getattr(_local, "prefetched", None)
    try:
        _local.prefetched = _Prefetched(ids) if ids else None
    except Exception:  # noqa: BLE001 - read per dataset then, as facts_of always did
        _local.prefetched = None
    try:
        yield
    finally:
        _local.prefetched = previous


def facts_of(pkg: dict[str, Any]) -> Facts:
    """The registry rows and availability checks of a dataset's resources (empty when the
    tables do not exist yet: a database not upgraded must still show its datasets)."""
    ids = [r["id"] for r in active_resources(pkg) if r.get("id")]
    facts = Facts(uai_rate_min=uai_rate_min())
    prefetched = getattr(_local, "prefetched", None)
    if prefetched is not None and prefetched.covers(ids):
        facts.registry = {i: prefetched.registry[i] for i in ids if i in prefetched.registry}
        facts.availability = {i: prefetched.availability[i] for i in ids if i in prefetched.availability}
        return facts
    try:
        found = registry.statuses(ids)
        facts.registry = {i: found[i] for i in ids if i in found}
        facts.availability = store.checks_of(ids)
    except Exception:  # noqa: BLE001 - quality informs, it never breaks package_show
        log.warning("Qualité de %s : registre ou disponibilités illisibles", pkg.get("id"), exc_info=True)
    return facts


def quality_of(pkg: dict[str, Any], now: Optional[dt.datetime] = None) -> Quality:
    return evaluate(pkg, facts_of(pkg), now or dt.datetime.utcnow())


def after_dataset_show(context: dict[str, Any], pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """package_show: the ``qualite`` field on datasets (not on harvest sources)."""
    if pkg_dict.get("type", "dataset") == "dataset" and pkg_dict.get("id"):
        pkg_dict[FIELD] = quality_of(pkg_dict).as_dict()
    return pkg_dict


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The index document: score (sort), bucket and missing criteria (facets), read from the
    ``qualite`` that package_show put in the validated dict."""
    pkg_dict.pop(FIELD, None)
    try:
        validated = json.loads(pkg_dict.get("validated_data_dict") or "{}")
    except (TypeError, ValueError):
        validated = {}
    found = validated.get(FIELD) if isinstance(validated, dict) else None
    if not isinstance(found, dict):
        return pkg_dict
    score = int(found.get("score_pourcentage") or 0)
    pkg_dict[SCORE_FIELD] = score
    pkg_dict[FIELD] = bucket_of(score)
    pkg_dict[MISSING_FIELD] = list(found.get("manquants") or [])
    return pkg_dict


def criterion_labels() -> dict[str, str]:
    """Labels of the criteria codes (facet ``qualite_manque``)."""
    probe = evaluate({"resources": []}, Facts(), dt.datetime.utcnow())
    return {c.code: c.label for c in probe.criteria}


def after_dataset_search(search_results: dict[str, Any]) -> dict[str, Any]:
    """French labels of the quality facets' values (their codes stay in the URLs)."""
    facets = search_results.get("search_facets") or {}
    for name, labels in ((FIELD, bucket_labels), (MISSING_FIELD, criterion_labels)):
        facet = facets.get(name)
        if not facet or not facet.get("items"):
            continue
        names = labels()
        for item in facet["items"]:
            item["display_name"] = names.get(item.get("name"), item.get("display_name"))
    return search_results


def facets(facets_dict: dict[str, Any]) -> dict[str, Any]:
    facets_dict[FIELD] = _("Qualité des métadonnées")
    facets_dict[MISSING_FIELD] = _("Critère de qualité manquant")
    return facets_dict


def reindex(package_id: Optional[str]) -> None:
    """Re-index a dataset (its quality changed); never raises."""
    if not package_id:
        return
    try:
        ckan_search.rebuild(package_id)
    except Exception:  # noqa: BLE001 - the next change or `ckan search-index rebuild` catches up
        log.warning("Réindexation de %s (qualité) impossible", package_id, exc_info=True)


def on_ingest_committed(sender: str, **_payload: Any) -> None:
    """Subscriber of ``ecarto_ingest_committed``: the dataset's UAI, dictionary and period
    criteria may have changed. Never raises (the other subscribers must still be called)."""
    try:
        resource = ckan_model.Resource.get(sender)
    except Exception:  # noqa: BLE001 - a load outside CKAN's objects (scripts, tests)
        log.debug("Qualité : ressource %s introuvable après chargement", sender, exc_info=True)
        return
    reindex(resource.package_id if resource is not None else None)


def on_dataset_changed(context: dict[str, Any], pkg_dict: dict[str, Any]) -> None:
    """IPackageController after create/update (resource actions update their dataset too): check
    the dataset's remote resources in the background; not for harvest sources, nor for a
    dataset without remote resources."""
    if pkg_dict.get("type", "dataset") != "dataset":
        return
    if any(is_remote(r) for r in active_resources(pkg_dict)):
        availability.schedule(pkg_dict.get("id"))


__all__ = ["FIELD", "SCORE_FIELD", "MISSING_FIELD", "Quality", "after_dataset_show",
           "after_dataset_search", "before_dataset_index", "facets", "on_ingest_committed",
           "on_dataset_changed", "percent", "quality_of"]
