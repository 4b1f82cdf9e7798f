"""Multi-period data at national size: ingestion, full recompute of the territory aggregates and
page times, for this version and for the previous one (before the column model, issue #14),
measured in the same run on the same machine.

    make bench-periods

Why: the column model (ingest/columns.py) reshapes files whose periods are spread over columns
into period rows (Arcep's `ftthCommunes`: 35k communes × 3 quarters → 105k rows), stores typed
values, and the aggregates are now computed per period and per series. This bench says what that
costs against the code it replaces.

For each version — this working tree, and the commit ECARTO_BENCH_PREV (default 04e0c0f) checked
out as a `git worktree` whose `ckanext.ecarto` is imported instead of this tree's
(bench/prev_version.py) — on its own scratch database, created afresh (each version runs its
own migrations):

1. `ckan ecarto load-sample` (the real sample data; timed as a whole: CKAN start-up and the
   recompute of the aggregates it ends with included), then through the product's CLI
   (`ckan ecarto load FILE --dataset … --axe … --organization …`), timed:
   - `data/sample/arcep-observatoire-thd-2018t1/ftthCommunes.csv.gz` (Arcep, every commune,
     T3 2017 – T1 2018, one `Champ` column holding two measures), as a dataset of its own;
   - `data/sample/ips-colleges-multi-annees/fr-en-ips_colleges.csv` (IPS of the collèges
     of the académie de Lille, 6 rentrées, rows unsorted).
   Figures: the command's own time (« Terminé en … s », CKAN start-up excluded: dataset,
   upload, load) and the loader's time inside it (both printed to 0.1 s), the rows the loader
   reports and the rows of the table it wrote (after a reshape: one per commune and quarter).
2. In a child process running that version's code (`--measure`): a full recompute of every
   territory aggregate (`aggregates.refresh` after deleting the state row), the number of series
   and aggregate rows, then the server time (in-process Flask test client, no network: see
   bench_common.py) of `/territoire/france`, `/territoire/departement/31` and `/59`,
   `/etablissement/0590002G` and `/0311131L`, and their `.json`, p50/p95 over
   ECARTO_BENCH_REPEAT passes (20) after one warm-up request. The two versions take turns,
   ECARTO_BENCH_ROUNDS times (2): the machine is shared, so each figure is the best round's
   (shortest recompute; per page, the round with the lowest p50).

Prints one table: measure, previous version, this version, ratio (this / previous).

Databases: ecarto_bench_periods and ecarto_bench_periods_prev (dropped and created again each
run, owner ecarto_test, created the way `scripts/ecarto.sh` does: ECARTO_PG_ADMIN_URL, else the
local `postgres` account); uploaded files under .ecarto/bench-periods/ (emptied too); Redis
database 13 (ECARTO_BENCH_REDIS_URL), emptied at the start, where the loads queue their refresh
jobs (no worker runs there: the bench times the recompute itself). Other variables:
ECARTO_BENCH_REPEAT, ECARTO_BENCH_ROUNDS, ECARTO_BENCH_PREV_DIR (the worktree, default
/tmp/ecarto-prev-<commit>; `git worktree remove` it when done), ECARTO_BENCH_IPS_MULTI.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from bench_common import ROOT, quantile

PREV_COMMIT = os.environ.get("ECARTO_BENCH_PREV", "04e0c0f")
REPEAT = int(os.environ.get("ECARTO_BENCH_REPEAT", "20"))
ROUNDS = int(os.environ.get("ECARTO_BENCH_ROUNDS", "2"))
REDIS_URL = os.environ.get("ECARTO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DB_URL = "postgresql://ecarto_test:ecarto_test@127.0.0.1:5432/{name}"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
SCRATCH = ROOT / ".ecarto" / "bench-periods"
MARK = "BENCH-PERIODS "

IPS_MULTI = Path(os.environ.get("ECARTO_BENCH_IPS_MULTI",
                                ROOT / "data" / "sample" / "ips-colleges-multi-annees" / "fr-en-ips_colleges.csv"))


@dataclass(frozen=True)
class MultiPeriodFile:
    label: str
    path: Path
    options: tuple[str, ...]


FILES = (
    MultiPeriodFile("ftthCommunes (35k communes × 3 trimestres)",
                    ROOT / "data" / "sample" / "arcep-observatoire-thd-2018t1" / "ftthCommunes.csv.gz",
                    ("--dataset", "bench-ftth-communes-2017t3-2018t1", "--axe", "connectivite",
                     "--organization", "arcep", "--commune-column", "Code commune")),
    MultiPeriodFile("IPS collèges Lille (6 rentrées)", IPS_MULTI,
                    ("--dataset", "bench-ips-colleges-multi-annees", "--axe", "etablissements",
                     "--organization", "menj")),
)

PAGES = ("/territoire/france", "/territoire/departement/31", "/territoire/departement/59",
         "/etablissement/0590002G", "/etablissement/0311131L")


# --------------------------------------------------------------------------- the two versions

@dataclass(frozen=True)
class Version:
    """One version of the extension: where its code is, how to run it, its database."""
    label: str
    checkout: Path
    database: str
    wrapped: bool  # run through bench/prev_version.py (not this working tree)

    @property
    def ini(self) -> Path:
        return self.checkout / "test.ini"

    def env(self) -> dict[str, str]:
        return {**os.environ, "CKAN_SQLALCHEMY_URL": DB_URL.format(name=self.database),
                "CKAN_INI": str(self.ini), "CKAN_REDIS_URL": REDIS_URL,
                "CKAN_STORAGE_PATH": str(SCRATCH / self.database / "storage")}

    def command(self, *args: str) -> list[str]:
        """`ckan …` or `SCRIPT …` under this version's code."""
        if self.wrapped:
            return [str(VENV_PYTHON), str(ROOT / "bench" / "prev_version.py"), str(self.checkout), *args]
        if args[0] == "ckan":
            return [str(ROOT / ".venv" / "bin" / "ckan"), *args[1:]]
        return [str(VENV_PYTHON), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.command(*args), env=self.env(), cwd=self.checkout,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"[{self.label}] {' '.join(args[:6])} : code {done.returncode}\n"
                               f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return done

    def ckan(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("ckan", "-c", str(self.ini), *args)


def previous_checkout(commit: str) -> Path:
    """A worktree of `commit` (created once, reused), its French catalogue compiled."""
    path = Path(os.environ.get("ECARTO_BENCH_PREV_DIR", f"/tmp/ecarto-prev-{commit}"))
    if not (path / "ckanext" / "ecarto" / "plugin.py").is_file():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit],
                       check=True, capture_output=True)
    subprocess.run([str(ROOT / ".venv" / "bin" / "pybabel"), "-q", "compile", "-D", "ckanext-ecarto",
                    "-d", str(path / "ckanext" / "ecarto" / "i18n")], check=True)
    return path


