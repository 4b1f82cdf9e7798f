"""Template helpers (`h.ecarto_*`): French number formatting; the column model of a resource
on its page (views/colonnes.py); the harvest dashboard and job pages (harvesters/dashboard.py)."""
from __future__ import annotations

from typing import Any, Optional

import ckan.plugins.toolkit as tk

from ckanext.ecarto import jobs as ecarto_jobs
from ckanext.ecarto.harvesters import dashboard as harvest_dashboard
from ckanext.ecarto.harvesters.examples import config_examples as ecarto_harvest_config_examples
from ckanext.ecarto.logic.accueil import home_page as ecarto_accueil
from ckanext.ecarto.logic.dates import render_datetime
from ckanext.ecarto.logic.identity import identity as ecarto_identity
from ckanext.ecarto.logic.pages import about_page as ecarto_about
from ckanext.ecarto.logic.pages import compliance_status as ecarto_accessibility_status
from ckanext.ecarto.logic.entity_names import humanize_entity_type
from ckanext.ecarto.logic.resource_fields import format_resource_items
from ckanext.ecarto.schemas.display import coverage as ecarto_dataset_coverage
from ckanext.ecarto.schemas.display import info_fields as ecarto_dataset_info_fields
from ckanext.ecarto.validation.report import role_options as ecarto_role_options
from ckanext.ecarto.views.colonnes import column_model as ecarto_column_model
from ckanext.ecarto.views.error_page import error_text as ecarto_error_text

__all__ = ["ecarto_accueil", "ecarto_column_model", "ecarto_format_number", "ecarto_format_percent",
           "ecarto_harvest_dashboard", "ecarto_harvest_job_run", "ecarto_harvest_config_examples",
           "ecarto_harvest_facet_label", "ecarto_harvest_frequencies", "ecarto_role_options"]
# the portal's name, logo, favicon and colours (logic/identity.py)
__all__ += ["ecarto_identity"]
# the dataset page (schemas/display.py)
__all__ += ["ecarto_dataset_coverage", "ecarto_dataset_info_fields"]
# « À propos » and the accessibility status of the footer (logic/pages.py)
__all__ += ["ecarto_about", "ecarto_accessibility_status"]
# the error pages in French (views/error_page.py)
__all__ += ["ecarto_error_text"]
# chained over CKAN's: the resource page's table, the harvest type's names in French
# (logic/resource_fields.py, logic/entity_names.py)
__all__ += ["format_resource_items", "humanize_entity_type"]
# chained over CKAN's: dates with their hour in French order (logic/dates.py)
__all__ += ["render_datetime"]
# background jobs waiting for a retry or failed for good, on the harvest dashboard (jobs.py)
__all__ += ["ecarto_background_jobs"]


def ecarto_background_jobs() -> list[ecarto_jobs.JobRow]:
    """Jobs scheduled for a retry or failed for good, with their reason, for sysadmins (the
    harvest dashboard); nothing for others, nor when Redis does not answer."""
    if not getattr(tk.current_user, "sysadmin", False):
        return []
    try:
        return [row for row in ecarto_jobs.overview() if row.etat in ("planifiee", "echec")]
    except Exception:  # noqa: BLE001 - the dashboard shows without them
        return []


def ecarto_harvest_dashboard(items: Any) -> list[harvest_dashboard.SourceRow]:
    """Dashboard rows (last run, status, figures, errors, next run) of the sources of /harvest."""
    return harvest_dashboard.dashboard_rows(harvest_dashboard.source_ids_of(items))


def ecarto_harvest_facet_label(item: dict[str, Any]) -> str:
    """French label of a harvest frequency facet item (`DAILY` → « quotidienne »)."""
    return harvest_dashboard.frequency_label(item.get("name"))


def ecarto_harvest_frequencies() -> list[dict[str, str]]:
    """The options of the source form's frequency field, in French."""
    return [{"value": code, "text": harvest_dashboard.frequency_label(code)} for code in harvest_dashboard.FREQUENCIES]


def ecarto_harvest_job_run(job_id: Any) -> Optional[harvest_dashboard.RunView]:
    """A harvest job as the dashboard shows it (French status, figures, first errors)."""
    return harvest_dashboard.job_run_view(job_id) if isinstance(job_id, str) else None


def ecarto_format_number(value: Any, decimals: Optional[int] = None) -> str:
    """`12345.678` -> `12 345,68` (French: narrow no-break space for thousands, comma for decimals)."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if decimals is None:
        decimals = 0 if number == int(number) else 2
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def ecarto_format_percent(share: Any) -> str:
    """`0.1234` -> `12 %`."""
    if share is None:
        return ""
    return f"{round(float(share) * 100)}\u00a0%"
