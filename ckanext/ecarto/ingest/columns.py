"""The column model of an ingested table: what each column *is* (its role), decided once at
ingestion by explicit rules, overridable, and stored in the registry beside the table.

Every page, aggregate and export reads a table through this model, never through guesses at
render time. Roles (``core/roles.py``):

- ``key``: the row's subject (UAI, commune) — the table's ``_key``;
- ``period``: when the figure holds. Stored as ``_periode`` (label: ``2021-2022``, ``T1 2018``,
  ``2023``) and ``_periode_ordre`` (start of the period as ``YYYYMMDD``, so that the latest row
  of a key is found whatever the order of the file);
- ``measure``: a number, stored as a number, aggregated by ``aggregation`` (``sum`` or ``mean``);
- ``flag``: yes/no (``0``/``1``, ``oui``/``non``, Arcep's ``1``/``-``), stored as a boolean,
  aggregated as a share;
- ``dimension`` (few categories: secteur, niveau), ``label`` (names, addresses) and ``code``
  (département, académie, operator codes): text shown as it is, never aggregated.

Rules of inference, in order (``infer_role``):

1. the join key is ``key``;
2. a header naming a period (*Rentrée scolaire*, *Année*, *Millésime*, *Trimestre*, *Période*,
   *Campagne*…) whose values all read as periods (``2019-2020``, ``2019/2020``, ``2023``,
   ``T1 2018``, ``2021-03``, ``26/11/2024``…) is the ``period`` (only one: school years first);
   values of the form ``2019-2020`` or ``T1 2018`` make a period whatever the header;
3. a header naming a code (``Code du département``, ``UAI``, ``Siren``…, see ``coltypes``), a
   value with a leading zero, a class column (``Catégorie``) is a ``code``;
4. ``0``/``1`` or yes/no values are a ``flag`` (not when the header says it counts: ``nb_…``);
   when the only value is "yes", an empty cell means "no" (Arcep writes ``-``);
5. at most five one-digit values over many rows are classes (a ``dimension``: Arcep's
   *Commune de montagne* 1, 2, 3), unless the header says it counts;
6. other numbers are a ``measure``: ``sum`` on commune-keyed tables (counts of premises,
   dwellings), ``mean`` per establishment on UAI-keyed ones;
7. text with few distinct values is a ``dimension``, other text a ``label``.

Overrides, strongest last: the axis Table Schema (a column named like an axis field takes its
type and role), the harvest source's rules and the resource's data dictionary (``role``,
``type``, ``label``, ``unit``, ``aggregation``, ``indicator``, ``description``). A declared role
the data contradict (a measure full of text, a period that does not read as one) refuses the
version with the column and examples (``ModelError``).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core import roles
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import schema_fields
from ckanext.ecarto.ingest.coltypes import ColumnProfile, is_code_header, normalise_header

PERIOD_COLUMN = "_periode"
PERIOD_ORDER_COLUMN = "_periode_ordre"
LATEST_ORDER = f"{PERIOD_ORDER_COLUMN} DESC NULLS LAST, _row DESC"
INTERNAL = ("_key", "_row", PERIOD_COLUMN, PERIOD_ORDER_COLUMN)

AGGREGATIONS = ("sum", "mean", "share")
COVERAGE_OPTION = "ckanext.ecarto.coverage_threshold"
DEFAULT_COVERAGE = 0.5

# --------------------------------------------------------------------------- periods

RENTREE, ANNEE, TRIMESTRE, SEMESTRE, MOIS, DATE, AUTRE = (
    "rentree", "annee", "trimestre", "semestre", "mois", "date", "autre")
PERIOD_KIND_LABELS = {
    RENTREE: "rentrée scolaire", ANNEE: "année", TRIMESTRE: "trimestre", SEMESTRE: "semestre",
    MOIS: "mois", DATE: "date", AUTRE: "période",
}


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    order: int  # start of the period, YYYYMMDD

    @property
    def year(self) -> int:
        return self.order // 10000


_SCHOOL_YEAR = re.compile(r"^(?:rentr[ée]e\s+(?:scolaire\s+)?)?(\d{4})\s*[-/]\s*(\d{4})$", re.I)
_RENTREE_YEAR = re.compile(r"^rentr[ée]e\s+(?:scolaire\s+)?(\d{4})$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(?:T([1-4])\s*[-_ ]?\s*(\d{4})|(\d{4})\s*[-_ ]?\s*T([1-4]))$", re.I)
_HALF = re.compile(r"^(?:S([12])\s*[-_ ]?\s*(\d{4})|(\d{4})\s*[-_ ]?\s*S([12]))$", re.I)
_MONTH = re.compile(r"^(?:(\d{4})-(\d{2})|(\d{2})/(\d{4}))$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_FR_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def _plausible(year: int) -> bool:
    return 1900 <= year <= 2100


def parse_period(text: Any, *, school_year: bool = False) -> Optional[Period]:
    """The period a value (or a header) names, or None. ``2019-2020`` and ``2019/2020`` are a
    school year (``rentree``, starting in September), ``2023`` a year — the school year it
    starts in a column of school years (``school_year``: *Rentrée scolaire* 2023 is 2023-2024)
    —, ``T1 2018`` a quarter, ``2021-03`` a month, ``2024-11-26`` / ``26/11/2024`` a date."""
    if text is None:
        return None
    value = str(text).strip()
    if not value or len(value) > 40:
        return None
    if m := _SCHOOL_YEAR.match(value):
        start, end = int(m.group(1)), int(m.group(2))
        if end == start + 1 and _plausible(start):
            return Period(RENTREE, f"{start}-{end}", start * 10000 + 901)
        return None
    if m := _RENTREE_YEAR.match(value):
        start = int(m.group(1))
        return Period(RENTREE, f"{start}-{start + 1}", start * 10000 + 901) if _plausible(start) else None
    if m := _YEAR.match(value):
        year = int(m.group(1))
        if school_year and _plausible(year):
            return Period(RENTREE, f"{year}-{year + 1}", year * 10000 + 901)
        return Period(ANNEE, str(year), year * 10000 + 101) if _plausible(year) else None
    if m := _QUARTER.match(value):
        quarter, year = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
        return Period(TRIMESTRE, f"T{quarter} {year}", year * 10000 + (3 * quarter - 2) * 100 + 1) \
            if _plausible(year) else None
    if m := _HALF.match(value):
        half, year = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
        return Period(SEMESTRE, f"S{half} {year}", year * 10000 + (1 if half == 1 else 7) * 100 + 1) \
            if _plausible(year) else None
    if m := _MONTH.match(value):
        year, month = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
        if _plausible(year) and 1 <= month <= 12:
            return Period(MOIS, f"{year}-{month:02d}", year * 10000 + month * 100 + 1)
        return None
    for pattern, order in ((_ISO_DATE, (1, 2, 3)), (_FR_DATE, (3, 2, 1))):
        if m := pattern.match(value):
            year, month, day = (int(m.group(i)) for i in order)
            try:
                dt.date(year, month, day)
            except ValueError:
                return None
            if _plausible(year):
                return Period(DATE, f"{year}-{month:02d}-{day:02d}", year * 10000 + month * 100 + day)
    return None


# Header words that name a period column (normalised: ``Rentrée scolaire`` -> rentree, scolaire).
PERIOD_WORDS = frozenset({"rentree", "millesime", "periode", "trimestre", "campagne", "annee", "session",
                          "exercice", "semestre", "year", "mois"})
# Headers that are a period by name alone (``date`` alone; ``date_ouverture`` is not one).
PERIOD_HEADERS = frozenset({"date", "date_de_mesure", "date_mesure", "date_releve", "annee_scolaire"})
# Values that make a period whatever the header: school years and quarters are never measures.
_SELF_EVIDENT = (RENTREE, TRIMESTRE, SEMESTRE)
# Words of a header that says the column counts or measures (never a yes/no flag).
COUNT_WORDS = frozenset({"nb", "nbr", "nombre", "effectif", "effectifs", "total", "somme", "moyenne",
                         "taux", "part", "ips", "indice", "ecart", "locaux", "logements", "eleves"})
# Words of a header naming classes of values (Arcep's ``Catégorie``: 0, 5, 10… are class codes).
CLASS_WORDS = frozenset({"categorie", "classe", "tranche", "niveau_de_deploiement"})
# A text column with at most this many distinct values (and few per row) is a dimension.
MAX_DIMENSION_VALUES = 30


def period_header(source: str) -> bool:
    name = normalise_header(source)
    return name in PERIOD_HEADERS or bool(set(name.split("_")) & PERIOD_WORDS)


def school_year_header(source: str) -> bool:
    """A header naming a school year (*Rentrée scolaire*, *Année scolaire*)."""
    words = set(normalise_header(source).split("_"))
    return "rentree" in words or "scolaire" in words


def _period_rank(source: str) -> int:
    """School years before years before the rest, when several columns could be the period."""
    words = set(normalise_header(source).split("_"))
    if "rentree" in words or "scolaire" in words:
        return 0
    if words & {"millesime", "annee", "year", "exercice"}:
        return 1
    return 2


# --------------------------------------------------------------------------- inference

class ColumnFacts:
    """What the values of a column say beyond their type: its distinct values while they are
    few (flags, dimensions, periods) and whether every value reads as a period."""

    MAX_TRACKED = 64

    def __init__(self) -> None:
        self.values = 0
        self.distinct: Optional[set[str]] = set()  # None once there are more than MAX_TRACKED
        self.all_periods = True
        self.period_kinds: set[str] = set()

    def update(self, values: list[str]) -> None:
        if not values:
            return
        self.values += len(values)
        if self.distinct is not None:
            self.distinct.update(values)
            if len(self.distinct) > self.MAX_TRACKED:
                self.distinct = None
        if self.all_periods:
            self._check_periods(values)

    def _check_periods(self, values: list[str]) -> None:
        # a cheap look at the first values first: most columns stop there
        for value in values[:20]:
            if parse_period(value) is None:
                self.all_periods = False
                return
        for value in set(values):
            found = parse_period(value)
            if found is None:
                self.all_periods = False
                return
            self.period_kinds.add(found.kind)

    def distinct_values(self) -> Optional[set[str]]:
        return self.distinct


def new_facts() -> ColumnFacts:
    return ColumnFacts()


def _all_periods(facts: ColumnFacts) -> bool:
    return facts.values > 0 and facts.all_periods


def _flag_values(facts: ColumnFacts, profile: ColumnProfile) -> Optional[bool]:
    """True when the values are yes/no; the second meaning ``only yes``: empty means no."""
    distinct = facts.distinct_values()
    if not distinct:
        return None
    lowered = {v.lower() for v in distinct}
    if lowered <= {"0", "1"} or lowered <= {"oui", "non", "true", "false", "vrai", "faux", "o", "n"}:
        return True
    return None


def _small_classes(facts: ColumnFacts) -> bool:
    """At most five distinct one-digit values over many rows: classes, not amounts."""
    distinct = facts.distinct_values()
    return bool(distinct) and facts.values >= 50 and len(distinct) <= 5 and all(
        len(v) == 1 and v.isdigit() for v in distinct)


def only_yes(facts: ColumnFacts) -> bool:
    distinct = facts.distinct_values() or set()
    return bool(distinct) and {v.lower() for v in distinct} <= {"1", "oui", "true", "vrai", "o"}


def infer_role(source: str, profile: ColumnProfile, facts: ColumnFacts, *, key: bool, key_kind: str,
               n_rows: int) -> tuple[str, Optional[str]]:
    """(role, aggregation) of a column from its header and its values (rules in the module
    docstring; the period is chosen among candidates by ``choose_period``)."""
    if key:
        return roles.KEY, None
    name = normalise_header(source)
    words = set(name.split("_"))
    kind = profile.inferred()
    if is_code_header(source) or profile.leading_zero or words & CLASS_WORDS or name in CLASS_WORDS:
        return roles.CODE, None
    if _flag_values(facts, profile) and not words & COUNT_WORDS:
        return roles.FLAG, "share"
    if kind == "integer" and _small_classes(facts) and not words & COUNT_WORDS:
        return roles.DIMENSION, None  # a few class codes (Arcep's « Commune de montagne » 1, 2, 3)
    if kind in ("integer", "number"):
        return roles.MEASURE, ("sum" if key_kind == "commune" else "mean")
    if kind == "boolean":
        return roles.FLAG, "share"
    distinct = facts.distinct_values()
    if kind == "string" and distinct is not None and facts.values >= 2 \
            and len(distinct) <= MAX_DIMENSION_VALUES and len(distinct) <= max(2, facts.values // 5):
        return roles.DIMENSION, None
    return roles.LABEL, None


def period_candidates(sources: Iterable[str], facts: dict[str, ColumnFacts],
                      profiles: dict[str, ColumnProfile], key_column: str) -> list[str]:
    """Columns that can be the period, best first: a period header whose values all read as
    periods, or values that are school years / quarters whatever the header."""
    found = []
    for source in sources:
        if source == key_column:
            continue
        f = facts[source]
        if not _all_periods(f):
            continue
        kinds = f.period_kinds or set()
        if period_header(source) or (kinds and kinds <= set(_SELF_EVIDENT)):
            found.append(source)
    return sorted(found, key=_period_rank)


# --------------------------------------------------------------------------- dictionary

class ModelError(ValueError):
    """A declared role or layout the data contradict (French message, with examples)."""

    def __init__(self, message: str, code: str = "column-model"):
        super().__init__(message)
        self.code = code


def dictionary_parts(data_dictionary: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(column entries, layout options) of a data dictionary: a JSON list of columns, or an
    object ``{"columns": [...], "layout": {...}}`` (text or already parsed)."""
    if isinstance(data_dictionary, str):
        try:
            data_dictionary = json.loads(data_dictionary) if data_dictionary.strip() else []
        except ValueError:
            return [], {}
    if isinstance(data_dictionary, dict):
        entries = data_dictionary.get("columns") or []
        layout = data_dictionary.get("layout") or {}
        return (entries if isinstance(entries, list) else []), (layout if isinstance(layout, dict) else {})
    if isinstance(data_dictionary, list):
        return data_dictionary, {}
    return [], {}


