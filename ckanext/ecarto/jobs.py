"""The portal's background jobs (issue 19): retried with backoff when they fail, and visible.

CKAN runs its jobs with python-rq (``ckan jobs worker``). A job of the extension that fails —
an exception, or its process killed (``kill -9``, out of memory) in the middle of a refresh of
the territory aggregates or of an ingestion — is rolled back by PostgreSQL but, with plain RQ,
never run again. ``Worker`` (run by ``ckan ecarto taches worker``, which ``scripts/ecarto.sh
serve`` supervises) gives every job of the extension enqueued without a retry policy the one of
the configuration: ``ckanext.ecarto.jobs.retry_max`` more attempts, after
``ckanext.ecarto.jobs.retry_intervals`` seconds (with more attempts than values, RQ uses the
first value for the extra ones); its scheduler puts the retries back in the queue when due. A
job that fails for good stays in RQ's failed registry with its reason: ``ckan ecarto taches``
and the harvest dashboard show them (``overview``).

``will_run`` tells the pages whether a job of a function is already on its way (waiting,
scheduled for a retry or just started, with a live worker to run it): then a page serves the
previous aggregates instead of recomputing them itself.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

import ckan.plugins.toolkit as tk
import rq
from ckan.lib import jobs as ckan_jobs
from rq.job import Job

log = logging.getLogger(__name__)

OWN_PREFIX = "ckanext.ecarto."
# Our worker's registration in Redis lives this long without a heartbeat (RQ: 420 s), and it
# beats every WORKER_TTL_S - 15 s while idle: a killed worker stops counting within a minute.
WORKER_TTL_S = 60
DEFAULT_INTERVALS = (5, 30, 120)


def retry_max() -> int:
    return max(0, tk.config.get("ckanext.ecarto.jobs.retry_max"))


def retry_intervals() -> list[int]:
    """Seconds before each retry (``ckanext.ecarto.jobs.retry_intervals``, space-separated)."""
    raw = str(tk.config.get("ckanext.ecarto.jobs.retry_intervals") or "")
    try:
        values = [max(0, int(v)) for v in raw.split()]
    except ValueError:
        log.warning("ckanext.ecarto.jobs.retry_intervals illisible (%r) : %s utilisé", raw, DEFAULT_INTERVALS)
        values = []
    return values or list(DEFAULT_INTERVALS)


def is_own(job: Job) -> bool:
    return (job.func_name or "").startswith(OWN_PREFIX)


def give_retry_policy(job: Job) -> bool:
    """A job of the extension enqueued without a retry policy gets the configured one (before
    its first failure is handled). Returns whether it has one now."""
    if job.retries_left is not None:
        return True
    if not is_own(job) or retry_max() == 0:
        return False
    job.retries_left = retry_max()
    job.retry_intervals = retry_intervals()
    return True


class Worker(ckan_jobs.Worker):
    """CKAN's worker, retrying the extension's failed jobs (see the module's docstring)."""

    def handle_job_failure(self, job: Job, queue: Any, started_job_registry: Any = None,
                           exc_string: str = "") -> None:
        if give_retry_policy(job) and job.retries_left:
            log.warning("Tâche %s (%s) en échec, nouvelle tentative dans %s s (%s restantes) : %s",
                        job.id, title(job), job.get_retry_interval(), job.retries_left,
                        last_line(exc_string))
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string)


def work(queues: Optional[list[str]] = None, burst: bool = False) -> None:
    """Run a worker on `queues` (default: CKAN's default queue) with RQ's scheduler (the retries
    with an interval), maintenance every 30 s (a scheduler left by a killed worker is taken
    over soon)."""
    Worker(queues or None, maintenance_interval=30, worker_ttl=WORKER_TTL_S).work(burst=burst, with_scheduler=True)


# --------------------------------------------------------------------------- reading

def title(job: Job) -> str:
    return (job.meta or {}).get("title") or job.func_name or job.id


def last_line(exc_string: Optional[str]) -> str:
    lines = [line.strip() for line in (exc_string or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dataclass
class JobRow:
    id: str
    titre: str
    etat: str            # en_attente, planifiee, en_cours, echec
    queue: str
    quand: Optional[dt.datetime]
    tentatives_restantes: Optional[int]
    raison: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "quand": self.quand.isoformat() if self.quand else None}


def _queues() -> list[rq.Queue]:
    return ckan_jobs.get_all_queues()


def _rows(queue: rq.Queue, ids: Iterable[str], etat: str, when: Callable[[Job], Optional[dt.datetime]]
          ) -> list[JobRow]:
    rows = []
    for job in Job.fetch_many(list(ids), connection=queue.connection):
        if job is None:
            continue
        reason = ""
        if etat == "echec":
            result = job.latest_result()
            reason = last_line(result.exc_string if result is not None else "")
        rows.append(JobRow(id=job.id, titre=title(job), etat=etat,
                           queue=ckan_jobs.remove_queue_name_prefix(queue.name), quand=when(job),
                           tentatives_restantes=job.retries_left, raison=reason))
    return rows


def overview(limit: int = 50) -> list[JobRow]:
    """Waiting, scheduled (a retry), running and failed jobs of every queue, failed last."""
    rows: list[JobRow] = []
    for queue in _queues():
        rows += _rows(queue, queue.job_ids[:limit], "en_attente", lambda j: j.enqueued_at)
        rows += _rows(queue, queue.scheduled_job_registry.get_job_ids(0, limit - 1), "planifiee",
                      lambda j: j.enqueued_at)
        rows += _rows(queue, queue.started_job_registry.get_job_ids(0, limit - 1), "en_cours",
                      lambda j: j.started_at)
        rows += _rows(queue, queue.failed_job_registry.get_job_ids(0, limit - 1), "echec", lambda j: j.ended_at)
    return rows


def failed(limit: int = 20) -> list[JobRow]:
    """The extension's jobs that failed for good (retries exhausted), latest first."""
    rows = [r for r in overview(limit) if r.etat == "echec"]
    return sorted(rows, key=lambda r: r.quand or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                  reverse=True)[:limit]


def live_workers() -> int:
    """Workers registered on CKAN's default queue (RQ drops a registration whose heartbeat has
    not come within the worker's TTL)."""
    queue = ckan_jobs.get_queue()
    return len(rq.Worker.all(connection=queue.connection, queue=queue))


def will_run(fn: Callable[..., Any]) -> bool:
    """Whether a job of `fn` waits in a queue, is scheduled for a retry or has just started, with a
    live worker to run it. Never raises (no Redis: False)."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    try:
        queue = ckan_jobs.get_queue()
        ids = list(queue.job_ids[:200]) + queue.scheduled_job_registry.get_job_ids(0, 199) \
            + queue.started_job_registry.get_job_ids(0, 199)
        if not any(job is not None and job.func_name == name
                   for job in Job.fetch_many(ids, connection=queue.connection)):
            return False
        return live_workers() > 0
    except Exception:  # noqa: BLE001 - Redis down: nobody will run it
        return False
