"""One waiting ingestion job per resource (ingest/queue.py), on the real Redis queue of the tests:
asking again while the job waits gives the same job; once it has started (or is gone), a new
request queues a new job (the file may have changed since the running job read it); asks from
many threads at once (several nodes) queue one job."""
from __future__ import annotations

import concurrent.futures
import time
import uuid

import pytest
from rq.job import JobStatus

from ckan.lib import jobs

from ckanext.ecarto.ingest import ingest_job
from ckanext.ecarto.ingest import queue as ingestion_queue
from ckanext.ecarto.ingest.queue import enqueue_once


@pytest.fixture
def resource_id():
    rid = str(uuid.uuid4())
    yield rid
    for job in jobs.get_queue().jobs:
        if job.args and job.args[0] == rid:
            job.delete()


def _waiting(resource_id: str) -> list:
    return [job for job in jobs.get_queue().jobs if job.args and job.args[0] == resource_id]


def test_a_waiting_job_stands_for_the_next_requests(resource_id):
    first, queued = enqueue_once(ingest_job, resource_id, title="t")
    again, queued_again = enqueue_once(ingest_job, resource_id, title="t")
    assert queued and not queued_again and again == first
    assert [job.id for job in _waiting(resource_id)] == [first]
    forced, queued_forced = enqueue_once(ingest_job, resource_id, True, title="t")   # another request
    assert queued_forced and forced != first


def test_a_started_or_vanished_job_lets_a_new_one_in(resource_id, monkeypatch):
    first, _ = enqueue_once(ingest_job, resource_id, title="t")
    job = jobs.job_from_id(first)
    job.set_status(JobStatus.STARTED)
    second, queued = enqueue_once(ingest_job, resource_id, title="t")
    assert queued and second != first
    jobs.job_from_id(second).delete()
    assert enqueue_once(ingest_job, resource_id, title="t") == (second, False)     # just queued: grace
    monkeypatch.setattr(ingestion_queue, "ENQUEUE_GRACE_S", 0.0)
    time.sleep(0.01)
    third, queued = enqueue_once(ingest_job, resource_id, title="t")
    assert queued and third not in (first, second)


def test_many_nodes_asking_at_once_queue_one_job(resource_id):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _i: enqueue_once(ingest_job, resource_id, title="t"), range(16)))
    assert len({job_id for job_id, _ in answers}) == 1
    assert sum(queued for _, queued in answers) == 1
    assert len(_waiting(resource_id)) == 1
