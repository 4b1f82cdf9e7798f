"""Column mapping of harvested tables to the axes' indicators, ETIC survey included.

No real ETIC file (enquête « technologies de l'information et de la communication » of the
ministry) is reachable from this project: the mapping is built from the variables the 2018
eCarto report documents (``ecarto-data-dictionary.md``). Most of them are already the
``x-aliases`` of the per-axis Table Schemas (``schemas/tableschema/<axe>.json``), read through
``etablissements.axes``; the ETIC variables below have no alias there (the access-type flags of
the connectivity axis, spelled as in the report and as Opendatasoft would name them).

The harvesters turn the remote field list (Opendatasoft ``fields``: name, label, type) into the
resource's ``data_dictionary`` so that each column feeds its indicator on the establishment
pages, whatever the export's header (technical name or label).
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ckanext.ecarto.etablissements import axes
from ckanext.ecarto.etablissements.identity import normalise_header
from ckanext.ecarto.harvesters.mapping import annotation_text

# Documented ETIC variable (report wording or technical spelling) -> (axis, indicator id).
ETIC_VARIABLES: dict[str, tuple[str, str]] = {
    "Accès RTC": ("connectivite", "acces_rtc"),
    "AccesRTC": ("connectivite", "acces_rtc"),
    "Accès câble-fibre": ("connectivite", "acces_fibre_cable"),
    "Accès câble fibre": ("connectivite", "acces_fibre_cable"),
    "AccesCableFibre": ("connectivite", "acces_fibre_cable"),
    "Accès ADSL": ("connectivite", "acces_adsl"),
    "AccesADSL": ("connectivite", "acces_adsl"),
    "Débit effectif max": ("connectivite", "debit_effectif_max"),
    "MaxDebitEffectif": ("connectivite", "debit_effectif_max"),
    "Part des classes avec internet": ("connectivite", "part_classes_connectees"),
    "Nombre terminaux de moins de 5 ans": ("equipement", "nb_terminaux_moins_5_ans"),
    "Nombre de TBI": ("equipement", "nb_tni"),
    "Proportion des classes avec TBI": ("equipement", "part_classes_tbi"),
    "Nombre d'imprimantes 3D": ("equipement", "nb_imprimantes_3d"),
    "ENT": ("services_ressources", "ent"),
    "Enseignant referent numerique": ("services_ressources", "enseignant_referent"),
}
_BY_NORM = {normalise_header(k): v for k, v in ETIC_VARIABLES.items()}

# Opendatasoft field types -> data dictionary types (logic/validators.DICTIONARY_TYPES).
ODS_TYPES = {"int": "integer", "double": "number", "text": "string", "date": "date",
             "boolean": "boolean"}


def indicator_for(axe: Optional[str], *names: Optional[str]) -> Optional[axes.Indicator]:
    """The indicator a column feeds, from its names (header, label, technical name): the ETIC
    variables above first, then the axes' Table Schemas (the dataset's axis first)."""
    for name in names:
        if not name:
            continue
        found = _BY_NORM.get(normalise_header(name))
        if found:
            indicator = next((i for i in axes.indicators().get(found[0], ()) if i.id == found[1]), None)
            if indicator is not None:
                return indicator
    for name in names:
        if not name:
            continue
        indicator = axes.indicator_for_column(axe, name)
        if indicator is not None:
            return indicator
    return None


def data_dictionary(fields: Iterable[dict[str, Any]], axe: Optional[str], *,
                    header: str = "label") -> list[dict[str, Any]]:
    """Data dictionary of an Opendatasoft export from the dataset's ``fields``.

    `header` says which name the export's header carries (``label`` with ``use_labels=true``,
    else ``name``)."""
    entries: list[dict[str, Any]] = []
    for field in fields or []:
        name = str(field.get("name") or "").strip()
        label = str(field.get("label") or "").strip() or name
        if not name:
            continue
        entry: dict[str, Any] = {"column": label if header == "label" else name, "label": label,
                                 "type": ODS_TYPES.get(str(field.get("type") or ""), "string")}
        annotations = field.get("annotations")
        unit = annotation_text(annotations.get("unit")) if isinstance(annotations, dict) else None
        if unit:
            entry["unit"] = unit
        description = field.get("description")
        if isinstance(description, str) and description.strip():
            entry["description"] = description.strip()
        indicator = indicator_for(axe, label, name)
        if indicator is not None:
            entry["indicator"] = indicator.id
            # the indicator's type wins over the export's: ETIC flags are published as text (oui/non)
            if indicator.type in ("string", "integer", "number", "boolean", "date"):
                entry["type"] = indicator.type
            if indicator.unit and "unit" not in entry:
                entry["unit"] = indicator.unit
        entries.append(entry)
    return entries
