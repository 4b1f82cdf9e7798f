"""Facet counts (organization, tags, res_format, license_id, axe) with limit and mincount."""
from __future__ import annotations

from collections import Counter

import pytest

from .conftest import search

pytestmark = pytest.mark.usefixtures("with_plugins")

FIELDS = ["organization", "tags", "res_format", "license_id", "axe"]


def _expected(catalogue, field, names):
    counts: Counter = Counter()
    for n in names:
        s = catalogue.spec(n)
        values = {"organization": [s["org"]], "tags": s["tags"], "res_format": s["formats"],
                  "license_id": ["etalab-2.0"], "axe": [s["axe"]]}[field]
        counts.update(set(values))
    return dict(counts)


def test_facet_counts_over_the_whole_result(catalogue):
    result = search(q="*:*", rows=2, **{"facet.field": FIELDS, "facet.limit": -1})
    for field in FIELDS:
        assert result["facets"][field] == _expected(catalogue, field, catalogue.public()), field


def test_facets_follow_the_query(catalogue):
    matched = catalogue.having_word_prefix("ecole")
    result = search(q="écoles", **{"facet.field": ["organization", "tags"], "facet.limit": -1})
    assert result["facets"]["organization"] == _expected(catalogue, "organization", matched)
    assert result["facets"]["tags"] == _expected(catalogue, "tags", matched)


def test_facet_limit_keeps_the_most_frequent(catalogue):
    expected = _expected(catalogue, "tags", catalogue.public())
    top = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    result = search(q="*:*", **{"facet.field": ["tags"], "facet.limit": 3})
    assert result["facets"]["tags"] == dict(top)


def test_facet_mincount(catalogue):
    expected = {k: v for k, v in _expected(catalogue, "tags", catalogue.public()).items() if v >= 3}
    result = search(q="*:*", **{"facet.field": ["tags"], "facet.limit": -1, "facet.mincount": 3})
    assert result["facets"]["tags"] == expected


def test_rows_zero_counts_only(catalogue):
    result = search(q="*:*", rows=0, **{"facet.field": ["axe"]})
    assert result["count"] == len(catalogue.public()) and result["results"] == []
    assert result["facets"]["axe"] == _expected(catalogue, "axe", catalogue.public())
