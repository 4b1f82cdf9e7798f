"""Load test of a running portal over HTTP on loopback (issues 12 and 18).

    make bench-load                                     (starts its own gunicorns on the bench database)
    .venv/bin/python bench/load.py http://127.0.0.1:5000 --ckan-ini ckan.ini    (`make run`'s portal)

Anonymous visitors ask for a mix of the portal's pages (home, catalogue search, two establishment
pages, France and a département, a territory GeoJSON, `package_search` with facets), each worker
thread one request at a time over its own connection (Python's `http.client`, nothing to install):

1. concurrency 8 for `--duration` seconds (60 by default);
2. concurrency 32 for as long;
3. concurrency 8 again while a 5,000-row file (cut from the real IPS file of data/sample, with the
   rows of the establishments asked for) is loaded by `ckan ecarto load` in a child process; the
   phase lasts at least `--duration` and until the load has finished.

Every URL is asked once before the phases (warm-up: templates, caches, aggregates). Per phase:
requests per second, p50/p95/p99 of the response time (ms, seen by the client) and errors (any
status outside 2xx/3xx, a timeout, a broken connection), then the same per URL. Exit status 1 if
any request failed or the load failed.

`--serve` starts gunicorn and a CKAN jobs worker on the configuration `--ckan-ini` and the
environment (CKAN_SQLALCHEMY_URL…), on a free loopback port, once per server configuration of
`--configs` (phases 1 and 2 for each, in the same run): the baseline of issue 18 (3 sync workers,
no page cache: every request rendered), then the anonymous page cache (ckanext/ecarto/pagecache.py)
with several gunicorn worker classes and counts; phase 3 runs on the last configuration. A
summary table gives each configuration's figures and their ratio to the baseline, and whether the
goal of issue 18 (≥ 100 requests/s at concurrency 32, p95 ≤ 300 ms, 0 errors) is met. The
`X-Ecarto-Cache` answers (hit/miss/bypass) are counted per phase.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import quote, urlsplit

from bench_common import ROOT, quantile

IPS = ROOT / "data" / "sample" / "ips-colleges-2023" / "ips-colleges-2023.csv"
ESTABLISHMENTS = ("0301326D", "0310008R")   # a collège of the Gard and one of Haute-Garonne
PATHS = [
    "/",
    "/dataset/?q=" + quote("collèges"),
    *(f"/etablissement/{uai}" for uai in ESTABLISHMENTS),
    "/territoire/france",
    "/territoire/departement/31",
    "/territoire/contours.geojson?niveau=france&enfants=region",
    "/api/3/action/package_search?rows=5&q=" + quote("IPS") + "&facet.field="
    + quote('["organization","axe","millesime"]'),
]
LOAD_ROWS = 5000
LOAD_DATASET = "bench-charge-ips-5000"
TIMEOUT_S = 120.0
BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------- requests

@dataclass
class Outcome:
    path: str
    seconds: float
    status: Optional[int] = None
    error: str = ""
    cache: str = ""                     # X-Ecarto-Cache: hit, miss, bypass ("" without the header)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


@dataclass
class Target:
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, base_url: str) -> "Target":
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            sys.exit(f"URL invalide : {base_url}")
        return cls(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    def get(self, path: str, timeout: float = TIMEOUT_S) -> Outcome:
        """One GET on a new connection (gunicorn's sync workers close them anyway), body read."""
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        started = time.perf_counter()
        connection = connection_class(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers={"User-Agent": "ecarto-bench-load",
                                                     "Accept-Language": "fr"})
            response = connection.getresponse()
            response.read()
            return Outcome(path, time.perf_counter() - started, response.status,
                           cache=response.getheader("X-Ecarto-Cache") or "")
        except (OSError, http.client.HTTPException) as exc:
            return Outcome(path, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()


# --------------------------------------------------------------------------- phases

@dataclass
class PhaseResult:
    name: str
    concurrency: int
    seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


def run_phase(target: Target, paths: list[str], name: str, concurrency: int, duration: float,
              keep_going: Optional[threading.Event] = None) -> PhaseResult:
    """`concurrency` threads ask for `paths` in turn for `duration` s (and while `keep_going` is set)."""
    result = PhaseResult(name, concurrency)
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def running() -> bool:
        return time.monotonic() < deadline or (keep_going is not None and keep_going.is_set())

    def worker(index: int) -> None:
        done: list[Outcome] = []
        turn = index
        while running():
            done.append(target.get(paths[turn % len(paths)]))
            turn += 1
        with lock:
            result.outcomes.extend(done)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def warm_up(target: Target, paths: list[str]) -> list[Outcome]:
    return [target.get(path) for path in paths]


# --------------------------------------------------------------------------- parallel load

def cut_file(folder: Path, rows: int = LOAD_ROWS) -> Path:
    """The first `rows` data rows of the real IPS file, those of the benchmarked establishments first
    (the load then changes the pages being read)."""
    text = IPS.read_bytes().decode("utf-8-sig")
    header, *lines = text.splitlines()
    uai = [line.split(";")[1] for line in lines]
    first = [line for line, code in zip(lines, uai) if code in ESTABLISHMENTS]
    rest = [line for line, code in zip(lines, uai) if code not in ESTABLISHMENTS]
    chosen = (first + rest)[:rows]
    path = folder / f"ips-colleges-2023-{len(chosen)}-lignes.csv"
    path.write_text(header + "\n" + "\n".join(chosen) + "\n", encoding="utf-8")
    return path


def start_load(ckan_ini: str, path: Path, log: Path) -> subprocess.Popen:
    command = [str(BIN / "ckan"), "-c", ckan_ini, "ecarto", "load", str(path), "--dataset", LOAD_DATASET,
               "--axe", "etablissements", "--organization", "menj", "--millesime", "2023",
               "--title", "IPS des collèges (banc de charge)", "--force"]
    return subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT)


def run_loaded_phase(target: Target, paths: list[str], duration: float, ckan_ini: str,
                     workdir: Path) -> PhaseResult:
    path = cut_file(workdir)
    log = workdir / "load.log"
    loading = threading.Event()
    loading.set()
    process = start_load(ckan_ini, path, log)
    load_seconds: list[float] = []

    def watch() -> None:
        started = time.perf_counter()
        process.wait()
        load_seconds.append(time.perf_counter() - started)
        loading.clear()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    result = run_phase(target, paths, f"pages + chargement de {LOAD_ROWS} lignes", 8, duration, loading)
    watcher.join()
    output = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if process.returncode == 0:
        summary = [line.strip() for line in output if "rejetées" in line or line.startswith("Terminé")]
        result.notes.append(f"chargement de {path.name} (processus `ckan ecarto load`) : {load_seconds[0]:.1f} s — "
                            + " ; ".join(summary))
    else:
        result.failed = True
        result.notes.append(f"ÉCHEC du chargement (code {process.returncode}) :")
        result.notes.extend("    " + line for line in output[-15:])
    return result


# --------------------------------------------------------------------------- own portal (--serve)

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Servers:
    processes: list[subprocess.Popen]
    logs: list[Path]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class ServerConfig:
    """A way of serving the portal: gunicorn's worker class and counts, page cache on or off."""
    name: str
    worker_class: str                   # sync | gthread
    workers: int
    threads: int = 1
    cache: bool = True

    @property
    def label(self) -> str:
        kind = f"{self.workers} sync" if self.worker_class == "sync" else f"{self.workers}×{self.threads} gthread"
        return f"{kind}, " + ("cache" if self.cache else "sans cache")

    def gunicorn_args(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        return args + (["--threads", str(self.threads)] if self.worker_class == "gthread" else [])


CONFIGS = {c.name: c for c in (
    ServerConfig("sync3-sans-cache", "sync", 3, cache=False),     # the baseline of issue 18
    ServerConfig("sync3", "sync", 3),
    ServerConfig("sync5", "sync", 5),
    ServerConfig("gthread2x8", "gthread", 2, 8),
    ServerConfig("gthread3x4", "gthread", 3, 4),
    ServerConfig("gthread3x4-sans-cache", "gthread", 3, 4, cache=False),  # logged-in visitors: never cached
)}
# the baseline, then the cache over worker classes/counts; the last one (also the parallel load's)
# is the proposed default of `scripts/ecarto.sh serve`, chosen by this measure (5 sync workers, 2 cores)
DEFAULT_CONFIGS = "sync3-sans-cache,sync3,gthread3x4,sync5"
BASELINE = "sync3-sans-cache"


def production_ini(ckan_ini: str, workdir: Path, cache: bool = True) -> str:
    """`ckan_ini` with `testing = false` (test.ini sets it: CKAN then neither catches nor logs the
    exceptions of a view, and a 500 would leave no trace in the server's log) and the page cache
    on or off."""
    source = Path(ckan_ini).resolve()
    text = source.read_text(encoding="utf-8").replace("%(here)s", str(source.parent))
    text = re.sub(r"(?m)^testing\s*=.*$", "testing = false", text)
    text = re.sub(r"(?m)^ckanext\.ecarto\.page_cache\.enabled\s*=.*\n", "", text)
    text = text.replace("[app:main]\n", f"[app:main]\nckanext.ecarto.page_cache.enabled = {str(cache).lower()}\n", 1)
    path = workdir / "serve.ini"
    path.write_text(text, encoding="utf-8")
    return str(path)


def serve(ckan_ini: str, port: int, workdir: Path, config: ServerConfig) -> Servers:
    """gunicorn and a jobs worker, as `make run` serves the portal, in the given configuration."""
    env = {**os.environ, "CKAN_INI": production_ini(ckan_ini, workdir, config.cache)}
    logs = [workdir / f"gunicorn-{config.name}.log", workdir / f"jobs-worker-{config.name}.log"]
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), *config.gunicorn_args(), "--bind", f"127.0.0.1:{port}", "--timeout", "120",
         "ckanext.ecarto.wsgi:application"],
        stdout=logs[0].open("wb"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    jobs = subprocess.Popen([str(BIN / "ckan"), "-c", env["CKAN_INI"], "jobs", "worker"],
                            stdout=logs[1].open("wb"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    servers = Servers([gunicorn, jobs], logs)
    target = Target("http", "127.0.0.1", port)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if gunicorn.poll() is not None:
            break
        if target.get("/", timeout=60).ok:
            print(f"portail servi par gunicorn ({config.label} ; {' '.join(config.gunicorn_args())}) "
                  f"sur http://127.0.0.1:{port}", flush=True)
            return servers
        time.sleep(1)
    servers.stop()
    sys.exit("gunicorn ne répond pas :\n" + logs[0].read_text(errors="replace")[-3000:])


# --------------------------------------------------------------------------- report

def _ms(values: list[float], q: int) -> str:
    return f"{quantile(values, q) * 1000:8.0f}" if values else "       -"


def report(result: PhaseResult) -> None:
    ok = [o.seconds for o in result.outcomes if o.ok]
    rate = len(result.outcomes) / result.seconds if result.seconds else 0.0
    print(f"\n== {result.name} — concurrence {result.concurrency}, {result.seconds:.0f} s")
    print(f"   {len(result.outcomes)} requêtes, {rate:.1f} req/s ; p50 {_ms(ok, 50).strip()} ms, "
          f"p95 {_ms(ok, 95).strip()} ms, p99 {_ms(ok, 99).strip()} ms ; erreurs : {len(result.errors)}")
    by_path: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in result.outcomes:
        by_path[outcome.path].append(outcome)
    print(f"   {'URL':70} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>4}")
    for path, outcomes in by_path.items():
        times = [o.seconds for o in outcomes if o.ok]
        errors = len(outcomes) - len(times)
        print(f"   {path[:70]:70} {len(outcomes):6d} {_ms(times, 50)} {_ms(times, 95)} {_ms(times, 99)} {errors:4d}")
    caches = Counter(o.cache for o in result.outcomes if o.cache)
    if caches:
        print("   cache des pages : " + ", ".join(f"{n} {state}" for state, n in caches.most_common()))
    for note in result.notes:
        print(f"   {note}")
    for outcome in _first_errors(result.errors):
        print(f"   ERREUR {outcome.path} : {outcome.status or outcome.error}")


@dataclass
class Figures:
    rate: float
    p50_ms: float
    p95_ms: float
    errors: int

    @classmethod
    def of(cls, result: PhaseResult) -> "Figures":
        ok = [o.seconds for o in result.outcomes if o.ok]
        rate = len(result.outcomes) / result.seconds if result.seconds else 0.0
        return cls(rate, quantile(ok, 50) * 1000 if ok else 0.0, quantile(ok, 95) * 1000 if ok else 0.0,
                   len(result.errors))


GOAL_RATE, GOAL_P95_MS = 100.0, 300.0


def meets_goal(figures: Figures) -> bool:
    """Issue 18's goal at concurrency 32: ≥ 100 requests/s, p95 ≤ 300 ms, 0 errors."""
    return figures.rate >= GOAL_RATE and figures.p95_ms <= GOAL_P95_MS and figures.errors == 0


def summary(runs: list[tuple[ServerConfig, list[PhaseResult]]]) -> None:
    """One line per server configuration: concurrency 8 and 32, ratios to the baseline at 32."""
    base = next((Figures.of(r[1]) for c, r in runs if c.name == BASELINE and len(r) > 1), None)
    print(f"\n== Synthèse (même exécution ; ratios à concurrence 32 rapportés à « {CONFIGS[BASELINE].label} »)")
    print(f"   {'configuration':26} {'c=8 req/s':>9} {'p95 ms':>7} │ {'c=32 req/s':>10} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'err':>4} │ {'× débit':>7} {'÷ p95':>6} │ objectif (≥ {GOAL_RATE:.0f} req/s, p95 ≤ {GOAL_P95_MS:.0f} ms)")
    for config, results in runs:
        low, high = Figures.of(results[0]), Figures.of(results[1])
        ratio = f"{high.rate / base.rate:7.1f}" if base and base.rate else "      -"
        p95_ratio = f"{base.p95_ms / high.p95_ms:6.1f}" if base and high.p95_ms else "     -"
        print(f"   {config.label:26} {low.rate:9.1f} {low.p95_ms:7.0f} │ {high.rate:10.1f} {high.p50_ms:7.0f} "
              f"{high.p95_ms:7.0f} {high.errors + low.errors:4d} │ {ratio} {p95_ratio} │ "
              f"{'atteint' if meets_goal(high) else 'non atteint'}")
    cached = [(Figures.of(r[1]), c) for c, r in runs if c.cache and meets_goal(Figures.of(r[1]))]
    if cached:
        best = max(cached, key=lambda fc: (fc[0].rate, -fc[0].p95_ms))[1]
        print(f"   meilleur débit à concurrence 32 parmi celles qui atteignent l'objectif : {best.label} "
              f"(gunicorn {' '.join(best.gunicorn_args())})")


def _first_errors(errors: list[Outcome], limit: int = 10) -> Iterator[Outcome]:
    seen: set[tuple[str, object]] = set()
    for outcome in errors:
        key = (outcome.path, outcome.status or outcome.error)
        if key not in seen and len(seen) < limit:
            seen.add(key)
            yield outcome


# --------------------------------------------------------------------------- main

def _default_ini() -> str:
    for candidate in (os.environ.get("CKAN_INI"), str(ROOT / "ckan.ini"), str(ROOT / "test.ini")):
        if candidate and os.path.exists(candidate):
            return candidate
    return str(ROOT / "test.ini")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:5000",
                        help="portail à charger (défaut : http://127.0.0.1:5000, celui de `make run`)")
    parser.add_argument("--duration", type=float, default=60.0, help="durée de chaque phase en secondes (60)")
    parser.add_argument("--ckan-ini", default=_default_ini(),
                        help="configuration de `ckan ecarto load` (et du portail avec --serve) : "
                             "$CKAN_INI, sinon ckan.ini, sinon test.ini")
    parser.add_argument("--serve", action="store_true",
                        help="servir soi-même le portail (gunicorn + worker de tâches) sur un port libre")
    parser.add_argument("--no-load", action="store_true", help="sans la phase de chargement en parallèle")
    parser.add_argument("--port", type=int, default=0, help="avec --serve : port de gunicorn (défaut : un port libre)")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help=f"avec --serve : configurations servies l'une après l'autre, parmi "
                             f"{', '.join(CONFIGS)} (défaut : {DEFAULT_CONFIGS}) ; la phase de chargement "
                             "tourne sur la dernière")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ecarto-bench-load-"))
    try:
        if not args.serve:
            return run_all(Target.parse(args.base_url), args, workdir, None, with_load=not args.no_load)[0]
        names = [n.strip() for n in args.configs.split(",") if n.strip()]
        unknown = [n for n in names if n not in CONFIGS]
        if unknown or not names:
            sys.exit(f"configurations inconnues : {', '.join(unknown) or '(aucune)'} ; connues : {', '.join(CONFIGS)}")
        runs: list[tuple[ServerConfig, list[PhaseResult]]] = []
        status = 0
        for index, name in enumerate(names):
            config = CONFIGS[name]
            port = args.port or _free_port()
            servers = serve(args.ckan_ini, port, workdir, config)
            try:
                code, results = run_all(Target("http", "127.0.0.1", port), args, workdir, servers,
                                        with_load=not args.no_load and index == len(names) - 1, config=config)
            finally:
                servers.stop()
            status = max(status, code)
            if len(results) >= 2:
                runs.append((config, results))
        if runs:
            summary(runs)
            print("\nMachine partagée : chiffres bruités ; comparer les lignes d'une même exécution.")
        return status
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_all(target: Target, args: argparse.Namespace, workdir: Path, servers: Optional[Servers], *,
            with_load: bool, config: Optional[ServerConfig] = None) -> tuple[int, list[PhaseResult]]:
    """Warm-up, concurrency 8 and 32 (and the parallel load) against one server; their report."""
    failures = [o for o in warm_up(target, PATHS) if not o.ok]
    for outcome in failures:
        print(f"préchauffage : {outcome.path} → {outcome.status or outcome.error}")
    if failures:
        print("Des pages ne répondent pas : données d'exemple chargées (`ckan ecarto load-sample`) ?")
        return 1, []
    results = [run_phase(target, PATHS, "pages anonymes", concurrency, args.duration) for concurrency in (8, 32)]
    if with_load:
        results.append(run_loaded_phase(target, PATHS, args.duration, args.ckan_ini, workdir))
    served = f" — gunicorn {config.label}" if config else ""
    print(f"\n######## Portail http://{target.host}:{target.port}{served} — {len(PATHS)} URL en alternance, "
          "temps de réponse vus du client")
    for result in results:
        report(result)
    failed = any(r.errors or r.failed for r in results)
    print("\n" + ("ÉCHEC : des requêtes ont échoué." if failed else "0 erreur."), flush=True)
    if failed and servers is not None:
        print("\nFin du journal de gunicorn :\n" + servers.logs[0].read_text(errors="replace")[-5000:])
    return (1 if failed else 0), results


if __name__ == "__main__":
    sys.exit(main())
