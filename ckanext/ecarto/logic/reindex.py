"""Bulk reindex of the catalogue: CKAN's index documents, built a batch at a time.

CKAN's `ckan.lib.search.rebuild()` indexes dataset after dataset through
`logic.index_update_package`: `package_show` (package_dictize, ≈ 17 SQL round trips), the
default and custom show schemas, the plugins' `after_dataset_show` (the quality facts: two to
three queries per dataset), then `PackageSearchIndex.index_package` (flattening, the plugins'
`before_dataset_index`). `index_packages(ids)` does the same steps in the same order with the
same plugins, for `ckanext.ecarto.search_batch_size` datasets at a time, but reads what CKAN
reads per dataset with a few set-wise queries per batch (`search.bulk.package_dicts`,
`quality.facts_prefetched`); the index rows are the same (tests/search/test_bulk_index.py).

What is still per dataset: the show schemas' validators, ckanext-harvest's `before_dataset_index`
(one query for the harvest object) and the Python of validation and flattening; the index writes
are batched by the backend (`search/batch.py`). Two savings keep the rows identical:
- the show schemas are used without the validators that can only add an error message and
  cost a query per dataset (`REPORT_ONLY_VALIDATORS`: `package_name_validator`,
  which scheming puts in the show schema): CKAN's indexing discards the errors of these
  validations (`package_show_default_and_custom_schemas`), so the documents do not change;
- the whole catalogue is split between worker processes (`ckanext.ecarto.search_rebuild_workers`,
  one per core by default): validation and flattening are Python, bound to one core per
  process. Each worker reads and writes its own batches on its own connections.

Entry points:
- `ckan search-index rebuild` (CKAN's command): CKAN gives no hook inside `rebuild()` — its
  loop calls `index_update_package` per id, and a chained `package_show` could only guess which
  ids come next and whether a prefetched dict is still current. The extension therefore
  registers, through the supported IClick interface (`cli.py`), a `search-index` group made of
  CKAN's own commands where `rebuild` of the whole catalogue (the default, batched) goes
  through `rebuild()` below; `rebuild ID`, `--commit-each` and `--only-missing` keep CKAN's code.
- harvests: CKAN's `package_create`/`package_update` build the document they also return, so
  there is nothing to build twice; `harvesters/run.py` batches their index writes
  (`search.batch.deferred()`).

Floor 5: uses search (1) and quality (3).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import ckan.lib.search as ckan_search
import ckan.logic as logic
import ckan.model as model
import ckan.plugins as plugins
from ckan.common import config
from ckan.lib.plugins import lookup_package_plugin, plugin_validate
from ckan.logic.schema import default_show_package_schema
from ckan.logic.validators import package_name_validator
from ckan.types import Context, Schema

from ckanext.ecarto import quality
from ckanext.ecarto.search import batch, bulk

log = logging.getLogger(__name__)


def _chunks(ids: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _show_context() -> Context:
    """The context `package_show_default_and_custom_schemas` gives `package_show` when
    `rebuild()` calls it (`fresh_context({'ignore_auth': True}, …)`)."""
    return logic.fresh_context({"ignore_auth": True}, ignore_auth=True, use_cache=False, validate=False)


# Validators of the show schemas that never change the dict, only report an error, and run a
# query per dataset (« That URL is already in use »): indexing discards the errors.
REPORT_ONLY_VALIDATORS: tuple[Callable[..., Any], ...] = (package_name_validator,)


def _without_report_only(schema: Schema) -> Schema:
    """The schema without `REPORT_ONLY_VALIDATORS`, nested schemas (resources, tags) included."""
    stripped: dict[str, Any] = {}
    for key, value in schema.items():
        if isinstance(value, dict):
            stripped[key] = _without_report_only(value)
        elif isinstance(value, list):
            stripped[key] = [v for v in value if v not in REPORT_ONLY_VALIDATORS]
        else:
            stripped[key] = value
    return stripped


def _both_schemas(pkg: model.Package, pkg_dictized: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The end of `package_show` (validate=False) and of `package_show_default_and_custom_schemas`,
    in their order, on a dict dictized in bulk. The schemas are built for each dataset, as CKAN
    does: validation may change them (scheming's `validate` fills the one it is given)."""
    context = _show_context()
    context["__auth_audit"] = []           # what CKAN's action wrapper and check_access leave
    context["package"] = pkg
    logic.check_access("package_show", context, {"id": pkg.id})
    context["with_capacity"] = False       # set by package_dictize on package_show's context
    for item in plugins.PluginImplementations(plugins.IPackageController):
        item.read(pkg)
    for item in plugins.PluginImplementations(plugins.IResourceController):
        for resource_dict in pkg_dictized["resources"]:
            item.before_resource_show(resource_dict)
    default_schema = default_show_package_schema()
    with_default_schema, _errors = plugin_validate(object(), context, pkg_dictized,
                                                   _without_report_only(default_schema), "package_show")
    package_plugin = lookup_package_plugin(pkg_dictized["type"])
    custom_schema = package_plugin.show_package_schema()
    if custom_schema == default_schema:
        with_custom_schema = with_default_schema
    else:
        with_custom_schema, _errors = plugin_validate(package_plugin, context, pkg_dictized,
                                                      _without_report_only(custom_schema), "package_show")
    logic.apply_after_dataset_show_plugins(context, with_custom_schema)
    return with_default_schema, with_custom_schema


