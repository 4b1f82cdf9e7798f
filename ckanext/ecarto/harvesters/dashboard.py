"""What the harvest dashboard (``/harvest``), the job pages and the failure e-mails say about a
harvest run: its status in French, its figures, its first errors and the source's next run.

ckanext-harvest knows three job states (New, Running, Finished) and says "Finished" for a run that
succeeded, one that failed at the first request and one stopped by hand. Here the status comes
from what the run did:

- ``en_attente`` — created, not yet picked by the gather consumer;
- ``en_cours`` — running;
- ``arrete`` — finished without ckanext-harvest closing it (``harvest_job_abort``, the "Stop"
  button, sets the status and not the end time) and without a collection error;
- ``echec`` — a collection error (the catalogue could not be read) and no dataset harvested, or
  every dataset in error;
- ``partiel`` — some errors, some datasets harvested;
- ``reussi`` — no error.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import ckan.model as model
import ckan.plugins.toolkit as tk
from sqlalchemy import func

from ckanext.harvest.model import (HarvestGatherError, HarvestJob, HarvestObject, HarvestObjectError,
                                   HarvestSource)

from ckanext.ecarto.harvesters import base, clock

PENDING, RUNNING, STOPPED, FAILED, PARTIAL, SUCCEEDED = (
    "en_attente", "en_cours", "arrete", "echec", "partiel", "reussi")
MAX_ERRORS_SHOWN = 3
MAX_ERROR_CHARS = 400
IN_PROGRESS = ("WAITING", "FETCH", "IMPORT")

# ckanext-harvest's UPDATE_FREQUENCIES, in its order
FREQUENCIES = ("MANUAL", "MONTHLY", "WEEKLY", "BIWEEKLY", "DAILY", "ALWAYS")

def status_label(code: str) -> str:
    return {
        PENDING: tk._("en attente"), RUNNING: tk._("en cours"), STOPPED: tk._("arrêté"),
        FAILED: tk._("échec"), PARTIAL: tk._("partiel"), SUCCEEDED: tk._("réussi"),
    }.get(code, code)


def frequency_label(frequency: Optional[str]) -> str:
    return {
        "MANUAL": tk._("manuelle"), "ALWAYS": tk._("en continu"), "DAILY": tk._("quotidienne"),
        "WEEKLY": tk._("hebdomadaire"), "BIWEEKLY": tk._("toutes les deux semaines"),
        "MONTHLY": tk._("mensuelle"),
    }.get(frequency or "MANUAL", frequency or "")


@dataclass(frozen=True)
class JobFacts:
    """What a harvest job did, as counted in the database."""
    status: str                                   # ckanext-harvest's: New, Running, Finished
    finished: Optional[dt.datetime] = None        # set by harvest_jobs_run (never by "Stop")
    gather_errors: int = 0
    objects: int = 0
    in_progress: int = 0                          # objects still waiting, fetching or importing
    failed_objects: int = 0                       # objects in error or with an error message
    report: dict[str, int] = field(default_factory=dict)   # report_status → count


def run_status(facts: JobFacts) -> str:
    """The status code of a run (module docstring)."""
    if facts.status == "New":
        return PENDING
    if facts.status != "Finished":
        return RUNNING
    if facts.finished is None and not facts.gather_errors:
        return STOPPED   # "Stop": objects left behind are set in error by the fetch consumer
    succeeded = facts.objects - facts.failed_objects - facts.in_progress
    if facts.gather_errors and succeeded <= 0:
        return FAILED
    if facts.objects and facts.failed_objects >= facts.objects:
        return FAILED
    if facts.gather_errors or facts.failed_objects:
        return PARTIAL
    if facts.in_progress:
        return STOPPED
    return SUCCEEDED


def clean_message(message: Optional[str]) -> str:
    """One readable line: no traceback, no repeated whitespace, at most MAX_ERROR_CHARS."""
    text = (message or "").strip()
    text = text.split("\nTraceback", 1)[0]
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1].rstrip() + "…"
    return text


def job_facts(job: HarvestJob) -> JobFacts:
    session = model.Session
    objects = session.query(HarvestObject).filter(HarvestObject.harvest_job_id == job.id)
    with_errors = {row[0] for row in session.query(HarvestObjectError.harvest_object_id)
                   .join(HarvestObject, HarvestObject.id == HarvestObjectError.harvest_object_id)
                   .filter(HarvestObject.harvest_job_id == job.id).distinct()}
    failed = with_errors | {row[0] for row in objects.filter(
        (HarvestObject.state == "ERROR") | (HarvestObject.report_status == "errored"))
        .with_entities(HarvestObject.id)}
    report = dict(objects.with_entities(HarvestObject.report_status, func.count(HarvestObject.id))
                  .group_by(HarvestObject.report_status).all())
    return JobFacts(
        status=job.status, finished=job.finished,
        gather_errors=session.query(HarvestGatherError).filter(HarvestGatherError.harvest_job_id == job.id).count(),
        objects=objects.count(),
        in_progress=objects.filter(HarvestObject.state.in_(IN_PROGRESS)).count(),
        failed_objects=len(failed),
        report={str(k): int(v) for k, v in report.items() if k})


def first_errors(job: HarvestJob, limit: int = MAX_ERRORS_SHOWN) -> list[str]:
    """The first distinct errors of a run, collection errors first, one clean line each."""
    session = model.Session
    gather = [e.message for e in session.query(HarvestGatherError)
              .filter(HarvestGatherError.harvest_job_id == job.id).order_by(HarvestGatherError.created)]
    objects = [e.message for e in session.query(HarvestObjectError)
               .join(HarvestObject, HarvestObject.id == HarvestObjectError.harvest_object_id)
               .filter(HarvestObject.harvest_job_id == job.id).order_by(HarvestObjectError.created)]
    seen: list[str] = []
    for message in gather + objects:
        text = clean_message(message)
        if text and text not in seen:
            seen.append(text)
        if len(seen) >= limit:
            break
    return seen


@dataclass
class RunView:
    """A harvest run as the dashboard, the job page and the e-mails show it."""
    job_id: str
    status: str
    label: str
    created: Optional[dt.datetime]
    started: Optional[dt.datetime]
    finished: Optional[dt.datetime]
    duration: str
    created_count: int
    updated_count: int
    archived_count: int
    unchanged_count: int
    error_count: int
    errors: list[str]
    warnings: list[str] = field(default_factory=list)


def first_warnings(job_id: str, limit: int = MAX_ERRORS_SHOWN) -> list[str]:
    """The first distinct remarks of a run (datasets imported with a remark: territory not
    recognised, file without UAI nor commune column, archived at the source…), one line each."""
    seen: list[str] = []
    for guid, message in base.job_warnings(job_id):
        line = clean_message(f"{guid} : {message}")
        if line not in seen:
            seen.append(line)
        if len(seen) >= limit:
            break
    return seen


def format_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return tk._("{s} s").format(s=seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return tk._("{m} min {s} s").format(m=minutes, s=seconds)
    hours, minutes = divmod(minutes, 60)
    return tk._("{h} h {m} min").format(h=hours, m=minutes)


def run_view(job: HarvestJob) -> RunView:
    facts = job_facts(job)
    status = run_status(facts)
    start = job.gather_started or job.created
    end = job.finished or (clock.now() if status == RUNNING else None)
    duration = format_duration((end - start).total_seconds()) if start and end else ""
    return RunView(
        job_id=job.id, status=status, label=status_label(status), created=job.created,
        started=job.gather_started, finished=job.finished, duration=duration,
        created_count=facts.report.get("added", 0), updated_count=facts.report.get("updated", 0),
        archived_count=facts.report.get("deleted", 0), unchanged_count=facts.report.get("not modified", 0),
        error_count=facts.gather_errors + facts.failed_objects, errors=first_errors(job),
        warnings=first_warnings(job.id))


def job_run_view(job_id: str) -> Optional[RunView]:
    job = HarvestJob.get(job_id) if job_id else None
    return run_view(job) if job is not None else None


def next_run(source: HarvestSource, now: Optional[dt.datetime] = None) -> tuple[Optional[dt.datetime], str]:
    """(moment, text) of the source's next scheduled run. ckanext-harvest's scheduler
    (``harvester run``) creates a job for every active non-manual source whose ``next_run`` is
    empty or past, then sets ``next_run`` from the frequency."""
    now = now or clock.now()
    frequency = source.frequency or "MANUAL"
    if not source.active:
        return None, tk._("source désactivée")
    if frequency == "MANUAL":
        return None, tk._("à la demande (bouton « Moissonner maintenant »)")
    if frequency == "ALWAYS":
        return None, tk._("en continu (à chaque passage du planificateur)")
    if source.next_run is None or source.next_run <= now:
        return None, tk._("au prochain passage du planificateur (chaque minute)")
    return source.next_run, ""


@dataclass
class SourceRow:
    id: str
    name: str
    title: str
    source_type: str
    organization_title: str
    organization_name: str
    frequency: str
    active: bool
    last_run: Optional[RunView]
    next_run: Optional[dt.datetime]
    next_run_text: str
    job_count: int


def last_job(source_id: str) -> Optional[HarvestJob]:
    return (model.Session.query(HarvestJob).filter(HarvestJob.source_id == source_id)
            .order_by(HarvestJob.created.desc()).first())


def source_row(source: HarvestSource) -> SourceRow:
    package = model.Package.get(source.id)
    org = model.Group.get(package.owner_org) if package is not None and package.owner_org else None
    job = last_job(source.id)
    moment, text = next_run(source)
    return SourceRow(
        id=source.id, name=package.name if package is not None else source.id,
        title=source.title or (package.title if package is not None else "") or source.url,
        source_type=source.type, organization_title=(org.title or org.name) if org is not None else "",
        organization_name=org.name if org is not None else "", frequency=frequency_label(source.frequency),
        active=bool(source.active), last_run=run_view(job) if job is not None else None,
        next_run=moment, next_run_text=text,
        job_count=model.Session.query(HarvestJob).filter(HarvestJob.source_id == source.id).count())


def dashboard_rows(source_ids: Iterable[str]) -> list[SourceRow]:
    """One row per source, in the order given (the search page's: only what the user may see)."""
    rows = []
    for source_id in source_ids:
        source = HarvestSource.get(source_id) if isinstance(source_id, str) else None
        if source is not None:
            rows.append(source_row(source))
    return rows


def source_ids_of(items: Iterable[Any]) -> list[str]:
    """Ids of the harvest-source datasets of a search page (dicts or objects)."""
    ids = []
    for item in items or []:
        ident = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
        if isinstance(ident, str):
            ids.append(ident)
    return ids
