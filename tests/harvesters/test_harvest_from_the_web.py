"""A harvest administrator starts a harvest with the web button ("Moissonner maintenant") and
watches it on the dashboard, with ckanext-harvest's real machinery running beside the portal as
`make run` starts it: the gather and fetch consumers (`ckan harvester gather-consumer` /
`fetch-consumer`) and the periodic `ckan harvester run`, as separate processes on the test
database and Redis queues. The remote portal is a local HTTP server serving recorded responses
(portal.py); the e-mail goes to a local SMTP server (aiosmtpd).

The run reads "réussi" on the dashboard; then the remote catalogue answers 500, the next run reads
"échec" everywhere (dashboard, job page) and the organization's admin receives a French e-mail
naming the source and the error. Screenshots: tests/screenshots/moissonnage-*.png."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import ckan.tests.factories as factories
from ckan.common import config

from ckanext.harvest import queue

from .conftest import ODS_CONFIG
from .portal import Fault
from .smtp import body_of, org_admin, smtp  # noqa: F401 - fixtures

PASSWORD = "Moissonnage-2026!"
CKAN = str(Path(sys.executable).with_name("ckan"))
WAIT_SECONDS = 240


class HarvestMachinery:
    """The consumers and the scheduler of `make run`, as real processes."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.stopping = threading.Event()
        self.scheduler = threading.Thread(target=self._schedule, daemon=True)
        self.runs = 0

    def _command(self, *args: str) -> list[str]:
        return [CKAN, "-c", config["__file__"], "harvester", *args]

    def start(self) -> "HarvestMachinery":
        for name in ("gather-consumer", "fetch-consumer"):
            log = open(self.logs / f"{name}.log", "wb")
            self.processes.append(subprocess.Popen(self._command(name), env=self.env, stdout=log,
                                                   stderr=subprocess.STDOUT))
        self.scheduler.start()
        return self

    def _schedule(self) -> None:
        """`ckan harvester run` again and again (every minute under `make run`)."""
        with open(self.logs / "run.log", "ab") as log:
            while not self.stopping.is_set():
                subprocess.run(self._command("run"), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                               timeout=180, check=False)
                self.runs += 1
                self.stopping.wait(1)

    def stop(self) -> None:
        self.stopping.set()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.scheduler.join(timeout=200)

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)


@pytest.fixture
def machinery(live_server, smtp, tmp_path) -> Iterator[HarvestMachinery]:
    queue.purge_queues()    # nothing left over from other tests on this Redis database
    env = dict(os.environ)
    redis_url = config.get("ckan.redis.url")
    # redis-py 8's 5 s socket timeout would end the consumers' blocking reads (scripts/ecarto.sh)
    env["CKAN_REDIS_URL"] = redis_url + ("&" if "?" in redis_url else "?") + "socket_timeout=86400"
    env["CKAN_SITE_URL"] = live_server
    env["CKAN_SMTP_SERVER"] = smtp.server
    env["CKAN_SMTP_MAIL_FROM"] = "moissonnage@ecarto.localhost"
    running = HarvestMachinery(env, tmp_path).start()
    yield running
    running.stop()


def _log_in(page: Any, live_server: str, name: str) -> None:
    page.goto(f"{live_server}/user/login")
    page.fill("#field-login", name)
    page.fill("#field-password", PASSWORD)
    page.locator("#field-password").press("Enter")
    page.wait_for_load_state()


def _press_harvest_now(page: Any, live_server: str, source: str) -> None:
    page.goto(f"{live_server}/harvest/admin/{source}")
    # CKAN initialises its JavaScript modules after fetching its translations, i.e. after the
    # load event: a click before that follows the link without the confirmation dialog
    page.wait_for_function("() => (window.ckan && ckan.module.instances['confirm-action'] || []).length > 0")
    button = page.get_by_role("link", name="Moissonner maintenant")
    assert "disabled" not in (button.get_attribute("class") or ""), "the previous run is not finished"
    button.click()
    page.locator(".modal.show .modal-footer .btn-primary").click()     # CKAN's confirmation dialog
    page.wait_for_load_state()


