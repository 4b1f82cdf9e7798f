"""Read-heavy pages served by a hot-standby replica, the primary when it is gone (issue 19).

Built on this machine: a primary PostgreSQL cluster and its hot standby (`pg_basebackup -R`,
streaming replication, other ports: tests/replication/cluster.py); the CKAN database created on
the primary by the real commands (`ckan db init`, the SQL of `datastore set-permissions`, `ecarto load-sample` of a
reduced manifest of the real sample files); the portal served by gunicorn with `sqlalchemy.url`
on the primary and `ckanext.ecarto.read_urls` on the standby. Both servers log every statement
with the client's application name, so the tests see which server ran which query.

Skipped (with the reason) when not run as root or without PostgreSQL's server binaries.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
import yaml
from ckanext.datastore.cli import permissions_sql

from tests.replication.cluster import Cluster, skip_reason

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SAMPLE = ROOT / "data" / "sample"
CKAN_DB = "ecarto_ckan_replica"
DATASTORE_DB = "ecarto_datastore_replica"
READ_APP = "ckanext-ecarto-read"          # application_name of the replica engines (replicas.py)
# a reduced manifest of the real sample: a directory (establishment pages) and communes data
SAMPLE_DATASETS = ("annuaire-education-val-de-marne-ecoles-publiques-2026",
                   "arcep-ma-connexion-internet-communes-2026-t1-extrait")
PUBLISHED_FILE = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
PUBLISHED_NAME = "ips-colleges-publie-apres-replique"
MAX_LAG = 5               # ckanext.ecarto.read_max_lag_seconds of the served portal

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ports() -> tuple[int, int, int]:
    """Primary, standby, web: ECARTO_REPLICATION_PORTS="5451 5452 5501", or free ports."""
    given = os.environ.get("ECARTO_REPLICATION_PORTS", "").split()
    if len(given) == 3:
        return int(given[0]), int(given[1]), int(given[2])
    return _free_port(), _free_port(), _free_port()


def _ini(folder: Path, primary: Cluster, standby: Cluster, web_port: int) -> Path:
    """test.ini with the databases on the clusters and the standby as read replica."""
    text = (ROOT / "test.ini").read_text(encoding="utf-8").replace("%(here)s", str(ROOT))
    # the replicas' changes of state are logged at INFO (used again) and WARNING (skipped)
    text = text.replace("qualname = ckanext\nhandlers =\nlevel = WARN", "qualname = ckanext\nhandlers =\nlevel = INFO")
    assert "qualname = ckanext\nhandlers =\nlevel = INFO" in text
    settings = {
        "sqlalchemy.url": primary.url(CKAN_DB, "ecarto_test", "ecarto_test"),
        "ckan.datastore.write_url": primary.url(DATASTORE_DB, "ecarto_test", "ecarto_test"),
        # CKAN's own read_url of the DataStore, on the standby too
        "ckan.datastore.read_url": standby.url(DATASTORE_DB, "ecarto_test_ro", "ecarto_test"),
        "ckan.site_url": f"http://127.0.0.1:{web_port}",
        "ckan.storage_path": str(folder / "storage"),
        "ckanext.ecarto.read_urls": standby.url(CKAN_DB, "ecarto_test", "ecarto_test"),
        "ckanext.ecarto.read_check_seconds": "1",
        "ckanext.ecarto.read_max_lag_seconds": str(MAX_LAG),
        "ckanext.ecarto.page_cache.enabled": "false",      # every request reaches the database
    }
    lines = text.splitlines()
    start = lines.index("[app:main]")
    for key, value in settings.items():
        found = [i for i, line in enumerate(lines) if re.match(rf"^{re.escape(key)}\s*=", line)]
        if found:
            lines[found[0]] = f"{key} = {value}"
        else:
            lines.insert(start + 1, f"{key} = {value}")
    ini = folder / "replica.ini"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ini


def _env(ini: Path) -> dict[str, str]:
    """The environment of the portal's processes: CKAN_* variables of the test session removed
    (they would point CKAN at the session's databases), the ini's values used instead."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CKAN_SQLALCHEMY_URL", "CKAN_DATASTORE_WRITE_URL", "CKAN_DATASTORE_READ_URL", "CKAN_INI")}
    env["CKAN_INI"] = str(ini)
    return env