# --------------------------------------------------------------------------- preparation

def admin_psql(*statements: str, database: str = "postgres") -> None:
    """Run SQL as a PostgreSQL superuser, as scripts/ecarto.sh's pg_admin does."""
    admin_url = os.environ.get("ECARTO_PG_ADMIN_URL")
    if admin_url:
        cmd = ["psql", f"{admin_url.rsplit('/', 1)[0]}/{database}"]
    elif os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", "psql", "-d", database]
    else:
        cmd = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-w", "-d", database]
    for sql in statements:
        cmd += ["-c", sql]
    subprocess.run(cmd + ["-v", "ON_ERROR_STOP=1", "-qAt"], check=True, cwd="/", capture_output=True)


def fresh_database(version: Version) -> None:
    """Drop and create the version's scratch database (and empty its file storage), then run
    its migrations."""
    name = version.database
    shutil.rmtree(SCRATCH / name, ignore_errors=True)
    admin_psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
               f'CREATE DATABASE "{name}" OWNER ecarto_test ENCODING \'utf8\' TEMPLATE template0')
    admin_psql("CREATE EXTENSION IF NOT EXISTS unaccent", "CREATE EXTENSION IF NOT EXISTS pg_trgm", database=name)
    for step in (("db", "init"), ("db", "upgrade", "-p", "activity"), ("db", "upgrade", "-p", "harvest"),
                 ("db", "upgrade", "-p", "ecarto")):
        version.ckan(*step)


