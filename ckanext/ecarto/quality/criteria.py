"""The criteria of the metadata quality score, computed from a dataset dict and the facts the
portal knows about its resources (ingestion registry rows, availability checks). Pure
functions: nothing here reads the database or the clock (``now`` is given).

data.gouv.fr's criteria follow udata 17.18.0, ``Dataset.compute_quality`` and
``Dataset.quality`` (``udata/core/dataset/models.py``, ``QUALITY_DESCRIPTION_LENGTH = 100``,
``CLOSED_FORMATS`` and ``UpdateFrequency`` deltas of ``udata/core/dataset/constants.py``):

- ``description``: a description of more than 100 characters (udata: ``len > 100``);
- ``documentation``: a resource of type *documentation* or a resource with a description;
- ``licence``, ``frequence`` (not « Inconnue »), ``couverture_temporelle``, ``couverture_spatiale``;
- ``a_jour``: the last update (latest resource modification, else the dataset's) plus the
  frequency's delta, with one day of tolerance, is not past; a frequency without a delta
  (continue, irrégulière, jamais) is always on time; no frequency: not on time;
- ``format_ouvert``: at least one resource in a format that is not closed (pdf, doc, docx,
  word, xls, excel, xlsx) nor empty;
- ``disponibles``: every remote resource answered at its last check (udata's ``unknown`` counts as
  available: a resource not checked yet does not fail the criterion);
- ``ressources``: the dataset has resources (udata only uses it as a gate).

``score_datagouv`` is udata's score: the 9 first criteria above over 9 (``ressources`` is not
counted, the resource criteria are 0 without resources). The portal's ``score`` counts every
applicable criterion once, its own included:

- ``uai``: every UAI-keyed table (any table of an *établissements* dataset) declares its UAI
  column and has at least ``ckanext.ecarto.qualite_taux_uai_min`` (95 %) valid rows;
- ``dictionnaire``: every measure column of the ingested tables has a label of its own and a unit;
- ``periode_recente``: the latest period of the ingested tables (``_periode``, else the
  millésime) ended no longer ago than the update frequency allows.

A criterion that does not apply (no ingested table, no measure column, a commune-keyed dataset
for ``uai``) is ``applicable: False`` and counts for nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ckanext.ecarto.core import roles
from ckanext.ecarto.core.axes import FREQUENCY_BASE
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import columns

UDATA_VERSION = "17.18.0"
DESCRIPTION_LENGTH = 100
CLOSED_FORMATS = frozenset({"pdf", "doc", "docx", "word", "xls", "excel", "xlsx"})
DEFAULT_UAI_RATE = 0.95
TOLERANCE = dt.timedelta(days=1)
# udata's UpdateFrequency deltas for the portal's frequencies (core/axes.FREQUENCIES);
# None: no regular update expected (always on time).
FREQUENCY_DELTAS: dict[str, Optional[dt.timedelta]] = {
    "CONT": None, "DAILY": dt.timedelta(days=1), "WEEKLY": dt.timedelta(weeks=1),
    "MONTHLY": dt.timedelta(days=31), "QUARTERLY": dt.timedelta(days=31 * 3),
    "ANNUAL": dt.timedelta(days=365), "BIENNIAL": dt.timedelta(days=365 * 2),
    "TRIENNIAL": dt.timedelta(days=365 * 3), "IRREG": None, "NEVER": None,
}
# How long a period of each kind lasts (its end = its start + this).
PERIOD_LENGTHS: dict[str, dt.timedelta] = {
    columns.RENTREE: dt.timedelta(days=365), columns.ANNEE: dt.timedelta(days=365),
    columns.SEMESTRE: dt.timedelta(days=183), columns.TRIMESTRE: dt.timedelta(days=92),
    columns.MOIS: dt.timedelta(days=31), columns.DATE: dt.timedelta(days=1),
}
DATAGOUV_CRITERIA = ("description", "documentation", "licence", "frequence", "a_jour", "format_ouvert",
                     "couverture_temporelle", "couverture_spatiale", "disponibles")
PORTAL_CRITERIA = ("ressources", "uai", "dictionnaire", "periode_recente")
ORDER = DATAGOUV_CRITERIA[:2] + ("ressources",) + DATAGOUV_CRITERIA[2:] + PORTAL_CRITERIA[1:]


@dataclass
class Criterion:
    code: str
    label: str
    ok: bool
    explanation: str = ""          # what is missing and how to fix it (empty when ok)
    applicable: bool = True
    source: str = "data.gouv.fr"   # or "portail"


@dataclass
class Facts:
    """What the portal knows about a dataset's resources beside its dict."""

    registry: dict[str, dict[str, Any]] = field(default_factory=dict)       # resource id -> registry row
    availability: dict[str, dict[str, Any]] = field(default_factory=dict)   # resource id -> last check
    uai_rate_min: float = DEFAULT_UAI_RATE


