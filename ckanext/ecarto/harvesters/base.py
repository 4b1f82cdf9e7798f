"""What the portal's harvesters share (ckanext-harvest gather / fetch / import).

A subclass says how to list the remote datasets (``list_remote``), which files of a dataset hold
data (``data_files``) and how a remote dataset becomes a dataset of the axis schemas
(``package_dict``). This base does the rest, identically for every source:

- **Idempotent.** The guid of a harvest object is the remote id; the CKAN dataset id and its
  resource ids are derived from (harvester, source URL, remote id) with UUID v5, so a re-run,
  or a source deleted and created again, updates the same dataset instead of creating another.
- **Incremental.** Each successful import stores a fingerprint of **what the portal shows** of the
  dataset (the dict ``package_dict`` builds), of its data files (URL, checksum, last modification,
  size) and of the selection rule on the harvest object that becomes *current*; the next gather
  imports only the datasets whose fingerprint changed — visit counters, the source's link checker
  extras (``check:date``…) never do. Data files are downloaded again only when their own
  fingerprint changed (or their table is not in place), through one call per file; a file found
  without UAI nor commune column is remembered as such and not downloaded again unless it changes.
- **Fidelity.** What the source does not say is not invented: no licence → "non spécifiée", no
  description → a factual one naming the source and the identifier; archived at the source →
  archived here (private, the reason at the top of the description).
- **Warnings.** What is imported with a remark (territory not recognised, unknown licence, file
  without UAI nor commune column, archived at the source) is kept on the harvest object
  (``EXTRA_WARNINGS``), read by ``job_warnings`` for the dashboard and the CLI.
- **Disappearance.** A dataset missing from a *complete* listing is marked missing (date kept on
  its current harvest object); once the grace period (``grace_days``, default 7) has passed it is
  **archived**: made private (it leaves the catalogue, the pages and the aggregates, its tables
  stay so that it can come back at once) — or deleted when the source has no organization (a
  dataset without organization cannot be private). Reappearing at the source cancels both. An
  incomplete listing, or a source listing no dataset at all, never marks anything missing.
- **Errors.** Every failure is kept: catalogue problems as ``HarvestGatherError``, each
  dataset's problems as ``HarvestObjectError``, in French, naming the dataset, the URL, what
  happened and what to do. A failed download or load leaves the data already harvested in place
  (the ingestion swaps tables atomically) and the dataset is tried again at the next run.
- **Never "running" forever.** Every HTTP call has a timeout and bounded retries; a job of the
  same source without activity for ``job_timeout`` minutes is closed with an error at the next
  run (see also ckanext-harvest's own ``ckan.harvest.timeout``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.munge import munge_name

from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.model import (HarvestGatherError, HarvestJob, HarvestObject, HarvestObjectError,
                                   HarvestObjectExtra)

from ckanext.ecarto import ingest
from ckanext.ecarto.core.axes import AXIS_IDS
from ckanext.ecarto.harvesters import clock
from ckanext.ecarto.harvesters.http import FetchError, HttpClient, HttpSettings

log = logging.getLogger(__name__)

HARVESTER_VERSION = "2"   # bump to re-import everything once after a mapping change

UNCHANGED, IMPORT, MISSING, ARCHIVE = "unchanged", "import", "missing", "archive"

EXTRA_ACTION = "ecarto_action"
EXTRA_FINGERPRINT = "ecarto_fingerprint"
EXTRA_DATA = "ecarto_data:"        # + file key: fingerprint of the data file loaded
EXTRA_FILE = "ecarto_file:"        # + file key: temporary path between fetch and import
EXTRA_MISSING = "ecarto_missing_since"
EXTRA_ARCHIVED = "ecarto_archived_at"
EXTRA_KEYLESS = "ecarto_keyless:"  # + file key: fingerprint of a file found without UAI nor commune column
EXTRA_WARNINGS = "ecarto_warnings"  # JSON list of French warnings of the object (see ``job_warnings``)

# Keys a subclass's ``package_dict`` may set beside the dataset's fields (popped before saving).
WARNINGS_KEY = "_ecarto_warnings"            # list of French warnings for the harvest report
ARCHIVED_KEY = "_ecarto_archived_at_source"  # the source archived the dataset (date)

COMMON_OPTIONS = {
    # key: (type, config option, default)
    "timeout": (float, "ckanext.ecarto.harvest.timeout", 30.0),
    "retries": (int, "ckanext.ecarto.harvest.retries", 3),
    "backoff": (float, "ckanext.ecarto.harvest.backoff", 2.0),
    "grace_days": (float, "ckanext.ecarto.harvest.grace_days", 7),
    "max_download_mb": (float, "ckanext.ecarto.harvest.max_download_mb", 500),
}


class RecordError(Exception):
    """A remote dataset that cannot be imported as it is (French message)."""


@dataclass
class Remote:
    guid: str                  # remote id (harvest object guid)
    title: str
    url: str                   # where a person can look at it (for messages)
    record: dict[str, Any]     # remote metadata as published
    rule: dict[str, Any] = field(default_factory=dict)   # selection rule of the source config


@dataclass
class DataFile:
    key: str                   # stable within the dataset: the resource id derives from it
    url: str
    fingerprint: str
    name: str = ""
    suffix: str = ".csv"
    published: bool = False    # the URL as the producer publishes it (not one built by the harvester)


@dataclass
class Listing:
    remotes: list[Remote] = field(default_factory=list)
    complete: bool = True
    errors: list[str] = field(default_factory=list)
    scanned: int = 0           # remote datasets seen, before the source's selection


def unknown_keys_message(n: int, key: str, unknown: set[str], possible: set[str]) -> str:
    """A selection rule of the source config with keys the harvester does not know."""
    return tk._("Règle {n} de « {key} » : clé(s) inconnue(s) {unknown} (clés possibles : {possible}).").format(
        n=n, key=key, unknown=", ".join(sorted(unknown)), possible=", ".join(sorted(possible)))


def add_warning(pkg: dict[str, Any], message: str) -> None:
    """A warning of the harvest report about this dataset (it is imported all the same)."""
    pkg.setdefault(WARNINGS_KEY, []).append(message)


def unmatched_territory_warning(names: list[str], partly: bool) -> str:
    """The remote metadata names territories the portal does not know (« World »…)."""
    if partly:
        return tk._("territoire(s) de la source non reconnu(s) : {names} ; le jeu est rattaché aux seuls "
                    "territoires reconnus. Que faire : précisez « territoire_niveau » / « territoire_code » "
                    "dans la règle de ce jeu si ce n'est pas le bon territoire.").format(names=", ".join(names))
    return tk._("territoire(s) de la source non reconnu(s) : {names} ; le jeu est publié sans territoire. Que "
                "faire : précisez « territoire_niveau » / « territoire_code » dans la règle de ce jeu de la "
                "configuration de la source.").format(names=", ".join(names))


def unknown_license_warning(value: Any) -> str:
    """The source names a licence the portal does not know: published as "non spécifiée"."""
    return tk._("licence de la source non reconnue (« {licence} ») : le jeu est publié avec « Licence non "
                "spécifiée ». Que faire : vérifiez la licence auprès du producteur.").format(licence=value)


def mark_archived_at_source(pkg: dict[str, Any], date: str, url: str) -> None:
    """The producer archived the dataset: it is archived here too (private, with the reason at the
    top of its description, and a warning in the harvest report)."""
    moment = _parse(date[:10]) if date else None
    when = _fr_date(moment) if moment else (date or "?")
    reason = tk._("Jeu archivé par son producteur le {date} ({url}) : il n'est plus mis à jour à la source. "
                  "Il est retiré du catalogue public du portail (privé) ; ses données restent consultables par "
                  "les membres de l'organisation.").format(date=when, url=url)
    pkg[ARCHIVED_KEY] = date or "?"
    pkg["notes"] = f"**{reason}**\n\n{pkg.get('notes') or ''}".strip()
    add_warning(pkg, tk._("archivé à la source le {date} : archivé ici aussi (rendu privé).").format(date=when))


def object_warnings(obj: Optional[HarvestObject]) -> list[str]:
    """The warnings recorded on a harvest object (a dataset imported with remarks)."""
    try:
        found = json.loads(extras_of(obj).get(EXTRA_WARNINGS) or "[]")
    except ValueError:
        return []
    return [str(w) for w in found] if isinstance(found, list) else []


def job_warnings(job_id: str) -> list[tuple[str, str]]:
    """(guid, message) of every warning of a harvest job, for the dashboard and the CLI: what was
    imported with a remark (territory not recognised, file without UAI nor commune column,
    dataset archived at the source…). Errors stay ``HarvestObjectError``."""
    objects = (model.Session.query(HarvestObject).filter(HarvestObject.harvest_job_id == job_id)
               .order_by(HarvestObject.gathered).all())
    return [(obj.guid, message) for obj in objects for message in object_warnings(obj)]


def _add_object_warning(obj: HarvestObject, message: str) -> None:
    found = object_warnings(obj)
    if message not in found:
        found.append(message)
    set_extra(obj, EXTRA_WARNINGS, json.dumps(found, ensure_ascii=False))


# --------------------------------------------------------------------------- state helpers

def apply_rule(pkg: dict[str, Any], rule: dict[str, Any], axe: str,
               remote_territory: Callable[[], Optional[tuple[str, str]]]) -> None:
    """What a source rule sets on a harvested dataset, identically for every harvester: the
    territory (the rule's, else the one the remote metadata names) and the axis's source."""
    level, code = rule.get("territoire_niveau"), rule.get("territoire_code")
    if not level:
        found = remote_territory()
        if found:
            level, code = found
    if level:
        pkg["territoire_niveau"], pkg["territoire_code"] = level, code or ""
    if rule.get("source") and axe in ("connectivite", "equipement"):
        pkg[f"{axe}_source"] = rule["source"]


def extras_of(obj: Optional[HarvestObject]) -> dict[str, str]:
    if obj is None:
        return {}
    return {e.key: e.value for e in obj.extras}


def set_extra(obj: HarvestObject, key: str, value: Optional[str]) -> None:
    for extra in obj.extras:
        if extra.key == key:
            if value is None:
                obj.extras.remove(extra)
            else:
                extra.value = value
            return
    if value is not None:
        obj.extras.append(HarvestObjectExtra(key=key, value=value))


def current_objects(source_id: str) -> dict[str, HarvestObject]:
    objs = (model.Session.query(HarvestObject)
            .filter(HarvestObject.harvest_source_id == source_id)
            .filter(HarvestObject.current == True)  # noqa: E712
            .order_by(HarvestObject.import_finished.desc().nullslast()).all())
    found: dict[str, HarvestObject] = {}
    for obj in objs:
        found.setdefault(obj.guid, obj)
    return found


def current_object(source_id: str, guid: str) -> Optional[HarvestObject]:
    return (model.Session.query(HarvestObject)
            .filter(HarvestObject.harvest_source_id == source_id)
            .filter(HarvestObject.guid == guid)
            .filter(HarvestObject.current == True)  # noqa: E712
            .order_by(HarvestObject.import_finished.desc().nullslast()).first())


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _parse(value: Optional[str]) -> Optional[dt.datetime]:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _fr_date(moment: dt.datetime) -> str:
    return moment.strftime("%d/%m/%Y")


def close_stale_jobs(source_id: str, *, exclude: Optional[str] = None,
                     max_minutes: Optional[float] = None) -> list[str]:
    """Close the "Running" jobs of a source without activity for `max_minutes`
    (``ckanext.ecarto.harvest.job_timeout``): a crashed worker or a killed command must not
    block the source for ever. Their unfinished objects are marked in error."""
    if max_minutes is None:
        max_minutes = float(tk.config.get("ckanext.ecarto.harvest.job_timeout") or 240)
    now = clock.now()
    closed: list[str] = []
    jobs = (model.Session.query(HarvestJob).filter(HarvestJob.source_id == source_id)
            .filter(HarvestJob.status == "Running").all())
    for job in jobs:
        if job.id == exclude:
            continue
        last = job.get_last_action_time() or job.created
        if now - last <= dt.timedelta(minutes=max_minutes):
            continue
        message = tk._(
            "Moissonnage interrompu : aucune activité depuis le {date} à {time} UTC (plus de {minutes} "
            "minutes). La tâche a été close automatiquement ; les jeux qu'elle n'a pas traités le seront au "
            "prochain moissonnage. Si cela se répète, consultez les journaux du serveur (processus arrêté, "
            "source trop lente).").format(date=_fr_date(last), time=last.strftime("%H:%M"),
                                          minutes=f"{max_minutes:g}")
        unfinished = (model.Session.query(HarvestObject).filter(HarvestObject.harvest_job_id == job.id)
                      .filter(HarvestObject.state.in_(["WAITING", "FETCH", "IMPORT"])).all())
        for obj in unfinished:
            obj.state, obj.report_status = "ERROR", "errored"
            model.Session.add(HarvestObjectError(message=message, object=obj, stage="Fetch"))
        job.status, job.finished = "Finished", now
        model.Session.add(HarvestGatherError(message=message, job=job))
        model.Session.commit()
        closed.append(job.id)
    return closed


# --------------------------------------------------------------------------- harvester

class EcartoHarvester(HarvesterBase):
    """Base of ``ecarto_ods`` and ``ecarto_udata`` (not a plugin by itself)."""

    NAME = ""
    TITLE = ""
    DESCRIPTION = ""
    VOLATILE_KEYS: tuple[str, ...] = ()   # remote keys that change without the data changing

    # ------------------------------------------------------------------ subclass API

    def list_remote(self, source: Any, config: dict[str, Any], http: HttpClient) -> Listing:
        raise NotImplementedError

    def data_files(self, remote: Remote, config: dict[str, Any]) -> list[DataFile]:
        raise NotImplementedError

    def package_dict(self, remote: Remote, config: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Dataset dict for package_create/update (resources carry a ``key``, not an id)."""
        raise NotImplementedError

    def check_config(self, config: dict[str, Any]) -> None:
        """Raise ValueError (French) for a harvester-specific problem of the source config."""

    # ------------------------------------------------------------------ IHarvester

    def info(self) -> dict[str, str]:
        return {"name": self.NAME, "title": self.TITLE, "description": self.DESCRIPTION,
                "form_config_interface": "Text"}

    def validate_config(self, config: Optional[str]) -> str:
        parsed = self.parse_config(config)
        return json.dumps(parsed, ensure_ascii=False, indent=2) if config else (config or "")

    def parse_config(self, config: Optional[str]) -> dict[str, Any]:
        if not config or not str(config).strip():
            parsed: Any = {}
        else:
            try:
                parsed = json.loads(config)
            except ValueError as exc:
                raise ValueError(tk._("Configuration illisible : JSON invalide ({error}).").format(
                    error=exc)) from exc
        if not isinstance(parsed, dict):
            raise ValueError(tk._("La configuration doit être un objet JSON ({…})."))
        for key, (kind, _option, _default) in COMMON_OPTIONS.items():
            if key in parsed:
                try:
                    value = kind(parsed[key])
                except (TypeError, ValueError):
                    raise ValueError(tk._("« {key} » doit être un nombre.").format(key=key))
                if value < 0:
                    raise ValueError(tk._("« {key} » ne peut pas être négatif.").format(key=key))
        for key in ("force_all", "private"):
            if key in parsed and not isinstance(parsed[key], bool):
                raise ValueError(tk._("« {key} » doit valoir true ou false.").format(key=key))
        if parsed.get("axe") is not None and parsed["axe"] not in AXIS_IDS:
            raise ValueError(tk._("Axe inconnu : « {axe} ». Axes possibles : {axes}.").format(
                axe=parsed["axe"], axes=", ".join(AXIS_IDS)))
        self.check_config(parsed)
        return parsed

    def option(self, config: dict[str, Any], key: str) -> Any:
        kind, option, default = COMMON_OPTIONS[key]
        if key in config:
            return kind(config[key])
        return kind(tk.config.get(option) if tk.config.get(option) not in (None, "") else default)

    def http(self, config: dict[str, Any]) -> HttpClient:
        return HttpClient(HttpSettings(
            timeout=self.option(config, "timeout"), retries=self.option(config, "retries"),
            backoff=self.option(config, "backoff"),
            max_bytes=int(self.option(config, "max_download_mb") * 1024 * 1024)))

    @staticmethod
    def base_url(source: Any) -> str:
        return (source.url or "").strip().rstrip("/")

    # ------------------------------------------------------------------ ids

    def package_id_for(self, source: Any, guid: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecarto-harvest:{self.NAME}:{self.base_url(source)}:{guid}"))

    @staticmethod
    def resource_id_for(package_id: str, key: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecarto-resource:{package_id}:{key}"))

    def fingerprint(self, remote: Remote, config: dict[str, Any], base_url: str = "") -> str:
        """What decides whether a dataset is imported again: **what the portal shows** of it (the
        dataset dict ``package_dict`` builds) and the fingerprints of its data files
        (url, checksum, last modification, size), with the rule and the ``private`` option. What
        the portal does not show — visit counters, the source's link checker extras
        (``check:date``, ``check:status``…), analysis dates — never makes an "update"."""
        try:
            shown: Any = self.package_dict(remote, config, base_url)
            files = sorted((d.key, d.fingerprint) for d in self.data_files(remote, config))
        except (RecordError, ValueError, KeyError, TypeError):
            # cannot be mapped (its import will say why): the remote metadata as a whole
            shown = {k: v for k, v in remote.record.items() if k not in self.VOLATILE_KEYS}
            files = []
        payload = json.dumps({"v": HARVESTER_VERSION, "shown": shown, "files": files, "rule": remote.rule,
                              "private": bool(config.get("private"))}, sort_keys=True, default=str)
        return hashlib.sha1(payload.encode()).hexdigest()

    @staticmethod
    def describe(remote: Remote) -> str:
        return tk._("Jeu « {title} » ({guid}, {url})").format(title=remote.title, guid=remote.guid, url=remote.url)

    def _about(self, remote: Remote, error: Any) -> str:
        """A harvest object's error: the dataset (see ``describe``), then what went wrong."""
        return tk._("{dataset} : {error}").format(dataset=self.describe(remote), error=error)

    # ------------------------------------------------------------------ gather

    def gather_stage(self, harvest_job: HarvestJob) -> Optional[list[str]]:
        source = harvest_job.source
        try:
            config = self.parse_config(source.config)
        except ValueError as exc:
            self._save_gather_error(tk._("Configuration de la source invalide : {error} Corrigez-la dans la "
                                         "page d'édition de la source, puis relancez.").format(error=exc),
                                    harvest_job)
            return None
        close_stale_jobs(source.id, exclude=harvest_job.id)
        http = self.http(config)
        try:
            listing = self.list_remote(source, config, http)
        except FetchError as exc:
            self._save_gather_error(tk._("Catalogue de la source illisible. {error} Aucun jeu n'a été modifié, "
                                         "marqué disparu ni archivé.").format(error=exc), harvest_job)
            return None
        except RecordError as exc:
            self._save_gather_error(str(exc), harvest_job)
            return None
        for message in listing.errors:
            self._save_gather_error(message, harvest_job)

        force = bool(config.get("force_all")) or bool(getattr(harvest_job, "ecarto_force", False))
        current = current_objects(source.id)
        ids: list[str] = []
        seen: set[str] = set()
        for remote in listing.remotes:
            if remote.guid in seen:
                continue
            seen.add(remote.guid)
            action = self._decide(source, remote, current.get(remote.guid), config, force)
            ids.append(self._new_object(harvest_job, remote.guid, {
                "action": action, "remote": asdict(remote), "force": force}))

        if not listing.complete:
            self._save_gather_error(tk._("Liste des jeux de la source incomplète (voir l'erreur précédente) : "
                                         "la détection des jeux disparus est suspendue pour ce moissonnage, "
                                         "rien n'est marqué disparu ni archivé."), harvest_job)
        elif not listing.scanned and current:
            self._save_gather_error(tk._("La source ne liste plus aucun jeu alors que {n} jeux en viennent : "
                                         "par prudence rien n'est marqué disparu. Vérifiez la sélection "
                                         "(identifiants, mots-clés, producteur) dans la configuration de la "
                                         "source.").format(n=len(current)), harvest_job)
        else:
            ids.extend(self._missing(harvest_job, config, current, seen))
        return ids

    def _decide(self, source: Any, remote: Remote, cur: Optional[HarvestObject], config: dict[str, Any],
                force: bool) -> str:
        package = model.Package.get(self.package_id_for(source, remote.guid))
        if cur is None or package is None or package.state != "active" or force:
            return IMPORT
        flags = extras_of(cur)
        if flags.get(EXTRA_MISSING) or flags.get(EXTRA_ARCHIVED):
            return IMPORT   # back at the source: cancels the missing mark / the archive
        if flags.get(EXTRA_FINGERPRINT) != self.fingerprint(remote, config, self.base_url(source)):
            return IMPORT
        return UNCHANGED

    def _missing(self, job: HarvestJob, config: dict[str, Any], current: dict[str, HarvestObject],
                 seen: set[str]) -> list[str]:
        grace = dt.timedelta(days=self.option(config, "grace_days"))
        now = clock.now()
        ids: list[str] = []
        for guid, cur in current.items():
            if guid in seen:
                continue
            flags = extras_of(cur)
            if flags.get(EXTRA_ARCHIVED):
                continue
            since = _parse(flags.get(EXTRA_MISSING))
            if since is None:
                since = now
                set_extra(cur, EXTRA_MISSING, _iso(now))
                cur.save()
            package = model.Package.get(cur.package_id) if cur.package_id else None
            action = ARCHIVE if now - since >= grace else MISSING
            ids.append(self._new_object(job, guid, {
                "action": action, "missing_since": _iso(since), "package_id": cur.package_id,
                "title": package.title if package else guid,
                "archive_on": _iso(since + grace)}))
        return ids

    @staticmethod
    def _new_object(job: HarvestJob, guid: str, content: dict[str, Any]) -> str:
        obj = HarvestObject(guid=guid, job=job, content=json.dumps(content, ensure_ascii=False, default=str))
        obj.extras = [HarvestObjectExtra(key=EXTRA_ACTION, value=content["action"])]
        obj.save()
        return obj.id

    # ------------------------------------------------------------------ fetch

    def fetch_stage(self, harvest_object: HarvestObject) -> Any:
        content = json.loads(harvest_object.content or "{}")
        action = content.get("action")
        if action in (UNCHANGED, MISSING):
            return "unchanged"
        if action == ARCHIVE:
            return True
        source = harvest_object.source
        remote = Remote(**content["remote"])
        try:
            config = self.parse_config(source.config)
            files = self.data_files(remote, config)
        except (ValueError, RecordError) as exc:
            self._save_object_error(self._about(remote, exc), harvest_object, "Fetch")
            return False
        http = self.http(config)
        previous = extras_of(current_object(source.id, remote.guid))
        package_id = self.package_id_for(source, remote.guid)
        for data in files:
            resource_id = self.resource_id_for(package_id, data.key)
            if (not content.get("force") and previous.get(EXTRA_DATA + data.key) == data.fingerprint
                    and _table_in_place(resource_id)):
                set_extra(harvest_object, EXTRA_DATA + data.key, data.fingerprint)
                continue
            keyless = keyless_mark(data, remote.rule)
            if not content.get("force") and previous.get(EXTRA_KEYLESS + data.key) == keyless:
                # already found without UAI nor commune column, and unchanged: not downloaded again
                set_extra(harvest_object, EXTRA_KEYLESS + data.key, keyless)
                continue
            try:
                path = http.download(data.url, suffix=data.suffix)
            except FetchError as exc:
                self._save_object_error(self._about(remote, self._download_problem(remote, data, exc)),
                                        harvest_object, "Fetch")
                continue
            set_extra(harvest_object, EXTRA_FILE + data.key, json.dumps(
                {"path": path, "fingerprint": data.fingerprint, "name": data.name, "url": data.url,
                 "keyless": keyless}))
        harvest_object.save()
        return True

    @staticmethod
    def _download_problem(remote: Remote, data: DataFile, exc: FetchError) -> str:
        """One message per failed download, naming the right culprit: a file link the producer
        publishes in its catalogue that answers 404 is the producer's to fix, not the source
        configuration's."""
        name = data.name or data.key
        if exc.status == 404 and data.published:
            return tk._("fichier « {name} » introuvable : le lien que le producteur publie sur la fiche du jeu "
                        "({url}) répond HTTP 404. Le lien est cassé à la source : signalez-le au producteur "
                        "({page}) ; la configuration de la source n'y est pour rien. Les données déjà chargées "
                        "restent en place et le fichier sera retenté au prochain moissonnage.").format(
                            name=name, url=data.url, page=remote.url)
        return tk._("données « {name} » non téléchargées. {error}").format(name=name, error=exc)

    # ------------------------------------------------------------------ import

    def import_stage(self, harvest_object: HarvestObject) -> Any:
        content = json.loads(harvest_object.content or "{}")
        action = content.get("action")
        if action in (UNCHANGED, MISSING):
            return "unchanged"
        if action == ARCHIVE:
            return self._archive(harvest_object, content)
        files = {k[len(EXTRA_FILE):]: json.loads(v) for k, v in extras_of(harvest_object).items()
                 if k.startswith(EXTRA_FILE)}
        try:
            return self._import(harvest_object, content, files)
        finally:
            for info in files.values():
                try:
                    os.unlink(info["path"])
                except OSError:
                    pass
            for key in files:
                set_extra(harvest_object, EXTRA_FILE + key, None)
            harvest_object.save()

    def _import(self, obj: HarvestObject, content: dict[str, Any], files: dict[str, dict[str, Any]]) -> bool:
        source = obj.source
        remote = Remote(**content["remote"])
        try:
            config = self.parse_config(source.config)
            pkg = self.package_dict(remote, config, self.base_url(source))
        except (ValueError, RecordError) as exc:
            self._save_object_error(self._about(remote, exc), obj, "Import")
            return False
        warnings = list(pkg.pop(WARNINGS_KEY, []))
        archived = pkg.pop(ARCHIVED_KEY, None)
        saved = self._save_package(obj, remote, pkg, config, archived=bool(archived))
        if saved is None:
            return False
        set_extra(obj, EXTRA_WARNINGS, None)
        for warning in warnings:
            _add_object_warning(obj, self._about(remote, warning))
        ok = True
        names = {r["id"]: r.get("name") or r["id"] for r in saved.get("resources", [])}
        for key, info in files.items():
            resource_id = self.resource_id_for(saved["id"], key)
            if resource_id not in names:
                continue
            report = ingest.ingest_resource(resource_id, info["path"])
            if report.status == "skipped":
                set_extra(obj, EXTRA_KEYLESS + key, info.get("keyless"))
                _add_object_warning(obj, self._about(remote, tk._(
                    "fichier « {name} » ({url}) sans colonne UAI ni code commune : publié en lien, non chargé en "
                    "base. Il ne sera téléchargé à nouveau que s'il change. Que faire : s'il contient une telle "
                    "colonne sous un autre nom, précisez « uai_column » ou « commune_column » dans la règle de ce "
                    "jeu.").format(name=names[resource_id], url=info["url"])))
            elif report.status == "error":
                ok = False
                self._save_object_error(self._about(remote, tk._(
                    "données de la ressource « {name} » ({url}) non chargées. {reason} Que faire : vérifiez le "
                    "fichier à la source ; si une colonne a été renommée, corrigez « uai_column » / "
                    "« commune_column » dans la configuration de la source.").format(
                        name=names[resource_id], url=info["url"], reason=report.message)), obj, "Import")
            else:
                set_extra(obj, EXTRA_DATA + key, info["fingerprint"])
        errored = model.Session.query(HarvestObjectError).filter(
            HarvestObjectError.harvest_object_id == obj.id).count() > 0
        if ok and not errored:
            set_extra(obj, EXTRA_FINGERPRINT, self.fingerprint(remote, config, self.base_url(source)))
        obj.save()
        return ok and not errored

    def _context(self) -> dict[str, Any]:
        return {"model": model, "session": model.Session, "user": self._get_user_name(),
                "ignore_auth": True, ingest.SKIP_FLAG: True}

    def _save_package(self, obj: HarvestObject, remote: Remote, pkg: dict[str, Any],
                      config: dict[str, Any], *, archived: bool = False) -> Optional[dict[str, Any]]:
        """Create or update the dataset. ``archived``: archived at the source, so private here (or
        deleted when the source has no organization: a dataset without one cannot be private)."""
        source = obj.source
        package_id = self.package_id_for(source, remote.guid)
        source_package = model.Package.get(source.id)
        owner_org = source_package.owner_org if source_package is not None else None
        pkg = dict(pkg)
        pkg["id"] = package_id
        pkg["type"] = "dataset"
        if owner_org:
            pkg["owner_org"] = owner_org
        pkg["private"] = bool(config.get("private") or archived) if owner_org else False
        resources = []
        for res in pkg.get("resources", []):
            res = dict(res)
            res["id"] = self.resource_id_for(package_id, res.pop("key"))
            resources.append({k: v for k, v in res.items() if v not in (None, "")})
        pkg["resources"] = resources
        existing = model.Package.get(package_id)
        previous_resources = {r.id for r in existing.resources} if existing is not None else set()
        context = self._context()
        try:
            if existing is not None:
                pkg["name"] = existing.name
                pkg["state"] = "active"
                model.Session.query(HarvestObject).filter(HarvestObject.package_id == package_id) \
                    .filter(HarvestObject.id != obj.id).update({"current": False}, synchronize_session=False)
                obj.package_id, obj.current = package_id, True
                obj.add()
                model.Session.flush()
                saved = tk.get_action("package_update")(context, pkg)
            else:
                ideal = munge_name(pkg.get("name") or pkg.get("title") or remote.guid)[:90] or "jeu-moissonne"
                pkg["name"] = self._ensure_name_is_unique(ideal)
                obj.package_id, obj.current = package_id, True
                obj.add()
                model.Session.execute(sa.text("SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))
                model.Session.flush()
                saved = tk.get_action("package_create")(context, pkg)
            model.Session.commit()
        except tk.ValidationError as exc:
            model.Session.rollback()
            summary = "; ".join(f"{k} : {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                for k, v in (exc.error_dict or {}).items())
            self._save_object_error(self._about(remote, tk._(
                "métadonnées refusées par le schéma du portail ({errors}). Que faire : précisez la valeur "
                "attendue (axe, millésime, territoire…) dans la règle de ce jeu de la configuration de la "
                "source.").format(errors=summary)), obj, "Import")
            return None
        except Exception as exc:  # noqa: BLE001 - recorded on the object, the job goes on
            model.Session.rollback()
            log.exception("Import de %s", remote.guid)
            self._save_object_error(self._about(remote, tk._(
                "enregistrement impossible ({error}). Consultez les journaux du serveur.").format(error=exc)),
                obj, "Import")
            return None
        if archived and not owner_org:
            tk.get_action("package_delete")(self._context(), {"id": package_id})
        kept = {r["id"] for r in saved.get("resources", [])}
        for resource_id in previous_resources - kept:
            ingest.drop_resource(resource_id)   # package_update does not call the resource hooks
        return saved

    def _archive(self, obj: HarvestObject, content: dict[str, Any]) -> bool:
        source = obj.source
        cur = current_object(source.id, obj.guid)
        package_id = content.get("package_id")
        package = model.Package.get(package_id) if package_id else None
        title = content.get("title") or obj.guid
        try:
            if package is not None and package.state == "active":
                if package.owner_org:
                    tk.get_action("package_patch")(self._context(), {"id": package_id, "private": True})
                else:
                    tk.get_action("package_delete")(self._context(), {"id": package_id})
        except Exception as exc:  # noqa: BLE001
            model.Session.rollback()
            log.exception("Archivage de %s", obj.guid)
            self._save_object_error(tk._(
                "Jeu « {title} » ({guid}) : disparu de la source depuis le {date}, mais son archivage a échoué "
                "({error}). Il sera retenté au prochain moissonnage.").format(
                    title=title, guid=obj.guid, date=_fr_date(_parse(content["missing_since"]) or clock.now()),
                    error=exc), obj, "Import")
            return False
        if cur is not None:
            set_extra(cur, EXTRA_ARCHIVED, _iso(clock.now()))
            cur.save()
        obj.package_id = package_id
        obj.current = False
        obj.save()
        return True


def keyless_mark(data: DataFile, rule: dict[str, Any]) -> str:
    """What is remembered of a file found without UAI nor commune column: its fingerprint (URL,
    checksum, last modification, size) and the rule's key columns and dictionary — a change of either
    is a reason to look at it again."""
    payload = json.dumps({"file": data.fingerprint, "uai": rule.get("uai_column"),
                          "commune": rule.get("commune_column"), "dictionary": rule.get("data_dictionary")},
                         sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()


def _table_in_place(resource_id: str) -> bool:
    row = ingest.status(resource_id)
    return bool(row and row.get("status") == "ok" and row.get("table_name"))


def missing_summary(content: dict[str, Any]) -> str:
    """The CLI's line for a dataset in its grace period."""
    since = _parse(content.get("missing_since"))
    until = _parse(content.get("archive_on"))
    return tk._("Jeu « {title} » absent de la source depuis le {since} : il sera archivé le {until} s'il ne "
                "réapparaît pas.").format(title=content.get("title"), since=_fr_date(since) if since else "?",
                                          until=_fr_date(until) if until else "?")
