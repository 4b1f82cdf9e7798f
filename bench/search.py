"""Benchmark of the PostgreSQL search backend on a 10,000-dataset catalogue.

    make bench-search            (creates and uses the database ecarto_bench)

Builds 10,000 datasets whose titles, notes and tags derive from the real establishment names
of the sample data (annuaire de l'éducation, géolocalisation des collèges), written directly
through CKAN's model (fast), then indexes them with `ckan search-index rebuild` (CKAN's own
indexing path: package_show + index flattening + plugins, for each dataset), and prints:

- the rebuild time for the 10,000 datasets;
- p50/p95 of the `package_search` action for typical queries (free text + 4 facets, fq
  organization, bbox, sort by title), next to a naive `ILIKE` scan over the same rows
  measured in the same run, and their ratio.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
N_DATASETS = int(os.environ.get("ECARTO_BENCH_DATASETS", "10000"))
REPEAT = int(os.environ.get("ECARTO_BENCH_REPEAT", "40"))

THEMES = [
    ("equipement", "Équipement numérique", ["tablettes", "tni", "ordinateurs"]),
    ("connectivite", "Connexion internet et wifi", ["wifi", "fibre", "thd"]),
    ("services_ressources", "ENT et ressources numériques", ["ent", "ressources"]),
    ("experimentations", "Projet numérique", ["expérimentation", "e-fran"]),
    ("etablissements", "Fiche établissement", ["annuaire"]),
]
FORMATS = ["CSV", "JSON", "XLSX", "GeoJSON", "PDF"]


def _open(path: Path):
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    return io.StringIO(raw.decode("utf-8-sig"))


def establishments() -> list[dict[str, str]]:
    """Real names, communes and positions from the sample files."""
    rows: list[dict[str, str]] = []
    for path in (SAMPLE / "annuaire-education").glob("*.csv*"):
        for r in csv.DictReader(_open(path), delimiter=";"):
            rows.append({"nom": r["Nom_etablissement"], "commune": r["Nom_commune"],
                         "dep": r["Libelle_departement"], "lat": r["latitude"], "lon": r["longitude"]})
    for path in (SAMPLE / "geolocalisation-etablissements").glob("*.csv*"):
        for r in csv.DictReader(_open(path), delimiter=";"):
            rows.append({"nom": r["appellation_officielle"], "commune": r["libelle_commune"],
                         "dep": r["libelle_departement"], "lat": r["latitude"], "lon": r["longitude"]})
    return [r for r in rows if r["nom"]]


def build_catalogue(model, n: int) -> list[str]:
    rng = random.Random(2018)
    people = establishments()
    orgs = []
    for name, title in [("menj", "Ministère de l'Éducation nationale"), ("arcep", "Arcep"),
                        ("region-occitanie", "Région Occitanie"), ("val-de-marne", "Département du Val-de-Marne"),
                        ("herault", "Département de l'Hérault")]:
        org = model.Group(name=name, title=title, type="organization", is_organization=True)
        org.state = "active"
        model.Session.add(org)
        orgs.append(org)
    model.Session.flush()
    tags = {}
    for _, _, words in THEMES:
        for w in words + ["écoles", "collèges", "lycées"]:
            if w not in tags:
                tags[w] = model.Tag(name=w)
                model.Session.add(tags[w])
    model.Session.flush()
    for i in range(n):
        e = people[i % len(people)]
        axe, label, words = THEMES[i % len(THEMES)]
        pkg = model.Package(
            id=str(uuid.uuid4()), name=f"jeu-{i:05d}", type="dataset", state="active",
            title=f"{label} — {e['nom']} ({e['commune']})",
            notes=f"Données {label.lower()} de l'établissement {e['nom']}, commune de {e['commune']}, "
                  f"département {e['dep']}. Millésime {2018 + i % 7}.",
            owner_org=orgs[i % len(orgs)].id, license_id="etalab-2.0", private=(i % 50 == 0))
        model.Session.add(pkg)
        extras = {"axe": axe}
        try:
            lat, lon = float(e["lat"]), float(e["lon"])
            poly = {"type": "Polygon", "coordinates": [[[lon - .01, lat - .01], [lon + .01, lat - .01],
                                                        [lon + .01, lat + .01], [lon - .01, lat + .01],
                                                        [lon - .01, lat - .01]]]}
            extras["spatial"] = json.dumps(poly)
        except ValueError:
            pass
        pkg.extras = extras
        for w in set(rng.sample(words, 1) + [rng.choice(["écoles", "collèges", "lycées"])]):
            model.Session.add(model.PackageTag(package_id=pkg.id, tag_id=tags[w].id, state="active"))
        for j in range(1 + i % 2):
            res = model.Resource(package_id=pkg.id, url=f"https://exemple.gouv.fr/{i}/{j}",
                                 format=FORMATS[(i + j) % len(FORMATS)], name=f"Données {j + 1}")
            res.position = j
            model.Session.add(res)
        if i % 1000 == 999:
            model.Session.commit()
            print(f"  {i + 1} jeux de données créés", flush=True)
    model.Session.commit()
    return [o.name for o in orgs]


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    from ckan.cli import CKANConfigLoader
    from ckan.config.environment import load_environment
    ini = os.environ.get("CKAN_INI", str(ROOT / "test.ini"))
    load_environment(CKANConfigLoader(ini).get_config())
    import ckan.lib.search as search
    import ckan.logic as logic
    import ckan.model as model
    import sqlalchemy as sa
    from ckanext.ecarto.search.model import TABLE

    existing = model.Session.query(model.Package).filter(model.Package.name.like("jeu-%")).count()
    if existing < N_DATASETS:
        print(f"Construction du catalogue : {N_DATASETS} jeux de données (noms réels d'établissements)…")
        t0 = time.perf_counter()
        build_catalogue(model, N_DATASETS)
        print(f"  créés en {time.perf_counter() - t0:.1f} s")

    print("Reconstruction de l'index (ckan search-index rebuild)…", flush=True)
    t0 = time.perf_counter()
    search.rebuild(force=True, quiet=True)
    rebuild_s = time.perf_counter() - t0
    indexed = model.Session.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar()
    print(f"  {indexed} documents indexés en {rebuild_s:.1f} s ({indexed / rebuild_s:.0f} jeux/s)")

    def package_search(**params):
        return logic.get_action("package_search")({"user": "", "ignore_auth": False}, params)

    facets = ["organization", "tags", "res_format", "license_id"]
    queries = {
        "texte + 4 facettes": dict(q="école numérique", **{"facet.field": json.dumps(facets)}),
        "fq organisation": dict(fq='organization:"herault"'),
        "bbox (Toulouse)": dict(extras={"ext_bbox": "1.35,43.55,1.50,43.65"}),
        "tri par titre": dict(q="*:*", sort="title_string asc"),
    }
    engine = model.meta.engine
    naive = {
        "texte + 4 facettes": ("SELECT count(*) OVER (), doc->>'name' FROM {t} WHERE (doc->>'title' ILIKE :a OR doc->>'notes' ILIKE :a) "
                               "AND (doc->>'title' ILIKE :b OR doc->>'notes' ILIKE :b) AND capacity = 'public' LIMIT 20",
                               {"a": "%école%", "b": "%numérique%"}),
        "fq organisation": ("SELECT count(*) OVER (), doc->>'name' FROM {t} WHERE doc->>'organization' ILIKE :a "
                            "AND capacity = 'public' LIMIT 20", {"a": "herault"}),
        "bbox (Toulouse)": ("SELECT count(*) OVER (), doc->>'name' FROM {t} WHERE doc->>'spatial' ILIKE :a "
                            "AND capacity = 'public' LIMIT 20", {"a": "%[1.4%, 43.6%"}),
        "tri par titre": ("SELECT count(*) OVER (), doc->>'name' FROM {t} WHERE capacity = 'public' "
                          "ORDER BY doc->>'title' LIMIT 20", {}),
    }
    print(f"\npackage_search sur {indexed} jeux ({REPEAT} requêtes chacune, millisecondes)")
    print(f"{'requête':<22}{'résultats':>10}{'p50':>9}{'p95':>9}  {'ILIKE p50':>10}{'ILIKE p95':>10}  {'ratio p50':>9}")
    for label, params in queries.items():
        count = package_search(**params)["count"]
        ours = timed(lambda: package_search(**params), REPEAT)
        sql, args = naive[label]
        with engine.connect() as conn:
            base = timed(lambda: conn.execute(sa.text(sql.format(t=TABLE)), args).fetchall(), REPEAT)
        print(f"{label:<22}{count:>10}{p(ours, 50):>9.1f}{p(ours, 95):>9.1f}  {p(base, 50):>10.1f}{p(base, 95):>10.1f}"
              f"  {p(ours, 50) / p(base, 50):>9.2f}")
    print("\n(ratio = package_search complet — permissions, facettes, dictionnaires de résultats — "
          "sur le simple balayage ILIKE sans facettes)")


if __name__ == "__main__":
    sys.exit(main())
