"""The faults of issue 19 replayed on a portal served as `make run` serves it (bench/faults.py):
its own PostgreSQL cluster and Redis (ports 5441 and 6391, or ECARTO_FAULTS_PG_PORT /
ECARTO_FAULTS_REDIS_PORT), `scripts/ecarto.sh serve` (gunicorn, supervised jobs worker) and a
load of 4 visitors. For each fault — PostgreSQL restart, Redis outage, `kill -9` of a web
worker, of the jobs worker, of a job in the middle of a refresh of the aggregates — nothing is
lost and nobody has to step in; while PostgreSQL is down the pages answer 503, never 500.

About 3 minutes on an idle machine (the script prints its table; `-s` shows it)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_PORT = int(os.environ.get("ECARTO_FAULTS_PG_PORT", "5441"))
REDIS_PORT = int(os.environ.get("ECARTO_FAULTS_REDIS_PORT", "6391"))
TIMEOUT_S = 600


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _why_not() -> str:
    if os.geteuid() != 0:
        return "le script lance son cluster PostgreSQL en tant qu'utilisateur postgres : il faut être root"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return "binaires PostgreSQL absents (/usr/lib/postgresql/*/bin/initdb)"
    if not shutil.which("redis-server") or not shutil.which("psql"):
        return "redis-server ou psql absent"
    for port in (PG_PORT, REDIS_PORT):
        if _port_taken(port):
            return f"le port {port} est déjà pris"
    return ""


@pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "-")
def test_every_fault_heals_itself(tmp_path):
    out = tmp_path / "faults.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "faults.py"), "--pg-port", str(PG_PORT),
                          "--redis-port", str(REDIS_PORT), "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    print(run.stdout)
    assert out.exists(), run.stderr[-4000:]
    rows = json.loads(out.read_text())
    assert len(rows) == 5, run.stdout
    for row in rows:
        assert row["lost"] == "aucune", row
        assert row["manual"] == "aucune", row
        assert row["recovery_s"] is not None, row
    postgres = next(r for r in rows if r["fault"].startswith("PostgreSQL"))
    assert "500" not in postgres["errors"], postgres          # 503 with Retry-After, never a 500
    assert any("503, Retry-After 5, JSON : oui" in note for note in postgres["notes"]), postgres
    assert any(" 0 traces d'appels" in note for note in postgres["notes"]), postgres
    redis = next(r for r in rows if r["fault"].startswith("Redis"))
    assert any("pendant la panne : 503, Retry-After 5" in note for note in redis["notes"]), redis
    refresh = next(r for r in rows if "recalcul" in r["fault"])
    assert any(note.endswith("attend) : 0") for note in refresh["notes"]), refresh
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
