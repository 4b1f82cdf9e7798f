"""Example configurations shown beside the configuration field of the harvest source form, one
per harvester type (the keys each harvester reads: harvesters/ods.py, harvesters/udata.py,
ckanext-harvest's CKAN harvester). tests/harvesters/test_dashboard.py checks that every example
is accepted by its harvester."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk


@dataclass(frozen=True)
class ConfigExample:
    source_type: str
    title: str
    explanation: str
    config: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.config, ensure_ascii=False, indent=2)


def config_examples() -> list[ConfigExample]:
    return [
        ConfigExample(
            "ecarto_ods", tk._("Portail Opendatasoft (data.education.gouv.fr, data.arcep.fr)"),
            tk._("Chaque règle de « datasets » choisit des jeux par « id », « keyword », « publisher » ou "
                 "« theme » et leur donne un « axe » ; options : « millesime », « uai_column » / "
                 "« commune_column », « source », « where » (filtre ODSQL de l'export)."),
            {"datasets": [
                {"id": "fr-en-annuaire-education", "axe": "etablissements"},
                {"keyword": "IPS", "axe": "etablissements", "millesime": "2023"},
                {"keyword": "ETIC", "axe": "equipement", "source": "etic"}]}),
        ConfigExample(
            "ecarto_udata", tk._("data.gouv.fr (API udata)"),
            tk._("Jeux choisis par « organizations », « tags », « q » ou « datasets » (identifiants) ; « axe » "
                 "par défaut et « rules » par « id », « organization », « tag » ou mots du « title » ; "
                 "« resource_formats » (défaut : csv)."),
            {"organizations": ["arcep"], "tags": ["education"], "axe": "connectivite",
             "rules": [{"tag": "education", "axe": "etablissements"},
                       {"organization": "arcep", "axe": "connectivite", "source": "arcep"}]}),
        ConfigExample(
            "ckan", tk._("Autre portail CKAN"),
            tk._("Options du moissonneur CKAN de ckanext-harvest : organisations ou groupes à inclure, "
                 "étiquettes ajoutées, comportement des organisations distantes."),
            {"organizations_filter_include": ["ministere-education"], "default_tags": [{"name": "moissonne"}],
             "remote_orgs": "only_local", "remote_groups": "only_local"}),
    ]