def index_packages(ids: Iterable[str], *, defer_commit: bool = True, force: bool = False,
                   quiet: bool = True, batch_size: Optional[int] = None) -> int:
    """Index the datasets `ids` as `logic.index_update_package` would, a batch at a time; the
    number indexed. An id that no longer exists is skipped (CKAN raises NotFound for it). With
    `force`, a dataset that fails is logged and skipped (CKAN's `rebuild --force`)."""
    wanted = list(ids)
    size = batch_size or batch.batch_size()
    package_index = ckan_search.index_for(model.Package)
    done = 0
    for chunk in _chunks(wanted, size):
        packages = bulk.load_packages(chunk)
        dicts = bulk.package_dicts(packages, _dictize_context())
        with quality.facts_prefetched(dicts.values()):
            for package_id in chunk:
                pkg = packages.get(package_id)
                if pkg is None:
                    continue
                try:
                    default, custom = _both_schemas(pkg, dicts[package_id])
                    package_index.update_dict(dict(default, with_custom_schema=custom), defer_commit)
                except Exception as error:
                    log.error("Error while indexing dataset %s: %r", package_id, error)
                    if not force:
                        raise
                    continue
                done += 1
                if not quiet:
                    sys.stdout.write(f"\rIndexing dataset {done}/{len(wanted)}")
                    sys.stdout.flush()
    return done


def _dictize_context() -> Context:
    context = _show_context()
    context["session"] = model.Session
    return context


def catalogue_ids() -> list[str]:
    """The ids `ckan.lib.search.rebuild()` indexes (deleted ones too unless
    `ckan.search.remove_deleted_packages`, as CKAN does)."""
    packages = model.Session.query(model.Package.id)
    if config.get("ckan.search.remove_deleted_packages"):
        packages = packages.filter(model.Package.state != "deleted")
    return [row[0] for row in packages.order_by(model.Package.id)]


# Default number of workers at most (each holds a database connection; a container may see
# many more cores than it may use).
MAX_DEFAULT_WORKERS = 8


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):      # not on Linux
        return os.cpu_count() or 1


def rebuild_workers(n_datasets: int) -> int:
    """How many processes index the catalogue: `ckanext.ecarto.search_rebuild_workers`, or one
    per usable core, at most `MAX_DEFAULT_WORKERS` (0, the default); one when there are fewer
    than two batches to share."""
    wanted = int(config.get("ckanext.ecarto.search_rebuild_workers") or 0) or \
        min(_usable_cores(), MAX_DEFAULT_WORKERS)
    batches = -(-n_datasets // batch.batch_size())
    return max(1, min(wanted, batches))


def rebuild(*, defer_commit: bool = True, force: bool = False, quiet: bool = False,
            workers: Optional[int] = None) -> int:
    """`ckan.lib.search.rebuild()` of the whole catalogue (no clear), in bulk, shared between
    `workers` processes (default: `rebuild_workers`)."""
    ids = catalogue_ids()
    workers = rebuild_workers(len(ids)) if workers is None else max(1, workers)
    log.info("Rebuilding search index (bulk, %d process%s)...", workers, "es" if workers > 1 else "")
    if workers > 1:
        done = _index_in_processes(ids, workers, force=force, quiet=quiet)
    else:
        done = index_packages(ids, defer_commit=defer_commit, force=force, quiet=quiet)
    model.Session.commit()
    log.info("Finished rebuilding search index.")
    return done


def _index_in_processes(ids: Sequence[str], workers: int, *, force: bool, quiet: bool) -> int:
    """Index `ids` a batch at a time in `workers` forked processes (CKAN's environment, plugins
    and configuration are inherited); each batch is written and committed by its worker. On an
    error, the batches not started are cancelled and the error is raised once the running ones
    end; a worker that dies (killed, out of memory) stops the rebuild (BrokenProcessPool)
    instead of leaving it waiting."""
    model.Session.commit()                 # nothing of this process's transaction is shared
    batch.flush_all(strict=True)
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_worker) as pool:
        futures = [pool.submit(_index_chunk, chunk, force=force) for chunk in _chunks(ids, batch.batch_size())]
        try:
            for future in as_completed(futures):
                done += future.result()
                if not quiet:
                    sys.stdout.write(f"\rIndexing dataset {done}/{len(ids)}")
                    sys.stdout.flush()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    if not quiet:
        sys.stdout.write(f"\nIndexed {done} datasets with {workers} processes\n")
    return done


_inherited_pools: list[Any] = []


def _start_worker() -> None:
    """A forked worker must not use the connections of its parent: forget the session and the
    pooled connections it inherited (without closing them: they are the parent's). It also
    drops the signal handlers it inherited (a job worker's, in the same process, would keep it
    alive on SIGTERM); Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    model.Session.registry.clear()
    _inherited_pools.append(model.meta.engine.pool)   # never collected: nothing is sent on them
    model.meta.engine.dispose(close=False)


def _index_chunk(ids: Sequence[str], *, force: bool) -> int:
    """In a worker: index one batch, write it, and leave nothing in the session."""
    try:
        done = index_packages(ids, defer_commit=True, force=force)
        batch.flush_all(strict=True)
        return done
    finally:
        model.Session.rollback()           # read only: nothing to keep
        model.Session.expunge_all()