def empty_job_queue() -> None:
    """The loads queue a refresh job in Redis; nothing runs them in the bench's database."""
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()


LOADED = re.compile(r"([\d\u00a0\u202f ]+) lignes chargées, ([\d\u00a0\u202f ]+) rejetées \(([\d.]+) s\)")
FINISHED = re.compile(r"Terminé en ([\d.]+) s")


def timed_load(version: Version, data: MultiPeriodFile) -> dict[str, float]:
    """Load one file through `ckan ecarto load`; the command's and the loader's own times."""
    out = version.ckan("ecarto", "load", str(data.path), *data.options, "--force").stdout
    loaded, finished = LOADED.search(out), FINISHED.search(out)
    if not loaded or not finished:
        raise RuntimeError(f"[{version.label}] chargement de {data.path.name} : sortie inattendue\n{out}")
    return {"rows": float(re.sub(r"\D", "", loaded.group(1))), "rejected": float(re.sub(r"\D", "", loaded.group(2))),
            "loader_s": float(loaded.group(3)), "command_s": float(finished.group(1))}


def prepare(version: Version) -> dict[str, dict[str, float]]:
    """Fresh database, the sample data, then the multi-period files, timed."""
    print(f"[{version.label}] base {version.database}, migrations…", flush=True)
    fresh_database(version)
    print(f"[{version.label}] données d'exemple…", flush=True)
    started = time.perf_counter()
    version.ckan("ecarto", "load-sample")
    loads = {"load-sample": {"command_s": time.perf_counter() - started}}
    for data in FILES:
        print(f"[{version.label}] chargement {data.path.name}…", flush=True)
        loads[data.label] = timed_load(version, data)
    return loads


# --------------------------------------------------------------------------- measures (child process)

def recompute_aggregates() -> dict[str, float]:
    """One full recompute of the territory tables, and what they hold."""
    import ckan.model as model
    from ckanext.ecarto.territoires import aggregates
    sa = aggregates.sa
    with model.meta.engine.begin() as conn:
        if aggregates.tables_exist(conn):
            conn.execute(sa.text(f"DELETE FROM {aggregates.t('territoire_etat')}"))
    started = time.perf_counter()
    aggregates.refresh(wait=True)
    seconds = time.perf_counter() - started
    with model.meta.engine.connect() as conn:
        def count(table: str) -> int:
            return conn.execute(sa.text(f"SELECT count(*) FROM {aggregates.t(table)}")).scalar()
        return {"refresh_s": seconds, "series": count("territoire_serie"), "aggregate_rows": count("territoire_agregat")}


def table_rows() -> dict[str, int]:
    """Rows of the table each multi-period file was loaded into (after a reshape: one per
    commune, period and `Champ` row), by dataset name."""
    import ckan.model as model
    import sqlalchemy as sa
    rows = {}
    with model.meta.engine.connect() as conn:
        for data in FILES:
            dataset = data.options[data.options.index("--dataset") + 1]
            table = conn.execute(sa.text(
                "SELECT r.table_name FROM ecarto_ingested_resource r JOIN package p ON p.id = r.package_id "
                "WHERE p.name = :name AND r.status = 'ok'"), {"name": dataset}).scalar()
            rows[data.label] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() if table else None
    return rows


def page_times(client: Any) -> dict[str, Optional[list[float]]]:
    """p50/p95 (ms) of each page and its JSON; None for a page that does not answer 200."""
    from bench_common import measure as timed_gets
    times: dict[str, Optional[list[float]]] = {}
    for page in PAGES:
        for path in (page, page + ".json"):
            try:
                values = timed_gets(client, [path], REPEAT)
                times[path] = [quantile(values, 50), quantile(values, 95)]
            except AssertionError:
                times[path] = None
    return times


def measure_here() -> int:
    """Run under one version (`--measure`): prints its figures as one JSON line."""
    from bench_common import flask_app as make_flask_app
    flask_app = make_flask_app()
    with flask_app.test_request_context():
        figures: dict[str, Any] = recompute_aggregates()
        figures["table_rows"] = table_rows()
    figures["pages"] = page_times(flask_app.test_client())
    print(MARK + json.dumps(figures))
    return 0


