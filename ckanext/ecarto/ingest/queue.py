"""One waiting ingestion job per resource, whichever node asks for it (issue 19).

Several web nodes (and the CLI) may ask for the same ingestion at nearly the same time: a
resource saved twice, a publication confirmed from two tabs, ``ecarto_ingest_resource`` called
by two scripts. RQ gives each job to one ``ckan jobs worker`` only, but two jobs for the same
resource would load the same file twice. So a job waiting in the queue stands for every later
request for the same (job function, resource, force): a Redis key names it, set under an
optimistic transaction (WATCH), so two nodes asking at once queue one job.

Once the job has started, a new request queues a new job (the file may have changed after the
running job read it); the loader's advisory lock (``loader._lock``) then runs the two one after
the other, never at once.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable, Optional

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

import ckan.plugins.toolkit as tk
from ckan.lib.redis import connect_to_redis

log = logging.getLogger(__name__)

JOB_TIMEOUT_S = 3600
# A key whose job is not (yet) in Redis: the node that set it is enqueueing it right now.
ENQUEUE_GRACE_S = 30.0
MARK_TTL_S = 24 * 3600
ATTEMPTS = 20
WAITING = frozenset({JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED})


def mark_key(fn: Callable[..., Any], resource_id: str, force: bool) -> str:
    site = tk.config.get("ckan.site_id") or "default"
    return f"ckan:{site}:ecarto:ingestion:{fn.__module__}.{fn.__qualname__}:{resource_id}:{int(bool(force))}"


def _waiting_job(conn: redis.Redis, value: Optional[bytes]) -> Optional[str]:
    """The job id the key names when that job still waits (or is being queued), else None."""
    if not value:
        return None
    job_id, _sep, stamp = value.decode().partition("|")
    try:
        status = Job.fetch(job_id, connection=conn).get_status(refresh=False)
    except NoSuchJobError:
        fresh = stamp and time.time() - float(stamp) < ENQUEUE_GRACE_S
        return job_id if fresh else None
    return job_id if status in WAITING else None


def enqueue_once(fn: Callable[..., Any], resource_id: str, force: bool = False, *,
                 title: str) -> tuple[str, bool]:
    """Queue ``fn(resource_id, force)`` unless the same job already waits: (job id, queued now)."""
    conn = connect_to_redis()
    key = mark_key(fn, resource_id, force)
    job_id = f"ecarto-ingest-{uuid.uuid4().hex}"
    with conn.pipeline() as pipe:
        for _attempt in range(ATTEMPTS):
            try:
                pipe.watch(key)
                waiting = _waiting_job(conn, pipe.get(key))
                if waiting is not None:
                    pipe.unwatch()
                    log.info("Chargement de %s déjà en attente (tâche %s)", resource_id, waiting)
                    return waiting, False
                pipe.multi()
                pipe.set(key, f"{job_id}|{time.time()}", ex=MARK_TTL_S)
                pipe.execute()
                break
            except redis.WatchError:
                continue
        else:
            raise RuntimeError(f"ingestion job of {resource_id}: the Redis key kept changing")
    tk.enqueue_job(fn, [resource_id, force], title=title,
                   rq_kwargs={"timeout": JOB_TIMEOUT_S, "job_id": job_id})
    return job_id, True
