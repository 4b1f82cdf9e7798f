"""E-mail to the organization's admins when a harvest run fails or archives datasets.

ckanext-harvest marks a job "Finished" in ``harvest_jobs_run`` (called every minute by
``ckan harvester run``, and at the end of ``ckan ecarto harvest``). That action is chained here:
the jobs running before it and finished after it are the runs that just ended; each one that
failed (``echec``, dashboard.py) or archived datasets sends one French e-mail through CKAN's
mailer (``smtp.*`` options) to the admins of the source's organization (sysadmins for a source
without one). A mail that cannot be sent is logged and never stops the harvest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional

import ckan.lib.mailer as mailer
import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestSource

from ckanext.ecarto.harvesters import dashboard

log = logging.getLogger(__name__)

Action = Callable[..., Any]
MAX_ARCHIVED_LISTED = 20


@dataclass
class Recipient:
    name: str
    email: str


def running_job_ids(source_id: Optional[str]) -> list[str]:
    query = model.Session.query(HarvestJob.id).filter(HarvestJob.status == "Running")
    if source_id:
        query = query.filter(HarvestJob.source_id == source_id)
    return [row[0] for row in query.all()]


def recipients(source: HarvestSource) -> list[Recipient]:
    """Admins of the source's organization with an e-mail address; sysadmins without one."""
    package = model.Package.get(source.id)
    owner_org = package.owner_org if package is not None else None
    if owner_org:
        users = (model.Session.query(model.User).join(model.Member, model.Member.table_id == model.User.id)
                 .filter(model.Member.group_id == owner_org, model.Member.table_name == "user",
                         model.Member.capacity == "admin", model.Member.state == "active"))
    else:
        users = model.Session.query(model.User).filter(model.User.sysadmin.is_(True))
    return [Recipient(user.fullname or user.name, user.email)
            for user in users.filter(model.User.state == "active").all() if user.email]


def archived_titles(job_id: str) -> list[str]:
    titles = []
    for obj in (model.Session.query(HarvestObject).filter(HarvestObject.harvest_job_id == job_id)
                .filter(HarvestObject.report_status == "deleted").limit(MAX_ARCHIVED_LISTED)):
        package = model.Package.get(obj.package_id) if obj.package_id else None
        titles.append(package.title or package.name if package is not None else obj.guid)
    return titles


def job_url(source_name: str, job_id: str) -> str:
    site = (tk.config.get("ckan.site_url") or "").rstrip("/")
    return f"{site}/harvest/{source_name}/job/{job_id}"


def message_for(source: HarvestSource, run: dashboard.RunView) -> Optional[tuple[str, str]]:
    """(subject, body) of the e-mail about a run that just ended, or None when nothing is worth one."""
    failed = run.status == dashboard.FAILED
    if not failed and not run.archived_count:
        return None
    package = model.Package.get(source.id)
    name = package.name if package is not None else source.id
    title = source.title or name
    lines = [tk._("Bonjour,"), ""]
    if failed:
        subject = tk._("[eCarto] Échec du moissonnage « {source} »").format(source=title)
        lines.append(tk._("Le moissonnage de la source « {source} » ({url}) a échoué.").format(
            source=title, url=source.url))
    else:
        subject = tk._("[eCarto] Moissonnage « {source} » : {n} jeu(x) archivé(s)").format(
            source=title, n=run.archived_count)
        lines.append(tk._("Le moissonnage de la source « {source} » ({url}) a archivé {n} jeu(x) de données "
                          "disparu(s) de la source : ils ne sont plus publics sur le portail.").format(
            source=title, url=source.url, n=run.archived_count))
    lines += ["", tk._("Statut : {status}. Jeux créés : {created}, mis à jour : {updated}, archivés : "
                       "{archived}, erreurs : {errors}.").format(
        status=run.label, created=run.created_count, updated=run.updated_count, archived=run.archived_count,
        errors=run.error_count)]
    if run.errors:
        lines += ["", tk._("Premières erreurs :")] + [f"- {message}" for message in run.errors]
    if run.archived_count:
        lines += ["", tk._("Jeux archivés :")] + [f"- {t}" for t in archived_titles(run.job_id)]
    lines += ["", tk._("Rapport complet : {url}").format(url=job_url(name, run.job_id)), "",
              tk._("Ce message est envoyé automatiquement aux administrateurs de l'organisation de la source.")]
    return subject, "\n".join(lines)


def notify_job(job_id: str) -> int:
    """Send the e-mails about the run `job_id` if it failed or archived datasets; number sent."""
    job = HarvestJob.get(job_id)
    if job is None:
        return 0
    # harvest_jobs_run may leave `finished` as the text of the dictized job in the session
    model.Session.refresh(job)
    if job.status != "Finished":
        return 0
    run = dashboard.run_view(job)
    message = message_for(job.source, run)
    if message is None:
        return 0
    subject, body = message
    sent = 0
    for recipient in recipients(job.source):
        try:
            mailer.mail_recipient(recipient.name, recipient.email, subject, body)
            sent += 1
        except mailer.MailerException:
            log.exception("Courriel de moissonnage non envoyé à %s", recipient.email)
    return sent


def notifying_jobs_run(inner: Optional[Action]) -> Action:
    """Chained ``harvest_jobs_run``: `inner` (another chained function, e.g. the parameter guard
    of logic/harvest_guard.py) runs first, then the mails about the jobs it finished."""
    def harvest_jobs_run(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        source_id = data_dict.get("source_id") if isinstance(data_dict, dict) else None
        # the guard checks the parameters after this query: only a plain identifier narrows it
        plain = isinstance(source_id, str) and source_id.isprintable() and len(source_id) <= 100
        before = running_job_ids(source_id if plain else None)
        result = inner(next_action, context, data_dict) if inner is not None else next_action(context, data_dict)
        for job_id in before:
            try:
                notify_job(job_id)
            except Exception:  # noqa: BLE001 - a mail never breaks the scheduler
                log.exception("Notification du moissonnage %s", job_id)
        return result
    harvest_jobs_run.__doc__ = "ckanext-harvest's harvest_jobs_run, then e-mails about the runs it finished."
    harvest_jobs_run.auth_audit_exempt = True   # type: ignore[attr-defined]
    return tk.chained_action(harvest_jobs_run)


def get_actions(chained: dict[str, Any]) -> dict[str, Any]:
    """The chained ``harvest_jobs_run``, wrapping the plugin's other chained function of that
    name (`chained`: the plugin's chained actions so far; one plugin registers one per name)."""
    if not plugins.plugin_loaded("harvest"):
        return {}
    return {"harvest_jobs_run": notifying_jobs_run(chained.get("harvest_jobs_run"))}
