"""The four axes of the digital school and their indicators, read from the per-axis Table
Schemas (`schemas/tableschema/<axe>.json`), the single source of truth shared with the
collectivités' validation and the dataset forms."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ckanext.ecarto.core.axes import AXIS_LABELS, INDICATOR_AXES
from ckanext.ecarto.etablissements.identity import normalise_header
from ckanext.ecarto.ingest import schema_fields

# (id, French label) of the axes that have indicators, in the portal's order.
AXES: tuple[tuple[str, str], ...] = tuple((axe, AXIS_LABELS[axe]) for axe in INDICATOR_AXES)

TABLESCHEMA_DIR = schema_fields.SCHEMA_DIR

# Key columns are how rows join, not indicators.
KEY_FIELDS = set(schema_fields.NOT_INDICATORS)


@dataclass(frozen=True)
class Indicator:
    id: str
    axe: str
    label: str
    type: str = "number"
    unit: Optional[str] = None
    description: Optional[str] = None
    aliases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def numeric(self) -> bool:
        return self.type in {"number", "integer"}


def _schema_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for axe, _label in AXES:
        for candidate in (TABLESCHEMA_DIR / f"{axe}.json", TABLESCHEMA_DIR / axe / "schema.json"):
            if candidate.exists():
                found[axe] = candidate
                break
    return found


@functools.lru_cache(maxsize=1)
def indicators() -> dict[str, tuple[Indicator, ...]]:
    """axe -> its indicators, in the Table Schema's order."""
    result: dict[str, tuple[Indicator, ...]] = {axe: () for axe, _ in AXES}
    for axe, path in _schema_files().items():
        schema = json.loads(path.read_text(encoding="utf-8"))
        items = []
        for fdef in schema.get("fields", []):
            name = fdef.get("name", "")
            if normalise_header(name) in KEY_FIELDS:
                continue
            items.append(Indicator(
                id=name, axe=axe, label=fdef.get("title") or name, type=fdef.get("type", "string"),
                unit=fdef.get("unit") or fdef.get("x-unit") or fdef.get("unite"),
                description=fdef.get("description"),
                aliases=tuple(normalise_header(a) for a in fdef.get("x-aliases", fdef.get("aliases", []))),
            ))
        result[axe] = tuple(items)
    return result


@functools.lru_cache(maxsize=4096)
def indicator_for_column(axe: Optional[str], column: str, declared: Optional[str] = None) -> Optional[Indicator]:
    """The axis indicator a resource column feeds: the data dictionary's `indicator` when
    declared, else a column named like the indicator (or one of its aliases). Cached: the Table
    Schemas are read once, and a page asks for every column of every source."""
    wanted = normalise_header(declared or column)
    # the dataset's own axis first: a survey like ETIC feeds several axes
    axes = ([axe] if axe in dict(AXES) else []) + [a for a, _ in AXES if a != axe]
    for name in axes:
        for ind in indicators().get(name, ()):
            if normalise_header(ind.id) == wanted or wanted in ind.aliases:
                return ind
    return None