@dataclass
class Quality:
    score: float
    score_datagouv: float
    criteria: list[Criterion]

    @property
    def missing(self) -> list[Criterion]:
        return [c for c in self.criteria if c.applicable and not c.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4), "score_pourcentage": percent(self.score),
            "score_datagouv": round(self.score_datagouv, 4),
            "reference": f"udata {UDATA_VERSION} (Dataset.compute_quality)",
            "criteres": [dict(vars(c)) for c in self.criteria],   # flat fields: no deep copy
            "manquants": [c.code for c in self.missing],
        }


def percent(score: float) -> int:
    return int(round(score * 100))


# --------------------------------------------------------------------------- helpers

def parse_datetime(value: Any) -> Optional[dt.datetime]:
    """A CKAN date (ISO, naive UTC) as a naive UTC datetime; None when unreadable."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when


def frequency_code(pkg: dict[str, Any]) -> Optional[str]:
    """The frequency's EU code (``ANNUAL``…), None when absent or « Inconnue »."""
    value = str(pkg.get("frequency") or "").strip()
    code = value[len(FREQUENCY_BASE):] if value.startswith(FREQUENCY_BASE) else value.rpartition("/")[2]
    code = code.upper()
    return code if code and code != "UNKNOWN" else None


def active_resources(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in pkg.get("resources") or [] if r.get("state", "active") == "active"]


def is_remote(resource: dict[str, Any]) -> bool:
    """A link to a file held elsewhere (not an upload stored by the portal)."""
    url = str(resource.get("url") or "")
    return resource.get("url_type") != "upload" and url.startswith(("http://", "https://"))


def last_update(pkg: dict[str, Any]) -> Optional[dt.datetime]:
    """udata's ``compute_last_update``: the latest resource modification, else the dataset's."""
    dates = [parse_datetime(r.get("last_modified") or r.get("metadata_modified") or r.get("created"))
             for r in active_resources(pkg)]
    dates = [d for d in dates if d is not None]
    return max(dates) if dates else parse_datetime(pkg.get("metadata_modified"))


def _names(items: Iterable[str], limit: int = 3) -> str:
    items = list(items)
    shown = ", ".join(f"« {i} »" for i in items[:limit])
    return shown + (_(" et {n} autre(s)").format(n=len(items) - limit) if len(items) > limit else "")


def _ok(code: str, label: str, *, source: str = "data.gouv.fr") -> Criterion:
    return Criterion(code, label, True, source=source)


def _missing(code: str, label: str, explanation: str, *, source: str = "data.gouv.fr") -> Criterion:
    return Criterion(code, label, False, explanation, source=source)


def _not_applicable(code: str, label: str, why: str) -> Criterion:
    return Criterion(code, label, True, why, applicable=False, source="portail")


# --------------------------------------------------------------------------- data.gouv.fr criteria

