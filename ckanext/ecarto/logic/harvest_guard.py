"""Guards around ckanext-harvest's actions (chained actions, registered by plugin.py).

- **Source URLs.** A harvest source makes the server fetch its URL: the URL goes through the
  outbound-fetch guard (``ckanext/ecarto/remote.py``) when the source is saved — through
  ``package_create`` / ``package_update`` of a dataset of type ``harvest``, which is what
  ``harvest_source_create`` / ``_update`` / ``_patch`` and the web form ``/harvest/new`` all
  call — with a French message on the form's URL field. Every fetch checks it again.
- **Parameters.** ckanext-harvest reads some parameters without checking them (a missing id, a
  list where a string is expected, a NUL byte, ``harvest_log_list``'s ``level``…) and answers
  500. Here they are checked first (409, ValidationError with a French message), then the
  user's right (403), before ckanext-harvest's action runs. Helpers it exposes as actions by
  mistake (``send_mail``…) answer 404.
- **A description for every harvested dataset.** ckanext-harvest's own harvesters (type
  ``ckan``) save a dataset without description as the remote one is: it gets a factual one naming
  the source and the identifier (the portal's harvesters write theirs, ``harvesters/mapping.py``).
- **Purge cleans** (``logic/purge.py``). ``harvest_source_clear`` deletes its datasets by SQL and
  ``dataset_purge`` calls no resource hook: both are chained so that the ingested tables, directory
  rows and aggregates of the removed resources go too.
"""
from __future__ import annotations

import importlib
from urllib.parse import urlparse

from typing import Any, Callable, Optional

import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.harvest.model import HarvestObject

from ckanext.ecarto import remote
from ckanext.ecarto.logic import purge
from ckanext.ecarto.logic.auth import HARVEST_TYPE

Action = Callable[[Context, DataDict], Any]

MAX_TEXT = 500
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
MAX_LOG_ROWS = 1000

# action → (required parameter or None, other string parameters)
_TEXT_PARAMS: dict[str, tuple[Optional[str], tuple[str, ...]]] = {
    "harvest_source_show": (None, ("id", "url")),
    "harvest_source_show_status": ("id", ()),
    "harvest_source_update": ("id", ()),
    "harvest_source_patch": ("id", ()),
    "harvest_source_delete": ("id", ()),
    "harvest_source_clear": ("id", ()),
    "harvest_source_reindex": ("id", ()),
    "harvest_source_job_history_clear": ("id", ()),
    "harvest_source_index_clear": ("id", ()),
    "harvest_job_create": ("source_id", ()),
    "harvest_job_show": ("id", ()),
    "harvest_job_report": ("id", ()),
    "harvest_job_list": (None, ("source_id", "status")),
    "harvest_job_abort": (None, ("source_id", "id")),
    "harvest_jobs_run": (None, ("source_id",)),
    "harvest_send_job_to_gather_queue": ("id", ()),
    "harvest_object_show": (None, ("id", "guid", "source_id")),
    "harvest_object_list": (None, ("source_id",)),
    "harvest_objects_import": (None, ("source_id", "harvest_object_id", "package_id", "guid")),
    # no auth check at all upstream: anyone could call it (its aborts are checked one by one)
    "harvest_abort_failed_jobs": (None, ("include", "exclude")),
    "harvest_get_notifications_recipients": ("source_id", ()),
}
_ONE_OF = {"harvest_job_abort": ("source_id", "id")}
_INT_PARAMS = {"harvest_abort_failed_jobs": ("life_span",)}
_DEFAULTS = {"harvest_abort_failed_jobs": {"life_span": 7}}   # upstream: int(None) → 500
# what runs around ckanext-harvest's action once its parameters are checked
_AROUND: dict[str, Callable[[Action, Context, DataDict], Any]] = {
    "harvest_source_clear": purge.around_source_clear,
}


def _invalid(field: str, message: str) -> tk.ValidationError:
    return tk.ValidationError({field: [message]})


def _check_text(data_dict: DataDict, field: str, *, required: bool) -> None:
    value = data_dict.get(field)
    if value in (None, ""):
        if required:
            raise _invalid(field, tk._("Paramètre obligatoire : « {field} » (identifiant ou nom).").format(field=field))
        return
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_TEXT:
        raise _invalid(field, tk._("Paramètre invalide : « {field} » doit être un texte (identifiant ou nom).").format(
            field=field))


