"""The fields of the axes' Table Schemas (``schemas/tableschema/<axe>.json``) as the ingestion
reads them: a column named like a field (or one of its ``x-aliases``) takes the field's type,
hence its role, title and unit (see ``ingest/columns.py``). The folder and the fields that are
not indicators are defined here for the pages (``etablissements/axes.py``) and the validation
(``validation/tableschema.py``) too."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Optional

from ckanext.ecarto.core.axes import INDICATOR_AXES
from ckanext.ecarto.ingest.coltypes import normalise_header

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "tableschema"
# Fields that say how rows join or when they hold: not indicators.
NOT_INDICATORS = frozenset({"uai", "code_uai", "numero_uai", "identifiant_de_l_etablissement", "code_commune",
                            "commune", "code_insee", "millesime", "annee", "rentree_scolaire",
                            "nom_etablissement"})


@functools.lru_cache(maxsize=None)
def _fields(axe: str) -> tuple[dict[str, Any], ...]:
    path = SCHEMA_DIR / f"{axe}.json"
    if not path.exists():
        return ()
    return tuple(f for f in json.loads(path.read_text(encoding="utf-8")).get("fields", []) if f.get("name"))


def field_for(axe: Optional[str], header: str) -> Optional[dict[str, Any]]:
    """The Table Schema field a column matches (its dataset's axis first, then the others), as
    {"name", "type", "title", "unit", "indicator"} — ``indicator`` None for key and period
    fields. None when no axis has it."""
    wanted = normalise_header(header)
    order = ([axe] if axe in INDICATOR_AXES else []) + [a for a in INDICATOR_AXES if a != axe]
    for name in order:
        for fdef in _fields(name):
            aliases = {normalise_header(a) for a in fdef.get("x-aliases", fdef.get("aliases", []))}
            if normalise_header(fdef["name"]) == wanted or wanted in aliases:
                field_name = fdef["name"]
                return {"name": field_name, "type": fdef.get("type", "string"), "title": fdef.get("title"),
                        "unit": fdef.get("unit") or fdef.get("x-unit") or fdef.get("unite"),
                        "indicator": None if normalise_header(field_name) in NOT_INDICATORS else field_name}
    return None
