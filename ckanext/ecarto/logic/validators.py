"""Validators of the dataset schema (ckanext-scheming), registered through IValidators.

Messages are French: they are shown as-is in the dataset form and in API errors.

CKAN runs a schema's field validators in alphabetical order of the keys (navl), so a validator
that depends on another field (territory code ↔ level, temporal end ↔ start, spatial ↔ territory,
axis-specific fields ↔ axe) reads that field's *raw* value and normalises it itself; each error is
reported on the field that carries it.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import Missing, StopOnError, missing
from shapely.geometry import shape

from ckanext.ecarto.core import roles
from ckanext.ecarto.core import uai as uai_rule
from ckanext.ecarto.core.axes import AXIS_IDS, FREQUENCIES, FREQUENCY_BASE
from ckanext.ecarto.etablissements import axes
from ckanext.ecarto.logic.schema import nesting_depth
from ckanext.ecarto.referentiel import territories

_ = tk._
Invalid = tk.Invalid

DICTIONARY_TYPES = ("string", "integer", "number", "boolean", "date")
# JSON fields: checked for size and nesting before parsing (Python's parser and serialiser
# raise RecursionError on deep values). A GeoJSON MultiPolygon is 6 levels deep.
SPATIAL_MAX_LENGTH = 1_000_000
SPATIAL_MAX_DEPTH = 20
DICTIONARY_MAX_LENGTH = 1_000_000
DICTIONARY_MAX_DEPTH = 10
DICTIONARY_MAX_ENTRIES = 5_000
_MILLESIME = re.compile(r"^([0-9]{4})(?:\s*[-/–]\s*([0-9]{4}))?$")
_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


def _empty(value: Any) -> bool:
    return value is missing or value is None or isinstance(value, Missing) or (
        isinstance(value, str) and not value.strip())


def _sibling(key: tuple, data: dict, name: str) -> Any:
    """Raw value of field `name` next to `key` (same dataset or same resource)."""
    value = data.get(key[:-1] + (name,))
    return None if _empty(value) else value


def _dataset_value(data: dict, name: str) -> Any:
    value = data.get((name,))
    return None if _empty(value) else value


# --------------------------------------------------------------------------- axis

def ecarto_axe(value: Any, context: dict) -> Any:
    text = str(value or "").strip()
    if text not in AXIS_IDS:
        raise Invalid(_("Axe inconnu : « {value} ». Axes possibles : {axes}.").format(
            value=text, axes=", ".join(AXIS_IDS)))
    return text


def ecarto_axe_required(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """The axis is chosen explicitly (the form offers no default): empty → a French message."""
    value = data.get(key)
    if value is missing or value is None or not str(value).strip():
        errors[key].append(_("Choisissez l'axe du jeu de données : il détermine les champs et le modèle de "
                             "fichier à remplir."))
        raise StopOnError


def _typed_by_a_person(context: dict) -> bool:
    """A request of the dataset form (CKAN's views put `save` in the context) or of the API
    (`api_version`): not the portal's own code (CLI, harvesters, sample loader), which writes its
    own description (ingest/description.py, the harvesters' source description)."""
    return "save" in context or "api_version" in context


def ecarto_description(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """`notes`: a dataset created through the form or the API has a description (DCAT-AP makes
    it mandatory, data.gouv.fr rates it), and one that has a description keeps one. A dataset
    saved without one before the rule (or by the portal's own code) stays editable."""
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return
    if not _typed_by_a_person(context):
        return
    package = context.get("package")
    if package is not None and not (getattr(package, "notes", None) or "").strip():
        return
    errors[key].append(_("Description obligatoire : dites en quelques phrases ce que contient le jeu de "
                         "données (source, territoire, période, principales colonnes)."))
    raise StopOnError


def ecarto_axe_only(axe: str) -> Callable[..., Any]:
    """First validator of an axis-specific field: the value is kept only when the dataset's
    `axe` is `axe` (a value left from another axis in the form is dropped, not stored)."""
    def validator(key: tuple, data: dict, errors: dict, context: dict) -> None:
        if str(_dataset_value(data, "axe") or "").strip() != axe:
            data[key] = missing
            raise StopOnError
    return validator


# --------------------------------------------------------------------------- UAI

def ecarto_uai(value: Any, context: dict) -> Any:
    if _empty(value):
        return value
    verdict = uai_rule.check(str(value))
    if not verdict.valid:
        raise Invalid(verdict.message)
    return verdict.value


def ecarto_uai_list(value: Any, context: dict) -> Any:
    """A list of UAIs (JSON list, or text separated by commas, spaces or new lines), stored as a
    JSON list of normalised UAIs; every invalid one is named in the error."""
    if _empty(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else re.split(r"[\s,;]+", text)
    else:
        items = list(value)
    verdicts = [uai_rule.check(str(item)) for item in items if str(item).strip()]
    bad = [v.message for v in verdicts if not v.valid]
    if bad:
        raise Invalid(" ".join(bad))
    return json.dumps(sorted({v.value for v in verdicts}))


# --------------------------------------------------------------------------- territory

def ecarto_territoire_niveau(value: Any, context: dict) -> Any:
    if _empty(value):
        return value
    text = str(value).strip().lower()
    if text not in territories.LEVELS:
        raise Invalid(_("Niveau de territoire inconnu : « {value} ». Niveaux possibles : {levels}.")
                      .format(value=value, levels=", ".join(territories.LEVELS)))
    return text


def ecarto_territoire_code(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """Normalises the code (`031` → `31`) and checks it exists at the dataset's level."""
    value = data.get(key)
    level = str(_sibling(key, data, "territoire_niveau") or "").strip().lower()
    code = "" if _empty(value) else str(value).strip()
    if not level:
        if code:
            errors[key].append(_("Précisez le niveau du territoire (région, académie, département, "
                                 "commune) du code « {code} ».").format(code=code))
        return
    if level not in territories.LEVELS:
        return  # reported on territoire_niveau
    if level == territories.FRANCE:
        data[key] = ""
        return
    if not code:
        errors[key].append(_("Code du territoire manquant pour le niveau « {level} ».").format(
            level=territories.LEVEL_LABELS[level].lower()))
        return
    found = territories.get(level, code)
    if found is None:
        errors[key].append(_("Le code « {code} » n'existe pas pour le niveau « {level} » "
                             "(codes INSEE, code académie du ministère).").format(
            code=code, level=territories.LEVEL_LABELS[level].lower()))
        return
    data[key] = found.code


# --------------------------------------------------------------------------- time

def ecarto_millesime(value: Any, context: dict) -> Any:
    """`2024`, or a school year `2023-2024` (also accepted: `2023/2024`, `2023 - 2024`)."""
    if _empty(value):
        return value
    text = str(value).strip()
    match = _MILLESIME.match(text)
    if not match:
        raise Invalid(_("Millésime « {value} » invalide : une année (2024) ou une année scolaire "
                        "(2023-2024).").format(value=text))
    first, second = match.group(1), match.group(2)
    if second is None:
        return first
    if int(second) != int(first) + 1:
        raise Invalid(_("Millésime « {value} » invalide : une année scolaire couvre deux années "
                        "consécutives (par exemple {a}-{b}).").format(
            value=text, a=first, b=int(first) + 1))
    return f"{first}-{second}"


def _parse_date(value: Any) -> Optional[dt.date]:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()[:10]
    match = _DATE.match(text)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def ecarto_date(value: Any, context: dict) -> Any:
    """ISO date `YYYY-MM-DD` (a bare `YYYY` or `YYYY-MM` means its first day)."""
    if _empty(value):
        return value
    parsed = _parse_date(value)
    if parsed is None:
        raise Invalid(_("Date « {value} » invalide : format attendu AAAA-MM-JJ (par exemple "
                        "2024-09-01).").format(value=value))
    return parsed.isoformat()


def ecarto_temporal_end(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """The end of the temporal coverage is not before its start."""
    end = data.get(key)
    start = _sibling(key, data, "temporal_start")
    if _empty(end) or start is None:
        return
    end_date, start_date = _parse_date(end), _parse_date(start)
    if end_date and start_date and end_date < start_date:
        errors[key].append(_("La fin de la période couverte ({end}) est antérieure à son début "
                             "({start}).").format(end=end_date.isoformat(),
                                                  start=start_date.isoformat()))


# --------------------------------------------------------------------------- frequency

def ecarto_frequency(value: Any, context: dict) -> Any:
    """A frequency URI of the EU vocabulary (DCAT); `ANNUAL` or `annual` become the URI."""
    if _empty(value):
        return value
    text = str(value).strip()
    code = text[len(FREQUENCY_BASE):] if text.startswith(FREQUENCY_BASE) else text.upper()
    if text.startswith("https://publications.europa.eu/resource/authority/frequency/"):
        code = text.rsplit("/", 1)[-1]
    if code not in FREQUENCIES:
        raise Invalid(_("Fréquence « {value} » inconnue : utilisez une URI du vocabulaire européen "
                        "des fréquences, par exemple {example}.").format(
            value=text, example=FREQUENCY_BASE + "ANNUAL"))
    return FREQUENCY_BASE + code


# --------------------------------------------------------------------------- spatial

def _check_json_size(value: Any, max_length: int, max_depth: int, what: str) -> None:
    """Refuse a JSON value (text, lists and dicts) too long or too deeply nested to be read."""
    if isinstance(value, str) and len(value) > max_length:
        raise Invalid(_("{what} invalide : {n} caractères au plus.").format(what=what, n=max_length))
    if nesting_depth(value, max_depth) > max_depth:
        raise Invalid(_("{what} invalide : JSON trop imbriqué ({n} niveaux au plus).").format(
            what=what, n=max_depth))


def _check_geojson(text: str) -> str:
    _check_json_size(text, SPATIAL_MAX_LENGTH, SPATIAL_MAX_DEPTH, _("Couverture géographique"))
    try:
        geometry = json.loads(text)
    except (TypeError, ValueError):
        raise Invalid(_("Couverture géographique invalide : ce n'est pas du GeoJSON."))
    if not isinstance(geometry, dict):
        raise Invalid(_("Couverture géographique invalide : ce n'est pas du GeoJSON."))
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry") or {}
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise Invalid(_("Couverture géographique de type « {kind} » refusée : seuls les polygones "
                        "(Polygon, MultiPolygon) sont acceptés — un point ne décrit pas un "
                        "territoire.").format(kind=kind or "?"))
    try:
        if shape(geometry).is_empty:
            raise ValueError
    except Exception:
        raise Invalid(_("Couverture géographique invalide : coordonnées du polygone illisibles."))
    return json.dumps({"type": kind, "coordinates": geometry["coordinates"]},
                      separators=(",", ":"))


def _previous_territory(context: dict) -> Optional[tuple[str, str]]:
    package = context.get("package")
    extras = getattr(package, "extras", None)
    if not extras:
        return None
    return (extras.get("territoire_niveau") or "", extras.get("territoire_code") or "")


def ecarto_spatial(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """GeoJSON Polygon/MultiPolygon. Empty: the territory's real boundary (a commune's
    département). When an update changes the territory and `spatial` is still the boundary
    derived from the previous one, it is derived again."""
    value = data.get(key)
    level = str(_sibling(key, data, "territoire_niveau") or "").strip().lower()
    code = str(_sibling(key, data, "territoire_code") or "")
    derived = territories.spatial(level, code) if level in territories.LEVELS else None
    if not _empty(value):
        try:
            _check_json_size(value, SPATIAL_MAX_LENGTH, SPATIAL_MAX_DEPTH, _("Couverture géographique"))
            text = value if isinstance(value, str) else json.dumps(value)
            text = _check_geojson(text)
        except Invalid as exc:
            errors[key].append(exc.error)
            raise StopOnError
        previous = _previous_territory(context)
        if derived and previous and previous != (level, territories.normalise_code(level, code)) \
                and previous[0] in territories.LEVELS and text == territories.spatial(*previous):
            text = derived
        data[key] = text
        return
    if derived:
        data[key] = derived
    else:
        data[key] = missing
        raise StopOnError


# --------------------------------------------------------------------------- resources

DICTIONARY_ROLES = tuple(r for r in roles.ROLES if r != roles.KEY)
DICTIONARY_AGGREGATIONS = ("sum", "mean", "share")
DICTIONARY_KEYS = ("column", "label", "type", "unit", "indicator", "role", "aggregation", "description")
LAYOUT_KEYS = ("periods_from_columns", "field_column", "value_column", "reshape")


def ecarto_data_dictionary(value: Any, context: dict) -> Any:
    """The resource's data dictionary, stored as JSON text: a list of columns {column, label,
    type, unit, indicator, role, aggregation, description}, or an object {"columns": [...],
    "layout": {periods_from_columns, field_column, value_column, reshape}} (see
    ``ingest/columns.py`` and ``ingest/layout.py``)."""
    if _empty(value):
        return value
    _check_json_size(value, DICTIONARY_MAX_LENGTH, DICTIONARY_MAX_DEPTH, _("Dictionnaire des données"))
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise Invalid(_("Dictionnaire des données invalide : JSON illisible."))
    else:
        parsed = value
    layout = None
    items = parsed
    if isinstance(parsed, dict):
        items = parsed.get("columns") or []
        layout = _dictionary_layout(parsed.get("layout"))
    if not isinstance(items, list):
        raise Invalid(_("Dictionnaire des données invalide : une liste de colonnes est attendue."))
    if len(items) > DICTIONARY_MAX_ENTRIES:
        raise Invalid(_("Dictionnaire des données invalide : {n} colonnes au plus.").format(n=DICTIONARY_MAX_ENTRIES))
    problems: list[str] = []
    cleaned = [entry for position, item in enumerate(items, start=1)
               if (entry := _dictionary_entry(position, item, problems)) is not None]
    if problems:
        raise Invalid(_("Dictionnaire des données invalide : {p}.").format(p="; ".join(problems)))
    if layout:
        return json.dumps({"columns": cleaned, "layout": layout}, ensure_ascii=False)
    return json.dumps(cleaned, ensure_ascii=False)


def _dictionary_entry(position: int, item: Any, problems: list[str]) -> Optional[dict[str, str]]:
    if not isinstance(item, dict) or not str(item.get("column") or "").strip():
        problems.append(_("entrée {n} : « column » (nom de la colonne) manquant").format(n=position))
        return None
    entry = {k: item[k] for k in DICTIONARY_KEYS if item.get(k) not in (None, "")}
    not_text = [k for k, v in entry.items() if not isinstance(v, (str, int, float)) or isinstance(v, bool)]
    if not_text:
        problems.append(_("entrée {n} : « {k} » doit être un texte").format(n=position, k=not_text[0]))
        return None
    entry = {k: str(v) for k, v in entry.items()}
    column = entry["column"]
    for key, allowed in (("type", DICTIONARY_TYPES), ("role", DICTIONARY_ROLES),
                         ("aggregation", DICTIONARY_AGGREGATIONS)):
        if key in entry and entry[key] not in allowed:
            problems.append(_("colonne « {c} » : {k} « {v} » inconnu ({allowed})").format(
                c=column, k=key, v=entry[key], allowed=", ".join(allowed)))
    known = {ind.id for inds in axes.indicators().values() for ind in inds}
    if entry.get("indicator") and entry["indicator"] not in known:
        problems.append(_("colonne « {c} » : indicateur « {i} » inconnu").format(c=column, i=entry["indicator"]))
    return entry


def _dictionary_layout(layout: Any) -> Optional[dict[str, Any]]:
    if layout in (None, {}):
        return None
    if not isinstance(layout, dict) or set(layout) - set(LAYOUT_KEYS):
        raise Invalid(_("Dictionnaire des données invalide : « layout » accepte {keys}.").format(
            keys=", ".join(LAYOUT_KEYS)))
    periods = layout.get("periods_from_columns")
    if periods is not None and not isinstance(periods, bool) and not (
            isinstance(periods, list) and all(isinstance(p, str) for p in periods)):
        raise Invalid(_("Dictionnaire des données invalide : « periods_from_columns » est une liste d'en-têtes, "
                        "true ou false."))
    for key in ("field_column", "value_column"):
        if layout.get(key) is not None and not isinstance(layout[key], str):
            raise Invalid(_("Dictionnaire des données invalide : « {k} » est un nom de colonne.").format(k=key))
    if layout.get("reshape") is not None and not isinstance(layout["reshape"], bool):
        raise Invalid(_("Dictionnaire des données invalide : « reshape » vaut true ou false."))
    return {k: v for k, v in layout.items() if v is not None}


def get_validators() -> dict[str, Callable[..., Any]]:
    return {
        "ecarto_axe": ecarto_axe,
        "ecarto_axe_required": ecarto_axe_required,
        "ecarto_axe_only": ecarto_axe_only,
        "ecarto_description": ecarto_description,
        "ecarto_uai": ecarto_uai,
        "ecarto_uai_list": ecarto_uai_list,
        "ecarto_territoire_niveau": ecarto_territoire_niveau,
        "ecarto_territoire_code": ecarto_territoire_code,
        "ecarto_millesime": ecarto_millesime,
        "ecarto_date": ecarto_date,
        "ecarto_temporal_end": ecarto_temporal_end,
        "ecarto_frequency": ecarto_frequency,
        "ecarto_spatial": ecarto_spatial,
        "ecarto_data_dictionary": ecarto_data_dictionary,
    }
