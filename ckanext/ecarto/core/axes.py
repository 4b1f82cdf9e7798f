"""The five axes of the eCarto observatory and the update frequencies: defined here only.

Every other module (dataset schema and validators, harvesters, ingestion CLI, validation
report, establishment and territory pages, DCAT export) reads them from here. Adding an axis
starts here, then `schemas/axes/<axe>.yaml` (its dataset fields) and, when it has indicators,
`schemas/tableschema/<axe>.json`; regenerate the dataset schema with
`python -m ckanext.ecarto.schemas.compose`.
"""
from __future__ import annotations


def N_(msgid: str) -> str:
    """Marks a msgid for Babel's extraction (core/ imports nothing of the project, not even
    core/translation.py): the label is translated where it is shown."""
    return msgid


ETABLISSEMENTS = "etablissements"

# Axis ids in the portal's order (dataset form, validation, pages).
AXIS_IDS: tuple[str, ...] = ("etablissements", "connectivite", "equipement", "services_ressources",
                             "experimentations")

# French labels (msgids of the i18n catalogue).
AXIS_LABELS: dict[str, str] = {
    "etablissements": N_("Annuaire et référentiels des établissements"),
    "connectivite": N_("Connectivité"),
    "equipement": N_("Équipement"),
    "services_ressources": N_("Services et ressources"),
    "experimentations": N_("Expérimentations"),
}

# Two lines per indicator axis (home page), from the 2018 report (« quatre composantes essentielles
# du numérique éducatif ») and the data dictionary: what it measures, where its data comes from.
AXIS_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "connectivite": (
        N_("L’accès à internet des écoles, collèges et lycées : type de raccordement, débit, wifi, "
           "éligibilité au très haut débit et couverture mobile."),
        N_("Sources : enquête ETIC du ministère, observatoires de l’Arcep (fibre, débits par commune)."),
    ),
    "equipement": (
        N_("Les terminaux à disposition des élèves : ordinateurs, tablettes, tableaux numériques "
           "interactifs, imprimantes 3D, et leur maintenance."),
        N_("Indicateur phare : le nombre d’élèves par terminal (enquête ETIC, données déclaratives)."),
    ),
    "services_ressources": (
        N_("Les services et ressources numériques utilisés : espace numérique de travail (ENT), "
           "manuels numériques, banques de ressources, logiciels."),
        N_("Sources : enquête ETIC et ressources publiées par le ministère et les collectivités."),
    ),
    "experimentations": (
        N_("Les établissements engagés dans des programmes d’innovation : collèges labs, projets "
           "e-FRAN, ProFan."),
        N_("Sources : listes publiées par le ministère et les opérateurs du Programme "
           "d’investissements d’avenir."),
    ),
}

# The axes that carry indicators (every axis but the directory of establishments).
INDICATOR_AXES: tuple[str, ...] = tuple(axe for axe in AXIS_IDS if axe != ETABLISSEMENTS)

# Update frequencies: the EU vocabulary (DCAT-AP), codes and French labels.
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCIES: dict[str, str] = {
    "CONT": "En continu", "DAILY": "Quotidienne", "WEEKLY": "Hebdomadaire",
    "MONTHLY": "Mensuelle", "QUARTERLY": "Trimestrielle", "ANNUAL": "Annuelle",
    "BIENNIAL": "Tous les deux ans", "TRIENNIAL": "Tous les trois ans", "IRREG": "Irrégulière",
    "NEVER": "Jamais mise à jour", "UNKNOWN": "Inconnue",
}
# Order of the frequencies in the dataset form.
FREQUENCY_ORDER: tuple[str, ...] = ("ANNUAL", "QUARTERLY", "MONTHLY", "WEEKLY", "DAILY", "CONT",
                                    "BIENNIAL", "TRIENNIAL", "IRREG", "NEVER", "UNKNOWN")
