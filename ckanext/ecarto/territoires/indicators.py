"""What a territory page shows: series, breakdowns, legend classes, the 2018 report's figures.

A **series** is one measure (or yes/no flag) of the public ingested data, read through the
column model (``ingest/columns.py``): only ``measure`` and ``flag`` columns make series, never
periods, codes, labels or dimensions. A measure published in several resources of one series
(a national file and regional complements, a collectivité's yearly files: same declared
indicator or Table Schema field, or same dataset and same column — ``columns.series_key``) is
**one** series with several sources; within a period, each establishment or commune has one
value (the most recently loaded resource wins a conflict).

- UAI-keyed resources (ETIC-like surveys, IPS…): one value per establishment and period,
  aggregated over the establishments of the directory in the territory. The universe of a
  series is the establishments of the types and sectors the sources cover (a survey of public
  establishments says nothing about private ones): ``n`` counts them, ``k`` those with a value;
  the n.c. share is ``1 - k / n``. Statistic: the mean (or the sum when the column model says
  so) or the share of "yes" (flags);
- commune-keyed resources (Arcep…): one row per commune and period, summed over the communes
  of the territory (n.c.: communes of the territory without a value);
- ratios of two columns of the same resource (mobile terminals / terminals, premises eligible
  to 30 Mbit/s / premises…): sum of the numerator over sum of the denominator, both known.

Aggregates are computed **per period** (the rows' ``_periode``, or the resource's millésime);
the headline is the latest period. A figure covering fewer than ``columns.coverage_threshold()``
of the establishments (or communes) concerned is "n.c. — couverture insuffisante (k sur n)".

No ranking: a value is shown with its parent territory's and France's, never a position.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from ckanext.ecarto.etablissements.identity import normalise_header

# Breakdowns ("dimensions") of a UAI-keyed series; communes only get the first four.
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("ensemble", "Ensemble"),
    ("type:ecole", "Écoles"),
    ("type:college", "Collèges"),
    ("type:lycee", "Lycées"),
    ("lycee:LGT", "Lycées généraux et technologiques"),
    ("lycee:LP", "Lycées professionnels"),
    ("secteur:public", "Public"),
    ("secteur:prive", "Privé"),
    ("ep:REP+", "REP+"),
    ("ep:REP", "REP"),
    ("ep:hors", "Hors éducation prioritaire"),
)
DIMENSION_LABELS = dict(DIMENSIONS)
TYPE_DIMENSIONS = ("ensemble", "type:ecole", "type:college", "type:lycee")

STATISTICS = {
    "moyenne": "moyenne par établissement",
    "part": "part des établissements (oui)",
    "ratio": "rapport des sommes",
    "somme": "somme sur les communes",
    "part_communes": "part des communes (oui)",
}
# The same statistics on the other base (a sum over establishments, a mean per commune).
STATISTICS_OTHER_BASE = {"somme": "somme sur les établissements", "moyenne": "moyenne par commune"}
# The column model's aggregation -> the statistic of a series, per key kind.
STATISTIC_OF = {("sum", "uai"): "somme", ("sum", "commune"): "somme", ("mean", "uai"): "moyenne",
                ("mean", "commune"): "moyenne", ("share", "uai"): "part", ("share", "commune"): "part_communes"}

# Columns that are codes or identifiers, never indicators, even when stored as numbers: only
# for tables loaded before the column model (their columns have no role).
_CODE_PREFIXES = ("code", "siren", "siret", "id", "numero", "num_", "no_", "cog", "insee")

# (numerator, denominator, label, unit): matched on the axis indicator id or the normalised
# source column name, both in the same resource.
RATIOS: tuple[tuple[str, str, str, str], ...] = (
    ("nb_terminaux_mobiles", "nb_terminaux", "Part des terminaux mobiles", "%"),
    ("nb_terminaux_moins_5_ans", "nb_terminaux", "Part des terminaux de moins de 5 ans", "%"),
    ("nb_tablettes", "nb_terminaux", "Part des tablettes parmi les terminaux", "%"),
    ("elig_thd30", "nbr", "Part des locaux éligibles à 30 Mbit/s ou plus (très haut débit)", "%"),
    ("elig_thd100", "nbr", "Part des locaux éligibles à 100 Mbit/s ou plus", "%"),
    ("elig_thd1g", "nbr", "Part des locaux éligibles à 1 Gbit/s", "%"),
    ("elig_ftth", "nbr", "Part des locaux éligibles à la fibre (FttH)", "%"),
    ("nbr_elig_8", "nbr", "Part des locaux éligibles à 8 Mbit/s ou plus", "%"),
)

# Thresholds counted per series (share of establishments above), e.g. the 2018 report's
# "more than half of the classrooms connected".
THRESHOLDS: dict[str, float] = {"part_classes_connectees": 50.0, "part_classes_tbi": 50.0}


def is_code_column(source: str) -> bool:
    name = normalise_header(source)
    return name.startswith(_CODE_PREFIXES) or name.endswith(("_code", "_id")) or "siren" in name


@dataclass
class Series:
    """One series, as stored in ``territoire_serie``. ``resource_id``… ``y_type`` describe its
    primary source (the most recently loaded); ``sources`` all of them."""

    serie: str
    key_kind: str                      # uai | commune
    resource_id: str
    package_id: str
    package_name: str
    package_title: str
    organization: Optional[str]
    millesime: Optional[str]
    axe: str
    indicateur: Optional[str]          # axis indicator id (Table Schemas) when the column feeds one
    label: str
    unit: Optional[str]
    statistique: str
    table_name: str
    x_column: str                      # SQL column (numerator for ratios)
    x_type: str
    y_column: Optional[str] = None     # denominator of a ratio
    y_type: Optional[str] = None
    colonne: str = ""                  # source header(s), for the reader
    seuil: Optional[float] = None
    universe: list[str] = field(default_factory=list)   # unused since version 2 (universes per period, in SQL)
    cle: str = ""                      # columns.series_key of the measure
    # every source: {resource_id, table_name, x_column, x_type, y_column, y_type, package_id,
    # package_name, package_title, organization, millesime, loaded_at, periodes: [labels], k}
    sources: list[dict[str, Any]] = field(default_factory=list)
    # every period, oldest first: {periode: label|None, ordre: YYYYMMDD|None, n, k} (France)
    periodes: list[dict[str, Any]] = field(default_factory=list)
    periode_courante: Optional[str] = None     # label of the headline period ("" : none named)
    periode_raison: Optional[str] = None       # why there is no current period (unorderable)
    periode_libelle: Optional[str] = None      # what the periods are ("rentrée scolaire"…)

    def statistic_label(self) -> str:
        if (self.key_kind, self.statistique) in (("uai", "somme"), ("commune", "moyenne")):
            return STATISTICS_OTHER_BASE.get(self.statistique, STATISTICS.get(self.statistique, self.statistique))
        return STATISTICS.get(self.statistique, self.statistique)

    def as_public(self) -> dict[str, Any]:
        return {
            "serie": self.serie, "axe": self.axe, "indicateur": self.indicateur, "libelle": self.label,
            "unite": self.unit, "statistique": self.statistique,
            "statistique_libelle": self.statistic_label(),
            "base": "communes" if self.key_kind == "commune" else "etablissements",
            "colonne": self.colonne, "seuil": self.seuil,
            "source": {"dataset": self.package_name, "dataset_title": self.package_title,
                       "resource_id": self.resource_id, "producteur": self.organization,
                       "millesime": self.millesime},
            "sources": [{"dataset": s.get("package_name"), "dataset_title": s.get("package_title"),
                         "resource_id": s.get("resource_id"), "resource_name": s.get("resource_name"),
                         "producteur": s.get("organization"),
                         "millesime": s.get("millesime"), "periodes": s.get("periodes") or [],
                         ("n_communes" if self.key_kind == "commune" else "n_etablissements"): s.get("k", 0)}
                        for s in self.sources],
            "millesime": self.millesime,
            "periode": self.periode_courante or None,
            "periode_libelle": self.periode_libelle,
            "periodes": [p.get("periode") for p in self.periodes],
        }


def display_value(statistique: str, valeur: Optional[float], unit: Optional[str]) -> Optional[float]:
    """Shares and ratios are shown in percent."""
    if valeur is None:
        return None
    if statistique in {"part", "part_communes"} or (statistique == "ratio" and unit == "%"):
        return round(valeur * 100, 1)
    return round(valeur, 2)


def display_unit(statistique: str, unit: Optional[str]) -> Optional[str]:
    if statistique in {"part", "part_communes"} or (statistique == "ratio" and unit == "%"):
        return "%"
    return unit


def classes(values: list[float], n_classes: int = 5) -> list[float]:
    """Upper bounds of legend classes (quantiles of the values, deduplicated and rounded so the
    legend reads well). Few distinct values: one class each."""
    vals = sorted(v for v in values if v is not None and not math.isnan(v))
    if not vals:
        return []
    distinct = sorted(set(vals))
    if len(distinct) <= n_classes:
        return distinct
    bounds: list[float] = []
    for i in range(1, n_classes + 1):
        q = vals[min(len(vals) - 1, math.ceil(i * len(vals) / n_classes) - 1)]
        q = _nice(q, vals[-1] - vals[0])
        if not bounds or q > bounds[-1]:
            bounds.append(q)
    bounds[-1] = max(bounds[-1], vals[-1])
    return bounds


def _nice(value: float, spread: float) -> float:
    if spread <= 0:
        return value
    digits = max(0, 2 - int(math.floor(math.log10(spread))))
    return round(value, digits)


# --------------------------------------------------------------------------- the 2018 report

@dataclass(frozen=True)
class Figure:
    """A national figure of the 2018 eCarto report, recomputed from the loaded data."""

    id: str
    theme: str
    label: str
    indicator: Optional[str]           # axis indicator id (or normalised column / ratio numerator)
    measure: str                       # part | part_positive | part_above | part_no | moyenne | ratio | eleves_par_unite | count
    by_type: bool = False
    report_2018: str = ""
    denominator: Optional[str] = None  # for ratios
    note: str = ""


FIGURES_2018: tuple[Figure, ...] = (
    Figure("acces_adsl", "Connectivité", "Établissements accédant à internet par l'ADSL", "acces_adsl", "part",
           report_2018="71 % (27 % n.c.)"),
    Figure("acces_fibre", "Connectivité", "Établissements accédant à internet par le câble ou la fibre",
           "acces_fibre_cable", "part", report_2018="23 % (27 % n.c.)"),
    Figure("acces_rtc", "Connectivité", "Établissements accédant à internet par le RTC", "acces_rtc", "part",
           report_2018="10 % (27 % n.c.)"),
    Figure("classes_connectees", "Connectivité", "Établissements dont plus de la moitié des classes sont connectées",
           "part_classes_connectees", "part_above", by_type=True,
           report_2018="77 % (écoles 74 %, collèges 95 %, lycées 93 %)"),
    Figure("thd_etablissements", "Connectivité", "Établissements éligibles au très haut débit (> 30 Mbit/s)", "thd",
           "part", report_2018="carte par département"),
    Figure("thd_locaux", "Connectivité", "Locaux éligibles à 30 Mbit/s ou plus (filaire, Arcep)", "elig_thd30", "ratio",
           denominator="nbr", report_2018="carte par département",
           note="Rapporté aux locaux (logements et entreprises) des communes, et non aux établissements."),
    Figure("couverture_3g", "Connectivité", "Établissements couverts en 3G par au moins un opérateur",
           "nb_operateurs_3g", "part_positive", report_2018="99 %"),
    Figure("couverture_4g", "Connectivité", "Établissements couverts en 4G par au moins un opérateur",
           "nb_operateurs_4g", "part_positive", report_2018="98 %"),
    Figure("sans_wifi", "Connectivité", "Établissements déclarant ne pas avoir de wifi", "wifi", "part_no",
           report_2018="17 % (54 % n.c.)"),
    Figure("eleves_par_terminal", "Équipement", "Élèves par terminal (établissements publics)", "nb_terminaux",
           "eleves_par_unite", by_type=True, report_2018="écoles 16, collèges 5, lycées 3 (17 % n.c.)",
           note="Élèves de l'annuaire rapportés aux terminaux déclarés, établissements ayant les deux."),
    Figure("terminaux_mobiles", "Équipement", "Part des terminaux mobiles", "nb_terminaux_mobiles", "ratio",
           denominator="nb_terminaux", by_type=True, report_2018="écoles 43 %, collèges 25 %, lycées 10 %"),
    Figure("terminaux_recents", "Équipement", "Part des terminaux de moins de 5 ans", "nb_terminaux_moins_5_ans",
           "ratio", denominator="nb_terminaux", by_type=True, report_2018="écoles 31 %, collèges 35 %, lycées 21 %"),
    Figure("maintenance", "Équipement", "Maintenance assurée par la collectivité", "maintenance_collectivite",
           "part", by_type=True, report_2018="écoles 75 %, collèges 68 %, lycées 78 %"),
    Figure("tni", "Équipement", "Établissements ayant au moins un TNI", "nb_tni", "part_positive",
           report_2018="70 %"),
    Figure("imprimantes_3d", "Équipement", "Établissements ayant au moins une imprimante 3D", "nb_imprimantes_3d",
           "part_positive", by_type=True, report_2018="écoles 1 %, collèges 63 %, lycées 47 % (41 % n.c.)"),
    Figure("ent", "Services et ressources", "Établissements disposant d'un ENT", "ent", "part", by_type=True,
           report_2018="85 % des élèves du second degré, 20 % du premier degré",
           note="Part des établissements ; le rapport de 2018 donnait une part d'élèves."),
    Figure("ress_entrainement", "Services et ressources", "Ressources d'entraînement utilisées",
           "ressources_entrainement", "part", report_2018="49 % (46 % n.c.)"),
    Figure("ress_logiciels", "Services et ressources", "Logiciels outils utilisés", "ressources_logiciels_outils",
           "part", report_2018="48 %"),
    Figure("ress_multimedia", "Services et ressources", "Banques de documents multimédias utilisées",
           "ressources_documents_multimedia", "part", report_2018="45 %"),
    Figure("ress_ouvrages", "Services et ressources", "Ouvrages de référence utilisés",
           "ressources_ouvrages_reference", "part", report_2018="27 %"),
    Figure("ress_manuels", "Services et ressources", "Manuels numériques utilisés",
           "ressources_manuels_numeriques", "part", report_2018="26 %"),
    Figure("ress_simulation", "Services et ressources", "Animations scientifiques et simulations utilisées",
           "ressources_simulation", "part", report_2018="25 %"),
    Figure("college_lab", "Expérimentations", "Collèges lab", "college_lab", "count", report_2018="47 collèges"),
    Figure("efran", "Expérimentations", "Établissements des projets e-FRAN", "efran", "count",
           report_2018="419 établissements (21 projets)"),
    Figure("profan", "Expérimentations", "Lycées professionnels de ProFan", "profan", "count",
           report_2018="91 lycées professionnels"),
)