def description(pkg: dict[str, Any]) -> Criterion:
    label = _("Description détaillée (plus de 100 caractères)")
    length = len((pkg.get("notes") or "").strip())
    if length > DESCRIPTION_LENGTH:
        return _ok("description", label)
    return _missing("description", label, _(
        "La description fait {n} caractère(s). Modifiez le jeu de données et décrivez en plus de 100 "
        "caractères ce que contiennent les données, leur producteur, leur mode de collecte et leurs "
        "limites.").format(n=length))


def documentation(pkg: dict[str, Any]) -> Criterion:
    label = _("Ressources documentées")
    resources = active_resources(pkg)
    if any(r.get("resource_type") == "documentation" or (r.get("description") or "").strip() for r in resources):
        return _ok("documentation", label)
    return _missing("documentation", label, _(
        "Aucune ressource n'a de description ni de documentation. Modifiez chaque ressource pour "
        "décrire son contenu (colonnes, unités, couverture), ou ajoutez une ressource de "
        "documentation."))


def has_resources(pkg: dict[str, Any]) -> Criterion:
    label = _("Au moins une ressource")
    if active_resources(pkg):
        return _ok("ressources", label)
    return _missing("ressources", label, _(
        "Le jeu de données n'a aucune ressource. Ajoutez un fichier ou un lien vers les données."))


def licence(pkg: dict[str, Any]) -> Criterion:
    label = _("Licence")
    if (pkg.get("license_id") or "").strip() not in ("", "notspecified"):
        return _ok("licence", label)
    return _missing("licence", label, _(
        "Aucune licence n'est indiquée. Choisissez une licence ouverte (la Licence Ouverte 2.0 "
        "d'Etalab est recommandée pour les administrations)."))


def frequency(pkg: dict[str, Any]) -> Criterion:
    label = _("Fréquence de mise à jour")
    if frequency_code(pkg):
        return _ok("frequence", label)
    return _missing("frequence", label, _(
        "La fréquence de mise à jour n'est pas renseignée (ou vaut « Inconnue »). Indiquez à quel "
        "rythme les données sont mises à jour (annuelle, trimestrielle…, ou « Irrégulière »)."))


def up_to_date(pkg: dict[str, Any], now: dt.datetime) -> Criterion:
    label = _("Mise à jour dans les délais")
    code = frequency_code(pkg)
    if code is None:
        return _missing("a_jour", label, _(
            "Sans fréquence de mise à jour, le respect des délais ne peut pas être vérifié : "
            "renseignez la fréquence."))
    delta = FREQUENCY_DELTAS.get(code)
    if delta is None:
        return _ok("a_jour", label)
    updated = last_update(pkg)
    if updated is not None and updated + delta + TOLERANCE >= now:
        return _ok("a_jour", label)
    return _missing("a_jour", label, _(
        "Dernière mise à jour le {date} : la fréquence déclarée en attendait une avant le {due}. "
        "Publiez les données à jour, ou corrigez la fréquence si elle ne correspond plus.").format(
        date=updated.strftime("%d/%m/%Y") if updated else "?",
        due=(updated + delta).strftime("%d/%m/%Y") if updated else "?"))


def open_format(pkg: dict[str, Any]) -> Criterion:
    label = _("Format ouvert")
    resources = active_resources(pkg)
    if any((r.get("format") or "").strip().lower() not in CLOSED_FORMATS | {""} for r in resources):
        return _ok("format_ouvert", label)
    if not resources:
        return _missing("format_ouvert", label, _("Aucune ressource : ajoutez les données dans un format "
                                                  "ouvert (CSV, JSON, GeoJSON…)."))
    return _missing("format_ouvert", label, _(
        "Aucune ressource n'est dans un format ouvert (formats : {formats}). Ajoutez les données en CSV, "
        "JSON ou GeoJSON, ou indiquez le format des ressources.").format(
        formats=", ".join(sorted({(r.get("format") or "?") for r in resources}))))


