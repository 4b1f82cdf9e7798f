"""Fault injection on a served portal (issue 19): what a PostgreSQL restart, a Redis outage and
`kill -9` of a web worker, of the jobs worker and of a job in the middle of a refresh of the
territory aggregates cost its visitors, and whether anything is lost or needs a person.

    .venv/bin/python bench/faults.py                  (everything on its own, about 2 minutes)
    .venv/bin/python bench/faults.py --json out.json  (the table, and the rows as JSON)

The script starts everything it needs and stops it at the end, touching nothing else:

- its own PostgreSQL cluster (``initdb`` in a temporary directory, run as the ``postgres`` system
  user when started as root; ``--pg-port``, 5441 by default) with the CKAN and DataStore
  databases, every migration, and a slice of the real sample data (the IPS of the collèges of
  a few départements, with their directory rows): enough for the aggregates to take a moment;
- its own Redis (``--redis-port``, 6391), with append-only persistence as ``make run`` starts it;
- the portal as ``scripts/ecarto.sh serve`` runs it: gunicorn (2 processes) and the supervised
  processes beside it (``ckan ecarto taches worker``, ``ckan ecarto veille``), restarted when
  they die.

A load of 4 anonymous visitors runs throughout (home, a territory page and its JSON, an
establishment page, an API search). Each fault is replayed in turn:

1. PostgreSQL stopped (``pg_ctl stop -m fast``) for ``--outage`` seconds (8), then started;
2. Redis stopped for as long, then started, while an editor asks for a background ingestion;
3. ``kill -9`` of one gunicorn worker;
4. ``kill -9`` of the jobs worker while a job is queued;
5. ``kill -9`` of the process running a refresh of the territory aggregates, in its middle.

For each: the requests that failed during the fault (and how: 503, 500, timeout), the time from
the end of the fault to the first of a run of good answers on every page, the data lost (the
rows of the ingested tables, the queued jobs that never ran, the aggregates left stale) and the
manual action needed (a process that stayed dead, a job that was never retried). The table is
printed; exit status 1 when something was lost or needs a person.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SAMPLE = ROOT / "data" / "sample"
DEPARTEMENTS = ("31", "34", "30", "11", "09")
PATHS = (
    "/",
    "/territoire/departement/31",
    "/territoire/departement/31.json",
    "/etablissement/0310008R",
    "/api/3/action/package_search?rows=2",
)
QUEUE = "ckan:test.ckan.net:default"     # CKAN's default queue, for the site id of test.ini
TERRITORY_PATHS = ("/territoire/departement/31", "/territoire/departement/31.json")


def log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:  # noqa: BLE001 - not ready yet
            pass
        time.sleep(step)
    return False


# --------------------------------------------------------------------------- PostgreSQL

class Cluster:
    """A throw-away PostgreSQL cluster on loopback, trust authentication."""

    def __init__(self, base: Path, port: int) -> None:
        self.dir = base / "pg"
        self.port = port
        self.bin = next((d for d in PG_BIN_DIRS if (d / "initdb").exists()), None)
        if self.bin is None:
            raise RuntimeError("binaires PostgreSQL introuvables (/usr/lib/postgresql/*/bin)")
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd="/")

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.dir.parent, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale", "C.UTF-8")
        self.start()

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"),
                  "-w", "-t", "60", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=200", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop", check=False)

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                              "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def url(self, db: str, user: str = "ecarto_faults") -> str:
        return f"postgresql://{user}:ecarto_faults@127.0.0.1:{self.port}/{db}"


# --------------------------------------------------------------------------- Redis

class Redis:
    def __init__(self, base: Path, port: int) -> None:
        self.dir = base / "redis"
        self.port = port
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.dir.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--appendonly", "yes",
             "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(self.ping, 20):
            raise RuntimeError(f"Redis ne répond pas sur le port {self.port}")

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), 1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()     # SIGTERM: Redis writes its append-only file and exits
            self.proc.wait(20)
        self.proc = None

    def url(self, db: int = 1) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


# --------------------------------------------------------------------------- the portal

class Portal:
    """The portal as `scripts/ecarto.sh serve` runs it, on the cluster and Redis above."""

    def __init__(self, base: Path, cluster: Cluster, redis: Redis, workers: int = 2) -> None:
        self.base = base
        self.cluster = cluster
        self.redis = redis
        self.workers = workers
        self.port = free_port()
        self.ini = base / "faults.ini"
        self.logs = base / "logs"
        self.gunicorn: Optional[subprocess.Popen] = None
        self.supervisors: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ,
                "CKAN_INI": str(self.ini),
                "CKAN_SQLALCHEMY_URL": self.cluster.url("ecarto_faults"),
                "CKAN_DATASTORE_WRITE_URL": self.cluster.url("ecarto_faults_datastore"),
                "CKAN_DATASTORE_READ_URL": self.cluster.url("ecarto_faults_datastore", "ecarto_faults_ro"),
                "CKAN_REDIS_URL": self.redis.url(),
                "CKAN_SITE_URL": f"http://127.0.0.1:{self.port}"}

    def write_config(self) -> None:
        """test.ini as a production portal: not in testing mode, its own storage and logs."""
        text = (ROOT / "test.ini").read_text(encoding="utf-8").replace("%(here)s", str(ROOT))
        text = text.replace("testing = true", "testing = false")
        urls = {"sqlalchemy.url": self.env["CKAN_SQLALCHEMY_URL"],
                "ckan.datastore.write_url": self.env["CKAN_DATASTORE_WRITE_URL"],
                "ckan.datastore.read_url": self.env["CKAN_DATASTORE_READ_URL"],
                "ckan.redis.url": self.env["CKAN_REDIS_URL"], "ckan.site_url": self.env["CKAN_SITE_URL"]}
        lines = []
        for line in text.splitlines():
            key = line.partition("=")[0].strip()
            lines.append(f"{key} = {urls[key]}" if key in urls else line)
        text = "\n".join(lines) + "\n"
        text = text.replace(f"ckan.storage_path = {ROOT}/.ecarto/storage-test",
                            f"ckan.storage_path = {self.base}/storage")
        self.ini.write_text(text, encoding="utf-8")
        self.logs.mkdir(exist_ok=True)

    def ckan(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "ckan"), "-c", str(self.ini), *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)

    def create_databases(self) -> None:
        for role in ("ecarto_faults", "ecarto_faults_ro"):
            self.cluster.psql(f"CREATE ROLE {role} LOGIN PASSWORD 'ecarto_faults'")
        for db in ("ecarto_faults", "ecarto_faults_datastore"):
            self.cluster.psql(f"CREATE DATABASE {db} OWNER ecarto_faults ENCODING 'utf8' TEMPLATE template0")
            self.cluster.psql("CREATE EXTENSION unaccent; CREATE EXTENSION pg_trgm", db)
        out = self.ckan("db", "init")      # CKAN's migrations, then those of every plugin
        if out.returncode:
            raise RuntimeError(f"ckan db init : {out.stderr[-2000:]}")
        rights = self.ckan("datastore", "set-permissions").stdout
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.cluster.port), "-U", "postgres",
                        "-d", "ecarto_faults_datastore", "-q"], input=rights, text=True, check=True,
                       capture_output=True)

    def load_sample(self) -> None:
        out = self.ckan("ecarto", "load-sample", timeout=900)
        if out.returncode:
            raise RuntimeError(f"ckan ecarto load-sample : {out.stdout[-2000:]}{out.stderr[-2000:]}")

    def admin_token(self) -> str:
        """A sysadmin and an API token (for the background ingestions the faults ask for)."""
        for args in (("user", "add", "faults-admin", "email=faults@ecarto.localhost", "password=faults-admin-1234"),
                     ("sysadmin", "add", "faults-admin")):
            self.ckan(*args)
        out = self.ckan("user", "token", "add", "faults-admin", "faults")
        token = out.stdout.strip().splitlines()[-1].strip() if out.stdout.strip() else ""
        if out.returncode or not token:
            raise RuntimeError(f"jeton d'API : {out.stderr[-1000:]}")
        return token

    # ----------------------------------------------------------------------- serving

    def serve(self) -> None:
        """`scripts/ecarto.sh serve` on this configuration, its logs in the temporary directory."""
        env = {**self.env, "ECARTO_PORT": str(self.port), "ECARTO_WORKERS": str(self.workers),
               "ECARTO_LOG_DIR": str(self.logs), "ECARTO_WATCH_EVERY": "600", "ECARTO_HARVEST_RUN_EVERY": "600"}
        self.serve_proc = subprocess.Popen([str(ROOT / "scripts" / "ecarto.sh"), "serve"], env=env, cwd=ROOT,
                                           stdout=open(self.logs / "serve.log", "ab"), stderr=subprocess.STDOUT,
                                           start_new_session=True)

    def stop(self) -> None:
        proc = getattr(self, "serve_proc", None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        # whatever is left of this portal (a horse finishing its job): by its configuration file
        for pid in self.pids("-c", str(self.ini)) + self.pids(f"CKAN_INI={self.ini}"):
            with _suppress():
                os.kill(pid, signal.SIGKILL)

    def pids(self, *needles: str) -> list[int]:
        """Processes of this portal whose command line holds every needle."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\\0")
            except OSError:
                continue
            words = [w.decode(errors="replace") for w in argv if w]
            line = " ".join(words)
            if all(n in line for n in needles) and str(self.ini) in line:
                found.append(int(entry.name))
        return sorted(found)

    def gunicorn_workers(self) -> list[int]:
        masters = [p for p in self.pids("gunicorn") if _ppid(p) not in self.pids("gunicorn")]
        return [p for p in self.pids("gunicorn") if masters and _ppid(p) == masters[0]]

    def jobs_worker(self) -> Optional[int]:
        """The worker's main process (not its scheduler nor its work horse: both are its children)."""
        candidates = self.pids("ecarto", "taches", "worker")
        mains = [p for p in candidates if _ppid(p) not in candidates]
        return mains[0] if mains else None

    def work_horse(self) -> Optional[int]:
        """The child of the jobs worker running a job: RQ puts it in a process group of its own."""
        main = self.jobs_worker()
        if main is None:
            return None
        for pid in self.pids("ecarto", "taches", "worker"):
            if _ppid(pid) == main and os.getpgid(pid) == pid:
                return pid
        return None


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return True


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rpartition(")")[2].split()[1])


