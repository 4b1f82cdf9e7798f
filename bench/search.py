"""Benchmark of the PostgreSQL search backend at the scale of a national catalogue.

    make bench-search                                   (10,000 datasets)
    make bench-search BENCH_ARGS=--datasets=100000      (data.gouv.fr scale)

The Makefile gives it a fresh database (`ecarto_bench_search`, recreated on every call), so it
can run after any other bench. Datasets whose titles, notes and tags derive from the real
establishment names of the sample data (annuaire de l'éducation, géolocalisation des collèges)
are written set-wise through CKAN's model (fast: the catalogue is not what is measured), then:

1. Indexing, through CKAN's own path (package_show with both schemas, index flattening, the
   plugins' hooks, for each dataset), both ways in the same run:
   - one write and one commit per dataset — the previous version's write path, still CKAN's
     `ckan search-index rebuild --commit-each` — on the first `--per-document` datasets;
   - batched — what `ckan search-index rebuild` runs: `rebuild(defer_commit=True)` then
     `commit()`; the backend writes `ckanext.ecarto.search_batch_size` documents per statement
     and per commit — on every dataset;
   with the share of the time spent writing the index (the rest is CKAN's dictization);
   then the bulk path (ckanext/ecarto/logic/reindex.py, what `ckan search-index rebuild` runs
   with the extension: the same documents built a batch at a time with set-wise queries) on
   every dataset, index emptied first. At 100,000 datasets CKAN's batched path is measured on
   its first `--ckan-batched` datasets (10,000 by default) to keep the run practical.
2. p50/p95 of the `package_search` action (anonymous user, 4 facets each) for free text, `fq`
   on organization, tags and axe, a bounding box and two sorts, next to a naive scan of the
   same rows (`ILIKE` on the index documents, no facets) measured alternately in the same run,
   and their ratio (< 1: faster than the naive scan).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import quantile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
TARGET_RATE = 500        # datasets indexed per second
TARGET_P50, TARGET_P95 = 50.0, 100.0   # ms

THEMES = [
    ("equipement", "Équipement numérique", ["tablettes", "tni", "ordinateurs"]),
    ("connectivite", "Connexion internet et wifi", ["wifi", "fibre", "thd"]),
    ("services_ressources", "ENT et ressources numériques", ["ent", "ressources"]),
    ("experimentations", "Projet numérique", ["expérimentation", "e-fran"]),
    ("etablissements", "Fiche établissement", ["annuaire"]),
]
LEVELS = ["écoles", "collèges", "lycées"]
FORMATS = ["CSV", "JSON", "XLSX", "GeoJSON", "PDF"]
ORGS = [("menj", "Ministère de l'Éducation nationale"), ("arcep", "Arcep"),
        ("region-occitanie", "Région Occitanie"), ("val-de-marne", "Département du Val-de-Marne"),
        ("herault", "Département de l'Hérault")]
FACETS = ["organization", "tags", "res_format", "license_id"]


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


def _spatial(e: dict[str, str]) -> str | None:
    try:
        lat, lon = float(e["lat"]), float(e["lon"])
    except ValueError:
        return None
    return json.dumps({"type": "Polygon", "coordinates": [[
        [lon - .01, lat - .01], [lon + .01, lat - .01], [lon + .01, lat + .01],
        [lon - .01, lat + .01], [lon - .01, lat - .01]]]})


def build_catalogue(model: Any, n: int) -> None:
    """`n` datasets (one in 50 private), 1 or 2 resources and 2 tags each, in batches of 1000."""
    rng = random.Random(2018)
    people = establishments()
    orgs = []
    for name, title in ORGS:
        org = model.Group(name=name, title=title, type="organization", is_organization=True)
        org.state = "active"
        model.Session.add(org)
        orgs.append(org)
    tags = {w: model.Tag(name=w) for _, _, words in THEMES for w in words + LEVELS}
    model.Session.add_all(tags.values())
    model.Session.flush()
    for i in range(n):
        e = people[i % len(people)]
        axe, label, words = THEMES[i % len(THEMES)]
        pkg = model.Package(
            id=str(uuid.uuid4()), name=f"jeu-{i:06d}", type="dataset", state="active",
            title=f"{label} — {e['nom']} ({e['commune']})",
            notes=f"Données {label.lower()} de l'établissement {e['nom']}, commune de {e['commune']}, "
                  f"département {e['dep']}. Millésime {2018 + i % 7}.",
            owner_org=orgs[i % len(orgs)].id, license_id="etalab-2.0", private=(i % 50 == 0))
        model.Session.add(pkg)
        extras = {"axe": axe}
        spatial = _spatial(e)
        if spatial:
            extras["spatial"] = spatial
        pkg.extras = extras
        for w in {rng.choice(words), rng.choice(LEVELS)}:
            model.Session.add(model.PackageTag(package=pkg, tag=tags[w], state="active"))
        for j in range(1 + i % 2):
            res = model.Resource(package_id=pkg.id, url=f"https://exemple.gouv.fr/{i}/{j}",
                                 format=FORMATS[(i + j) % len(FORMATS)], name=f"Données {j + 1}")
            res.position = j
            model.Session.add(res)
        if i % 1000 == 999:
            model.Session.commit()
            print(f"  {i + 1} jeux de données créés", end="\r", flush=True)
    model.Session.commit()
    print()


class WriteClock:
    """Time spent in the backend's index writes (batch.flush), wrapped for the measure."""

    def __init__(self, batch: Any):
        self.seconds = 0.0
        self.batch = batch
        self.original = batch.flush

        def timed_flush(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        batch.flush = timed_flush

    def reset(self) -> None:
        self.seconds = 0.0


def index(model: Any, n_per_document: int, n_batched: int, one_process: bool = True) -> dict[str, float]:
    import ckan.lib.search as search
    import ckan.logic as logic
    import sqlalchemy as sa
    from ckanext.ecarto.logic import reindex
    from ckanext.ecarto.search import batch
    from ckanext.ecarto.search.model import TABLE
    clock = WriteClock(batch)
    ids = [r[0] for r in model.Session.query(model.Package.id).order_by(model.Package.name)]
    sample = ids[:n_per_document]
    print(f"Indexation, un document et un commit par jeu (version précédente, --commit-each) : "
          f"{len(sample)} jeux…", flush=True)
    started = time.perf_counter()
    for package_id in sample:
        logic.index_update_package({"ignore_auth": True}, package_id, False)
    one_s = time.perf_counter() - started
    one_write = clock.seconds
    clock.reset()
    batched = ids if n_batched >= len(ids) else ids[:n_batched]
    print(f"Indexation par lots, chemin de CKAN (ckan.lib.search.rebuild) : {len(batched)} jeux…", flush=True)
    started = time.perf_counter()
    if len(batched) == len(ids):
        search.rebuild(defer_commit=True, quiet=True)
    else:
        search.rebuild(package_ids=batched, defer_commit=True, quiet=True)
    search.commit()
    batched_s = time.perf_counter() - started
    batched_write = clock.seconds
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {TABLE}"))
    clock.reset()
    single = ids if one_process else batched
    print(f"Indexation en masse, un processus (logic/reindex) : {len(single)} jeux…", flush=True)
    started = time.perf_counter()
    if one_process:
        reindex.rebuild(quiet=True, workers=1)
    else:
        reindex.index_packages(single)
    search.commit()
    bulk_s = time.perf_counter() - started
    bulk_write = clock.seconds
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {TABLE}"))
    workers = reindex.rebuild_workers(len(ids))
    print(f"Indexation en masse, {workers} processus (ckan search-index rebuild avec l'extension) : "
          f"{len(ids)} jeux…", flush=True)
    started = time.perf_counter()
    reindex.rebuild(quiet=True)
    search.commit()
    parallel_s = time.perf_counter() - started
    return {"one_n": len(sample), "one_s": one_s, "one_write": one_write,
            "batched_n": len(batched), "batched_s": batched_s, "batched_write": batched_write,
            "bulk_n": len(single), "bulk_s": bulk_s, "bulk_write": bulk_write,
            "parallel_n": len(ids), "parallel_s": parallel_s, "workers": workers}


def alternate(ours: Callable[[], Any], naive: Callable[[], Any], repeat: int) -> tuple[list[float], list[float]]:
    """Both measured in turn (same machine load for each), after one warm-up each."""
    ours(), naive()
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        for fn, out in ((ours, a), (naive, b)):
            started = time.perf_counter()
            fn()
            out.append((time.perf_counter() - started) * 1000)
    return a, b


def cases() -> dict[str, tuple[dict[str, Any], str, dict[str, Any]]]:
    """package_search parameters, and the naive scan that finds the same rows."""
    facets = {"facet.field": json.dumps(FACETS)}
    base = "SELECT count(*) OVER (), doc->>'name' FROM {t} WHERE capacity = 'public' AND state = 'active' AND "
    return {
        "texte libre": (dict(q="école numérique", **facets),
                        base + "(doc->>'title' ILIKE :a OR doc->>'notes' ILIKE :a) "
                               "AND (doc->>'title' ILIKE :b OR doc->>'notes' ILIKE :b) LIMIT 10",
                        {"a": "%école%", "b": "%numérique%"}),
        "fq organisation": (dict(fq='organization:"herault"', **facets),
                            base + "doc->>'organization' ILIKE :a LIMIT 10", {"a": "herault"}),
        "fq mot-clé": (dict(fq='tags:"wifi"', **facets),
                       base + "doc->>'tags' ILIKE :a LIMIT 10", {"a": '%"wifi"%'}),
        "fq axe": (dict(fq='axe:"connectivite"', **facets),
                   base + "doc->>'axe' ILIKE :a LIMIT 10", {"a": "connectivite"}),
        "bbox (Toulouse)": (dict(extras={"ext_bbox": "1.35,43.55,1.50,43.65"}, **facets),
                            base + "doc->>'spatial' ILIKE :a LIMIT 10", {"a": "%[1.4%, 43.6%"}),
        "tri par titre": (dict(q="*:*", sort="title_string asc", **facets),
                          base + "TRUE ORDER BY doc->>'title' LIMIT 10", {}),
        "tri par date": (dict(q="*:*", sort="metadata_modified desc", **facets),
                         base + "TRUE ORDER BY doc->>'metadata_modified' DESC LIMIT 10", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10_000, help="datasets in the catalogue")
    parser.add_argument("--repeat", type=int, default=40, help="measures per query")
    parser.add_argument("--per-document", type=int, default=1000,
                        help="datasets indexed one write and one commit at a time (previous path)")
    parser.add_argument("--ckan-batched", type=int, default=10_000,
                        help="datasets indexed by CKAN's batched path (all of them if fewer)")
    parser.add_argument("--bulk-one-process", type=int, choices=(0, 1), default=1,
                        help="1: the one-process bulk pass indexes the whole catalogue; 0: as many "
                             "datasets as --ckan-batched (large catalogues)")
    args = parser.parse_args()

    from ckan.cli import CKANConfigLoader
    from ckan.config.environment import load_environment
    load_environment(CKANConfigLoader(os.environ.get("CKAN_INI", str(ROOT / "test.ini"))).get_config())
    import ckan.logic as logic
    import ckan.model as model
    import sqlalchemy as sa
    from ckanext.ecarto.search.model import TABLE

    if model.Session.query(model.Package).count():
        sys.exit("La base de mesure doit être vide (make bench-search la recrée).")
    print(f"Construction du catalogue : {args.datasets} jeux de données (noms réels d'établissements)…")
    started = time.perf_counter()
    build_catalogue(model, args.datasets)
    print(f"  créés en {time.perf_counter() - started:.1f} s")

    t = index(model, min(args.per_document, args.datasets), args.ckan_batched, bool(args.bulk_one_process))
    indexed = model.Session.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar()
    assert indexed == args.datasets, (indexed, args.datasets)
    rates = {key: t[f"{key}_n"] / t[f"{key}_s"] for key in ("one", "batched", "bulk", "parallel")}
    print(f"\nIndexation ({indexed} documents dans l'index)")
    print(f"{'chemin':<52}{'jeux':>8}{'durée s':>9}{'jeux/s':>8}{'écriture index':>16}")
    for key, label in (("one", "un commit par jeu (précédent, --commit-each)"),
                       ("batched", "par lots, chemin de CKAN (précédent rebuild)"),
                       ("bulk", "en masse, un processus (logic/reindex)"),
                       ("parallel", f"en masse, {t['workers']} processus (search-index rebuild)")):
        write = f"{100 * t[key + '_write'] / t[key + '_s']:>15.0f}%" if key + "_write" in t else f"{'—':>16}"
        print(f"{label:<52}{t[key + '_n']:>8}{t[key + '_s']:>9.1f}{rates[key]:>8.0f}{write}")
    print(f"ratio débit par lots / un commit par jeu : {rates['batched'] / rates['one']:.2f} ; "
          f"en masse / par lots : {rates['bulk'] / rates['batched']:.2f} ; "
          f"{t['workers']} processus / un : {rates['parallel'] / rates['bulk']:.2f} ; "
          f"objectif ≥ {TARGET_RATE} jeux/s : {'atteint' if rates['parallel'] >= TARGET_RATE else 'non atteint'}")

    def package_search(params: dict[str, Any]) -> dict[str, Any]:
        return logic.get_action("package_search")({"user": "", "ignore_auth": False}, dict(params))

    engine = model.meta.engine
    print(f"\npackage_search sur {indexed} jeux, 4 facettes chacune ({args.repeat} mesures, millisecondes ; "
          f"balayage naïf mesuré en alternance)")
    print(f"{'requête':<18}{'résultats':>10}{'p50':>8}{'p95':>8}  {'naïf p50':>9}{'naïf p95':>9}"
          f"  {'ratio p50':>9}{'ratio p95':>10}  objectif")
    with engine.connect() as conn:
        for label, (params, sql, bound) in cases().items():
            count = package_search(params)["count"]
            statement = sa.text(sql.format(t=TABLE))
            ours, naive = alternate(lambda: package_search(params),
                                    lambda: conn.execute(statement, bound).fetchall(), args.repeat)
            o50, o95, n50, n95 = quantile(ours, 50), quantile(ours, 95), quantile(naive, 50), quantile(naive, 95)
            ok = o50 <= TARGET_P50 and o95 <= TARGET_P95 and o50 < n50
            print(f"{label:<18}{count:>10}{o50:>8.1f}{o95:>8.1f}  {n50:>9.1f}{n95:>9.1f}"
                  f"  {o50 / n50:>9.2f}{o95 / n95:>10.2f}  {'oui' if ok else 'non'}")
    print(f"\n(objectif : p50 ≤ {TARGET_P50:.0f} ms, p95 ≤ {TARGET_P95:.0f} ms et plus rapide que le balayage "
          "naïf ; package_search complet — permissions, 4 facettes, dictionnaires de résultats — contre un "
          "balayage ILIKE sans facettes)")


if __name__ == "__main__":
    main()
