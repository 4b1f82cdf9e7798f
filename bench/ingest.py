"""Ingestion benchmark (issues 4 and 18).

1. The bundled sample files (data/sample/manifest.yaml: ~14k UAIs of the ministry + the Arcep
   communes) are loaded through the portal's path (`ingest_file`: chunked pandas reader, COPY,
   types, index, atomic swap, registry, establishment directory), then the same rows are loaded
   through CKAN's DataStore API (`datastore_create` + `datastore_upsert`, batches of --batch
   records, index on the key) in the same run. Target: portal >= 10x faster.
2. A national-size annuaire (the Occitanie annuaire replicated to --national-rows rows, each copy
   with other valid UAIs: bench data only, written to a temporary folder and deleted), 72
   columns, is loaded in a child process (`ingest_file`, the establishment directory and its
   trigram search index included, CKAN start-up excluded) whose peak RSS is measured, against
   the floor measured in the same run: a raw `COPY` of the same file into an all-text table plus
   a btree index on the UAI (what `psql \\copy` does; the median of 3, taken between the loads).
   The previous version (commit ECARTO_BENCH_PREV, default ea6b206, extracted with `git archive`
   to /tmp/ecarto-bench-prev-<commit> and imported through bench/prev_version.py) loads the same
   file in the same run. Then this version loads twice as many rows (peak RSS). Targets:
   national load <= 3x the floor, peak RSS < 1 GB at 2x national rows.

Usage: .venv/bin/python bench/ingest.py [-c CKAN_INI] [--national-rows 70000] [--batch 5000]
[--skip-baseline] [--skip-previous] (CKAN_INI defaults to $CKAN_INI, then .ecarto/ckan.ini).
`make bench-ingest` runs it on a fresh database (BENCH_ARGS="--skip-baseline …" passes options).
The bench creates and then purges its own organization, dataset, resources and tables. Exit
status 1 when a target is missed. The machine's load shows in every figure: compare ratios.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

TARGET_RATIO = 10.0
TARGET_FLOOR_RATIO = 3.0
TARGET_RSS_MB = 1024.0
PREVIOUS = os.environ.get("ECARTO_BENCH_PREV", "ea6b206")


def _config_path(arg: str | None) -> str:
    for candidate in (arg, os.environ.get("CKAN_INI"), str(ROOT / ".ecarto" / "ckan.ini")):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("Configuration CKAN introuvable : passez -c ckan.ini (créé par `make setup`).")


def _app(ini: str) -> Any:
    import logging

    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    logging.getLogger("ckan").setLevel(logging.WARNING)
    logging.getLogger("ckanext").setLevel(logging.WARNING)
    return app._wsgi_app


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u00a0")


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # kB on Linux


def _sample_files() -> list[dict[str, Any]]:
    import yaml
    manifest = yaml.safe_load((SAMPLE / "manifest.yaml").read_text(encoding="utf-8"))
    files = []
    for dataset in manifest["datasets"]:
        for res in dataset["resources"]:
            files.append({"path": str(SAMPLE / res["file"]), "uai_column": res.get("uai_column"),
                          "commune_column": res.get("commune_column"), "name": res["file"].split("/")[-1]})
    return files


# --------------------------------------------------------------------------- CKAN objects

def _context(**extra: Any) -> dict[str, Any]:
    import ckan.plugins.toolkit as tk
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"user": user, "ignore_auth": True, **extra}


def _bench_package(files: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    import ckan.plugins.toolkit as tk

    from ckanext.ecarto import ingest
    suffix = uuid.uuid4().hex[:8]
    org = tk.get_action("organization_create")(_context(), {"name": f"bench-ingest-{suffix}",
                                                            "title": "Banc d'essai ingestion"})
    package = tk.get_action("package_create")(_context(), {
        "name": f"bench-ingest-{suffix}", "title": "Banc d'essai ingestion", "axe": "etablissements",
        "owner_org": org["id"], "private": True})
    ids = []
    for f in files:
        res = tk.get_action("resource_create")(_context(**{ingest.SKIP_FLAG: True}), {
            "package_id": package["id"], "name": f["name"], "url": f"http://bench.invalid/{f['name']}",
            "format": "CSV"})
        ids.append(res["id"])
    return {"org": org, "package": package}, ids


def _cleanup(objects: dict[str, Any], resource_ids: list[str]) -> None:
    import ckan.plugins.toolkit as tk

    from ckanext.ecarto import ingest
    for rid in resource_ids:
        ingest.drop_resource(rid)
        try:
            tk.get_action("datastore_delete")(_context(), {"resource_id": rid, "force": True})
        except Exception:  # noqa: BLE001 - not created
            pass
    tk.get_action("dataset_purge")(_context(), {"id": objects["package"]["id"]})
    tk.get_action("group_purge")(_context(), {"id": objects["org"]["id"]})


# --------------------------------------------------------------------------- the two paths

def portal_path(files: list[dict[str, Any]], resource_ids: list[str], package_id: str) -> list[dict[str, Any]]:
    from ckanext.ecarto.ingest import ingest_file
    results = []
    for f, rid in zip(files, resource_ids):
        started = time.perf_counter()
        report = ingest_file(f["path"], resource_id=rid, package_id=package_id, uai_column=f["uai_column"],
                             commune_column=f["commune_column"], force=True)
        seconds = time.perf_counter() - started
        if report.status != "ok":
            sys.exit(f"{f['name']} : {report.message}")
        results.append({"name": f["name"], "rows": report.n_rows, "seconds": seconds,
                        "directory_seconds": report.directory_seconds, "columns": len(report.columns),
                        "key": report.columns[0]["source"], "fields": report.columns})
    return results


def datastore_path(files: list[dict[str, Any]], resource_ids: list[str], portal: list[dict[str, Any]],
                   batch: int) -> list[dict[str, Any]]:
    """The same rows (same reader, same cleaning, same columns, all text) through the API."""
    import ckan.plugins.toolkit as tk

    from ckanext.ecarto.ingest.reader import read_table
    results = []
    create = tk.get_action("datastore_create")
    upsert = tk.get_action("datastore_upsert")
    for f, rid, done in zip(files, resource_ids, portal):
        started = time.perf_counter()
        columns = [c for c in done["fields"] if c["name"] != "_key"]
        key = next(c["name"] for c in columns if c["source"] == done["key"])
        create(_context(), {"resource_id": rid, "force": True, "indexes": [key],
                            "fields": [{"id": c["name"], "type": "text"} for c in columns]})
        rows = 0
        for chunk in read_table(f["path"]).chunks():
            frame = chunk.frame
            frame.columns = [c["name"] for c in columns]
            records = frame.to_dict(orient="records")
            for start in range(0, len(records), batch):
                upsert(_context(), {"resource_id": rid, "force": True, "method": "insert",
                                    "records": records[start:start + batch]})
            rows += len(records)
        results.append({"name": f["name"], "rows": rows, "seconds": time.perf_counter() - started})
    return results


# --------------------------------------------------------------------------- national size

def build_national_file(rows: int, folder: str) -> tuple[str, int]:
    """The Occitanie annuaire replicated to `rows` rows; copy k>0 shifts every UAI (and the
    establishment UAIs it mentions) to other valid ones. Bench data only."""
    text = gzip.decompress(OCCITANIE.read_bytes()).decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header, data = records[0], [r for r in records[1:] if r]
    uai = header.index("Identifiant_de_l_etablissement")
    path = os.path.join(folder, "bench-annuaire-national.csv")
    written = 0
    keys = set()
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        copy = 0
        while written < rows:
            for row in data:
                if written >= rows:
                    break
                row = list(row)
                if copy:
                    digits = (int(row[uai][:7]) + copy * 1_000_003) % 10_000_000
                    row[uai] = f"{digits:07d}{LETTERS[digits % 23]}"
                keys.add(row[uai])
                writer.writerow(row)
                written += 1
            copy += 1
    return path, len(keys)


def national_child(ini: str, path: str) -> None:
    """Runs in a child process: load the national file, print seconds and peak RSS as JSON."""
    app = _app(ini)
    with app.test_request_context():
        from ckanext.ecarto import ingest
        rid = str(uuid.uuid4())
        started = time.perf_counter()
        report = ingest.ingest_file(path, resource_id=rid, package_id="bench-national",
                                    uai_column="Identifiant_de_l_etablissement", force=True)
        seconds = time.perf_counter() - started
        ingest.drop_resource(rid)
    print(json.dumps({"status": report.status, "message": report.message, "rows": report.n_rows,
                      "rejected": report.n_rejected, "seconds": seconds,
                      "directory_seconds": report.directory_seconds, "peak_rss_mb": _peak_rss_mb()}))


def previous_checkout(commit: str) -> Path:
    """The previous version's files (ckanext/, bench/, test.ini), extracted once with
    `git archive` (the repository is only read)."""
    path = Path(tempfile.gettempdir()) / f"ecarto-bench-prev-{commit}"
    if not (path / "ckanext" / "ecarto" / "plugin.py").is_file():
        path.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "ckanext", "bench", "test.ini"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)
    return path


def load_in_child(ini: str, path: str, checkout: Path | None = None) -> dict[str, Any]:
    """Load `path` in a child process (this version, or the one in `checkout`); its report,
    seconds and peak RSS."""
    if checkout is None:
        command = [sys.executable, __file__, "-c", ini, "--national-child", path]
    else:
        command = [sys.executable, str(ROOT / "bench" / "prev_version.py"), str(checkout),
                   str(checkout / "bench" / "ingest.py"), "-c", ini, "--national-child", path]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def raw_copy_floor(path: str, uai_column: str) -> float:
    """Seconds of the floor: the file COPYed as it is into an all-text table, then a btree index
    on its UAI column, committed (what `psql \\copy` + CREATE INDEX do)."""
    import ckan.model as model
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f, delimiter=";"))
    table = f"bench_floor_{uuid.uuid4().hex[:8]}"
    columns = ", ".join(f'"c{i}" text' for i in range(len(header)))
    connection = model.meta.engine.raw_connection()
    try:
        cursor = connection.cursor()
        started = time.perf_counter()
        cursor.execute(f"CREATE TABLE {table} ({columns})")
        with open(path, "rb") as data:
            cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)", data)
        cursor.execute(f'CREATE INDEX ON {table} ("c{header.index(uai_column)}")')
        connection.commit()
        seconds = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {table}")
        connection.commit()
    finally:
        connection.close()
    return seconds


def national(ini: str, rows: int, previous: bool) -> dict[str, Any]:
    """Floor, previous version and this version on the national file (floors taken between the
    loads, median kept), then this version on twice the rows."""
    uai_column = "Identifiant_de_l_etablissement"
    with tempfile.TemporaryDirectory(prefix="ecarto-bench-") as folder:
        path, distinct = build_national_file(rows, folder)
        size_mb = os.path.getsize(path) / 1e6
        floors = [raw_copy_floor(path, uai_column)]
        before = load_in_child(ini, path, previous_checkout(PREVIOUS)) if previous else None
        floors.append(raw_copy_floor(path, uai_column))
        current = load_in_child(ini, path)
        floors.append(raw_copy_floor(path, uai_column))
        os.remove(path)
        double_path, _distinct = build_national_file(2 * rows, folder)
        double = load_in_child(ini, double_path)
    return {"rows": rows, "distinct_uais": distinct, "size_mb": size_mb, "floors": floors,
            "floor": statistics.median(floors), "previous": before, "current": current, "double": double}


def print_national(result: dict[str, Any], failures: list[str]) -> None:
    floor, current, before, double = result["floor"], result["current"], result["previous"], result["double"]
    print(f"Fichier national (annuaire Occitanie répliqué, données de banc d'essai) : {_n(result['rows'])} lignes, "
          f"{_n(result['distinct_uais'])} UAI distincts, 72 colonnes, {result['size_mb']:.0f} Mo")
    print(f"  plancher : COPY brut dans une table tout texte + index btree sur l'UAI : {floor:.2f} s "
          f"(médiane de {', '.join(f'{f:.2f}' for f in result['floors'])} s)")
    prev_label = f"version précédente ({PREVIOUS})"
    print(f"  {'':<44} {prev_label:>28} {'cette version':>16}")

    def line(label: str, key: str, fmt: str, unit: str, ratio: bool = False) -> None:
        def cell(r: dict[str, Any] | None) -> str:
            if r is None:
                return "-"
            value = r[key] if key != "table" else r["seconds"] - r["directory_seconds"]
            text = f"{value:{fmt}} {unit}"
            return f"{text} ({value / floor:.1f}×)" if ratio else text
        print(f"  {label:<44} {cell(before):>28} {cell(current):>16}")

    line("chargement national (annuaire + index inclus)", "seconds", ".1f", "s", ratio=True)
    line("  dont table (lecture, COPY, types, bascule)", "table", ".1f", "s")
    line("  dont annuaire des établissements", "directory_seconds", ".1f", "s")
    line(f"pic de mémoire (RSS), {_n(result['rows'])} lignes", "peak_rss_mb", ".0f", "Mo")
    label = f"pic de mémoire (RSS), {_n(double['rows'])} lignes"
    print(f"  {label:<44} {'-':>28} {double['peak_rss_mb']:>13.0f} Mo")
    ratio = current["seconds"] / floor
    print(f"  rapport chargement / plancher : {ratio:.1f}× (objectif ≤ {TARGET_FLOOR_RATIO:.0f}×)"
          + (f", version précédente {before['seconds'] / floor:.1f}× ; cette version "
             f"{before['seconds'] / current['seconds']:.1f}× plus rapide" if before else "")
          + f" ; pic de mémoire à {_n(double['rows'])} lignes : {double['peak_rss_mb']:.0f} Mo "
          f"(objectif < {TARGET_RSS_MB:.0f} Mo)")
    for label, r in (("national", current), ("national ×2", double)):
        if r["status"] != "ok":
            failures.append(f"{label} : {r['message']}")
    if ratio > TARGET_FLOOR_RATIO:
        failures.append(f"rapport au plancher ({ratio:.1f}×, dont annuaire {current['directory_seconds']:.1f} s)")
    if double["peak_rss_mb"] >= TARGET_RSS_MB:
        failures.append("mémoire")


# --------------------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config")
    parser.add_argument("--batch", type=int, default=5000, help="records per datastore_upsert call")
    parser.add_argument("--national-rows", type=int, default=70_000)
    parser.add_argument("--skip-baseline", action="store_true", help="no DataStore API comparison")
    parser.add_argument("--skip-previous", action="store_true", help="not the previous version's national load")
    parser.add_argument("--national-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ini = _config_path(args.config)
    if args.national_child:
        national_child(ini, args.national_child)
        return 0

    app = _app(ini)
    files = _sample_files()
    failures = []
    with app.test_request_context():
        objects, resource_ids = _bench_package(files)
        try:
            portal = portal_path(files, resource_ids, objects["package"]["id"])
            baseline = [] if args.skip_baseline else datastore_path(files, resource_ids, portal, args.batch)
        finally:
            _cleanup(objects, resource_ids)

    rows_total = sum(p["rows"] for p in portal)
    print(f"Échantillon : {len(files)} fichiers réels (data/sample), {_n(rows_total)} lignes")
    print(f"{'fichier':<58} {'lignes':>8} {'table':>8} {'annuaire':>9} {'portail':>8} {'DataStore API':>14}")
    for i, p in enumerate(portal):
        base = f"{baseline[i]['seconds']:.2f} s" if baseline else "-"
        table = p["seconds"] - p["directory_seconds"]
        print(f"{p['name'][:58]:<58} {_n(p['rows']):>8} {table:>6.2f} s {p['directory_seconds']:>7.2f} s "
              f"{p['seconds']:>6.2f} s {base:>14}")
    total = sum(p["seconds"] for p in portal)
    directory = sum(p["directory_seconds"] for p in portal)
    base_total = sum(b["seconds"] for b in baseline) if baseline else 0.0
    print(f"{'total':<58} {_n(rows_total):>8} {total - directory:>6.2f} s {directory:>7.2f} s {total:>6.2f} s "
          f"{(f'{base_total:.2f} s' if baseline else '-'):>14}")
    print("  table = lecture + COPY + types + index + bascule + registre ; annuaire = table dérivée des "
          "établissements (etablissements/directory.py), que le DataStore ne construit pas.")
    if baseline:
        ratio = base_total / (total - directory)
        print(f"Rapport DataStore API / portail, à travail égal (table indexée) : {ratio:.1f}× "
              f"(objectif ≥ {TARGET_RATIO:.0f}×) ; en comptant l'annuaire dérivé : {base_total / total:.1f}×")
        if ratio < TARGET_RATIO:
            failures.append("rapport")

    if args.national_rows:
        with app.test_request_context():
            result = national(ini, args.national_rows, previous=not args.skip_previous)
        print_national(result, failures)
    print("Objectifs atteints." if not failures else f"Objectifs manqués : {', '.join(failures)}.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