def measure(version: Version, round_no: int) -> dict[str, Any]:
    print(f"[{version.label}] recalcul des agrégats et pages ({round_no}/{ROUNDS})…", flush=True)
    out = version.run(str(ROOT / "bench" / "periods.py"), "--measure").stdout
    line = next(line for line in out.splitlines() if line.startswith(MARK))
    return json.loads(line[len(MARK):])


# --------------------------------------------------------------------------- report

def best_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The shortest recompute, and for each page the round with the lowest p50."""
    best = dict(min(runs, key=lambda run: run["refresh_s"]))
    best["refresh_all_s"] = [run["refresh_s"] for run in runs]
    best["pages"] = {}
    for path in runs[0]["pages"]:
        answered = [run["pages"][path] for run in runs if run["pages"][path]]
        best["pages"][path] = min(answered, key=lambda p50_p95: p50_p95[0]) if answered else None
    return best


def rows_of(loads: dict[str, dict[str, float]], figures: dict[str, Any]) -> list[tuple[str, Optional[float], str]]:
    """(measure, value, unit) rows of one version, in the order of the table."""
    rows: list[tuple[str, Optional[float], str]] = [
        ("load-sample (démarrage, recalcul des agrégats compris)", loads["load-sample"]["command_s"], "s")]
    for data in FILES:
        got = loads[data.label]
        rows += [(f"ingestion {data.label} : commande", got["command_s"], "s"),
                 ("  dont chargement (loader)", got["loader_s"], "s"),
                 ("  lignes du fichier chargées", got["rows"], ""),
                 ("  lignes de la table", figures["table_rows"][data.label], "")]
    rows += [(f"recalcul complet des agrégats (meilleur de {ROUNDS})", figures["refresh_s"], "s"),
             ("  séries agrégées", figures["series"], ""), ("  lignes d'agrégats", figures["aggregate_rows"], "")]
    for path, p in figures["pages"].items():
        rows += [(f"{path} p50", p[0] if p else None, "ms"), (f"{path} p95", p[1] if p else None, "ms")]
    return rows


def cell(value: Optional[float], unit: str) -> str:
    if value is None:
        return "erreur"
    if unit == "":
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.2f} {unit}" if unit == "s" else f"{value:.1f} {unit}"


def print_table(prev: list[tuple[str, Optional[float], str]], this: list[tuple[str, Optional[float], str]]) -> None:
    print(f"\n{'mesure':<62}{'version précédente':>20}{'cette version':>16}{'ratio':>8}")
    for (label, before, unit), (_label, now, _unit) in zip(prev, this):
        ratio = f"{now / before:.2f}" if before and now is not None else "—"
        print(f"{label:<62}{cell(before, unit):>20}{cell(now, unit):>16}{ratio:>8}")


def main() -> int:
    if "--measure" in sys.argv:
        return measure_here()
    missing = [str(f.path) for f in FILES if not f.path.is_file()]
    if missing:
        print("Fichiers absents : " + ", ".join(missing))
        return 1
    previous = Version(f"précédente ({PREV_COMMIT})", previous_checkout(PREV_COMMIT), "ecarto_bench_periods_prev", True)
    current = Version("cette version", ROOT, "ecarto_bench_periods", False)
    empty_job_queue()
    started = time.perf_counter()
    loads = {v.label: prepare(v) for v in (previous, current)}
    rounds: dict[str, list[dict[str, Any]]] = {previous.label: [], current.label: []}
    for round_no in range(1, ROUNDS + 1):
        for version in (previous, current):
            rounds[version.label].append(measure(version, round_no))
    figures = {label: best_round(runs) for label, runs in rounds.items()}
    print(f"\n{REPEAT} passages par page après une requête d'échauffement (millisecondes, temps serveur) ; "
          f"{os.cpu_count()} cœurs, charge moyenne {os.getloadavg()[0]:.1f} ; bench complet en "
          f"{time.perf_counter() - started:.0f} s")
    print_table(rows_of(loads[previous.label], figures[previous.label]),
                rows_of(loads[current.label], figures[current.label]))
    for label, best in figures.items():
        print(f"recalculs, {label} : " + ", ".join(f"{seconds:.2f} s" for seconds in best["refresh_all_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
