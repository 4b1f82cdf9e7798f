"""`ckan ecarto ...` commands."""
from __future__ import annotations

import click

__all__ = ["ecarto", "search_index"]


@click.group(short_help="Commandes du portail eCarto (chargement, moissonnage, index).")
def ecarto() -> None:
    """Commandes du portail eCarto."""


# Ingestion: `ckan ecarto load PATH --dataset NAME --axe AXE …`, `load-sample`, `ingest RESOURCE_ID`
from ckanext.ecarto.ingest.commands import COMMANDS as _INGEST_COMMANDS  # noqa: E402

for _command in _INGEST_COMMANDS:
    ecarto.add_command(_command)

# Validation of a file for an axis (issue 7): `ckan ecarto validate PATH --axe AXE` (JSON report)
from ckanext.ecarto.validation.commands import COMMANDS as _VALIDATION_COMMANDS  # noqa: E402

for _command in _VALIDATION_COMMANDS:
    ecarto.add_command(_command)

# Harvesters (issue 4): `ckan ecarto harvest SOURCE`, `ckan ecarto harvest-source-create`
from ckanext.ecarto.harvesters.commands import COMMANDS as _HARVEST_COMMANDS  # noqa: E402

for _command in _HARVEST_COMMANDS:
    ecarto.add_command(_command)

# Metadata quality (issue 17): `ckan ecarto qualite verifier` (availability of remote resources)
from ckanext.ecarto.quality.commands import COMMANDS as _QUALITY_COMMANDS  # noqa: E402

for _command in _QUALITY_COMMANDS:
    ecarto.add_command(_command)

# Operations (issue 19): `ckan ecarto taches [worker]` (jobs with retries), `ckan ecarto veille`
from ckanext.ecarto.operations.commands import COMMANDS as _OPERATIONS_COMMANDS  # noqa: E402

for _command in _OPERATIONS_COMMANDS:
    ecarto.add_command(_command)

# Table previews (issue 16): `ckan ecarto vues creer` (default views of the resources already loaded)
from ckanext.ecarto.ingest.commands import request_context  # noqa: E402
import ckan.plugins.toolkit as tk  # noqa: E402

from ckanext.ecarto.logic import tableau as tableau_logic  # noqa: E402


@ecarto.group("vues", short_help="Vues des ressources (aperçu en tableau, carte).")
def vues() -> None:
    """Vues des ressources chargées en base."""


@vues.command("creer", short_help="Crée les vues par défaut qui manquent aux ressources chargées.")
def vues_creer() -> None:
    """Donne à chaque ressource chargée en base l'aperçu en tableau et, si elle a une colonne UAI,
    la carte des établissements, quand elle ne les a pas encore (sans doublon)."""
    with request_context():
        done = tableau_logic.create_missing_views(echo=lambda line: click.echo("  " + line))
    click.echo(tk._("{n} ressource(s) complétée(s), {views} vue(s) créée(s).").format(
        n=len(done), views=sum(len(created) for _id, created in done)))


# Bulk search index (issue 18): CKAN's `ckan search-index` group with `rebuild` of the whole
# catalogue built a batch at a time (ckanext/ecarto/logic/reindex.py, which says why the command
# is the hook); the other commands and options are CKAN's own.
import sys  # noqa: E402

from ckan.cli import error_shout as _error_shout  # noqa: E402
from ckan.cli import search_index as _ckan_search_index  # noqa: E402
from ckan.lib.search import commit as _commit_index  # noqa: E402

from ckanext.ecarto.logic import reindex  # noqa: E402


@click.group(name="search-index", short_help="Search index commands")
@click.help_option("-h", "--help")
def search_index() -> None:
    pass


for _name, _command in _ckan_search_index.search_index.commands.items():
    if _name != "rebuild":
        search_index.add_command(_command)


@search_index.command(name="rebuild", short_help="Rebuild search index")
@click.option("-v", "--verbose", is_flag=True)
@click.option("-i", "--force", is_flag=True, help="Ignore exceptions when rebuilding the index")
@click.option("-o", "--only-missing", help="Index non indexed datasets only", is_flag=True)
@click.option("-q", "--quiet", help="Do not output index rebuild progress", is_flag=True)
@click.option("-e", "--commit-each", is_flag=True,
              help="Perform a commit after indexing each dataset (CKAN's path, one dataset at a time)")
@click.option("--keep-orphans", is_flag=True, help="Keep orphaned packages in search index after rebuild.")
@click.argument("package_id", required=False)
@click.pass_context
def search_index_rebuild(ctx: click.Context, verbose: bool, force: bool, only_missing: bool, quiet: bool,
                         commit_each: bool, keep_orphans: bool, package_id: str) -> None:
    """Rebuild search index: the whole catalogue a batch at a time (same documents as CKAN's)."""
    if package_id or only_missing or commit_each:
        ctx.forward(_ckan_search_index.rebuild)
        return
    errors = 0
    try:
        reindex.rebuild(force=force, quiet=quiet and not verbose)
        if not keep_orphans:
            ctx.invoke(_ckan_search_index.clear_orphans)
    except Exception as e:  # noqa: BLE001 - reported as CKAN's command does
        _error_shout(e)
        errors = 1
    _commit_index()
    if errors:
        sys.exit(errors)
