"""Server time of establishment pages next to CKAN's own dataset page, measured in the same run.

    make bench-pages          (database ecarto_bench, sample data + extra UAI-keyed resources)

The Makefile target loads the real sample data (`ckan ecarto load-sample`) and publishes the
real UAI-keyed files again as further resources (`ckan ecarto load`), so that at least 10
UAI-keyed resources join each page. This script then requests, through CKAN's WSGI application
in-process (no network, no browser: server time only):

- `/etablissement/<uai>` for a sample of real UAIs (collèges present in several resources);
- `/dataset/<name>` for the sample datasets;

and prints p50/p95 of each and the ratio (target: establishment page ≤ dataset page).
"""
from __future__ import annotations

import os
import sys

from bench_common import flask_app as make_flask_app, measure as timed_gets, quantile

REPEAT = int(os.environ.get("ECARTO_BENCH_REPEAT", "5"))
N_UAI = int(os.environ.get("ECARTO_BENCH_UAIS", "30"))


def main() -> int:
    flask_app = make_flask_app()
    import ckan.model as model
    import sqlalchemy as sa

    client = flask_app.test_client()
    with model.meta.engine.connect() as conn:
        n_resources = conn.execute(sa.text(
            "SELECT count(*) FROM ecarto_ingested_resource WHERE key_kind = 'uai' AND status = 'ok'")).scalar()
        uais = [r[0] for r in conn.execute(sa.text(
            "SELECT s.uai FROM ecarto_data.etablissement_source s WHERE s.type = 'college' "
            "GROUP BY s.uai HAVING count(*) >= 2 ORDER BY s.uai LIMIT :n"), {"n": N_UAI})]
        datasets = [r[0] for r in conn.execute(sa.text(
            "SELECT p.name FROM package p JOIN ecarto_ingested_resource r ON r.package_id = p.id "
            "WHERE p.state = 'active' GROUP BY p.name ORDER BY p.name"))]
    if not uais or not datasets:
        print("Aucune donnée : lancez `make bench-pages` (charge les données d'exemple).")
        return 1

    def measure(paths: list[str]) -> list[float]:
        return timed_gets(client, paths, REPEAT)

    etab = measure([f"/etablissement/{u}" for u in uais])
    dataset = measure([f"/dataset/{d}" for d in datasets])
    etab_json = measure([f"/etablissement/{u}.json" for u in uais])
    print(f"{n_resources} ressources à colonne UAI chargées ; {len(uais)} UAI réels, {len(datasets)} jeux de données ; "
          f"{REPEAT} passages (millisecondes, temps serveur)")
    print(f"{'page':<34}{'p50':>8}{'p95':>8}")
    for label, values in (("/etablissement/<uai>", etab), ("/etablissement/<uai>.json", etab_json),
                          ("/dataset/<nom> (CKAN)", dataset)):
        print(f"{label:<34}{quantile(values, 50):>8.1f}{quantile(values, 95):>8.1f}")
    ratio = quantile(etab, 50) / quantile(dataset, 50)
    print(f"ratio p50 établissement / jeu de données : {ratio:.2f} (objectif ≤ 1,0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
