"""`ext_bbox=minx,miny,maxx,maxy` against the dataset's `spatial` polygon (ckanext-spatial's convention)."""
from __future__ import annotations

import json

import pytest

from .conftest import names, search

pytestmark = pytest.mark.usefixtures("with_plugins")


def _bbox(spatial):
    coords = json.loads(spatial)["coordinates"][0]
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    return min(xs), min(ys), max(xs), max(ys)


def _intersecting(catalogue, box):
    minx, miny, maxx, maxy = box
    found = set()
    for n in catalogue.public():
        spatial = catalogue.spec(n).get("spatial")
        if spatial:
            a, b, c, d = _bbox(spatial)
            if a <= maxx and c >= minx and b <= maxy and d >= miny:
                found.add(n)
    return found


@pytest.mark.parametrize("box", [
    (1.40, 43.55, 1.50, 43.65),      # Toulouse
    (3.80, 43.55, 3.95, 43.65),      # Montpellier
    (2.30, 48.75, 2.35, 48.80),      # Fresnes
    (-5.0, 41.0, 10.0, 51.0),        # metropolitan France
    (-61.9, 15.8, -61.0, 16.6),      # Guadeloupe: nothing
])
def test_datasets_whose_polygon_meets_the_box(catalogue, box):
    expected = _intersecting(catalogue, box)
    result = search(extras={"ext_bbox": ",".join(map(str, box))})
    assert set(names(result)) == expected


def test_bbox_combines_with_text(catalogue):
    box = (1.40, 43.55, 1.50, 43.65)
    expected = _intersecting(catalogue, box) & catalogue.having_word_prefix("lycee")
    assert set(names(search(q="lycées", extras={"ext_bbox": ",".join(map(str, box))}))) == expected


def test_bbox_through_the_api(app, catalogue):
    res = app.get("/api/3/action/package_search", query_string={"ext_bbox": "2.30,48.75,2.35,48.80", "rows": 100})
    assert res.status_code == 200
    assert {d["name"] for d in res.json["result"]["results"]} == _intersecting(catalogue, (2.30, 48.75, 2.35, 48.80))
