"""Batched index writes (`ckan search-index rebuild`, CKAN's `defer_commit`): the same rows as
one write per dataset, written `search_batch_size` at a time, visible to this process before it
searches, a refused document losing only itself; and exact filters read through `facet_values`
finding the same datasets as through the documents."""
from __future__ import annotations

import json
import signal
from typing import Any

import pytest
import sqlalchemy as sa

import ckan.lib.search as search
import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers
from ckan.lib.search.common import SearchIndexError

from ckanext.ecarto.search import batch
from ckanext.ecarto.search.connection import PgSolrConnection
from ckanext.ecarto.search.model import TABLE

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db")

ROW = ("index_id, name, capacity, state, owner_org, title_string, title_sort, metadata_created, "
       "metadata_modified, permission_labels, facet_values, bbox_minx, bbox_miny, bbox_maxx, bbox_maxy, "
       "doc, data_dict, validated_data_dict, tsv::text")


@pytest.fixture
def catalogue():
    sysadmin = factories.Sysadmin()
    org = helpers.call_action("organization_create", {"user": sysadmin["name"]}, name="herault",
                              title="Département de l'Hérault")
    names = []
    for i, (title, private) in enumerate([
            ("Collèges de l'Hérault : tablettes", False), ("Écoles de Montpellier — wifi", False),
            ("Lycée Joffre : ENT", True), ("Ordinateurs des collèges", False),
            ("Fibre des écoles rurales", False), ("Annuaire des établissements", False),
            ("Équipement numérique des écoles", True)]):
        pkg = helpers.call_action(
            "package_create", {"user": sysadmin["name"]}, name=f"jeu-{i}", title=title, owner_org=org["id"],
            axe="equipement", license_id="etalab-2.0", private=private, tags=[{"name": "collèges"}],
            spatial='{"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.6]]]}',
            resources=[{"url": f"https://exemple.gouv.fr/{i}.csv", "format": "CSV"}])
        names.append(pkg["name"])
    return sysadmin, names


def _rows() -> list[tuple]:
    """The index rows, with what CKAN itself gives in no set order (a dataset's extras come from
    the database unsorted) put in order, so that two writes of the same datasets compare equal."""
    with model.meta.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT {ROW} FROM {TABLE} ORDER BY index_id"))
        return [tuple(_in_order(value) for value in row) for row in rows]