def entry_for(entries: dict[str, dict[str, Any]], source: str) -> dict[str, Any]:
    return entries.get(source) or entries.get(normalise_header(source)) or {}


def examples(values: Iterable[Any], limit: int = 3) -> str:
    shown = [f"« {v} »" for v in list(values)[:limit]]
    return ", ".join(shown)


# --------------------------------------------------------------------------- reading a model

def coverage_threshold() -> float:
    """Share of the establishments (or communes) concerned a territory figure needs to be shown
    (``ckanext.ecarto.coverage_threshold``, default 0.5)."""
    configured = tk.config.get(COVERAGE_OPTION)
    try:
        value = float(DEFAULT_COVERAGE if configured in (None, "") else configured)
    except (TypeError, ValueError):
        return DEFAULT_COVERAGE
    return min(max(value, 0.0), 1.0)


def layout_of(res: dict[str, Any]) -> dict[str, Any]:
    layout = res.get("layout")
    if isinstance(layout, str):
        try:
            layout = json.loads(layout)
        except ValueError:
            layout = None
    return layout if isinstance(layout, dict) else {}


def has_period_columns(res: dict[str, Any]) -> bool:
    """Whether the table has ``_periode``/``_periode_ordre`` (every table loaded with the
    column model; not those loaded before it)."""
    return bool(layout_of(res))