def _int(data_dict: DataDict, field: str, *, maximum: int) -> None:
    value = data_dict.get(field)
    if value in (None, ""):
        return
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())) \
            or not 0 <= int(value) <= maximum:
        raise _invalid(field, tk._("Paramètre invalide : « {field} » doit être un entier entre 0 et {max}.").format(
            field=field, max=maximum))


def _auth_first(name: str, context: Context, data_dict: DataDict) -> None:
    """The user's right is checked before the parameters: 403 comes before 409."""
    if not context.get("ignore_auth"):
        try:
            tk.check_access(name, context, data_dict)
        except tk.ObjectNotFound:
            pass   # the action answers 404 after its own checks
        except (KeyError, TypeError, AttributeError):
            pass   # ckanext-harvest's auth choking on a parameter: the checks below say which


def _upstream_action(name: str) -> Optional[Callable[..., Any]]:
    for module in ("get", "create", "update", "patch", "delete"):
        upstream = getattr(importlib.import_module(f"ckanext.harvest.logic.action.{module}"), name, None)
        if upstream is not None:
            return upstream
    return None


def _side_effect_free(name: str) -> bool:
    """Whether ckanext-harvest's action may be called with GET (kept by the chained action)."""
    return bool(getattr(_upstream_action(name), "side_effect_free", False))


