"""Dates with their hour read in French order on French pages (« 1 décembre 2026 à 10:05 »),
not CKAN's English pattern (« décembre 1, 2026, 10:05 »)."""
from __future__ import annotations

import datetime as dt

import pytest

import ckan.plugins.toolkit as tk


@pytest.mark.usefixtures("with_plugins", "with_request_context")
def test_a_date_with_its_hour_reads_in_french_order():
    rendered = tk.h.render_datetime(dt.datetime(2026, 12, 1, 10, 5), with_hours=True)
    assert rendered.startswith("1 décembre 2026 à 10:05"), rendered


@pytest.mark.usefixtures("with_plugins", "with_request_context")
def test_other_dates_stay_as_ckan_writes_them():
    moment = dt.datetime(2026, 12, 1, 10, 5)
    assert tk.h.render_datetime(moment) == "1 décembre 2026"
    assert tk.h.render_datetime(moment, date_format="%Y-%m-%d") == "2026-12-01"
    assert tk.h.render_datetime("pas une date", with_hours=True) == ""

