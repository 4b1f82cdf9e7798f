"""A new version replaces the previous table in one transaction: while it loads, readers still
see the previous version, and a broken or partial new version (truncated file, wrong column,
database error half-way through) leaves the previous table and its registry row in place, with
the failure explained. Broken versions are derived from the real IPS file by the test."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from .ingest_helpers import IPS, derived, raw_bytes, registry, scalar, source_records


def _first_version(load):
    resource_id = str(uuid.uuid4())
    first = load(IPS, resource_id=resource_id)
    assert first.status == "ok"
    return resource_id, first


def _assert_first_version_in_place(first, rows):
    assert scalar(f"SELECT count(*) FROM {first.table_name}") == len(rows)
    stored = registry(first.resource_id)
    assert stored["status"] == "ok" and stored["sha256"] == first.sha256
    assert stored["n_rows"] == len(rows) and stored["table_name"] == first.table_name
    assert "reste en place" in stored["message"]
    assert scalar("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%\\_\\_new'") == 0


def test_truncated_file_keeps_the_previous_version(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    resource_id, first = _first_version(load)
    text = raw_bytes(IPS).decode("utf-8-sig")
    truncated = text[: len(text) // 2].rsplit("\n", 1)[0] + '\n2023;0010026Y;"111.1'  # cut inside a quote

    report = load(derived(tmp_path, "ips-tronque.csv", truncated.encode("utf-8")), resource_id=resource_id)

    assert report.status == "error"
    assert "tronqué" in report.message
    _assert_first_version_in_place(first, rows)


def test_missing_declared_column_keeps_the_previous_version(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    resource_id, first = _first_version(load)
    renamed = raw_bytes(IPS).decode("utf-8-sig").replace(";UAI;", ";Code_UAI_etab;", 1)

    report = load(derived(tmp_path, "ips-renomme.csv", renamed.encode("utf-8")), resource_id=resource_id,
                  uai_column="UAI")

    assert report.status == "error"
    assert "La colonne UAI « UAI » est absente du fichier" in report.message
    _assert_first_version_in_place(first, rows)


def test_database_error_half_way_keeps_the_previous_version(load, engine, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    resource_id, first = _first_version(load)
    copied = []

    def progress(done, total, n):
        # after 4 chunks, the server ends the loader's connection (as a restart would)
        copied.append(n)
        if len(copied) == 4:
            with engine.connect() as other:
                other.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
                other.commit()

    report = load(derived(tmp_path, "ips.csv", raw_bytes(IPS)), resource_id=resource_id, force=True,
                  chunk_rows=1000, progress=progress)  # the first 4 chunks were already copied when it fails

    assert len(copied) == 4 and copied[-1] == 4000
    assert report.status == "error" and "PostgreSQL" in report.message
    _assert_first_version_in_place(first, rows)


def test_nul_character_is_refused_before_anything_is_copied(load, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    resource_id, first = _first_version(load)
    lines = raw_bytes(IPS).decode("utf-8-sig").split("\n")
    lines[5000] = lines[5000].replace("2023", "20\x0023", 1)  # PostgreSQL refuses NUL characters

    report = load(derived(tmp_path, "ips-nul.csv", "\n".join(lines).encode("utf-8")), resource_id=resource_id,
                  chunk_rows=1000)

    assert report.status == "error" and report.failure_code == "nul-character"
    assert "caractère nul (octet 0x00) à la ligne 5001" in report.message
    _assert_first_version_in_place(first, rows)


def test_readers_see_the_previous_version_while_loading(load, engine, tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    resource_id, first = _first_version(load)
    second = "\n".join(raw_bytes(IPS).decode("utf-8-sig").split("\n")[:1001]) + "\n"
    seen = []

    def progress(done, total, n):
        with engine.connect() as other:  # another connection, as a page would use
            other.execute(sa.text("SET lock_timeout = '2s'"))
            seen.append(other.execute(sa.text(f"SELECT count(*) FROM {first.table_name}")).scalar())

    report = load(derived(tmp_path, "ips-1000.csv", second.encode("utf-8")), resource_id=resource_id,
                  chunk_rows=300, progress=progress)

    assert report.status == "ok" and report.n_rows == 1000
    assert seen and set(seen) == {len(rows)}
    assert scalar(f"SELECT count(*) FROM {report.table_name}") == 1000
    assert registry(resource_id)["n_rows"] == 1000