def temporal_coverage(pkg: dict[str, Any]) -> Criterion:
    label = _("Couverture temporelle")
    if pkg.get("temporal_start") or pkg.get("temporal_end"):
        return _ok("couverture_temporelle", label)
    return _missing("couverture_temporelle", label, _(
        "La période couverte n'est pas renseignée. Indiquez le début et la fin de la période que "
        "décrivent les données."))


def spatial_coverage(pkg: dict[str, Any]) -> Criterion:
    label = _("Couverture spatiale")
    if pkg.get("spatial") or pkg.get("territoire_niveau"):
        return _ok("couverture_spatiale", label)
    return _missing("couverture_spatiale", label, _(
        "Le territoire couvert n'est pas renseigné. Indiquez le niveau et le code du territoire (ou "
        "« France ») : sa limite sert de couverture géographique."))


def available(pkg: dict[str, Any], facts: Facts) -> Criterion:
    label = _("Toutes les ressources disponibles")
    resources = active_resources(pkg)
    if not resources:
        return _missing("disponibles", label, _("Aucune ressource à vérifier : ajoutez des ressources."))
    failed = [(r, facts.availability[r["id"]]) for r in resources
              if is_remote(r) and r.get("id") in facts.availability and not facts.availability[r["id"]]["available"]]
    if not failed:
        return _ok("disponibles", label)
    details = "; ".join(_("« {name} » : {status} le {date}").format(
        name=r.get("name") or r.get("url"),
        status=(_("HTTP {status}").format(status=check["http_status"]) if check.get("http_status")
                else (check.get("detail") or _("sans réponse"))),
        date=check["checked_at"].strftime("%d/%m/%Y %H:%M") if check.get("checked_at") else "?")
        for r, check in failed[:3])
    return _missing("disponibles", label, _(
        "{n} ressource(s) injoignable(s) à la dernière vérification ({details}). Corrigez leur URL ou "
        "déposez le fichier sur le portail.").format(n=len(failed), details=details))


# --------------------------------------------------------------------------- the portal's criteria

def _ingested(pkg: dict[str, Any], facts: Facts) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, registry row) of the dataset's resources loaded successfully."""
    return [(r, facts.registry[r["id"]]) for r in active_resources(pkg)
            if r.get("id") in facts.registry and facts.registry[r["id"]].get("status") == "ok"]


def uai_column(pkg: dict[str, Any], facts: Facts) -> Criterion:
    label = _("Colonne UAI déclarée et valide")
    ingested = _ingested(pkg, facts)
    keyed = [(r, row) for r, row in ingested if row.get("key_kind") == "uai" or pkg.get("axe") == "etablissements"]
    if not keyed:
        return _not_applicable("uai", label, _("Sans objet : aucune table chargée n'est indexée par UAI."))
    problems = []
    for resource, row in keyed:
        name = resource.get("name") or resource["id"]
        if row.get("key_kind") != "uai":
            problems.append(_("« {name} » n'est pas indexée par UAI").format(name=name))
            continue
        if not (resource.get("uai_column") or "").strip():
            problems.append(_("« {name} » : colonne UAI détectée ({column}) mais non déclarée").format(
                name=name, column=row.get("key_column") or "?"))
        total = int(row.get("n_rows") or 0) + int(row.get("n_rejected") or 0)
        rate = (int(row.get("n_rows") or 0) / total) if total else 0.0
        if rate < facts.uai_rate_min:
            problems.append(_("« {name} » : {rate} % de lignes valides (minimum {min} %)").format(
                name=name, rate=percent(rate), min=percent(facts.uai_rate_min)))
    if not problems:
        return _ok("uai", label, source="portail")
    return _missing("uai", label, "; ".join(problems) + ". " + _(
        "Renseignez le champ « Colonne UAI » de chaque ressource et corrigez les UAI rejetés (voir le "
        "rapport de chargement de la ressource)."), source="portail")


