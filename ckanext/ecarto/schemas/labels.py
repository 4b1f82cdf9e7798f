"""French labels of the codes a dataset carries (axis, territory level and code, update
frequency), for the catalogue's facets and the dataset page: people read « Connectivité »,
« Département », « Occitanie (région 76) », never `connectivite`, `departement`, `76`.

Every label is a msgid of the portal's catalogue, translated where it is shown; an unknown code
(a harvested or hand-made value) is shown as it is, never an error.
"""
from __future__ import annotations

from typing import Any, Optional

from ckanext.ecarto.core.axes import AXIS_LABELS, FREQUENCIES, FREQUENCY_BASE
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import record

# Territory facet values: `<level>-<code>`, `france` for the whole country (a code alone is
# ambiguous: 76 is Occitanie as a région and Seine-Maritime as a département).
TERRITORY_SEPARATOR = "-"


def axis_label(axe: Optional[str]) -> str:
    """« Connectivité » for `connectivite`; an unknown value as it is."""
    if not axe:
        return ""
    label = AXIS_LABELS.get(str(axe))
    return _(label) if label else str(axe)


def level_label(level: Optional[str]) -> str:
    """« Département » for `departement`; an unknown value as it is."""
    if not level:
        return ""
    label = territories.LEVEL_LABELS.get(str(level))
    return _(label) if label else str(level)


def territory_of(level: Optional[str], code: Optional[str]) -> Optional[territories.Territory]:
    """The territory a dataset declares, or None (no level, unknown code)."""
    if not level or not isinstance(level, str):
        return None
    try:
        return territories.get(level, code if isinstance(code, str) else None)
    except (TypeError, ValueError):
        return None


def territory_label(territory: territories.Territory) -> str:
    """« Occitanie (région 76) », « Toulouse (académie 16) », « France »."""
    if territory.level == territories.FRANCE:
        return _("France")
    return "{name} ({level} {code})".format(name=territory.name, level=level_label(territory.level).lower(),
                                            code=territory.code)


def territory_path(territory: territories.Territory) -> str:
    """The territory's page on the portal (/territoire/region/76)."""
    return record.path(territory)


def territory_facet_value(level: Optional[str], code: Optional[str]) -> str:
    """The indexed territory value of a dataset (`region-76`, `france`), "" when it declares
    none or an unknown one."""
    territory = territory_of(level, code)
    if territory is None:
        return ""
    if territory.level == territories.FRANCE:
        return territories.FRANCE
    return f"{territory.level}{TERRITORY_SEPARATOR}{territory.code}"


def territory_of_facet_value(value: Any) -> Optional[territories.Territory]:
    """The territory of an indexed value (`region-76`), None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    level, _sep, code = value.partition(TERRITORY_SEPARATOR)
    return territory_of(level, code)


def frequency_label(value: Optional[str]) -> str:
    """« Trimestrielle » for the EU frequency URI (or its bare code); unknown values as they are."""
    if not value:
        return ""
    text = str(value)
    code = text[len(FREQUENCY_BASE):] if text.startswith(FREQUENCY_BASE) else text
    label = FREQUENCIES.get(code.upper())
    return _(label) if label else text
