"""Interface wiring of ckanext-ecarto. Behaviour lives in the sub-packages."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.common import CKANConfig
from ckan.lib import i18n
from ckan.lib.plugins import DefaultTranslation

from ckanext.ecarto import csp, pagecache, search, views
from ckanext.ecarto import csrf as ecarto_csrf
from ckanext.ecarto import quality, replicas, schemas
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.harvesters import notify as harvest_notify
from ckanext.ecarto.ingest import events as ingest_events
from ckanext.ecarto.ingest import hooks as ingest_hooks
from ckanext.ecarto.logic import action as ingest_action
from ckanext.ecarto.logic import auth as ingest_auth
from ckanext.ecarto.logic import catalogue as catalogue_logic
from ckanext.ecarto.logic import etablissement as etablissement_logic
from ckanext.ecarto.logic import harvest_guard
from ckanext.ecarto.logic import publication as publication_logic
from ckanext.ecarto.logic import search as search_action
from ckanext.ecarto.logic import tableau as tableau_logic
from ckanext.ecarto.logic import tags as tags_logic
from ckanext.ecarto.logic import territoire as territoire_logic
from ckanext.ecarto.logic import validators as ecarto_validators
from ckanext.ecarto.operations import outage
from ckanext.ecarto.schemas import actions as schema_actions
from ckanext.ecarto.schemas import facets as schema_facets
from ckanext.ecarto.territoires import aggregates
from ckanext.ecarto.views import carte_uai, request_guard, tableau


@tk.blanket.config_declarations
@tk.blanket.cli
@tk.blanket.helpers
class EcartoPlugin(DefaultTranslation, p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)
    p.implements(p.IBlueprint)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IResourceController, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IValidators)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.ISignal)

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
        # csp.blueprint: the Content-Security-Policy header of every HTML page (after_app_request)
        # request_guard.blueprint: NUL/control characters and deep JSON refused in French (before_app_request)
        # pagecache.blueprint: what the anonymous page cache needs to know of the rendering (pagecache.py)
        # replicas.blueprint: which web requests may read from a hot standby (replicas.py)
        return views.get_blueprints() + [csp.blueprint, request_guard.blueprint, pagecache.blueprint,
                                         replicas.blueprint]

    # IActions / IAuthFunctions

    def get_actions(self) -> dict[str, Any]:
        guards = harvest_guard.get_actions(around=schema_actions.get_actions())
        return {**etablissement_logic.get_actions(), **ingest_action.get_actions(),
                **schema_actions.get_actions(), **publication_logic.get_actions(),
                **territoire_logic.get_actions(), **tags_logic.get_actions(),
                # harvest_jobs_run: the parameter guard, then the failure e-mails (harvesters/notify.py)
                **guards, **harvest_notify.get_actions(guards),
                **search_action.get_actions(), **catalogue_logic.get_actions()}

    def get_auth_functions(self) -> dict[str, Any]:
        return {**etablissement_logic.get_auth_functions(), **ingest_auth.get_auth_functions(),
                **publication_logic.get_auth_functions(), **territoire_logic.get_auth_functions(),
                **ingest_auth.get_harvest_auth_functions()}

    # ISignal: what follows an ingestion (ingest/events.py announces, it imports no subscriber)

    def get_signal_subscriptions(self) -> dict[Any, list[Any]]:
        return {
            # in the load's / removal's transaction: the establishment directory
            ingest_events.resource_loaded: [directory.on_resource_loaded],
            ingest_events.resource_removed: [directory.on_resource_removed],
            # after the commit: the territory aggregates
            ingest_events.ingest_committed: [aggregates.on_ingest_committed, quality.on_ingest_committed,
                                             pagecache.on_ingest_committed],
            # any write action: the anonymous pages cached so far are stale (pagecache.py)
            tk.signals.action_succeeded: [pagecache.on_action_succeeded],
        }

    # IMiddleware: CKAN's CSRF exemption of API-token requests must not outlive them (csrf.py)

    def make_middleware(self, app: Any, config: CKANConfig) -> Any:
        ecarto_csrf.install()
        # /api/i18n/<lang> (the JavaScript strings): only `ckan run` builds them, not gunicorn;
        # skipped when up to date (`scripts/ecarto.sh serve` builds them before its processes)
        i18n.build_js_translations()
        # PostgreSQL (or Redis, for a job to queue) unreachable: 503 + Retry-After, one log line
        outage.install(app)
        # the anonymous page cache, around CKAN's language middleware (pagecache.py)
        return pagecache.install(app)

    # IResourceController: ingestion of UAI/commune-keyed tables (ckanext/ecarto/ingest)

    def after_resource_create(self, context: Any, resource: dict[str, Any]) -> None:
        publication_logic.on_resource_changed(context, resource)

    def after_resource_update(self, context: Any, resource: dict[str, Any]) -> None:
        publication_logic.on_resource_changed(context, resource)

    def before_resource_delete(self, context: Any, resource: dict[str, Any],
                               resources: list[dict[str, Any]]) -> None:
        ingest_hooks.on_resource_deleted(context, resource)

    # IPackageController: `ext_bbox` on the PostgreSQL search backend

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return search.before_dataset_search(search_params)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        # temporal/frequency/spatial also as extras: data.gouv.fr's CKAN harvester reads only those
        # + the metadata quality score (ckanext/ecarto/quality)
        return quality.after_dataset_show(context, schemas.after_dataset_show(context, pkg_dict))

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return schema_facets.before_dataset_index(quality.before_dataset_index(pkg_dict))

    # a dataset or its resources changed (resource actions update the dataset): availability
    # of its remote resources checked in a background job (ckanext/ecarto/quality/availability.py)

    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        quality.on_dataset_changed(context, pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        quality.on_dataset_changed(context, pkg_dict)

    def after_dataset_search(self, search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
        return schema_facets.label_facet_values(quality.after_dataset_search(search_results))

    # IFacets: the portal's own facets on the catalogue

    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        return quality.facets(schema_facets.dataset_facets(search.portal_facets(facets_dict)))

    # IValidators: the dataset schema's validators (ckanext/ecarto/logic/validators.py)

    def get_validators(self) -> dict[str, Any]:
        return ecarto_validators.get_validators()


class CarteUaiPlugin(p.SingletonPlugin):
    """Resource view `ecarto_carte_uai`: the establishments of a UAI-keyed resource on a map
    (ckanext/ecarto/views/carte_uai.py). Load it after `ecarto`, which provides its templates."""

    p.implements(p.IResourceView)
    p.implements(p.IBlueprint)

    def get_blueprint(self) -> list[Any]:
        return [carte_uai.carte_uai]

    def info(self) -> dict[str, Any]:
        return carte_uai.view_info()

    def can_view(self, data_dict: dict[str, Any]) -> bool:
        return carte_uai.can_view(data_dict)

    def setup_template_variables(self, context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
        return carte_uai.template_variables(data_dict)

    def view_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return "ecarto/carte_uai/view.html"

    def form_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return "ecarto/carte_uai/form.html"


class TableauPlugin(p.SingletonPlugin):
    """Resource view `ecarto_tableau`: the ingested table of a resource, paged on the server
    (ckanext/ecarto/views/tableau.py, logic/tableau.py), and the default views every loaded
    resource gets once its load is committed. Load it after `ecarto`, which provides its templates."""

    p.implements(p.IResourceView)
    p.implements(p.IBlueprint)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.ISignal)

    def get_blueprint(self) -> list[Any]:
        return [tableau.tableau]

    def get_actions(self) -> dict[str, Any]:
        return tableau_logic.get_actions()

    def get_auth_functions(self) -> dict[str, Any]:
        return tableau_logic.get_auth_functions()

    def get_signal_subscriptions(self) -> dict[Any, list[Any]]:
        return {ingest_events.ingest_committed: [tableau_logic.on_ingest_committed]}

    def info(self) -> dict[str, Any]:
        return tableau.view_info()

    def can_view(self, data_dict: dict[str, Any]) -> bool:
        return tableau.can_view(data_dict)

    def setup_template_variables(self, context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
        return tableau.template_variables(data_dict)

    def view_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return "ecarto/tableau/view.html"

    def form_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return "ecarto/tableau/form.html"
