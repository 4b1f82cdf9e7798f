"""`ckan ecarto ...` commands."""
from __future__ import annotations

import click

__all__ = ["ecarto"]


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