def _ckan(ini: Path, *args: str, stdout: Any = subprocess.PIPE) -> str:
    result = subprocess.run([str(VENV_BIN / "ckan"), "-c", str(ini), *args], env=_env(ini), cwd=ROOT,
                            stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=240)
    assert result.returncode == 0, f"ckan {' '.join(args)}:\n{result.stdout}\n{result.stderr[-3000:]}"
    return result.stdout or ""


def _reduced_sample(folder: Path) -> Path:
    manifest = yaml.safe_load((SAMPLE / "manifest.yaml").read_text(encoding="utf-8"))
    datasets = [d for d in manifest["datasets"] if d["name"] in SAMPLE_DATASETS]
    for dataset in datasets:
        dataset["resources"] = [dict(r, file=str(SAMPLE / r["file"])) for r in dataset["resources"]
                                if not r["file"].endswith(".json.gz")]
    target = folder / "sample"
    target.mkdir()
    (target / "manifest.yaml").write_text(yaml.safe_dump({**manifest, "datasets": datasets}, allow_unicode=True),
                                          encoding="utf-8")
    return target


def _databases(primary: Cluster) -> None:
    primary.psql("CREATE ROLE ecarto_test LOGIN PASSWORD 'ecarto_test'")
    primary.psql("CREATE ROLE ecarto_test_ro LOGIN PASSWORD 'ecarto_test'")
    for db in (CKAN_DB, DATASTORE_DB):
        primary.psql(f"CREATE DATABASE {db} OWNER ecarto_test ENCODING 'utf8' TEMPLATE template0")
        primary.psql("CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm", db)


