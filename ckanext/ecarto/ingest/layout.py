"""Layouts normalised at ingestion: the same reshape for harvested and uploaded files.

Two layouts of the real files are turned into one row per key and period:

- **periods spread over columns** (Arcep: ``Code commune,Champ,T3 2017,T4 2017,T1 2018``;
  ``code_commune;2019;2020;2021``): headers that read as periods (at least two) become rows,
  the header being the row's period;
- **a field column** (``Champ``, ``Indicateur``, ``Variable``…): each of its values becomes a
  measure column of its own (``Locaux Raccordables`` -> ``locaux_raccordables``), the cells of
  the period columns (or of a ``Valeur`` column) being its values.

Detected from the headers, or declared in the data dictionary's ``layout``
(``{"periods_from_columns": [...] | true | false, "field_column": "Champ", "value_column": "Valeur"}``).
The reshape is recorded in the registry's ``layout`` (``reshape``) and the original file stays
downloadable unchanged: only the table the pages read is reshaped.

Each chunk is melted here (row by row, so a file's order does not matter); rows of one key and
period are brought together by the loader's typed ``INSERT … SELECT … GROUP BY``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest.coltypes import MAX_NAME, normalise_header
from ckanext.ecarto.ingest.columns import ModelError, Period, parse_period

PERIOD_SOURCE = "_periode_src"
# Headers of a column whose values name the measure of the row.
FIELD_HEADERS = frozenset({"champ", "indicateur", "variable", "mesure", "nom_indicateur",
                           "libelle_indicateur", "code_indicateur", "field"})
VALUE_HEADERS = frozenset({"valeur", "value", "valeurs", "val"})
MAX_FIELDS = 60


@dataclass
class Reshape:
    """How the rows of one file are melted (see the module docstring)."""

    period_columns: list[str]
    periods: dict[str, Period]
    field_column: Optional[str]
    value_column: Optional[str]
    id_columns: list[str]
    fields: dict[str, str] = field(default_factory=dict)  # field value -> SQL column name
    used_names: set[str] = field(default_factory=set)

    def record(self) -> dict[str, Any]:
        """What the registry keeps of the reshape (``layout.reshape``)."""
        return {"periods_from_columns": list(self.period_columns), "field_column": self.field_column,
                "value_column": self.value_column, "fields": dict(self.fields)}

    def name_for(self, value: str) -> str:
        """The SQL column of a field value (new names are unique among the table's)."""
        if value in self.fields:
            return self.fields[value]
        if len(self.fields) >= MAX_FIELDS:
            raise ModelError(_("la colonne « {column} » a plus de {n} valeurs différentes : ce n'est pas une "
                               "colonne de champs (indiquez la mise en forme dans le dictionnaire des "
                               "données)").format(column=self.field_column, n=MAX_FIELDS), code="reshape")
        base = normalise_header(value)[:MAX_NAME] or f"champ_{len(self.fields) + 1}"
        if base[0].isdigit():
            base = f"c_{base}"[:MAX_NAME]
        name, n = base, 1
        while name in self.used_names or name.startswith("_"):
            n += 1
            name = f"{base[:MAX_NAME - len(str(n)) - 1]}_{n}"
        self.used_names.add(name)
        self.fields[value] = name
        return name


def _find(headers: list[str], wanted: Optional[str]) -> Optional[str]:
    if not wanted:
        return None
    if wanted in headers:
        return wanted
    norm = normalise_header(wanted)
    return next((h for h in headers if normalise_header(h) == norm), None)


def plan(headers: list[str], key_column: str, options: dict[str, Any],
         id_sql_names: dict[str, str]) -> Optional[Reshape]:
    """The reshape of a file with these headers, or None (the file is read as it is).

    ``options``: the data dictionary's ``layout``; ``id_sql_names``: the SQL names of the
    headers (a new field column never takes one of them)."""
    declared = options.get("periods_from_columns")
    if declared is False or options.get("reshape") is False:
        return None
    periods: dict[str, Period] = {}
    if isinstance(declared, list):
        for header in declared:
            found = _find(headers, str(header))
            period = parse_period(found) if found else None
            if found is None or period is None:
                raise ModelError(_("mise en forme déclarée : la colonne de période « {column} » est absente ou ne "
                                   "se lit pas comme une période").format(column=header), code="reshape")
            periods[found] = period
    else:
        for header in headers:
            if header == key_column:
                continue
            period = parse_period(header)
            if period is not None:
                periods[header] = period
        if len(periods) < 2 and declared is not True:
            periods = {}
    field_column = _find(headers, options.get("field_column")) or next(
        (h for h in headers if normalise_header(h) in FIELD_HEADERS and h != key_column), None)
    if options.get("field_column") and field_column is None:
        raise ModelError(_("mise en forme déclarée : la colonne de champs « {column} » est absente").format(
            column=options["field_column"]), code="reshape")
    value_column = None
    if not periods:
        if field_column is None:
            return None
        value_column = _find(headers, options.get("value_column")) or next(
            (h for h in headers if normalise_header(h) in VALUE_HEADERS), None)
        if value_column is None:
            return None  # a "champ" column without values to spread: a dimension, kept as is
    consumed = set(periods) | {field_column, value_column}
    id_columns = [h for h in headers if h not in consumed]
    reshape = Reshape(period_columns=list(periods), periods=periods, field_column=field_column,
                      value_column=value_column, id_columns=id_columns)
    reshape.used_names = {id_sql_names[h] for h in id_columns}
    return reshape


def melt(reshape: Reshape, frame: pd.DataFrame, rows: Any) -> tuple[pd.DataFrame, list[str]]:
    """The chunk's rows melted: ``_row`` (the source row), ``_periode_src`` (a period header, or
    None), the id columns (by source header) and one column per field (SQL name; all cells of
    other fields empty). Returns (frame, new field SQL names seen in this chunk)."""
    before = set(reshape.fields.values())
    parts = []
    sources = reshape.period_columns or [reshape.value_column]
    for source in sources:
        part = frame[reshape.id_columns].copy()
        part.insert(0, "_row", rows)
        part.insert(1, PERIOD_SOURCE, pd.Series([source if reshape.period_columns else None] * len(part),
                                                index=part.index, dtype=object))
        values = frame[source]
        if reshape.field_column is None:
            name = reshape.name_for(_("valeur")) if not reshape.fields else next(iter(reshape.fields.values()))
            part[name] = pd.Series(values.to_numpy(dtype=object), index=part.index, dtype=object)
        else:
            labels = frame[reshape.field_column]
            for value in pd.unique(labels.dropna()):
                reshape.name_for(str(value))
            cells = values.to_numpy(dtype=object)
            label_cells = labels.to_numpy(dtype=object)
            for value, name in reshape.fields.items():
                part[name] = pd.Series(np.where(label_cells == value, cells, None), index=part.index, dtype=object)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    new = [n for n in reshape.fields.values() if n not in before]
    return out, new
