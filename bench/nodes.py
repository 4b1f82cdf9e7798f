"""The load mix of bench/load.py through nginx, over one web node then over two (issue 19).

    make bench-nodes          (its own nodes and nginx on the bench database with the sample data)
    .venv/bin/python bench/nodes.py --ckan-ini test.ini --duration 30 --concurrency 16

Two gunicorn nodes (`ckanext.ecarto.wsgi`, ECARTO_WORKERS processes each, 2 by default) are
started on the configuration `--ckan-ini` and the environment (CKAN_SQLALCHEMY_URL,
CKAN_REDIS_URL…), with two nginx (Debian's package, tests/scaleout/cluster.py): one whose upstream
is node A alone, one that spreads over A and B. The same anonymous visitors as bench/load.py
(same URLs, same threads, each request on a new connection) ask through each in turn, `--rounds`
times alternately (drift of a loaded machine shared by both), after a warm-up of every URL on
each node and `--warmup` seconds of the mix through both. A third line is node A without nginx:
what the proxy itself costs.

Printed: requests per second, p50/p95 (ms, seen by the client), errors, and the ratios to
« nginx → 1 nœud » measured in the same run; per URL p50 for both. On a machine of N cores,
two nodes share those N cores: the point is that adding a node neither breaks nor slows the
portal (sessions, storage, caches and jobs are shared), not that it doubles the throughput.
Exit status 1 if any request failed.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Optional

from bench_common import ROOT, quantile
from load import PATHS, Outcome, PhaseResult, Target, run_phase, warm_up

sys.path.insert(0, str(ROOT))
from tests.replication import cluster as pg_cluster  # noqa: E402
from tests.scaleout.cluster import Nginx, Node, nginx_skip_reason, node_ini, start_all, stop_all  # noqa: E402

ONE, TWO, DIRECT, REPLICA = "nginx → 1 nœud", "nginx → 2 nœuds", "nœud A sans nginx", "nginx → 2 nœuds + réplica"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(values: list[float], q: int) -> float:
    return quantile(values, q) * 1000 if values else float("nan")


def summary(name: str, results: list[PhaseResult]) -> dict[str, float]:
    outcomes = [o for r in results for o in r.outcomes]
    seconds = sum(r.seconds for r in results)
    ok = [o.seconds for o in outcomes if o.ok]
    return {"name": name, "n": len(outcomes), "rate": len(outcomes) / seconds if seconds else 0.0,
            "p50": _ms(ok, 50), "p95": _ms(ok, 95), "errors": len(outcomes) - len(ok)}


def per_path(results: list[PhaseResult]) -> dict[str, float]:
    times: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for outcome in result.outcomes:
            if outcome.ok:
                times[outcome.path].append(outcome.seconds)
    return {path: _ms(values, 50) for path, values in times.items()}


def served_by(target: Target, path: str = "/", asks: int = 8) -> set[str]:
    """Which upstreams answer through a proxy (nginx's X-Ecarto-Node header)."""
    seen = set()
    for _ in range(asks):
        connection = http.client.HTTPConnection(target.host, target.port, timeout=60)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            seen.add(response.getheader("X-Ecarto-Node") or "?")
        finally:
            connection.close()
    return seen


def replicated_copy() -> tuple[pg_cluster.Cluster, pg_cluster.Cluster, str]:
    """A throw-away primary holding a copy of the bench database ($CKAN_SQLALCHEMY_URL, by
    pg_dump) and its hot standby (tests/replication/cluster.py): (primary, standby, database)."""
    source = os.environ["CKAN_SQLALCHEMY_URL"]
    database = source.rsplit("/", 1)[1].split("?")[0]
    tools = pg_cluster.bin_dir()
    assert tools is not None
    primary = pg_cluster.Cluster.primary(_free_port())
    primary.psql(f'CREATE DATABASE "{database}"')
    dump = subprocess.run([str(tools / "pg_dump"), "--no-owner", "--no-privileges", source],
                          capture_output=True, text=True, check=True).stdout
    primary.psql("", database, stdin=dump)
    standby = primary.standby(_free_port())
    return primary, standby, database


def report(lines: list[dict[str, float]], paths: dict[str, dict[str, float]], machine: str) -> None:
    base = next(line for line in lines if line["name"] == ONE)
    print(f"\nMélange anonyme de bench/load.py ({len(PATHS)} URL) ; {machine}")
    print(f"{'configuration':28} {'requêtes':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'erreurs':>8}"
          f" {'× req/s':>8} {'× p95':>7}")
    for line in lines:
        print(f"{line['name']:28} {line['n']:9d} {line['rate']:8.1f} {line['p50']:8.0f} {line['p95']:8.0f} "
              f"{line['errors']:8d} {line['rate'] / base['rate']:8.2f} {line['p95'] / base['p95']:7.2f}")
    names = list(paths)
    print(f"\np50 par URL (ms) : {' | '.join(names)}")
    for path in PATHS:
        print(f"   {path[:70]:70} " + " ".join(f"{paths[n].get(path, float('nan')):8.0f}" for n in names))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckan-ini", default=os.environ.get("CKAN_INI", str(ROOT / "test.ini")))
    parser.add_argument("--duration", type=float, default=30.0, help="secondes par mesure (30)")
    parser.add_argument("--concurrency", type=int, default=16, help="visiteurs simultanés (16)")
    parser.add_argument("--rounds", type=int, default=2, help="mesures alternées de chaque configuration (2)")
    parser.add_argument("--warmup", type=float, default=15.0, help="secondes de préchauffage des deux nœuds (15)")
    parser.add_argument("--replica", action="store_true",
                        help="mesurer aussi 2 nœuds lisant sur une réplique (copie de la base sur un primaire "
                             "et son réplica jetables, tests/replication/cluster.py ; root)")
    args = parser.parse_args(argv)
    reason = nginx_skip_reason()
    if reason:
        print(reason)
        return 1
    if args.replica and pg_cluster.skip_reason():
        print(f"sans réplica : {pg_cluster.skip_reason()}")
        args.replica = False
    workers = int(os.environ.get("ECARTO_WORKERS", "2"))
    workdir = Path(tempfile.mkdtemp(prefix="ecarto-bench-nodes-"))
    servers: list[pg_cluster.Cluster] = []
    processes: list = []
    try:
        names = [DIRECT, ONE, TWO]
        proxy_one, proxy_two = _free_port(), _free_port()
        ini = node_ini(args.ckan_ini, workdir, site_url=f"http://127.0.0.1:{proxy_two}", log_level="WARN")
        a, b = Node(ini, _free_port(), workdir, workers), Node(ini, _free_port(), workdir, workers)
        one, two = Nginx([a.port], proxy_one, workdir), Nginx([a.port, b.port], proxy_two, workdir)
        processes = [a, b, one, two]
        targets = {DIRECT: Target("http", "127.0.0.1", a.port), ONE: Target("http", "127.0.0.1", proxy_one),
                   TWO: Target("http", "127.0.0.1", proxy_two)}
        if args.replica:
            # every configuration then reads the copy on the throw-away primary, the last one its standby too
            primary, standby, database = replicated_copy()
            servers = [primary]
            os.environ["CKAN_SQLALCHEMY_URL"] = primary.url(database)
            proxy_three = _free_port()
            ini_replica = node_ini(args.ckan_ini, workdir, site_url=f"http://127.0.0.1:{proxy_three}",
                                   log_level="WARN", extra={"ckanext.ecarto.read_urls": standby.url(database)},
                                   name="node-replica.ini")
            c, d = (Node(ini_replica, _free_port(), workdir, workers), Node(ini_replica, _free_port(), workdir, workers))
            processes += [c, d, Nginx([c.port, d.port], proxy_three, workdir)]
            targets[REPLICA] = Target("http", "127.0.0.1", proxy_three)
            names.append(REPLICA)
            print(f"copie de la base sur un primaire jetable ({primary.url(database)}), réplica {standby.url(database)}")
        start_all(processes)
        print(f"2 nœuds gunicorn ({workers} processus chacun) : {a.url}, {b.url} ; nginx {one.url} (A), "
              f"{two.url} (A+B) ; {os.cpu_count()} cœurs ; concurrence {args.concurrency}, "
              f"{args.rounds} × {args.duration:.0f} s par configuration")
        print(f"nginx → 2 nœuds répond depuis : {sorted(served_by(targets['nginx → 2 nœuds']))}")
        for target in [Target("http", "127.0.0.1", n.port) for n in processes if isinstance(n, Node)]:
            failures = [o for o in warm_up(target, PATHS) if not o.ok]
            if failures:
                for outcome in failures:
                    print(f"préchauffage : {outcome.path} → {outcome.status or outcome.error}")
                print("Des pages ne répondent pas : données d'exemple chargées (`ckan ecarto load-sample`) ?")
                return 1
        # every gunicorn process of both nodes warms up (templates, caches) before anything is measured
        for proxy in [TWO, REPLICA][:len(names) - 2]:
            warm = run_phase(targets[proxy], PATHS, "préchauffage", args.concurrency, args.warmup)
            if warm.errors:
                print(f"préchauffage {proxy} : {len(warm.errors)} erreurs")
        results: dict[str, list[PhaseResult]] = {name: [] for name in names}
        standby_reads = 0
        for _round in range(args.rounds):
            for name in [ONE, TWO, DIRECT] + names[3:]:
                before = servers[0].standbys[0].stats(database)["tup_returned"] if name == REPLICA else 0
                results[name].append(run_phase(targets[name], PATHS, name, args.concurrency, args.duration))
                if name == REPLICA:
                    standby_reads += servers[0].standbys[0].stats(database)["tup_returned"] - before
        lines = [summary(name, results[name]) for name in names]
        report(lines, {name: per_path(results[name]) for name in names[1:]},
               f"{os.cpu_count()} cœurs partagés par tous les processus (nœuds, nginx, PostgreSQL, client)")
        if REPLICA in names:
            print(f"lignes lues sur le réplica pendant « {REPLICA} » : {standby_reads}")
        errors: list[Outcome] = [o for rs in results.values() for r in rs for o in r.errors]
        for outcome in errors[:10]:
            print(f"   ERREUR {outcome.path} : {outcome.status or outcome.error}")
        print("\n" + ("ÉCHEC : des requêtes ont échoué." if errors else "0 erreur."))
        return 1 if errors else 0
    finally:
        stop_all(processes)
        for server in servers:
            server.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
