"""`ckan ecarto validate PATH --axe AXE`: the validation report of a file as JSON on stdout
(the same report as the action `ecarto_validate_resource` and the publication pages); exit
code 1 when the report has blocking errors, 0 otherwise."""
from __future__ import annotations

import json
import sys
from typing import Optional

import click

from ckanext.ecarto.ingest.commands import request_context
from ckanext.ecarto.validation import validate_file
from ckanext.ecarto.validation.tableschema import available_axes


@click.command("validate", short_help="Rapport de validation (JSON) d'un fichier pour un axe.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--axe", required=True, type=click.Choice(available_axes()), help="Axe eCarto (schéma des colonnes).")
@click.option("--uai-column", help="Colonne des UAI (détectée automatiquement sinon).")
@click.option("--commune-column", help="Colonne des codes commune INSEE.")
@click.option("--no-directory", is_flag=True, help="Ne pas vérifier la présence des UAI dans l'annuaire.")
@click.option("--indent", type=int, default=2, show_default=True, help="Indentation du JSON (0 : une ligne).")
def validate(path: str, axe: str, uai_column: Optional[str], commune_column: Optional[str], no_directory: bool,
             indent: int) -> None:
    """Vérifie PATH (CSV, XLSX, JSON) pour l'axe AXE et écrit le rapport JSON sur la sortie
    standard. Code de sortie 1 si le rapport contient des erreurs bloquantes."""
    with request_context():
        report = validate_file(path, axe, uai_column=uai_column, commune_column=commune_column,
                               check_directory=not no_directory)
    click.echo(json.dumps(report, ensure_ascii=False, indent=indent or None, default=str))
    click.echo(report["summary"], err=True)
    sys.exit(1 if report["blocking"] else 0)


COMMANDS = (validate,)
