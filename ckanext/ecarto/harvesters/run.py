"""Run a harvest source synchronously (gather → fetch → import in this process), as
``ckan ecarto harvest SOURCE`` does, and summarise the job.

Same stages and bookkeeping as ckanext-harvest's queues (``queue.gather_stage``,
``queue.fetch_and_import_stages``, ``harvest_jobs_run``), without Redis consumers; the job is
always closed at the end, whatever happens (a job never stays "Running").
"""
from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Optional

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.harvest import queue
from ckanext.harvest.logic import HarvestJobExists
from ckanext.harvest.model import (HarvestGatherError, HarvestJob, HarvestObject, HarvestObjectError,
                                   HarvestSource)

from ckanext.ecarto.harvesters import base
from ckanext.ecarto.search import batch as search_batch

log = logging.getLogger(__name__)


class RunError(Exception):
    """The source cannot be run (French message)."""


@dataclass
class RunSummary:
    source: str
    job_id: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    archived: int = 0
    errored: int = 0
    gather_errors: list[str] = field(default_factory=list)
    object_errors: list[tuple[str, str]] = field(default_factory=list)   # (guid, message)
    missing_notes: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)   # (guid, remark): imported with a remark
    closed_jobs: list[str] = field(default_factory=list)
    status: str = ""

    @property
    def errors(self) -> int:
        return len(self.gather_errors) + len(self.object_errors)


def _context() -> dict[str, Any]:
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"model": model, "session": model.Session, "user": user, "ignore_auth": True}


def _job_for(context: dict[str, Any], source_id: str) -> HarvestJob:
    try:
        job = tk.get_action("harvest_job_create")(context, {"source_id": source_id, "run": False})
        return HarvestJob.get(job["id"])
    except HarvestJobExists:
        pending = (model.Session.query(HarvestJob).filter(HarvestJob.source_id == source_id)
                   .filter(HarvestJob.status == "New").order_by(HarvestJob.created.desc()).first())
        if pending is not None:
            return pending
        raise RunError(tk._("Un moissonnage de cette source est déjà en cours (tâche « Running » active depuis "
                            "moins de ckanext.ecarto.harvest.job_timeout minutes). Attendez sa fin, ou "
                            "arrêtez-le avec `ckan harvester job-abort SOURCE`."))


def run_source(source: str, *, force: bool = False,
               progress: Optional[Callable[[int], ContextManager[Callable[[str], None]]]] = None) -> RunSummary:
    """Run the source `source` (id or name) now. `progress(n)` returns a context manager giving a
    callback called with each dataset's guid once it is processed (the CLI's progress bar)."""
    context = _context()
    package = model.Package.get(source)
    harvest_source = HarvestSource.get(package.id) if package is not None else HarvestSource.get(source)
    if harvest_source is None:
        raise RunError(tk._("Source de moissonnage « {source} » introuvable (identifiant ou nom). "
                            "`ckan harvester sources` les liste.").format(source=source))
    source_dict = {"id": harvest_source.id, "name": package.name if package is not None else harvest_source.id,
                   "source_type": harvest_source.type}
    if not harvest_source.active or (package is not None and package.state != "active"):
        raise RunError(tk._("La source « {source} » est désactivée ou supprimée : réactivez-la avant de la "
                            "moissonner.").format(source=source))
    harvester = queue.get_harvester(source_dict["source_type"])
    if harvester is None:
        raise RunError(tk._("Aucun moissonneur « {type} » n'est chargé : ajoutez-le à ckan.plugins.").format(
            type=source_dict["source_type"]))
    closed = base.close_stale_jobs(source_dict["id"])
    job = _job_for(context, source_dict["id"])
    job.ecarto_force = force
    job.status = "Running"
    job.save()
    job_id = job.id
    try:
        try:
            ids = queue.gather_stage(harvester, job)
        except Exception as exc:  # noqa: BLE001 - recorded, the job is closed below
            log.exception("Collecte de %s", source)
            model.Session.rollback()
            HarvestGatherError.create(tk._("Erreur inattendue pendant la collecte : {error}. Consultez les "
                                           "journaux du serveur.").format(error=exc), HarvestJob.get(job_id))
            ids = []
        ids = ids if isinstance(ids, list) else []
        # the datasets' index writes go by batches (search/batch.py), written at the end of the block
        with search_batch.deferred(), \
                (progress(len(ids)) if progress else nullcontext(lambda guid: None)) as advance:
            for object_id in ids:
                obj = HarvestObject.get(object_id)
                try:
                    queue.fetch_and_import_stages(harvester, obj)
                except Exception as exc:  # noqa: BLE001 - one dataset never stops the others
                    log.exception("Moissonnage de %s", obj.guid)
                    model.Session.rollback()
                    obj = HarvestObject.get(object_id)
                    obj.state, obj.report_status = "ERROR", "errored"
                    obj.save()
                    HarvestObjectError.create(tk._("Jeu {guid} : erreur inattendue ({error}). Consultez les "
                                                   "journaux du serveur.").format(guid=obj.guid, error=exc),
                                              obj, "Import")
                advance(obj.guid)
    finally:
        _close(context, source_dict["id"], job_id)
    summary = summarise(job_id, source_dict.get("name") or source_dict["id"])
    summary.closed_jobs = closed
    return summary


def _close(context: dict[str, Any], source_id: str, job_id: str) -> None:
    """Mark what was left unfinished as errored, then let ckanext-harvest close the job."""
    model.Session.rollback()
    for obj in (model.Session.query(HarvestObject).filter(HarvestObject.harvest_job_id == job_id)
                .filter(HarvestObject.state.in_(["WAITING", "FETCH", "IMPORT"])).all()):
        obj.state, obj.report_status = "ERROR", "errored"
        model.Session.add(HarvestObjectError(
            message=tk._("Jeu {guid} : traitement interrompu avant sa fin ; il sera repris au prochain "
                         "moissonnage.").format(guid=obj.guid), object=obj, stage="Fetch"))
    job = HarvestJob.get(job_id)
    if job.gather_finished is None:
        job.gather_finished = base.clock.now()
    model.Session.commit()
    tk.get_action("harvest_jobs_run")(dict(context), {"source_id": source_id})
    job = HarvestJob.get(job_id)
    if job.status != "Finished":   # belt and braces: never leave it running
        job.status, job.finished = "Finished", base.clock.now()
        job.save()


def summarise(job_id: str, source: str = "") -> RunSummary:
    job = HarvestJob.get(job_id)
    summary = RunSummary(source=source, job_id=job_id, status=job.status)
    summary.gather_errors = [e.message for e in sorted(job.gather_errors, key=lambda e: e.created)]
    objects = model.Session.query(HarvestObject).filter(HarvestObject.harvest_job_id == job_id).all()
    for obj in objects:
        action = base.extras_of(obj).get(base.EXTRA_ACTION)
        status = obj.report_status
        if status == "added":
            summary.created += 1
        elif status == "updated":
            summary.updated += 1
        elif status == "deleted":
            summary.archived += 1
        elif status == "errored" or obj.state == "ERROR":
            summary.errored += 1
        elif action == base.MISSING:
            summary.missing += 1
            summary.missing_notes.append(base.missing_summary(json.loads(obj.content or "{}")))
        else:
            summary.unchanged += 1
        for error in sorted(obj.errors, key=lambda e: e.created):
            summary.object_errors.append((obj.guid, error.message))
    summary.warnings = base.job_warnings(job_id)
    return summary