class Portal:
    """The primary, its standby and gunicorn serving CKAN on them."""

    def __init__(self, primary: Cluster, standby: Cluster, ini: Path, web_port: int, folder: Path):
        self.primary, self.standby, self.ini, self.folder = primary, standby, ini, folder
        self.base = f"http://127.0.0.1:{web_port}"
        self.web_log = folder / "gunicorn.log"
        self.process: Optional[subprocess.Popen[bytes]] = None

    def serve(self) -> None:
        log = open(self.web_log, "ab")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--workers", "1", "--threads", "4", "--bind", self.base[len("http://"):],
             "--timeout", "120", "ckanext.ecarto.wsgi:application"],
            env=_env(self.ini), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.web_log.read_text(errors="replace")[-3000:]
            try:
                if self.get("/api/3/action/status_show")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError("gunicorn ne répond pas")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)      # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post_json(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.base + path, data=json.dumps(data).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def api(self, action: str, **params: Any) -> dict[str, Any]:
        status, body = self.get(f"/api/3/action/{action}?{urllib.parse.urlencode(params)}")
        assert status == 200, body[:500]
        return json.loads(body)["result"]


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    primary_port, standby_port, web_port = _ports()
    folder = Path(tempfile.mkdtemp(prefix="ecarto-replica-"))
    primary = Cluster.primary(primary_port)
    portal_: Optional[Portal] = None
    try:
        _databases(primary)
        standby = primary.standby(standby_port)
        ini = _ini(folder, primary, standby, web_port)
        _ckan(ini, "db", "init")        # CKAN 2.12: core, then the pending migrations of every plugin
        # what `ckan datastore set-permissions` prints, without one more CKAN start-up
        primary.psql("", DATASTORE_DB, stdin=permissions_sql(maindb=CKAN_DB, datastoredb=DATASTORE_DB,
                                                             mainuser="ecarto_test", writeuser="ecarto_test",
                                                             readuser="ecarto_test_ro"))
        _ckan(ini, "ecarto", "load-sample", "--dir", str(_reduced_sample(folder)))
        standby.wait_for_replay(primary)
        portal_ = Portal(primary, standby, ini, web_port, folder)
        portal_.serve()
        yield portal_
    finally:
        if portal_ is not None:
            portal_.stop()
        for log in primary.root.glob("*.log"):           # ECARTO_REPLICATION_KEEP=1: logs kept
            shutil.copy(log, folder)
        primary.destroy()
        if not os.environ.get("ECARTO_REPLICATION_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)


def _pages(portal: Portal) -> dict[str, str]:
    """The read-heavy pages: search, an establishment, a territory, exports, the catalogue."""
    uai = portal.api("ecarto_etablissement_search", q="Fontenay", rows=1)["results"][0]["uai"]
    return {
        "recherche": "/dataset/?q=annuaire",
        "package_search": "/api/3/action/package_search?q=%C3%A9coles&rows=5",
        "package_list": "/api/3/action/package_list",
        "établissement": f"/etablissement/{uai}",
        "établissement (CSV)": f"/etablissement/{uai}.csv",
        "recherche d'établissements": "/etablissement?q=Fontenay",
        "territoire": "/territoire/departement/94",
        "territoire (JSON)": "/territoire/departement/94.json",
        "territoire (CSV)": "/territoire/departement/94.csv",
        "catalogue DCAT": "/catalog.ttl",
    }


def _read_statements(log: str, application: str = READ_APP) -> list[str]:
    prefix = f"{application}|LOG:  statement: "
    return [line[len(prefix):] for line in log.splitlines() if line.startswith(prefix)]


def _all_statements(log: str) -> list[str]:
    return [line.split("statement: ", 1)[1] for line in log.splitlines() if "|LOG:  statement: " in line]


def _wait_for_stats(standby: Cluster, before: dict[str, int], timeout: float = 15) -> dict[str, int]:
    """pg_stat_database of the standby after its backends flushed their counters (≤ 10 s idle)."""
    deadline = time.monotonic() + timeout
    while True:
        after = standby.stats(CKAN_DB)
        if after["tup_returned"] > before["tup_returned"] or time.monotonic() > deadline:
            return after
        time.sleep(0.5)


def test_reads_are_served_by_the_standby(portal):
    pages = _pages(portal)
    # a first visit may refresh the territory aggregates on the primary: that request then reads
    # its own writes from the primary; once replayed, the next visits read from the standby
    for path in pages.values():
        portal.get(path)
    portal.standby.wait_for_replay(portal.primary)
    stats_before = portal.standby.stats(CKAN_DB)
    standby_mark, primary_mark = portal.standby.log_mark(), portal.primary.log_mark()
    for label, path in pages.items():
        status, body = portal.get(path)
        assert status == 200, f"{label} {path}: {status} {body[:300]!r}"
    on_standby = "\n".join(_read_statements(portal.standby.log_since(standby_mark)))
    on_primary = "\n".join(_all_statements(portal.primary.log_since(primary_mark)))
    # search (/dataset, package_search, the DCAT catalogue), package_list, establishment and territory pages
    assert "FROM ecarto_search_index" in on_standby
    assert "FROM package" in on_standby
    assert "etablissement_source" in on_standby
    assert "territoire_agregat" in on_standby or "territoire_serie" in on_standby
    assert "FROM ecarto_search_index" not in on_primary
    assert "etablissement_source" not in on_primary
    # and the standby's own statistics count them
    assert _wait_for_stats(portal.standby, stats_before)["tup_returned"] > stats_before["tup_returned"]


def test_results_on_the_standby_are_those_of_the_primary(portal):
    """The same action by GET (standby) and POST (primary): same answer, same permissions."""
    for action, params in [("package_search", {"q": "écoles", "rows": 50, "sort": "name asc"}),
                           ("ecarto_etablissement_search", {"q": "Fontenay", "rows": 20}),
                           ("ecarto_territoire_show", {"niveau": "departement", "code": "94"})]:
        mark = portal.standby.log_mark()
        replica = portal.api(action, **params)
        assert _read_statements(portal.standby.log_since(mark)), f"{action} not read on the standby"
        mark = portal.standby.log_mark()
        primary = portal.post_json(f"/api/3/action/{action}", params)["result"]
        assert not _read_statements(portal.standby.log_since(mark)), f"{action} by POST read on the standby"
        assert json.dumps(replica, sort_keys=True) == json.dumps(primary, sort_keys=True), action


def test_published_data_is_visible_once_replayed(portal):
    """Published by the CLI (which reads and writes on the primary only), then found through the
    standby once replayed."""
    mark = portal.standby.log_mark()
    _ckan(portal.ini, "ecarto", "load", str(PUBLISHED_FILE), "--dataset", PUBLISHED_NAME, "--axe", "etablissements")
    assert not _read_statements(portal.standby.log_since(mark)), "the CLI read from the standby"
    deadline = time.monotonic() + 30
    while True:
        mark = portal.standby.log_mark()
        found = portal.api("package_search", fq=f"name:{PUBLISHED_NAME}")["count"]
        if found:
            break
        assert time.monotonic() < deadline, "dataset never visible through the standby"
        time.sleep(0.5)
    assert "FROM ecarto_search_index" in "\n".join(_read_statements(portal.standby.log_since(mark)))


def test_datastore_reads_go_to_its_read_url_on_the_standby(portal):
    """CKAN's own mechanism: `ckan.datastore.read_url` (here on the standby) serves datastore_search."""
    resource_id = portal.api("package_search", q="écoles", rows=1)["results"][0]["resources"][0]["id"]
    portal.primary.psql(f'SET ROLE ecarto_test; CREATE TABLE "{resource_id}" (_id serial PRIMARY KEY, uai text); '
                        f"INSERT INTO \"{resource_id}\" (uai) VALUES ('0940001A'), ('0940002B')", DATASTORE_DB)
    portal.standby.wait_for_replay(portal.primary)
    mark = portal.standby.log_mark()
    result = portal.api("datastore_search", resource_id=resource_id)
    assert sorted(r["uai"] for r in result["records"]) == ["0940001A", "0940002B"]
    assert resource_id in portal.standby.log_since(mark)


def _search_went_to_standby(portal: Portal, path: str) -> bool:
    mark = portal.standby.log_mark()
    assert portal.get(path)[0] == 200
    return "FROM ecarto_search_index" in "\n".join(_read_statements(portal.standby.log_since(mark)))


def test_a_standby_lagging_beyond_the_threshold_is_skipped(portal):
    """Replay paused on the standby while the primary writes: beyond read_max_lag_seconds the
    reads go to the primary; replay resumed, they come back to the standby."""
    path = "/api/3/action/package_search?q=annuaire"
    portal.standby.psql("SELECT pg_wal_replay_pause()")
    try:
        age = float(portal.standby.psql("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"))
        time.sleep(max(0.0, MAX_LAG + 0.5 - age))
        portal.primary.psql("CREATE TABLE lag_probe (a int); INSERT INTO lag_probe VALUES (1)", CKAN_DB)
        time.sleep(1.5)                                      # read_check_seconds = 1
        primary_mark = portal.primary.log_mark()
        assert not _search_went_to_standby(portal, path)
        assert "FROM ecarto_search_index" in portal.primary.log_since(primary_mark)
        assert re.search(r"écarté \(retard : [\d.]+ s > 5 s\).*fallback", portal.web_log.read_text(errors="replace"))
    finally:
        portal.standby.psql("SELECT pg_wal_replay_resume()")
    portal.standby.wait_for_replay(portal.primary)
    time.sleep(1.5)
    assert _search_went_to_standby(portal, path)


def test_without_the_standby_every_page_is_served_by_the_primary(portal):
    pages = _pages(portal)
    portal.standby.stop()
    try:
        primary_mark = portal.primary.log_mark()
        for label, path in pages.items():
            status, body = portal.get(path)
            assert status == 200, f"{label} {path} without the standby: {status} {body[:300]!r}"
        on_primary = "\n".join(_all_statements(portal.primary.log_since(primary_mark)))
        assert "FROM ecarto_search_index" in on_primary and "etablissement_source" in on_primary
        log = portal.web_log.read_text(errors="replace")
        assert re.search(r"Réplica .*:\d+/.* écarté \(injoignable.*fallback", log), log[-2000:]
        assert log.count("écarté (injoignable") == 1          # once per change of state, not per request
    finally:
        portal.standby.start()
    # back: the replica is used again after its next check
    deadline = time.monotonic() + 15
    while True:
        time.sleep(1.2)
        mark = portal.standby.log_mark()
        portal.get(pages["package_search"])
        if "FROM ecarto_search_index" in "\n".join(_read_statements(portal.standby.log_since(mark))):
            break
        assert time.monotonic() < deadline, "standby not used again after its restart"
    assert portal.web_log.read_text(errors="replace").count("utilisé pour les lectures") >= 2   # at start, again