# --------------------------------------------------------------------------- load

@dataclass
class Hit:
    path: str
    start: float
    end: float
    status: Optional[int]
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400

    def label(self) -> str:
        return str(self.status) if self.status is not None else (self.error or "erreur")


class Load:
    """`visitors` threads, each asking for the paths in turn, one request at a time."""

    def __init__(self, port: int, visitors: int = 4, timeout: float = 60.0) -> None:
        self.port = port
        self.visitors = visitors
        self.timeout = timeout
        self.hits: list[Hit] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(visitors)]

    def get(self, path: str, method: str = "GET", body: Optional[bytes] = None,
            headers: Optional[dict[str, str]] = None) -> tuple[Optional[int], bytes, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def _run(self, index: int) -> None:
        i = index
        while not self._stop.is_set():
            path = PATHS[i % len(PATHS)]
            i += 1
            start = time.monotonic()
            try:
                status, _body, _headers = self.get(path)
                hit = Hit(path, start, time.monotonic(), status)
            except socket.timeout:
                hit = Hit(path, start, time.monotonic(), None, "délai dépassé")
            except (OSError, http.client.HTTPException) as exc:
                hit = Hit(path, start, time.monotonic(), None, type(exc).__name__)
                time.sleep(0.2)
            with self._lock:
                self.hits.append(hit)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def between(self, start: float, end: float) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.end >= start and h.start <= end]

    def healthy_since(self, since: float, window: float) -> Optional[float]:
        """The end of the last failed request after `since`, when every request of the last
        `window` seconds (at least one per path) succeeded; else None."""
        now = time.monotonic()
        with self._lock:
            recent = [h for h in self.hits if h.start >= now - window]
            after = [h for h in self.hits if h.end >= since]
        if not recent or not all(h.ok for h in recent) or {h.path for h in recent} != set(PATHS):
            return None
        failed = [h.end for h in after if not h.ok]
        return max(failed) if failed else since


