"""Click commands of the portal's operations (registered on `ckan ecarto` in ``cli.py``):

- ``ckan ecarto taches worker``: CKAN's jobs worker, with the retries of ``jobs.Worker``;
- ``ckan ecarto taches``: the jobs waiting, scheduled for a retry, running and failed, with the
  reason of each failure (``--json`` for a machine);
- ``ckan ecarto veille``: one pass of the periodic check (``scripts/ecarto.sh serve`` runs it
  every ``ECARTO_WATCH_EVERY`` seconds): stale territory aggregates recomputed here, in the
  background, so that no visitor pays for it; a node that finds another one recomputing leaves
  it alone (advisory lock).
"""
from __future__ import annotations

import json
import time

import click

import ckan.plugins.toolkit as tk

from ckanext.ecarto import jobs
from ckanext.ecarto.ingest.commands import request_context
from ckanext.ecarto.territoires import aggregates

STATE_LABELS = {"en_attente": "en attente", "planifiee": "nouvelle tentative prévue", "en_cours": "en cours",
                "echec": "échec"}


@click.group("taches", invoke_without_command=True,
             short_help="Tâches de fond : en attente, à retenter, en cours, en échec (avec la raison).")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def taches(ctx: click.Context, as_json: bool) -> None:
    """Liste les tâches de fond de toutes les files : en attente, nouvelle tentative prévue (avec
    les tentatives restantes), en cours, en échec définitif (avec la raison de l'échec)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = jobs.overview()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo(tk._("Aucune tâche de fond en attente, en cours ou en échec."))
        return
    for row in rows:
        when = row.quand.strftime("%Y-%m-%d %H:%M:%S") if row.quand else "-"
        left = "" if row.tentatives_restantes is None else \
            " " + tk._("({n} tentatives restantes)").format(n=row.tentatives_restantes)
        click.echo(f"{tk._(STATE_LABELS[row.etat]):<26} {when}  [{row.queue}] {row.titre}{left}  {row.id}")
        if row.raison:
            click.echo("    " + tk._("raison : {raison}").format(raison=row.raison))


@taches.command("worker", short_help="Exécute les tâches de fond, avec nouvelles tentatives en cas d'échec.")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="S'arrêter quand les files sont vides.")
def taches_worker(queues: tuple[str, ...], burst: bool) -> None:
    """Le worker de CKAN (`ckan jobs worker`) : une tâche de l'extension qui échoue (erreur, ou
    processus tué) est relancée `ckanext.ecarto.jobs.retry_max` fois, après
    `ckanext.ecarto.jobs.retry_intervals` secondes ; ensuite elle reste en échec, avec sa raison
    (`ckan ecarto taches`)."""
    jobs.work(list(queues) or None, burst=burst)


@click.command("veille", short_help="Vérification périodique : recalcule en arrière-plan les agrégats périmés.")
def veille() -> None:
    """Un passage de la vérification périodique (lancée toutes les ECARTO_WATCH_EVERY secondes par
    `scripts/ecarto.sh serve`) : si les données publiques ont changé depuis le dernier calcul des
    agrégats territoriaux, les recalcule ici plutôt qu'à la prochaine visite ; un autre nœud déjà
    en train de les recalculer est laissé faire."""
    started = time.monotonic()
    with request_context():
        fresh = aggregates.is_up_to_date()
        if fresh:
            click.echo(tk._("Agrégats territoriaux à jour."))
            return
        done = aggregates.refresh(wait=False)
    if done:
        click.echo(tk._("Agrégats territoriaux recalculés en {s:.1f} s.").format(s=time.monotonic() - started))
    else:
        click.echo(tk._("Agrégats territoriaux déjà en cours de recalcul ailleurs."))


COMMANDS = [taches, veille]
