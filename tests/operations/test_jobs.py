"""Background jobs of the extension are retried when they fail, then shown with their reason
(issue 19): a real RQ worker (CKAN's, in burst mode) on the test Redis, a real failing job (the
ingestion of a resource that does not exist)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
import ckan.plugins.toolkit as tk
from ckan.cli.cli import ckan
from ckan.lib import jobs as ckan_jobs
from ckan.model import meta
from ckan.tests import factories

from ckanext.ecarto import jobs
from ckanext.ecarto.ingest import api as ingest_api
from ckanext.ecarto.territoires import aggregates

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def empty_queues():
    def empty() -> None:
        for queue in ckan_jobs.get_all_queues():
            queue.empty()
            for registry in (queue.failed_job_registry, queue.scheduled_job_registry, queue.started_job_registry):
                for job_id in registry.get_job_ids():
                    registry.remove(job_id, delete_job=True)
    empty()
    yield
    empty()


@pytest.mark.usefixtures("with_plugins", "ecarto_db", "empty_queues")
@pytest.mark.ckan_config("ckanext.ecarto.jobs.retry_max", "2")
@pytest.mark.ckan_config("ckanext.ecarto.jobs.retry_intervals", "0")
def test_a_failing_job_is_retried_then_shown_with_its_reason(cli, app):
    missing = str(uuid.uuid4())
    job = tk.enqueue_job(ingest_api.ingest_job, [missing], title="eCarto : chargement de test")
    assert job.retries_left is None            # enqueued as CKAN does, without a retry policy
    jobs.Worker().work(burst=True)              # runs it, then its 2 retries (no interval: queued again at once)
    job.refresh()
    assert job.get_status() == "failed" and job.retries_left == 0
    rows = jobs.failed()
    assert [r.titre for r in rows] == ["eCarto : chargement de test"]
    assert rows[0].raison and "Traceback" not in rows[0].raison
    out = cli.invoke(ckan, ["ecarto", "taches"])
    assert out.exit_code == 0, out.output
    assert "échec" in out.output and "eCarto : chargement de test" in out.output
    assert "raison : " + rows[0].raison in out.output
    # and on the harvest dashboard, for sysadmins
    sysadmin = factories.SysadminWithToken()
    page = app.get("/harvest", headers={"Authorization": sysadmin["token"]})
    assert "Tâches de fond à retenter ou en échec" in page.body and "eCarto : chargement de test" in page.body
    assert "Tâches de fond" not in app.get("/harvest").body


@pytest.mark.usefixtures("empty_queues")
@pytest.mark.ckan_config("ckanext.ecarto.jobs.retry_max", "4")
@pytest.mark.ckan_config("ckanext.ecarto.jobs.retry_intervals", "5 30 120")
def test_the_retry_policy_is_given_to_the_extensions_jobs_only():
    own = tk.enqueue_job(aggregates.refresh_job, title="eCarto : agrégats")
    other = tk.enqueue_job(dt.datetime.now, title="autre")
    assert jobs.give_retry_policy(own) and own.retries_left == 4 and own.retry_intervals == [5, 30, 120]
    assert not jobs.give_retry_policy(other) and other.retries_left is None


@pytest.mark.usefixtures("empty_queues")
def test_a_queued_refresh_without_a_live_worker_does_not_stop_a_visitor_from_refreshing():
    """Pages serve the previous aggregates only while a worker will recompute them: the test
    session has no worker, so a page still recomputes (as before issue 19)."""
    assert not jobs.will_run(aggregates.refresh_job)
    tk.enqueue_job(aggregates.refresh_job, title="eCarto : agrégats territoriaux")
    assert jobs.live_workers() == 0 and not jobs.will_run(aggregates.refresh_job)


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_the_periodic_check_recomputes_stale_aggregates(cli):
    aggregates.refresh()
    with meta.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {aggregates.t('territoire_etat')} SET version = 'perime'"))
    assert not aggregates.is_up_to_date()
    out = cli.invoke(ckan, ["ecarto", "veille"])
    assert out.exit_code == 0, out.output
    assert "recalculés" in out.output and aggregates.is_up_to_date()
    out = cli.invoke(ckan, ["ecarto", "veille"])
    assert "à jour" in out.output
