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
