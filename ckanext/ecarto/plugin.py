"""Interface wiring of ckanext-ecarto. Behaviour lives in the sub-packages."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.common import CKANConfig
from ckan.lib.plugins import DefaultTranslation

from ckanext.ecarto import search, views
from ckanext.ecarto.logic import etablissement as etablissement_logic


@tk.blanket.config_declarations
@tk.blanket.cli
@tk.blanket.helpers
class EcartoPlugin(DefaultTranslation, p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)
    p.implements(p.IBlueprint)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)

    # IConfigurer

    def update_config(self, config: CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "ecarto")
        # Runs before CKAN checks Solr and validates the config: the search
        # backend must be in place by then.
        search.configure(config)

    # ITranslation: DefaultTranslation reads ckanext/ecarto/i18n (domain ckanext-ecarto)

    # IBlueprint

    def get_blueprint(self) -> list[Any]:
        return views.get_blueprints()

    # IActions / IAuthFunctions

    def get_actions(self) -> dict[str, Any]:
        return etablissement_logic.get_actions()

    def get_auth_functions(self) -> dict[str, Any]:
        return etablissement_logic.get_auth_functions()