def _wait_for_status(page: Any, live_server: str, source: str, label: str, machinery: HarvestMachinery) -> Any:
    row = page.locator(f"tr[data-source='{source}']")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        page.goto(f"{live_server}/harvest")
        status = row.locator(".ecarto-harvest-status")
        if status.count() and status.inner_text().strip() == label:
            return row
        assert machinery.alive(), "a harvest consumer died (see its log in the test's tmp_path)"
        time.sleep(2)
    raise AssertionError(f"{source}: still « {row.locator('.ecarto-harvest-status').inner_text()} » "
                         f"after {WAIT_SECONDS} s ({machinery.runs} passages of `harvester run`)")


def test_a_harvest_started_from_the_web_runs_and_a_failure_is_reported(
        page, live_server, screenshot, make_source, remote, org_admin, machinery, smtp):
    sysadmin = factories.Sysadmin(name="moissonneur", password=PASSWORD)
    source = make_source("ecarto_ods", remote.url, ODS_CONFIG, name="menj-ods")
    _log_in(page, live_server, sysadmin["name"])

    # the harvest link is in the main menu of an administrator
    page.goto(live_server + "/")
    page.get_by_role("link", name="Moissonnage").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text() == "Tableau de bord du moissonnage"
    assert "jamais moissonnée" in page.locator("tr[data-source='menj-ods']").inner_text()

    # the source form shows an example configuration for each harvester type
    page.get_by_role("link", name="Ajouter une source de moissonnage").click()
    page.wait_for_load_state()
    examples = page.locator(".ecarto-harvest-config-examples details")
    assert sorted(examples.evaluate_all("nodes => nodes.map(n => n.dataset.sourceType)")) == [
        "ckan", "ecarto_ods", "ecarto_udata"]
    examples.first.locator("summary").click()
    assert '"axe": "etablissements"' in examples.first.locator("pre").inner_text()
    assert "Ministère de l'Éducation nationale" in page.locator("#field-organizations").inner_text()
    screenshot(page, "moissonnage-formulaire-source")

    _press_harvest_now(page, live_server, source["name"])
    row = _wait_for_status(page, live_server, "menj-ods", "réussi", machinery)
    text = row.inner_text()
    assert "Ministère de l'Éducation nationale" in text                   # the organization's title
    assert "créés : 3" in text and "erreurs : 0" in text
    assert "à la demande" in text                                          # next run of a manual source
    screenshot(page, "moissonnage-tableau-de-bord-reussi")
    assert smtp.messages == []

    # the remote catalogue now answers 500
    remote.faults["/api/explore/v2.1/catalog/datasets"] = Fault(status=500)
    _press_harvest_now(page, live_server, source["name"])
    row = _wait_for_status(page, live_server, "menj-ods", "échec", machinery)
    text = row.inner_text()
    assert "erreurs : 1" in text and "500" in text
    error = row.locator(".ecarto-harvest-errors li").first.inner_text().strip()
    screenshot(page, "moissonnage-tableau-de-bord-echec")

    row.get_by_role("link", name="rapport").click()                       # the job page says it too
    page.wait_for_load_state()
    assert page.locator(".ecarto-harvest-status").first.inner_text().strip() == "échec"
    assert "Finished" not in page.locator(".primary").first.inner_text()
    screenshot(page, "moissonnage-rapport-echec")

    messages = smtp.wait_for(1, timeout=60)
    assert len(messages) == 1, "no e-mail about the failed run"
    mail = messages[0]
    assert "camille.admin@menj.localhost" in str(mail["To"])
    assert mail["Subject"] == "[eCarto] Échec du moissonnage « menj-ods »"
    body = body_of(mail)
    assert "Le moissonnage de la source « menj-ods »" in body and "a échoué" in body
    assert error in body
    assert f"{live_server}/harvest/menj-ods/job/" in body