def period_of(res: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The period of the table's rows (``layout.period``), None when the file has none."""
    return layout_of(res).get("period") or None


def value_columns(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The columns a reader shows: not the key, not the internal columns."""
    return [c for c in res.get("columns") or []
            if c.get("name") not in INTERNAL and not str(c.get("name", "")).startswith("_")
            and c.get("role") != roles.KEY and c.get("source") != res.get("key_column")]


def role_of(col: dict[str, Any]) -> str:
    """The column's role; tables loaded before the column model: measures are their numbers."""
    role = col.get("role")
    if role in roles.ROLES:
        return role
    if col.get("type") in ("integer", "number"):
        return roles.MEASURE
    if col.get("type") == "boolean":
        return roles.FLAG
    return roles.LABEL


def by_role(res: dict[str, Any], *wanted: str) -> list[dict[str, Any]]:
    return [c for c in value_columns(res) if role_of(c) in wanted]


def series_key(res: dict[str, Any], col: dict[str, Any]) -> str:
    """One measure across the resources of a series: the axis indicator it feeds, else the
    dataset and the column's normalised name (a yearly file per resource is one series)."""
    if col.get("indicator"):
        return f"ind:{col['indicator']}"
    return f"col:{res.get('package_id')}:{normalise_header(col.get('source') or col.get('name') or '')}"


def latest_period_label(res: dict[str, Any]) -> Optional[str]:
    period = period_of(res)
    if period:
        return period.get("latest")
    return res.get("millesime")


def millesime_period(millesime: Optional[str]) -> Optional[Period]:
    """The period of a resource without a period column: its millésime, when it reads as one."""
    return parse_period(millesime) if millesime else None


# --------------------------------------------------------------------------- describing a table

@dataclass
class Description:
    """The column model of a table being loaded (see ``describe``)."""

    columns: list[dict[str, Any]]
    period_source: Optional[str] = None     # header of the period column (not with a reshape)
    period_declared: bool = False
    guarded_measures: list[str] = field(default_factory=list)  # declared measures with text cells
    # of those, the ones the axis Table Schema made measures (not the publisher): mostly text,
    # they fall back to text instead of refusing the file
    schema_measures: set[str] = field(default_factory=set)
    missing_means_no: set[str] = field(default_factory=set)     # flags whose empty cell means "non"
    warnings: list[str] = field(default_factory=list)


FLAG_TRUE = frozenset({"1", "oui", "true", "vrai", "o"})
FLAG_FALSE = frozenset({"0", "non", "false", "faux", "n"})


def _declared_role(entry: dict[str, Any], source: str, warnings: list[str]) -> Optional[str]:
    role = entry.get("role")
    if not role:
        return None
    if role in roles.ROLES and role != roles.KEY:
        return role
    warnings.append(_("rôle « {role} » inconnu pour la colonne « {column} » (rôles : {roles})").format(
        role=role, column=source, roles=", ".join(r for r in roles.ROLES if r != roles.KEY)))
    return None


def _type_for(role: str, profile: ColumnProfile, entry: dict[str, Any]) -> str:
    allowed = profile.allowed()
    declared = entry.get("type")
    if role == roles.MEASURE:
        if declared in ("integer", "number") and declared in allowed:
            return declared
        return "integer" if "integer" in allowed and not profile.leading_zero else "number"
    if role == roles.FLAG:
        return "boolean"
    if declared in allowed and declared in ("string", "date"):
        return declared
    if role in (roles.LABEL, roles.DIMENSION) and profile.inferred() == "date":
        return "date"
    return "string"


def _schema_role(schema_field: Optional[dict[str, Any]], key_kind: str) -> Optional[tuple[str, Optional[str]]]:
    """The role an axis Table Schema field gives a column (its indicators only)."""
    if not schema_field or not schema_field.get("indicator"):
        return None
    kind = schema_field.get("type")
    if kind in ("integer", "number"):
        return roles.MEASURE, ("sum" if key_kind == "commune" else "mean")
    if kind == "boolean":
        return roles.FLAG, "share"
    return None


def describe(out: dict[str, str], profiles: dict[str, ColumnProfile], facts: dict[str, ColumnFacts], *,
             key_column: str, key_kind: str, entries: dict[str, dict[str, Any]], reshaped: bool,
             field_sources: Iterable[str] = (), axe: Optional[str] = None) -> Description:
    """The column model of a table: role, type, aggregation and labels of each column
    (``out``: source header -> SQL name), the period column chosen, and what the loader must
    still check in the data (declared measures holding text). Raises ``ModelError`` when a
    declared role contradicts the values."""
    warnings: list[str] = []
    fields = set(field_sources)
    declared = {s: _declared_role(entry_for(entries, s), s, warnings) for s in out}
    period_source, period_declared = None, False
    if not reshaped:
        named = [s for s, role in declared.items() if role == roles.PERIOD]
        if len(named) > 1:
            raise ModelError(_("le dictionnaire déclare plusieurs colonnes de période ({columns}) : une seule "
                               "est possible").format(columns=examples(named, 5)))
        if named:
            period_source, period_declared = named[0], True
        else:
            candidates = [s for s in period_candidates(out, facts, profiles, key_column) if declared.get(s) is None]
            period_source = candidates[0] if candidates else None
    description = Description(columns=[], period_source=period_source, period_declared=period_declared,
                              warnings=warnings)
    for source, name in out.items():
        if source == period_source:
            continue
        entry = entry_for(entries, source)
        profile, fact = profiles[source], facts[source]
        is_key = source == key_column
        role, aggregation = infer_role(source, profile, fact, key=is_key, key_kind=key_kind, n_rows=0)
        if source in fields and role == roles.MEASURE and fact.values == 0:
            role = roles.MEASURE
        origin = "reshape" if source in fields else "inferred"
        if role == roles.PERIOD or (not is_key and not reshaped and period_source is not None
                                    and _all_periods(fact) and period_header(source)):
            role, aggregation = roles.CODE, None  # another period-like column: kept as text
        schema_field = None if is_key else schema_fields.field_for(axe, source)
        by_schema = _schema_role(schema_field, key_kind)
        if by_schema is not None and role != by_schema[0] and role in (roles.MEASURE, roles.FLAG, roles.LABEL,
                                                                         roles.DIMENSION):
            role, aggregation = by_schema
            origin = "schema"
            if role == roles.MEASURE and "number" not in profile.allowed() and fact.values:
                description.guarded_measures.append(source)
                description.schema_measures.add(source)
            if role == roles.FLAG and not _flag_values(fact, profile):
                role, aggregation, origin = roles.LABEL, None, "inferred"
        if schema_field:
            entry = {"label": schema_field.get("title"), "unit": schema_field.get("unit"),
                     "indicator": schema_field.get("indicator"), **{k: v for k, v in entry.items() if v}}
        wanted = declared.get(source)
        if wanted and not is_key:
            role, origin = wanted, "dictionary"
            description.schema_measures.discard(source)
            aggregation = entry.get("aggregation") or (
                "share" if role == roles.FLAG else ("sum" if key_kind == "commune" else "mean")
                if role == roles.MEASURE else None)
            _check_declared(source, role, profile, fact, description)
        elif entry.get("aggregation") and role == roles.MEASURE:
            aggregation = entry["aggregation"]
        if aggregation is not None and aggregation not in AGGREGATIONS:
            warnings.append(_("agrégation « {a} » inconnue pour la colonne « {c} » ({known})").format(
                a=aggregation, c=source, known=", ".join(AGGREGATIONS)))
            aggregation = "share" if role == roles.FLAG else "mean"
        if role == roles.FLAG and only_yes(fact):
            description.missing_means_no.add(source)
        kind = "string" if is_key else _type_for(role, profile, entry)
        description.columns.append({
            "name": name, "source": source, "label": entry.get("label") or source, "type": kind,
            "unit": entry.get("unit"), "indicator": entry.get("indicator"),
            "description": entry.get("description"), "role": role, "aggregation": aggregation,
            "origin": origin,
        })
    return description


def _check_declared(source: str, role: str, profile: ColumnProfile, fact: ColumnFacts,
                    description: Description) -> None:
    if role == roles.MEASURE and "number" not in profile.allowed() and fact.values \
            and source not in description.guarded_measures:
        description.guarded_measures.append(source)
    if role == roles.FLAG and fact.values:
        distinct = fact.distinct_values()
        lowered = {v.lower() for v in distinct} if distinct is not None else None
        if lowered is None or not lowered <= FLAG_TRUE | FLAG_FALSE:
            odd = sorted(v for v in (distinct or set(profile.examples))
                         if v.lower() not in FLAG_TRUE | FLAG_FALSE)
            raise ModelError(_("la colonne « {column} » est déclarée oui/non mais contient d'autres valeurs "
                               "(par exemple {examples}) : rien n'a été chargé ni remplacé").format(
                column=source, examples=examples(odd or profile.examples)))


def flag_sql(ref: str, missing_means_no: bool) -> str:
    """SQL turning a yes/no text cell into a boolean (an empty cell: NULL, or false when the
    column only ever says yes, as Arcep's ``1``/``-`` flags)."""
    true = ", ".join(f"'{v}'" for v in sorted(FLAG_TRUE))
    false = ", ".join(f"'{v}'" for v in sorted(FLAG_FALSE))
    otherwise = "false" if missing_means_no else "NULL"
    return (f"CASE WHEN lower({ref}) IN ({true}) THEN true WHEN lower({ref}) IN ({false}) THEN false "
            f"ELSE {otherwise} END")
