"""Click commands of the harvesters (registered on the `ckan ecarto` group in ``cli.py``):
`harvest SOURCE` and `harvest-source-create`."""
from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Callable, Iterator, Optional

import click

import ckan.plugins.toolkit as tk

from ckanext.ecarto.harvesters.run import RunError, run_source
from ckanext.ecarto.ingest.commands import request_context

SOURCE_TYPES = ("ecarto_ods", "ecarto_udata", "ckan")


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    with click.progressbar(length=max(total, 1), label=tk._("Jeux de données"), show_pos=True,
                           file=sys.stderr, item_show_func=lambda item: item) as bar:
        def advance(guid: str) -> None:
            bar.current_item = guid[:40]
            bar.update(1)
        yield advance


@click.command("harvest", short_help="Moissonne une source maintenant (collecte, téléchargement, import).")
@click.argument("source")
@click.option("--force", is_flag=True, help="Réimporter tous les jeux, même inchangés.")
def harvest(source: str, force: bool) -> None:
    """Moissonne la source SOURCE (identifiant ou nom) dans ce processus : liste les jeux de la
    source, importe ceux qui ont changé, archive ceux disparus depuis plus que le délai de grâce,
    puis affiche le bilan et chaque erreur."""
    click.echo(tk._("Moissonnage de « {source} »…").format(source=source))
    try:
        with request_context():
            summary = run_source(source, force=force, progress=_progress)
    except RunError as exc:
        raise click.ClickException(str(exc)) from exc
    for job_id in summary.closed_jobs:
        click.echo(tk._("Tâche bloquée {job} close (aucune activité depuis trop longtemps).").format(job=job_id))
    click.echo(tk._("Créés : {created}   mis à jour : {updated}   inchangés : {unchanged}   disparus (délai de "
                    "grâce) : {missing}   archivés : {archived}   en erreur : {errored}").format(
        created=summary.created, updated=summary.updated, unchanged=summary.unchanged, missing=summary.missing,
        archived=summary.archived, errored=summary.errored))
    for note in summary.missing_notes:
        click.echo(f"  {note}")
    if summary.warnings:
        click.echo(tk._("Remarques ({n}) :").format(n=len(summary.warnings)))
        for guid, message in summary.warnings:
            click.echo(f"  - {guid} : {message}")
    if summary.gather_errors or summary.object_errors:
        click.echo(tk._("Erreurs ({n}) :").format(n=summary.errors))
        for message in summary.gather_errors:
            click.echo(f"  - [source] {message}")
        for guid, message in summary.object_errors:
            click.echo(f"  - [{guid}] {message}")
    click.echo(tk._("Tâche {job} : {status}.").format(job=summary.job_id, status=summary.status))
    if summary.errors:
        sys.exit(1)


@click.command("harvest-source-create", short_help="Crée une source de moissonnage eCarto.")
@click.argument("name")
@click.argument("url")
@click.option("--type", "source_type", type=click.Choice(SOURCE_TYPES), required=True,
              help="Moissonneur : ecarto_ods (Opendatasoft), ecarto_udata (data.gouv.fr), ckan.")
@click.option("--title", help="Titre de la source (par défaut : NAME).")
@click.option("--organization", help="Organisation propriétaire des jeux moissonnés (nom ou id).")
@click.option("--config", "config", help="Configuration JSON (texte, ou @fichier.json).")
@click.option("--frequency", default="MANUAL",
              type=click.Choice(["MANUAL", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY", "ALWAYS"]))
def harvest_source_create(name: str, url: str, source_type: str, title: Optional[str],
                          organization: Optional[str], config: Optional[str], frequency: str) -> None:
    """Crée la source NAME (URL du portail distant) ; la configuration est vérifiée par le
    moissonneur avant l'enregistrement."""
    if config and config.startswith("@"):
        with open(config[1:], encoding="utf-8") as f:
            config = f.read()
    data: dict[str, Any] = {"name": name, "url": url, "source_type": source_type, "title": title or name,
                            "frequency": frequency, "config": config or ""}
    with request_context():
        if organization:
            data["owner_org"] = tk.get_action("organization_show")({"ignore_auth": True},
                                                                    {"id": organization})["id"]
        user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        try:
            source = tk.get_action("harvest_source_create")({"user": user, "ignore_auth": True}, data)
        except tk.ValidationError as exc:
            raise click.ClickException(tk._("Source refusée : {errors}").format(
                errors=json.dumps(exc.error_dict, ensure_ascii=False)))
    click.echo(tk._("Source « {name} » créée ({id}) : `ckan ecarto harvest {name}`.").format(
        name=source["name"], id=source["id"]))


COMMANDS = (harvest, harvest_source_create)
