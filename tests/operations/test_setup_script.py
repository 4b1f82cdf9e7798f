"""`scripts/ecarto.sh` takes the host and port of PostgreSQL from the URLs the user gives
(issue 19: with ECARTO_PG_ADMIN_URL on another port it created the databases there but wrote a
ckan.ini pointing at 127.0.0.1:5432), and starts Redis with append-only persistence."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ecarto.sh"


def _target(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("ECARTO_PG_ADMIN_URL", "ECARTO_DATABASE_URL")}
    out = subprocess.run([str(SCRIPT), "pg-target"], env={**clean, **env}, capture_output=True, text=True,
                         check=True, timeout=30)
    return out.stdout.strip()


@pytest.mark.parametrize("env, expected", [
    ({}, "127.0.0.1 5432"),
    ({"ECARTO_PG_ADMIN_URL": "postgresql://postgres:secret@db.example:6543/postgres"}, "db.example 6543"),
    ({"ECARTO_DATABASE_URL": "postgresql://ckan:pw@10.0.0.7/ckan_default"}, "10.0.0.7 5432"),
    ({"ECARTO_DATABASE_URL": "postgresql://ckan:pw@/ckan?host=/var/run/postgresql&port=5433"},
     "/var/run/postgresql 5433"),
    ({"ECARTO_PG_ADMIN_URL": "postgresql://postgres@127.0.0.1:5441/postgres",
      "ECARTO_DATABASE_URL": "postgresql://ckan:pw@127.0.0.1:5441/ckan"}, "127.0.0.1 5441"),
])
def test_postgresql_host_and_port_come_from_the_urls(env, expected):
    assert _target(**env) == expected


def test_redis_keeps_its_queue_and_config_uses_the_target():
    text = SCRIPT.read_text(encoding="utf-8")
    assert "--appendonly yes" in text and "--appendonly no" not in text
    assert '$(pg_url ckan_default "$(secret db_password)" ckan_default)' in text
    assert "@$PG_HOST:$PG_PORT/ckan_default" not in text
