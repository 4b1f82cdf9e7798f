"""The dataset page for people (templates/package/read*.html, scheming's additional info): which
fields of the schema to show, the geographic coverage as a name and a small outline map (an
inline SVG computed here: no script, no raw coordinates), and the developers' links.

A dataset's ``spatial`` is publisher input: it is parsed defensively (size, type, depth) and
anything unexpected gives no map, never an error.
"""
from __future__ import annotations

import json
import math
from typing import Any, Optional

from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from ckanext.ecarto.core.axes import AXIS_IDS
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.schemas import labels

# Fields the dataset page shows elsewhere (title, description, tags, licence, producer) or
# through the coverage block (territory, spatial).
NOT_IN_TABLE = frozenset({"id", "title", "name", "notes", "tag_string", "license_id", "owner_org",
                          "territoire_niveau", "territoire_code", "spatial"})
SVG_WIDTH = 240.0
SVG_MAX_HEIGHT = 240.0
SPATIAL_MAX_CHARS = 2_000_000
# Parts of a multipolygon farther than this (degrees) from its largest part are not drawn on the
# thumbnail (the overseas territories on a map of France): the caption says so.
FAR_DEGREES = 12.0
# Simplification of the outline: a fraction of its larger side (a thumbnail, ~ one pixel).
SIMPLIFY_FRACTION = 1 / 250


def _empty(value: Any) -> bool:
    return value in (None, "", [], {}) or (isinstance(value, str) and not value.strip())


def _other_axis_field(field_name: str, axe: Any) -> bool:
    """A field of another axis than the dataset's (`connectivite_source` on an `etablissements`
    dataset): scheming lists them all, the validator keeps them empty."""
    return any(field_name.startswith(f"{other}_") for other in AXIS_IDS if other != axe)


def info_fields(fields: Any, pkg: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema fields the "additional info" table shows for this dataset: those with a value,
    of its own axis, not shown elsewhere on the page."""
    if not isinstance(fields, list) or not isinstance(pkg, dict):
        return []
    shown = []
    for field in fields:
        name = field.get("field_name") if isinstance(field, dict) else None
        if not name or name in NOT_IN_TABLE or field.get("display_snippet", "") is None:
            continue
        if _other_axis_field(name, pkg.get("axe")) or _empty(pkg.get(name)):
            continue
        shown.append(field)
    return shown


def _geometry(spatial: Any) -> Optional[BaseGeometry]:
    if isinstance(spatial, str):
        if len(spatial) > SPATIAL_MAX_CHARS:
            return None
        try:
            spatial = json.loads(spatial)
        except (ValueError, RecursionError):
            return None
    if not isinstance(spatial, dict) or spatial.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    try:
        geom = shape(spatial)
    except Exception:  # noqa: BLE001 - malformed coordinates from a publisher: no map
        return None
    if geom.is_empty or not geom.bounds or not all(math.isfinite(v) for v in geom.bounds):
        return None
    return geom


def _near_parts(geom: BaseGeometry) -> tuple[list[Polygon], bool]:
    """The polygons near the largest one, and whether some were left out."""
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    main = max(parts, key=lambda p: p.area)
    centre = main.centroid
    near = [p for p in parts if p.centroid.distance(centre) <= FAR_DEGREES]
    return near, len(near) < len(parts)


def _ring_path(coords: Any, project: Any) -> str:
    points = [project(x, y) for x, y, *_rest in coords]
    if len(points) < 3:
        return ""
    head = "M{:.1f} {:.1f}".format(*points[0])
    return head + "".join("L{:.1f} {:.1f}".format(*p) for p in points[1:]) + "Z"


def outline_svg(spatial: Any) -> Optional[dict[str, Any]]:
    """The outline of a GeoJSON (Multi)Polygon as SVG path data in a viewBox at most
    240 × 240 (equirectangular, corrected for the latitude), or None. `partial`: far parts
    (overseas) were left out of the drawing."""
    geom = _geometry(spatial)
    if geom is None:
        return None
    parts, partial = _near_parts(geom)
    drawn = MultiPolygon(parts) if len(parts) > 1 else parts[0]
    min_x, min_y, max_x, max_y = drawn.bounds
    scale_x = math.cos(math.radians((min_y + max_y) / 2))
    width, height = (max_x - min_x) * scale_x, max_y - min_y
    if width <= 0 or height <= 0:
        return None
    drawn = drawn.simplify(max(width, height) * SIMPLIFY_FRACTION, preserve_topology=False)
    factor = min(SVG_WIDTH / width, SVG_MAX_HEIGHT / height)

    def project(x: float, y: float) -> tuple[float, float]:
        return ((x - min_x) * scale_x * factor, (max_y - y) * factor)

    polygons = list(drawn.geoms) if isinstance(drawn, MultiPolygon) else [drawn]
    path = "".join(_ring_path(ring.coords, project)
                   for polygon in polygons if isinstance(polygon, Polygon) and not polygon.is_empty
                   for ring in [polygon.exterior, *polygon.interiors])
    if not path:
        return None
    return {"width": round(width * factor, 1), "height": round(height * factor, 1), "path": path,
            "partial": partial}


def coverage(pkg: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The geographic coverage of a dataset for people: the declared territory (name, level,
    page) and the outline map of its `spatial`; None when it has neither."""
    if not isinstance(pkg, dict):
        return None
    territory = labels.territory_of(pkg.get("territoire_niveau"), pkg.get("territoire_code"))
    outline = outline_svg(pkg.get("spatial"))
    if territory is None and outline is None:
        return None
    map_name = territory.name if territory else None
    if territory is not None and territory.level == territories.COMMUNE and outline is not None:
        # no commune boundaries are shipped: a commune's derived `spatial` is its département's
        departement = territories.get(territories.DEPARTEMENT, territory.parent_code)
        if departement is not None and pkg.get("spatial") == territories.spatial(territory.level, territory.code):
            map_name = _("{departement} (département de la commune)").format(departement=departement.name)
    return {
        "map_name": map_name,
        "name": territory.name if territory else None,
        "label": labels.territory_label(territory) if territory else None,
        "level": labels.level_label(territory.level) if territory else None,
        "path": labels.territory_path(territory) if territory else None,
        "map": outline,
    }