def _guarded(name: str, required: Optional[str], optional: tuple[str, ...]) -> Action:
    def action(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        data_dict = data_dict if isinstance(data_dict, dict) else {}
        # the types first: without them the right cannot even be checked (ckanext-harvest's auth
        # functions read the identifiers)
        if required:
            _check_text(data_dict, required, required=True)
        for field in optional:
            _check_text(data_dict, field, required=False)
        for field in _INT_PARAMS.get(name, ()):
            _int(data_dict, field, maximum=100_000)
        one_of = _ONE_OF.get(name)
        if one_of and all(data_dict.get(field) in (None, "") for field in one_of):
            raise _invalid(one_of[0], tk._("Paramètre obligatoire : « {a} » ou « {b} ».").format(a=one_of[0],
                                                                                           b=one_of[1]))
        _auth_first(name, context, data_dict)
        defaults = {k: v for k, v in _DEFAULTS.get(name, {}).items() if data_dict.get(k) in (None, "")}
        data_dict = {**data_dict, **defaults} if defaults else data_dict
        around = _AROUND.get(name)
        if around is not None:
            return around(next_action, context, data_dict)
        return next_action(context, data_dict)
    action.__name__ = name
    action.__doc__ = f"ckanext-harvest's {name}, with its parameters checked first (409 instead of 500)."
    if _side_effect_free(name):
        action = tk.side_effect_free(action)
    action.auth_audit_exempt = True   # type: ignore[attr-defined] # as ckanext-harvest's own actions
    return tk.chained_action(action)


# Module-level helpers of ckanext-harvest's action modules that its plugin registers as API
# actions (same _get_logic_functions bug): anyone calling them got a 500.
_NOT_ACTIONS = ("InactiveSource", "get_mail_extra_vars", "prepare_error_mail", "prepare_summary_mail",
                "send_error_email", "send_mail", "send_summary_email")


def _not_an_action(name: str) -> Action:
    def action(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        raise tk.ObjectNotFound(tk._("Action inconnue : {name}.").format(name=name))
    action.__name__ = name
    action.auth_audit_exempt = True   # type: ignore[attr-defined]
    return tk.chained_action(action)


@tk.chained_action
@tk.side_effect_free
def harvest_log_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """ckanext-harvest's harvest_log_list (sysadmins), with ``limit``, ``per_page``, ``offset``
    and ``level`` checked first."""
    _auth_first("harvest_log_list", context, data_dict)
    for field in ("limit", "per_page"):
        _int(data_dict, field, maximum=MAX_LOG_ROWS)
    _int(data_dict, "offset", maximum=2 ** 31 - 1)
    level = data_dict.get("level")
    if level is not None and (not isinstance(level, str) or level.lower() not in LOG_LEVELS):
        raise _invalid("level", tk._("Paramètre invalide : « level » vaut l'un de {levels}.").format(
            levels=", ".join(LOG_LEVELS)))
    return next_action(context, data_dict)


harvest_log_list.auth_audit_exempt = True   # type: ignore[attr-defined]


@tk.chained_action
def dataset_purge(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's dataset_purge; then the ingested tables, directory rows and aggregates of the
    purged dataset's resources are removed (``logic/purge.py``)."""
    return purge.around_dataset_purge(next_action, context, data_dict)


# --------------------------------------------------------------------------- source URLs

def _is_harvest_source(data_dict: DataDict, *, new: bool) -> bool:
    if data_dict.get("type") == HARVEST_TYPE:
        return True
    if new:
        return False
    ident = data_dict.get("id") or data_dict.get("name")
    package = model.Package.get(ident) if isinstance(ident, str) and ident else None
    return package is not None and package.type == HARVEST_TYPE


def check_source_url(url: Any) -> None:
    """ValidationError on ``url`` unless the outbound-fetch guard accepts it (a name that does
    not resolve now is accepted: every harvest checks it again)."""
    if url in (None, ""):
        return    # not_empty of ckanext-harvest's schema says it
    if not isinstance(url, str):
        raise _invalid("url", tk._("Adresse invalide : elle doit commencer par http:// ou https://."))
    try:
        remote.check_url(url.strip(), unresolved_ok=True)
    except remote.RemoteError as exc:
        raise _invalid("url", str(exc)) from exc


def _saved_by_ckanext_harvest(context: Context) -> bool:
    """The context ckanext-harvest's own harvesters (type ``ckan``…) save datasets with
    (``HarvesterBase._create_or_update_package``): its schema, ``api_version``, ``ignore_auth``."""
    return bool(context.get("ignore_auth")) and "schema" in context and "api_version" in context


def harvested_description(data_dict: DataDict) -> str:
    """The description of a dataset harvested by ckanext-harvest's CKAN harvester whose producer
    gave none: factual, naming the source and the identifier (the portal requires one)."""
    ident = str(data_dict.get("id") or data_dict.get("name") or "?")
    found = (model.Session.query(HarvestObject).filter(HarvestObject.guid == ident)
             .order_by(HarvestObject.gathered.desc()).first())
    source = found.source.url if found is not None and found.source is not None else ""
    host = urlparse(source).netloc or source or tk._("un autre catalogue")
    return tk._("Jeu de données moissonné depuis {source} (identifiant à la source : {identifier}). Le producteur "
                "n'en a pas publié de description.").format(source=host, identifier=ident)


def _saving_source(name: str, new: bool, around: Optional[Callable[..., Any]]) -> Action:
    def action(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        if isinstance(data_dict, dict) and _is_harvest_source(data_dict, new=new):
            _auth_first(name, context, data_dict)
            check_source_url(data_dict.get("url"))
        elif (isinstance(data_dict, dict) and _saved_by_ckanext_harvest(context)
              and not str(data_dict.get("notes") or "").strip()):
            data_dict = {**data_dict, "notes": harvested_description(data_dict)}
        if around is not None:
            return around(next_action, context, data_dict)
        return next_action(context, data_dict)
    action.__name__ = name
    action.__doc__ = f"{name}; a harvest source's URL is checked by the outbound-fetch guard first."
    return tk.chained_action(action)


def get_actions(around: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Chained actions; ckanext-harvest's only when it is loaded (a chain needs its base).

    ``around``: the plugin's other chained ``package_create`` / ``package_update`` (one plugin
    registers one function per name): the source check runs first, then them."""
    around = around or {}
    actions: dict[str, Any] = {
        name: _saving_source(name, new=(name == "package_create"), around=around.get(name))
        for name in ("package_create", "package_update")}
    actions["dataset_purge"] = dataset_purge
    if plugins.plugin_loaded("harvest"):
        actions.update({name: _guarded(name, required, optional)
                        for name, (required, optional) in _TEXT_PARAMS.items()})
        actions["harvest_log_list"] = harvest_log_list
        actions.update({name: _not_an_action(name) for name in _NOT_ACTIONS if _upstream_action(name)})
    return actions
