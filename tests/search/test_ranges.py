"""Range queries on dates (ISO, `*`, `NOW`, date math) as ckanext-dcat and ckanext-harvest send them."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.ecarto.search.sql import parse_date

from .conftest import names, search

pytestmark = pytest.mark.usefixtures("with_plugins")


def _modified(catalogue, name):
    return catalogue.datasets[name]["metadata_modified"]


def test_from_a_date_to_open_end(catalogue):
    pivot = _modified(catalogue, "ips-colleges-2023")
    expected = {n for n in catalogue.public() if _modified(catalogue, n) >= pivot}
    assert set(names(search(fq=f"metadata_modified:[{pivot}Z TO *]"))) == expected
    assert "ips-colleges-2023" in expected and "ecole-jules-ferry-ent" not in expected


def test_exclusive_bounds(catalogue):
    pivot = _modified(catalogue, "ips-colleges-2023")
    expected = {n for n in catalogue.public() if _modified(catalogue, n) > pivot}
    assert set(names(search(fq=f"metadata_modified:{{{pivot}Z TO *}}"))) == expected


def test_to_now_and_date_math(catalogue):
    everything = set(catalogue.public())
    assert set(names(search(fq="metadata_modified:[NOW-1DAY TO NOW]"))) == everything
    assert set(names(search(fq="metadata_modified:[* TO NOW-1DAY]"))) == set()
    assert set(names(search(fq="metadata_created:[NOW/DAY TO *]"))) == everything


def test_date_math():
    now = dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.timezone.utc)
    assert parse_date("NOW-1DAY", now) == dt.datetime(2026, 3, 30, 15, 30, tzinfo=dt.timezone.utc)
    assert parse_date("NOW-1MONTH", now) == dt.datetime(2026, 2, 28, 15, 30, tzinfo=dt.timezone.utc)
    assert parse_date("NOW/DAY+1DAY", now) == dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)
    assert parse_date("2024-01-01T00:00:00Z") == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
