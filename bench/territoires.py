"""Server time of the territory pages, their JSON and the national choropleth data.

    make bench-territoires      (database ecarto_bench, the real sample data)

Requests go through CKAN's WSGI application in-process (no network, no browser: server time
only), after a warm-up request per URL (templates, caches, aggregates computed once):

- `/territoire/france`, `/territoire/region/76`, `/territoire/departement/31`,
  `/territoire/commune/31555` and their `.json`;
- `/territoire/carte.json?niveau=france&enfants=region&serie=<s>` for **every** series loaded
  (and académies, départements): the national choropleth (target ≤ 100 ms p50 warm);
- `/territoire/contours.geojson` (France, régions) and `/territoire/etablissements.json` (31).

Prints p50/p95 in milliseconds, and the time of one full refresh of the aggregates.
"""
from __future__ import annotations

import os
import sys
import time
from urllib.parse import quote

from bench_common import flask_app as make_flask_app, measure as timed_gets, quantile

REPEAT = int(os.environ.get("ECARTO_BENCH_REPEAT", "20"))


def main() -> int:
    flask_app = make_flask_app()
    client = flask_app.test_client()
    import ckan.model as model
    from ckanext.ecarto.territoires import aggregates

    with flask_app.test_request_context():
        with model.meta.engine.begin() as conn:       # force one full refresh, timed
            if aggregates.tables_exist(conn):
                conn.execute(aggregates.sa.text(f"DELETE FROM {aggregates.t('territoire_etat')}"))
        started = time.perf_counter()
        aggregates.ensure_fresh(wait=True)
        refresh_s = time.perf_counter() - started
        with model.meta.engine.connect() as conn:
            series = [s.serie for s in aggregates.series(conn)]
    if not series:
        print("Aucune donnée : lancez `make bench-territoires` (charge les données d'exemple).")
        return 1

    def measure(paths: list[str]) -> list[float]:
        return timed_gets(client, paths, REPEAT)

    pages = [("France", "/territoire/france"), ("région (76)", "/territoire/region/76"),
             ("département (31)", "/territoire/departement/31"), ("commune (31555)", "/territoire/commune/31555")]
    rows = []
    for label, path in pages:
        rows.append((f"page {label}", measure([path])))
        rows.append((f"JSON {label}", measure([path + ".json"] if "france" not in path else ["/territoire/france.json"])))
    for child in ("region", "academie", "departement"):
        urls = [f"/territoire/carte.json?niveau=france&enfants={child}&serie={quote(s)}" for s in series]
        rows.append((f"choroplèthe France/{child} ({len(series)} ind.)", measure(urls)))
    rows.append(("contours France/régions", measure(["/territoire/contours.geojson?niveau=france&enfants=region"])))
    rows.append(("points département 31", measure(["/territoire/etablissements.json?niveau=departement&code=31"])))
    rows.append(("état des lieux", measure(["/etat-des-lieux"])))

    print(f"{len(series)} séries agrégées ; recalcul complet des agrégats : {refresh_s:.2f} s ; "
          f"{REPEAT} passages (millisecondes, temps serveur)")
    print(f"{'requête':<44}{'p50':>8}{'p95':>8}")
    for label, values in rows:
        print(f"{label:<44}{quantile(values, 50):>8.1f}{quantile(values, 95):>8.1f}")
    national = [v for label, values in rows if label.startswith("choroplèthe France/region") for v in values]
    print(f"choroplèthe nationale p50 : {quantile(national, 50):.1f} ms (objectif ≤ 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
