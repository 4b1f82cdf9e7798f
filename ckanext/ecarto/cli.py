"""`ckan ecarto ...` commands."""
from __future__ import annotations

import click

__all__ = ["ecarto"]


@click.group(short_help="Commandes du portail eCarto (chargement, moissonnage, index).")
def ecarto() -> None:
    """Commandes du portail eCarto."""
