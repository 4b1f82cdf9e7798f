"""`ckan ecarto qualite …`: the availability check of remote resources, for every dataset or
some, printing what was checked and found."""
from __future__ import annotations

from typing import Optional

import click
import ckan.plugins.toolkit as tk

from ckanext.ecarto.quality import FIELD, availability


@click.group(name="qualite", short_help="Qualité des métadonnées des jeux de données.")
def qualite() -> None:
    """Qualité des métadonnées (critères de data.gouv.fr et du portail)."""


@qualite.command(name="verifier")
@click.option("--dataset", "datasets", multiple=True, help="Nom ou identifiant d'un jeu (répétable) ; défaut : tous.")
@click.option("--delai", type=float, default=None, help="Délai d'attente par requête, en secondes.")
def verifier(datasets: tuple[str, ...], delai: Optional[float]) -> None:
    """Vérifie la disponibilité des ressources distantes (HEAD puis GET) et met à jour le score."""
    ids = list(datasets) or availability.dataset_ids()
    checked = unavailable = 0
    for ident in ids:
        try:
            recorded = availability.check_package(ident, checker=lambda url: availability.check_url(url, delai))
        except tk.ObjectNotFound:
            click.echo(f"{ident} : jeu de données introuvable", err=True)
            continue
        for item in recorded:
            checked += 1
            unavailable += 0 if item["available"] else 1
            state = "disponible" if item["available"] else "INDISPONIBLE"
            status = item["http_status"] if item["http_status"] is not None else "-"
            detail = f" ({item['detail']})" if item.get("detail") else ""
            click.echo(f"  {state} — HTTP {status} — {item['name']} <{item['url']}>{detail}")
        score = quality_of_id(ident)
        click.echo(f"{ident} : {len(recorded)} ressource(s) distante(s) vérifiée(s), qualité {score} %")
    click.echo(f"Total : {len(ids)} jeu(x), {checked} ressource(s) vérifiée(s), {unavailable} indisponible(s).")


def quality_of_id(ident: str) -> int:
    """The dataset's score in percent, as package_show gives it after the checks."""
    pkg = tk.get_action("package_show")({"ignore_auth": True}, {"id": ident})
    return int((pkg.get(FIELD) or {}).get("score_pourcentage") or 0)


COMMANDS = [qualite]
