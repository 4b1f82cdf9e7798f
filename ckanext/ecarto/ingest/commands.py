"""Click commands of the ingestion (registered on the `ckan ecarto` group in ``cli.py``):
`load`, `load-sample` and `ingest`."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import click

from ckanext.ecarto import ingest
from ckanext.ecarto.core.axes import AXIS_IDS
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import publish
from ckanext.ecarto.ingest.loader import IngestReport
from ckanext.ecarto.territoires import aggregates


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def _seconds(started: float) -> str:
    """Time since `started` (time.monotonic()), as the commands print it."""
    return f"{time.monotonic() - started:.1f}"


@contextlib.contextmanager
def _progress_bar(label: str, size: int) -> Iterator[Any]:
    """A click progress bar over the file's bytes; yields the loader's progress callback."""
    with click.progressbar(length=max(size, 1), label=label[:60], show_percent=True,
                           show_eta=False, file=sys.stderr) as bar:
        state = {"done": 0}

        def update(done: int, total: int, rows: int) -> None:
            delta = max(0, min(done, total) - state["done"])
            if delta:
                bar.update(delta)
                state["done"] += delta
        yield update


@contextlib.contextmanager
def request_context() -> Iterator[None]:
    """Actions behave as in a request (CKAN's own commands do the same); shared by every
    `ckan ecarto` command."""
    app = click.get_current_context().meta.get("flask_app")
    if app is None:
        yield
        return
    with app.test_request_context():
        yield


def _report_line(report: Optional[IngestReport]) -> str:
    if report is None:
        return _("non chargée")
    if report.status == "skipped":
        return report.message
    if report.status == "error":
        return _("ÉCHEC : {reason}").format(reason=report.message)
    if report.unchanged:
        return _("{n} lignes en base, {rejected} rejetées (fichier inchangé)").format(
            n=_n(report.n_rows), rejected=_n(report.n_rejected))
    return _("{n} lignes chargées, {rejected} rejetées ({seconds} s)").format(
        n=_n(report.n_rows), rejected=_n(report.n_rejected), seconds=f"{report.seconds:.1f}")


def _print_rejects(report: Optional[IngestReport], limit: int = 5) -> None:
    if report is None or not report.rejects:
        return
    for reject in report.rejects[:limit]:
        row = reject["row"] if reject.get("row") is not None else "?"
        click.echo("    " + _("rejet ligne {row} : {reason}").format(row=row, reason=reject["reason"]))
    if report.n_rejected > limit:
        click.echo("    " + _("… et {n} autres (voir ecarto_ingest_status).").format(n=_n(report.n_rejected - limit)))


@click.command("load", short_help="Publie un fichier CSV/JSON/XLSX comme ressource et le charge en base.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dataset", required=True, help="Nom (URL) du jeu de données, créé s'il n'existe pas.")
@click.option("--axe", required=True, type=click.Choice(AXIS_IDS), help="Axe eCarto du jeu de données.")
@click.option("--organization", help="Organisation productrice (créée si elle n'existe pas).")
@click.option("--millesime", help="Millésime : année (2024) ou année scolaire (2023-2024).")
@click.option("--title", help="Titre du jeu de données (à la création ou pour le modifier).")
@click.option("--description", help="Description du jeu de données (par défaut, à la création : une "
              "description factuelle — fichier, axe, producteur, millésime, lignes chargées).")
@click.option("--resource-name", help="Nom de la ressource (par défaut : nom du fichier).")
@click.option("--format", "resource_format", help="Format de la ressource (par défaut : d'après l'extension).")
@click.option("--uai-column", help="Colonne UAI (détectée automatiquement sinon).")
@click.option("--commune-column", help="Colonne code commune INSEE (détectée automatiquement sinon).")
@click.option("--private/--public", default=None, help="Visibilité du jeu de données.")
@click.option("--force", is_flag=True, help="Recharger même si le fichier est inchangé.")
def load(path: str, dataset: str, axe: str, organization: Optional[str], millesime: Optional[str],
         title: Optional[str], resource_name: Optional[str], resource_format: Optional[str],
         uai_column: Optional[str], commune_column: Optional[str], private: Optional[bool],
         force: bool, description: Optional[str] = None) -> None:
    """Publie PATH comme ressource du jeu de données --dataset et la charge en base (clé UAI ou
    code commune), en affichant les lignes chargées et rejetées."""
    started = time.monotonic()
    try:
        with request_context(), _progress_bar(os.path.basename(path), os.path.getsize(path)) as progress:
            outcome = publish.load(
                path, dataset=dataset, axe=axe, organization=organization, millesime=millesime,
                title=title, resource_name=resource_name, resource_format=resource_format,
                uai_column=uai_column, commune_column=commune_column, private=private, force=force,
                progress=progress, description=description)
    except publish.PublishError as exc:
        raise click.ClickException(str(exc)) from exc
    report = outcome.report
    click.echo(_("Jeu de données {name} : {action}").format(name=outcome.dataset, action=outcome.dataset_action))
    click.echo(_("Ressource « {name} » ({id}) : {action}").format(
        name=outcome.resource_name, id=outcome.resource_id, action=outcome.resource_action))
    click.echo(f"  {_report_line(report)}")
    if report is not None and report.key_column:
        click.echo("  " + _("clé {kind} : colonne « {column} », table {table}").format(
            kind=report.key_kind, column=report.key_column, table=report.table_name))
    _print_rejects(report)
    click.echo(_("Terminé en {seconds} s.").format(seconds=_seconds(started)))
    if report is not None and report.status == "error":
        sys.exit(1)


@click.command("load-sample", short_help="Charge les données réelles d'exemple (data/sample).")
@click.option("--dir", "folder", type=click.Path(exists=True, file_okay=False),
              help="Dossier du manifeste (par défaut : ckanext.ecarto.sample_data_dir ou data/sample).")
@click.option("--force", is_flag=True, help="Recharger même les fichiers inchangés.")
def load_sample(folder: Optional[str], force: bool) -> None:
    """Crée les organisations et jeux de données du manifeste, publie chaque fichier et le charge
    en base. Idempotent : un fichier inchangé n'est ni republié ni rechargé."""
    started = time.monotonic()
    try:
        with request_context():
            outcomes = publish.load_sample(Path(folder) if folder else None, force=force, echo=click.echo,
                                           progress_for=_progress_bar)
    except publish.PublishError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("")
    click.echo(_("Ressources :"))
    loaded = rejected = failed = 0
    for outcome in outcomes:
        click.echo("  " + _("{dataset} / {resource} : {action} — {outcome}").format(
            dataset=outcome.dataset, resource=outcome.resource_name, action=outcome.resource_action,
            outcome=_report_line(outcome.report)))
        if outcome.report is not None and outcome.report.status == "ok":
            loaded += outcome.report.n_rows
            rejected += outcome.report.n_rejected
        elif outcome.report is not None and outcome.report.status == "error":
            failed += 1
    if failed:
        total = _("Total : {n} ressources, {rows} lignes en base, {rejected} rejetées, {failed} en échec — "
                  "{seconds} s.")
    else:
        total = _("Total : {n} ressources, {rows} lignes en base, {rejected} rejetées — {seconds} s.")
    click.echo(total.format(n=len(outcomes), rows=_n(loaded), rejected=_n(rejected), failed=failed,
                            seconds=_seconds(started)))
    _refresh_territory_aggregates()
    if failed:
        sys.exit(1)


def _refresh_territory_aggregates() -> None:
    """Territory pages read precomputed aggregates: build them now rather than on the first visit."""
    started = time.monotonic()
    with request_context():
        aggregates.refresh()
    click.echo(_("Agrégats territoriaux à jour — {seconds} s.").format(seconds=_seconds(started)))


@click.command("ingest", short_help="(Re)charge en base une ressource existante.")
@click.argument("resource_id")
@click.option("--force", is_flag=True, help="Recharger même si le fichier est inchangé.")
def ingest_command(resource_id: str, force: bool) -> None:
    """Charge en base le fichier de la ressource RESOURCE_ID (déposé ou lien)."""
    with request_context():
        report = ingest.ingest_resource(resource_id, force=force)
    click.echo(_report_line(report))
    _print_rejects(report)
    if report.status == "error":
        sys.exit(1)


COMMANDS = (load, load_sample, ingest_command)