def dictionary(pkg: dict[str, Any], facts: Facts) -> Criterion:
    label = _("Dictionnaire des données complet")
    # by column name: a yearly file per resource repeats the same columns
    incomplete: dict[str, None] = {}
    measures: dict[str, None] = {}
    for _resource, row in _ingested(pkg, facts):
        for col in columns.by_role(row, roles.MEASURE):
            source = col.get("source") or col.get("name") or ""
            measures[source] = None
            has_label = bool(col.get("label")) and col.get("label") != source
            if not (has_label and (col.get("unit") or "").strip()):
                incomplete[source] = None
    if not measures:
        return _not_applicable("dictionnaire", label, _("Sans objet : aucune colonne de mesure chargée."))
    if not incomplete:
        return _ok("dictionnaire", label, source="portail")
    return _missing("dictionnaire", label, _(
        "{n} colonne(s) de mesure sur {total} sans libellé ou sans unité ({columns}). Complétez le "
        "dictionnaire des données de la ressource (« label » et « unit » de chaque colonne).").format(
        n=len(incomplete), total=len(measures), columns=_names(incomplete)), source="portail")


def latest_period(row: dict[str, Any]) -> Optional[columns.Period]:
    label = columns.latest_period_label(row)
    return columns.parse_period(label) if label else None


def period_end(period: columns.Period) -> dt.datetime:
    start = dt.datetime.strptime(str(period.order), "%Y%m%d")
    return start + PERIOD_LENGTHS.get(period.kind, dt.timedelta(days=365))


def recent_period(pkg: dict[str, Any], facts: Facts, now: dt.datetime) -> Criterion:
    label = _("Période la plus récente à jour")
    periods = [p for p in (latest_period(row) for _r, row in _ingested(pkg, facts)) if p is not None]
    if not periods:
        return _not_applicable("periode_recente", label, _("Sans objet : aucune période dans les tables chargées."))
    latest = max(periods, key=lambda p: p.order)
    code = frequency_code(pkg)
    if code is None:
        return _missing("periode_recente", label, _(
            "Période la plus récente : {period}. Sans fréquence de mise à jour, sa fraîcheur ne peut pas "
            "être jugée : renseignez la fréquence.").format(period=latest.label), source="portail")
    delta = FREQUENCY_DELTAS.get(code)
    if delta is None or period_end(latest) + delta + TOLERANCE >= now:
        return _ok("periode_recente", label, source="portail")
    return _missing("periode_recente", label, _(
        "Période la plus récente : {period}, terminée le {end} ; avec la fréquence déclarée, la "
        "suivante était attendue avant le {due}. Publiez les données des périodes suivantes, ou "
        "corrigez la fréquence.").format(
        period=latest.label, end=period_end(latest).strftime("%d/%m/%Y"),
        due=(period_end(latest) + delta).strftime("%d/%m/%Y")), source="portail")


# --------------------------------------------------------------------------- the score

def evaluate(pkg: dict[str, Any], facts: Facts, now: dt.datetime) -> Quality:
    """Every criterion of a dataset, in display order, and both scores."""
    found = {c.code: c for c in (
        description(pkg), documentation(pkg), has_resources(pkg), licence(pkg), frequency(pkg),
        up_to_date(pkg, now), open_format(pkg), temporal_coverage(pkg), spatial_coverage(pkg),
        available(pkg, facts), uai_column(pkg, facts), dictionary(pkg, facts), recent_period(pkg, facts, now))}
    if not active_resources(pkg):
        # udata: without resources, the resource criteria are not computed (0 in its score)
        found["documentation"] = _missing("documentation", found["documentation"].label, _(
            "Aucune ressource : ajoutez des ressources et décrivez-les."))
    criteria = [found[code] for code in ORDER]
    datagouv = sum(1 for code in DATAGOUV_CRITERIA if found[code].ok) / len(DATAGOUV_CRITERIA)
    applicable = [c for c in criteria if c.applicable]
    score = sum(1 for c in applicable if c.ok) / len(applicable) if applicable else 0.0
    return Quality(score=score, score_datagouv=datagouv, criteria=criteria)