def _in_order(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _in_order(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: _in_order(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        items = [_in_order(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    return value


def _count() -> int:
    with model.meta.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar()


def _clear() -> None:
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {TABLE}"))


@pytest.mark.ckan_config("ckanext.ecarto.search_batch_size", 3)
def test_batched_rebuild_writes_the_same_rows_as_one_write_per_dataset(catalogue):
    # both rebuilt from the same state (not compared with the rows written at creation: a
    # background job, such as the availability check, may have changed a dataset since)
    _clear()
    search.rebuild(defer_commit=False, quiet=True)   # one write and one commit per dataset
    assert batch.pending_count() == 0
    one_by_one = _rows()
    assert len(one_by_one) == 7
    _clear()
    search.rebuild(defer_commit=True, quiet=True)   # what `ckan search-index rebuild` runs
    search.commit()
    assert batch.pending_count() == 0
    assert _rows() == one_by_one


@pytest.mark.ckan_config("ckanext.ecarto.search_batch_size", 3)
def test_deferred_writes_go_by_batches_and_are_searched_by_their_process(catalogue):
    sysadmin, names = catalogue
    _clear()
    search.rebuild(defer_commit=True, quiet=True)
    assert _count() == 6 and batch.pending_count() == 1     # two full batches written, one pending
    found = helpers.call_action("package_search", {"user": sysadmin["name"]}, include_private=True, rows=100)
    assert sorted(d["name"] for d in found["results"]) == sorted(names)
    assert _count() == 7 and batch.pending_count() == 0
    anonymous = helpers.call_action("package_search", {"user": ""}, rows=100)
    assert {d["name"] for d in anonymous["results"]} == {"jeu-0", "jeu-1", "jeu-3", "jeu-4", "jeu-5"}


def test_cli_rebuild_indexes_every_dataset(catalogue, cli):
    from ckan.cli.cli import ckan as ckan_cli
    _clear()
    result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-q"])
    assert result.exit_code == 0, result.output
    assert _count() == 7 and batch.pending_count() == 0


def _doc(name: str, **fields) -> dict:
    return {"id": name, "index_id": f"idx-{name}", "name": name, "site_id": "test.ckan.net",
            "entity_type": "package", "dataset_type": "dataset", "state": "active", "capacity": "public",
            "permission_labels": ["public"], "title": name, "metadata_created": "2024-01-01T00:00:00Z",
            "metadata_modified": "2024-01-01T00:00:00Z", **fields}


def _names(conn: PgSolrConnection, fq: str) -> list[str]:
    return sorted(d["name"] for d in conn.search(q="*:*", fq=fq, rows=100))


@pytest.mark.ckan_config("ckanext.ecarto.search_batch_size", 10)
def test_a_refused_document_loses_only_itself():
    conn = PgSolrConnection()
    conn.add([_doc("bon-1"), _doc("refuse", notes="octet nul \x00 ici"), _doc("bon-2")], commit=False)
    assert batch.pending_count() == 3
    with pytest.raises(SearchIndexError, match="refuse"):
        conn.commit()
    assert batch.pending_count() == 0
    assert _names(conn, "*:*") == ["bon-1", "bon-2"]


@pytest.mark.ckan_config("ckan.search.solr_commit", False)
def test_without_solr_commit_every_write_is_immediate():
    PgSolrConnection().add([_doc("tout-de-suite")], commit=False)
    assert batch.pending_count() == 0 and _count() == 1


def test_a_deferred_block_writes_at_its_end():
    conn = PgSolrConnection()
    with batch.deferred():
        conn.add([_doc("moissonne-1")])                 # CKAN's immediate write waits for the block
        conn.add([_doc("moissonne-2")], commit=True)
        assert batch.pending_count() == 2 and _count() == 0
        assert _names(conn, "*:*") == ["moissonne-1", "moissonne-2"]   # searching writes them first
        conn.add([_doc("moissonne-3")])
        assert batch.pending_count() == 1
    assert batch.pending_count() == 0 and _count() == 3


def test_exact_filters_find_what_the_documents_hold():
    """`field:value` reads `facet_values` for short strings, the document otherwise."""
    conn = PgSolrConnection()
    long_value = "x" * 250
    conn.add([_doc("a", tags=["wifi", "fibre"], axe="connectivite", note_longue=long_value, ouvert=True, rang=3),
              _doc("b", tags="wifi", axe="equipement", ouvert=False, rang="3"),
              _doc("c", tags=[], axe="", ouvert="true", rang=3.5)])
    assert _names(conn, 'tags:"wifi"') == ["a", "b"]
    assert _names(conn, "tags:fibre") == ["a"]
    assert _names(conn, 'axe:"connectivite"') == ["a"]
    assert _names(conn, f'note_longue:"{long_value}"') == ["a"]
    assert _names(conn, "ouvert:true") == ["a", "c"]
    assert _names(conn, "rang:3") == ["a", "b"]
    assert _names(conn, "rang:3.5") == ["c"]
    assert _names(conn, "-tags:wifi") == ["c"]


def test_facet_counts_keep_each_field_apart():
    """Facets read `field<US>value` elements by prefix: a field is never counted for another whose
    name it starts, or that a LIKE wildcard in its name (`_`, `%`) would match."""
    conn = PgSolrConnection()
    _clear()
    conn.add([_doc("a", res_format=["CSV", "JSON"], resXformat="PDF", tag="seul", tags=["wifi", "ent"],
                   **{"taux%": "haut", "tauxA": "bas"}),
              _doc("b", res_format="CSV", tags="wifi", **{"taux%": "haut"})])
    found = conn.search(q="*:*", rows=0, **{"facet.field": ["res_format", "tag", "tags", "taux%"],
                                            "facet.limit": -1}).facets["facet_fields"]
    assert found["res_format"] == ["CSV", 2, "JSON", 1]
    assert found["tag"] == ["seul", 1]
    assert found["tags"] == ["wifi", 2, "ent", 1]
    assert found["taux%"] == ["haut", 2]


def test_a_facet_read_from_the_documents_counts_each_document_once():
    """Fields left out of `facet_values` (here the resources' URLs) are counted from the
    documents: a URL repeated in one dataset counts that dataset once."""
    conn = PgSolrConnection()
    _clear()
    conn.add([_doc("a", res_url=["https://exemple.gouv.fr/f.csv", "https://exemple.gouv.fr/f.csv"]),
              _doc("b", res_url="https://exemple.gouv.fr/f.csv")])
    found = conn.search(q="*:*", rows=0, **{"facet.field": ["res_url"], "facet.limit": -1}).facets["facet_fields"]
    assert found["res_url"] == ["https://exemple.gouv.fr/f.csv", 2]


def test_a_facet_counts_datasets_not_resources(catalogue):
    """Two CSV resources make one dataset in « CSV », as the filter on it finds (Solr counts
    documents); rows indexed with repeated values are repaired by migration 0008."""
    import importlib
    sysadmin, _names = catalogue
    org = model.Group.get("herault")
    helpers.call_action("package_create", {"user": sysadmin["name"]}, name="deux-csv", title="Deux CSV",
                        owner_org=org.id, axe="equipement",
                        resources=[{"url": "https://exemple.gouv.fr/a.csv", "format": "CSV"},
                                   {"url": "https://exemple.gouv.fr/b.csv", "format": "CSV"}])

    def csv_facet() -> tuple[int, int]:
        found = helpers.call_action("package_search", {"user": sysadmin["name"]}, include_private=True,
                                    q="*:*", rows=0, **{"facet.field": '["res_format"]'})
        filtered = helpers.call_action("package_search", {"user": sysadmin["name"]}, include_private=True,
                                       fq='res_format:"CSV"', rows=0)
        return found["facets"]["res_format"]["CSV"], filtered["count"]
    counted, filtered = csv_facet()
    assert counted == filtered
    with model.meta.engine.begin() as conn:         # a row written before: « CSV » twice
        conn.execute(sa.text(f"UPDATE {TABLE} SET facet_values = facet_values || CAST(:v AS text[]) "
                             f"WHERE name = 'deux-csv'"), {"v": ["res_format\x1fCSV"]})
    assert csv_facet() == (counted + 1, filtered)
    migration = importlib.import_module("ckanext.ecarto.migration.ecarto.versions.0008_facet_documents")
    with model.meta.engine.begin() as conn:
        assert conn.execute(sa.text(migration.DEDUPLICATE_SQL)).rowcount == 1
    assert csv_facet() == (counted, filtered)


# --- the bulk path (ckanext/ecarto/logic/reindex.py): the same rows as CKAN's, built a batch at a time

@pytest.fixture
def varied_catalogue(catalogue):
    """Beside `catalogue` (private/public, spatial, tags, CSV resources): a second organisation,
    a group, several formats and extras, a harvested dataset, resources with an ingestion registry
    row and an availability check, a draft and a deleted dataset. (No relationship: CKAN 2.12's own
    path cannot index one through the show schemas — KeyError 'object_package_id'.)"""
    import datetime as dt
    from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestSource
    from ckanext.ecarto.ingest import registry
    from ckanext.ecarto.quality import store

    sysadmin, names = catalogue
    user = {"user": sysadmin["name"]}   # a fresh copy for each call: CKAN writes into its context
    org = helpers.call_action("organization_create", dict(user), name="arcep", title="Arcep")
    group = helpers.call_action("group_create", dict(user), name="connectivite", title="Connectivité")
    fibre = helpers.call_action(
        "package_create", dict(user), name="fibre-communes", title="  Fibre par commune ", owner_org=org["id"],
        axe="connectivite", license_id="cc-by", tags=[{"name": "fibre"}, {"name": "thd"}],
        groups=[{"name": group["name"]}], notes="Locaux raccordables.",
        resources=[{"url": "https://exemple.gouv.fr/fibre.json", "format": "JSON", "name": "Fibre"},
                   {"url": "exemple.gouv.fr/fibre.xlsx", "format": "XLSX", "description": "Tableur"},
                   {"url": "https://exemple.gouv.fr/fibre.geojson", "format": "GeoJSON"}])
    ingested = helpers.call_action(
        "package_create", dict(user), name="ips-colleges", title="IPS des collèges", owner_org=org["id"],
        axe="etablissements", resources=[{"url": "https://exemple.gouv.fr/ips.csv", "format": "CSV"}])
    resource_id = ingested["resources"][0]["id"]
    with model.meta.engine.begin() as conn:
        registry.write(conn, {"resource_id": resource_id, "package_id": ingested["id"], "table_name": "t_ips",
                              "key_kind": "uai", "key_column": "uai", "millesime": "2023", "n_rows": 12,
                              "status": "ok", "loaded_at": dt.datetime(2024, 1, 2)})
    store.record({"resource_id": fibre["resources"][0]["id"], "package_id": fibre["id"],
                  "url": "https://exemple.gouv.fr/fibre.json", "available": False, "http_status": 404,
                  "checked_at": dt.datetime(2024, 1, 3)})
    harvested = helpers.call_action("package_create", dict(user), name="moissonne", title="Jeu moissonné",
                                    owner_org=org["id"], axe="equipement")
    source = HarvestSource(url="https://data.exemple.fr", type="ckan", title="Portail voisin")
    source.save()
    job = HarvestJob(source=source)
    job.save()
    HarvestObject(guid="g-1", job=job, source=source, package_id=harvested["id"], current=True,
                  import_finished=dt.datetime(2024, 1, 4)).save()
    helpers.call_action("package_create", dict(user), name="brouillon", title="Brouillon", owner_org=org["id"],
                        axe="equipement", state="draft")
    gone = helpers.call_action("package_create", dict(user), name="supprime", title="Supprimé", owner_org=org["id"],
                               axe="equipement")
    helpers.call_action("package_delete", dict(user), id=gone["id"])
    return sysadmin, names + ["fibre-communes", "ips-colleges", "moissonne", "brouillon"]


@pytest.mark.ckan_config("ckanext.ecarto.search_batch_size", 4)
@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-worker-processes"])
def test_bulk_rebuild_writes_the_same_rows_as_ckan(varied_catalogue, workers):
    from ckanext.ecarto.logic import reindex
    _clear()
    search.rebuild(defer_commit=True, quiet=True)     # CKAN's path, batched writes
    search.commit()
    ckans = _rows()
    assert sorted(row[1] for row in ckans) == sorted(varied_catalogue[1])   # deleted: not indexed
    _clear()
    assert reindex.rebuild(quiet=True, workers=workers) == 11   # the deleted one is not read
    search.commit()
    assert batch.pending_count() == 0
    bulk = _rows()
    assert bulk == ckans
    by_name = {row[1]: json.loads(row[15]) if isinstance(row[15], str) else row[15] for row in bulk}
    assert by_name["moissonne"]["harvest_source_title"] == "Portail voisin"
    assert by_name["fibre-communes"]["groups"] == ["connectivite"]


def test_bulk_rebuild_keeps_the_exact_json_of_ckan(varied_catalogue):
    """Not only equal once parsed: the stored payloads are the same text (same key order)."""
    from ckanext.ecarto.logic import reindex

    def payloads() -> dict[str, tuple]:
        with model.meta.engine.connect() as conn:
            return {r[0]: (r[1], r[2]) for r in conn.execute(sa.text(
                f"SELECT name, data_dict, validated_data_dict FROM {TABLE}"))}
    _clear()
    search.rebuild(defer_commit=True, quiet=True)
    search.commit()
    ckans = payloads()
    _clear()
    reindex.rebuild(quiet=True)
    search.commit()
    ours = payloads()
    # the order of the extras is the database's (CKAN's own rows differ between two rebuilds there)
    assert {name: tuple(_in_order(v) for v in pair) for name, pair in ours.items()} == \
        {name: tuple(_in_order(v) for v in pair) for name, pair in ckans.items()}
    assert sum(ours[name] == ckans[name] for name in ours) >= len(ours) - 1


def test_bulk_index_of_some_datasets_and_of_a_missing_one(varied_catalogue):
    from ckanext.ecarto.logic import reindex
    sysadmin, names = varied_catalogue
    _clear()
    ids = [model.Package.get(name).id for name in ("fibre-communes", "jeu-2")]
    assert reindex.index_packages(ids + ["n-existe-pas"], batch_size=1) == 2
    search.commit()
    found = helpers.call_action("package_search", {"user": sysadmin["name"]}, include_private=True, rows=100)
    assert sorted(d["name"] for d in found["results"]) == ["fibre-communes", "jeu-2"]


def test_cli_rebuild_goes_through_the_bulk_path(varied_catalogue, cli, monkeypatch):
    from ckan.cli.cli import ckan as ckan_cli
    from ckanext.ecarto.logic import reindex
    calls = []
    original = reindex.index_packages
    monkeypatch.setattr(reindex, "index_packages", lambda ids, **kw: calls.append(len(ids)) or original(ids, **kw))
    _clear()
    result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-q"])
    assert result.exit_code == 0, result.output
    assert calls == [11] and _count() == 11 and batch.pending_count() == 0
    result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-e", "-q"])   # CKAN's own path
    assert result.exit_code == 0, result.output
    assert calls == [11] and _count() == 11


@pytest.mark.ckan_config("ckanext.ecarto.search_batch_size", 4)
def test_a_worker_failure_stops_the_rebuild_unless_forced(varied_catalogue, monkeypatch):
    """In worker processes as in one: an error stops `rebuild`, `--force` skips the dataset."""
    from ckanext.ecarto.logic import reindex
    original = reindex._both_schemas

    def failing(pkg, pkg_dict):
        if pkg.name == "fibre-communes":
            raise RuntimeError("jeu illisible")
        return original(pkg, pkg_dict)
    monkeypatch.setattr(reindex, "_both_schemas", failing)     # inherited by the forked workers
    # A job worker run in this process (rq) leaves its SIGTERM handler: the rebuild must not
    # depend on the signals its workers inherit (it once waited for ever on such workers).
    previous = signal.signal(signal.SIGTERM, lambda *args: None)
    try:
        _clear()
        with pytest.raises(RuntimeError, match="jeu illisible"):
            reindex.rebuild(quiet=True, workers=2)
        _clear()
        assert reindex.rebuild(quiet=True, workers=2, force=True) == 10
    finally:
        signal.signal(signal.SIGTERM, previous)
    search.commit()
    assert _count() == 10


def test_rebuild_workers_follow_the_catalogue_and_the_setting(monkeypatch):
    """One process for fewer than two batches; otherwise the setting, or the usable cores
    capped (a container may see far more cores than it may use: one connection per worker)."""
    from ckanext.ecarto.logic import reindex
    monkeypatch.setattr(reindex, "_usable_cores", lambda: 64)
    with helpers.changed_config("ckanext.ecarto.search_batch_size", 100):
        assert reindex.rebuild_workers(150) == 2           # two batches: two workers at most
        assert reindex.rebuild_workers(100) == 1
        assert reindex.rebuild_workers(100_000) == reindex.MAX_DEFAULT_WORKERS
        with helpers.changed_config("ckanext.ecarto.search_rebuild_workers", 3):
            assert reindex.rebuild_workers(100_000) == 3