# --------------------------------------------------------------------------- faults

@dataclass
class Result:
    fault: str
    errors: str = "aucune"
    recovery_s: Optional[float] = None
    lost: str = "aucune"
    manual: str = "aucune"
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.lost == "aucune" and self.manual == "aucune"

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "clean": self.clean}


def summarise(hits: list[Hit]) -> str:
    failed = [h for h in hits if not h.ok]
    if not failed:
        return "aucune"
    counts: dict[str, int] = {}
    for hit in failed:
        counts[hit.label()] = counts.get(hit.label(), 0) + 1
    return ", ".join(f"{n} × {label}" for label, n in sorted(counts.items(), key=lambda kv: -kv[1])) + \
        f" (sur {len(hits)})"


class Bench:
    def __init__(self, portal: Portal, load: Load, token: str, outage_s: float) -> None:
        self.portal = portal
        self.load = load
        self.token = token
        self.outage_s = outage_s
        self.cluster = portal.cluster
        self.redis = portal.redis

    # ----------------------------------------------------------------------- helpers

    def settle(self, since: float, limit: float = 90.0, window: float = 4.0) -> Optional[float]:
        """Seconds from `since` to the end of the last failed request, once every page answers
        again; None when they still fail after `limit` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            last = self.load.healthy_since(since, window)
            if last is not None:
                return max(0.0, last - since)
            time.sleep(0.5)
        return None

    def sql(self, query: str) -> str:
        return self.cluster.psql(query, "ecarto_faults")

    def rows_loaded(self) -> str:
        return self.sql("SELECT count(*) || ' ressources, ' || coalesce(sum(n_rows), 0) || ' lignes' "
                        "FROM ecarto_ingested_resource WHERE status = 'ok'")

    def small_resource(self) -> str:
        return self.sql("SELECT r.resource_id FROM ecarto_ingested_resource r JOIN resource res ON res.id = "
                        "r.resource_id WHERE res.url LIKE '%commune_techno_sample%' LIMIT 1")

    def loaded_at(self, resource_id: str) -> str:
        return self.sql(f"SELECT loaded_at FROM ecarto_ingested_resource WHERE resource_id = '{resource_id}'")

    def ingest_background(self, resource_id: str) -> tuple[Optional[int], dict[str, Any], dict[str, str]]:
        body = json.dumps({"id": resource_id, "force": True, "background": True}).encode()
        try:
            status, raw, headers = self.load.get("/api/3/action/ecarto_ingest_resource", "POST", body,
                                                 {"Authorization": self.token, "Content-Type": "application/json"})
        except (OSError, http.client.HTTPException) as exc:
            return None, {"error": str(exc)}, {}
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {"raw": raw[:200].decode(errors="replace")}
        return status, payload, headers

    def wait_loaded(self, resource_id: str, before: str, limit: float = 120.0) -> bool:
        return wait_for(lambda: self.loaded_at(resource_id) != before, limit, 0.5)

    def aggregates_fresh(self) -> bool:
        out = self.portal.ckan("ecarto", "veille", timeout=300)
        return "à jour" in out.stdout or "recalculés" in out.stdout

    def redis_cli(self, *args: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.redis.port), "-n", "1", *args], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip()

    def log_lines(self) -> list[str]:
        """The lines gunicorn (and the portal's WSGI application) wrote so far."""
        return (self.portal.logs / "serve.log").read_text(encoding="utf-8", errors="replace").splitlines()

    def failed_jobs(self) -> list[str]:
        return [line for line in self.portal.ckan("ecarto", "taches").stdout.splitlines() if line.startswith("échec")]

    # ----------------------------------------------------------------------- the faults

    def postgres_restart(self) -> Result:
        result = Result(f"PostgreSQL arrêté {self.outage_s:.0f} s puis relancé")
        before = self.rows_loaded()
        lines_before = len(self.log_lines())
        start = time.monotonic()
        self.cluster.stop("fast")
        time.sleep(self.outage_s)
        probe_status, probe_body, probe_headers = self._probe("/territoire/departement/31.json")
        self.cluster.start()
        back = time.monotonic()
        result.recovery_s = self.settle(back)
        result.errors = summarise(self.load.between(start, back + (result.recovery_s or 0)))
        result.notes.append(f"pendant la panne, {PATHS[2]} : {probe_status}, Retry-After "
                            f"{probe_headers.get('retry-after', 'absent')}, JSON : "
                            f"{'oui' if probe_body.startswith(b'{') else 'non'}")
        logged = self.log_lines()[lines_before:]
        failed = sum(1 for h in self.load.between(start, back + (result.recovery_s or 0)) if not h.ok)
        result.notes.append(f"journal : {len(logged)} lignes pour {failed} requêtes en échec, "
                            f"{sum('Traceback' in line for line in logged)} traces d'appels")
        after = self.rows_loaded()
        if after != before:
            result.lost = f"{before} avant, {after} après"
        if result.recovery_s is None:
            result.manual = "les pages ne reviennent pas"
        return result

    def _probe(self, path: str) -> tuple[Optional[int], bytes, dict[str, str]]:
        try:
            return self.load.get(path)
        except (OSError, http.client.HTTPException) as exc:
            return None, str(exc).encode(), {}

    def redis_outage(self) -> Result:
        result = Result(f"Redis arrêté {self.outage_s:.0f} s puis relancé")
        resource = self.small_resource()
        # a job waiting in a queue nobody reads: does it outlive the restart of Redis?
        self.redis_cli("RPUSH", "ecarto-faults:temoin", "tache-en-attente")
        start = time.monotonic()
        self.redis.stop()
        time.sleep(self.outage_s / 2)
        status, payload, headers = self.ingest_background(resource)
        result.notes.append(f"chargement en arrière-plan demandé pendant la panne : {status}"
                            f"{', Retry-After ' + headers['retry-after'] if 'retry-after' in headers else ''}")
        time.sleep(self.outage_s / 2)
        self.redis.start()
        back = time.monotonic()
        result.recovery_s = self.settle(back)
        result.errors = summarise(self.load.between(start, back + (result.recovery_s or 0)))
        if self.redis_cli("LRANGE", "ecarto-faults:temoin", "0", "-1") != "tache-en-attente":
            result.lost = "la file en attente a disparu avec Redis"
        self.redis_cli("DEL", "ecarto-faults:temoin")
        if status is not None and status >= 500 and status != 503:
            result.manual = f"chargement demandé pendant la panne : {status} au lieu de 503"
        # after the outage, a background ingestion goes through the worker
        before = self.loaded_at(resource)
        status, payload, _headers = self.ingest_background(resource)
        if status != 200 or not self.wait_loaded(resource, before):
            result.manual = f"chargement en arrière-plan après la panne non exécuté ({status})"
        if result.recovery_s is None:
            result.manual = "les pages ne reviennent pas"
        return result

    def kill_web_worker(self) -> Result:
        result = Result("kill -9 d'un processus gunicorn")
        workers = self.portal.gunicorn_workers()
        if not workers:
            result.manual = "aucun processus gunicorn trouvé"
            return result
        start = time.monotonic()
        os.kill(workers[0], signal.SIGKILL)
        replaced = wait_for(lambda: len(self.portal.gunicorn_workers()) == len(workers)
                            and workers[0] not in self.portal.gunicorn_workers(), 60)
        result.recovery_s = self.settle(start)
        result.errors = summarise(self.load.between(start, start + (result.recovery_s or 0) + 0.1))
        if not replaced:
            result.manual = "processus gunicorn non remplacé"
        return result

    def kill_jobs_worker(self) -> Result:
        """kill -9 of the worker's main process while it runs a background ingestion."""
        result = Result("kill -9 du worker de tâches (tâche en cours)")
        resource = self.small_resource()
        old = self.portal.jobs_worker()
        if old is None:
            result.manual = "worker de tâches introuvable"
            return result
        before = self.loaded_at(resource)
        start = time.monotonic()
        status, payload, _headers = self.ingest_background(resource)
        wait_for(lambda: self.portal.work_horse() is not None, 30, 0.05)
        os.kill(old, signal.SIGKILL)
        restarted = wait_for(lambda: self.portal.jobs_worker() not in (None, old), 60)
        done = self.wait_loaded(resource, before)
        result.recovery_s = time.monotonic() - start if restarted else None
        result.errors = summarise(self.load.between(start, time.monotonic()))
        result.notes.append(f"worker relancé par le superviseur : {'oui' if restarted else 'non'}")
        if not done:
            result.lost = "le chargement demandé n'a jamais été fait"
        if not restarted:
            result.manual = "worker de tâches non relancé"
        return result

    def kill_refresh(self) -> Result:
        """kill -9 of the work horse while it recomputes the territory aggregates (queued after an
        ingestion): rolled back, retried by the worker, no visitor recomputes them meanwhile."""
        result = Result("kill -9 d'une tâche au milieu du recalcul des agrégats")
        lines_before = len(self.log_lines())
        resource = self.small_resource()
        before = self.loaded_at(resource)
        self.ingest_background(resource)
        self.wait_loaded(resource, before)
        # the ingestion's horse ends, then the refresh job's horse starts
        killed = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and killed is None:
            horse = self.portal.work_horse()
            if horse is not None and "refresh_job" in self.redis_job_of_worker():
                time.sleep(1.0)                       # in the middle of it
                with _suppress():
                    os.kill(horse, signal.SIGKILL)
                    killed = horse
            time.sleep(0.05)
        start = time.monotonic()
        if killed is None:
            result.manual = "recalcul des agrégats jamais vu en cours"
            return result
        fresh = wait_for(lambda: self.sql(
            "SELECT version FROM ecarto_data.territoire_etat") != self._stale_version, 180, 1.0) \
            if self._stale_version else False
        result.recovery_s = time.monotonic() - start if fresh else None
        hits = self.load.between(start, time.monotonic())
        result.errors = summarise(hits)
        territory = [h.end - h.start for h in hits if h.path in TERRITORY_PATHS and h.ok]
        calm = [h.end - h.start for h in self.load.between(0, self._calm_until) if h.path in TERRITORY_PATHS and h.ok]
        worst = max(territory) if territory else 0.0
        median = sorted(calm)[len(calm) // 2] if calm else 0.0
        result.notes.append(f"pages de territoire pendant la reprise : pire {worst:.2f} s "
                            f"(médiane avant les pannes {median:.2f} s)")
        inline = sum("pendant une requête" in line for line in self.log_lines()[lines_before:])
        result.notes.append(f"recalculs faits par une page (un visiteur qui attend) : {inline}")
        failed = self.failed_jobs()
        if not fresh:
            result.lost = "agrégats restés périmés"
            result.manual = "recalcul jamais repris"
        if failed:
            result.notes.append(f"tâches en échec : {len(failed)}")
        return result

    _stale_version = ""
    _calm_until = 0.0

    def redis_job_of_worker(self) -> str:
        """The description of the job the jobs worker runs now (RQ's registry of started jobs)."""
        for entry in self.redis_cli("ZRANGE", f"rq:wip:{QUEUE}", "0", "-1").split():
            description = self.redis_cli("HGET", f"rq:job:{entry.partition(':')[0]}", "description")
            if "refresh_job" in description:
                self._stale_version = self.sql("SELECT version FROM ecarto_data.territoire_etat")
                return description
        return ""


# --------------------------------------------------------------------------- main

def table(results: list[Result]) -> str:
    head = ("panne", "erreurs pendant la panne", "reprise", "données perdues", "action manuelle")
    rows = [(r.fault, r.errors, "-" if r.recovery_s is None else f"{r.recovery_s:.1f} s", r.lost, r.manual)
            for r in results]
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(head, widths)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    for r in results:
        for note in r.notes:
            lines.append(f"  {r.fault} : {note}")
    return "\n".join(lines)


FAULTS = ("postgres", "redis", "web", "jobs", "refresh")


def run(args: argparse.Namespace) -> list[Result]:
    base = Path(tempfile.mkdtemp(prefix="ecarto-faults-"))
    cluster = Cluster(base, args.pg_port)
    redis = Redis(base, args.redis_port)
    portal = Portal(base, cluster, redis)
    load: Optional[Load] = None
    try:
        started = time.monotonic()
        cluster.init()
        redis.start()
        portal.write_config()
        portal.create_databases()
        log(f"PostgreSQL ({args.pg_port}), Redis ({args.redis_port}) et bases prêts en "
            f"{time.monotonic() - started:.0f} s")
        portal.load_sample()
        token = portal.admin_token()
        log(f"données d'exemple chargées ({time.monotonic() - started:.0f} s)")
        portal.serve()
        load = Load(portal.port)
        for path in PATHS:                  # warm-up: every page answers once
            if not wait_for(lambda: load.get(path)[0] == 200, 180, 1.0):
                raise RuntimeError(f"le portail ne sert pas {path} (journaux : {portal.logs})")
        if not wait_for(lambda: portal.jobs_worker() is not None, 60):
            raise RuntimeError("worker de tâches absent")
        log(f"portail servi sur le port {portal.port} ({time.monotonic() - started:.0f} s) ; charge de 4 visiteurs")
        load.start()
        time.sleep(args.calm)
        bench = Bench(portal, load, token, args.outage)
        bench._calm_until = time.monotonic()
        results = []
        for name in args.faults:
            fault = {"postgres": bench.postgres_restart, "redis": bench.redis_outage, "web": bench.kill_web_worker,
                     "jobs": bench.kill_jobs_worker, "refresh": bench.kill_refresh}[name]
            log(f"panne : {name}")
            results.append(fault())
            log(f"  {results[-1].as_dict()}")
        log(f"fini en {time.monotonic() - started:.0f} s")
        return results
    finally:
        if load is not None:
            load.stop()
        portal.stop()
        redis.stop()
        cluster.stop("immediate")
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log(f"gardé : {base}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-port", type=int, default=5441)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--outage", type=float, default=8.0, help="durée des pannes de PostgreSQL et de Redis (s)")
    parser.add_argument("--calm", type=float, default=5.0, help="charge sans panne avant la première (s)")
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--json", type=Path, help="écrire aussi les résultats en JSON dans ce fichier")
    parser.add_argument("--keep", action="store_true", help="garder le dossier temporaire (journaux)")
    args = parser.parse_args(argv)
    results = run(args)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return 0 if all(r.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
