"""Contours for the maps and the GeoJSON export, from the real simplified boundaries of
``referentiel/territories.py`` (IGN Admin Express via france-geojson, MENJ académies).

On a map of France the overseas territories (Guadeloupe, Martinique, Guyane, La Réunion,
Mayotte) are drawn as **insets**: their real shapes, scaled and moved into frames in the Atlantic
west of Brittany, as on printed maps of France. Their properties say so (``encart``: true) and
the frames come with the collection (``cadres``). On a région, académie or département map of an
overseas territory, shapes stay where they are.

Commune boundaries are not shipped: a commune has no shape of its own here.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Optional

from shapely import affinity
from shapely.geometry import box, mapping, shape

from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import record

# overseas département → (frame label, its codes at the région and académie levels)
OVERSEAS: dict[str, tuple[str, str, str]] = {
    "971": ("Guadeloupe", "01", "32"),
    "972": ("Martinique", "02", "31"),
    "973": ("Guyane", "03", "33"),
    "974": ("La Réunion", "04", "28"),
    "976": ("Mayotte", "06", "43"),
}
# frames: west of Brittany, top to bottom; (lon_min, lat_min, lon_max, lat_max)
_FRAME_W, _FRAME_H, _GAP = 2.6, 1.55, 0.25
_FRAME_LON, _FRAME_TOP = -10.2, 51.0
TOLERANCE_FRANCE = 0.01
TOLERANCE_LOCAL = 0.002


def _frame(index: int) -> tuple[float, float, float, float]:
    top = _FRAME_TOP - index * (_FRAME_H + _GAP)
    return (_FRAME_LON, top - _FRAME_H, _FRAME_LON + _FRAME_W, top)


def _overseas_index(level: str, code: str) -> Optional[int]:
    for i, (dep, (_label, region, academie)) in enumerate(OVERSEAS.items()):
        if (level == territories.DEPARTEMENT and code == dep) or (level == territories.REGION and code == region) \
                or (level == territories.ACADEMIE and code == academie):
            return i
    return None


def _to_frame(geom: Any, index: int) -> Any:
    minx, miny, maxx, maxy = geom.bounds
    fx0, fy0, fx1, fy1 = _frame(index)
    pad = 0.12
    scale = min((fx1 - fx0 - 2 * pad) / max(maxx - minx, 1e-9), (fy1 - fy0 - 2 * pad) / max(maxy - miny, 1e-9))
    moved = affinity.scale(geom, xfact=scale, yfact=scale, origin=(minx, miny))
    w, h = (maxx - minx) * scale, (maxy - miny) * scale
    return affinity.translate(moved, xoff=fx0 + (fx1 - fx0 - w) / 2 - minx, yoff=fy0 + (fy1 - fy0 - h) / 2 - miny)


def _shape(level: str, code: str, tolerance: float) -> Any:
    geometry = territories.geometry(level, code, tolerance=tolerance)
    return shape(geometry) if geometry else None


@functools.lru_cache(maxsize=128)
def children_geojson(level: str, code: str, child_level: str) -> str:
    """FeatureCollection (text) of the children of a territory that have a boundary; the
    others are listed in ``sans_contour``."""
    territory = territories.get(level, code)
    if territory is None:
        return json.dumps({"type": "FeatureCollection", "features": []})
    france = territory.level == territories.FRANCE
    tolerance = TOLERANCE_FRANCE if france else TOLERANCE_LOCAL
    features, missing, frames = [], [], {}
    for child in record.children(territory, child_level):
        geom = _shape(child.level, child.code, tolerance) if child.level != territories.COMMUNE else None
        if geom is None or geom.is_empty:
            missing.append({"code": child.code, "nom": child.name, "chemin": record.path(child)})
            continue
        inset = _overseas_index(child.level, child.code) if france else None
        if inset is not None:
            geom = _to_frame(geom, inset)
            frames[inset] = list(OVERSEAS.values())[inset][0]
        data = mapping(geom)
        features.append({"type": "Feature", "id": child.code,
                         "properties": {"code": child.code, "nom": child.name, "niveau": child.level,
                                        "chemin": record.path(child), "encart": inset is not None},
                         "geometry": {"type": data["type"], "coordinates": territories.round_coordinates(data["coordinates"], 4)}})
    cadres = []
    for index, label in sorted(frames.items()):
        fx0, fy0, fx1, fy1 = _frame(index)
        cadres.append({"type": "Feature", "properties": {"nom": label},
                       "geometry": mapping(box(fx0, fy0, fx1, fy1))})
    return json.dumps({"type": "FeatureCollection", "features": features, "cadres": cadres,
                       "sans_contour": missing}, ensure_ascii=False, separators=(",", ":"))


def outline(territory: territories.Territory) -> Optional[dict[str, Any]]:
    """The territory's own boundary for a local map (None for a commune: not shipped)."""
    if territory.level == territories.COMMUNE:
        return None
    return territories.geometry(territory.level, territory.code, tolerance=TOLERANCE_LOCAL)


def feature(territory: territories.Territory, properties: dict[str, Any]) -> dict[str, Any]:
    """The GeoJSON Feature of the export (`.geojson`): a commune has a null geometry and says why."""
    geometry = None
    if territory.level != territories.COMMUNE:
        geometry = territories.geometry(territory.level, territory.code, tolerance=territories.SPATIAL_TOLERANCE)
    else:
        properties = {**properties, "geometrie": "contours communaux non fournis par le portail"}
    return {"type": "Feature", "id": f"{territory.level}/{territory.code}" if territory.code else territory.level,
            "properties": properties, "geometry": geometry}
