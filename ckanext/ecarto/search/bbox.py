"""Bounding box of a dataset's `spatial` GeoJSON (pure Python: no PostGIS needed)."""
from __future__ import annotations

import json
from typing import Any, Iterator, Optional

BBox = tuple[float, float, float, float]


def _points(coords: Any) -> Iterator[tuple[float, float]]:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        yield float(coords[0]), float(coords[1])
        return
    if isinstance(coords, (list, tuple)):
        for item in coords:
            yield from _points(item)


def _geometries(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = obj.get("type")
    if kind == "FeatureCollection":
        for feature in obj.get("features") or []:
            yield from _geometries(feature)
    elif kind == "Feature":
        if obj.get("geometry"):
            yield from _geometries(obj["geometry"])
    elif kind == "GeometryCollection":
        for geom in obj.get("geometries") or []:
            yield from _geometries(geom)
    elif kind:
        yield obj


def bbox_of(spatial: Any) -> Optional[BBox]:
    """(minx, miny, maxx, maxy) of a GeoJSON string or dict; None when absent or unreadable."""
    if not spatial:
        return None
    try:
        obj = json.loads(spatial) if isinstance(spatial, str) else spatial
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    xs: list[float] = []
    ys: list[float] = []
    for geom in _geometries(obj):
        for x, y in _points(geom.get("coordinates")):
            xs.append(x)
            ys.append(y)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)
