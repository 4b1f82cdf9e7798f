"""Wildcards `*` `?`, prefix words, and CKAN's autocomplete on `name_ngram`/`title_ngram`."""
from __future__ import annotations

import pytest

import ckan.tests.helpers as helpers

from .conftest import names, norm, search

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_name_prefix(catalogue):
    expected = catalogue.where(lambda s: s["name"].startswith("annuaire-"))
    assert set(names(search(q="name:annuaire-*"))) == expected


def test_single_character_wildcard(catalogue):
    expected = catalogue.where(lambda s: s["name"].startswith("ecole-"))
    assert set(names(search(q="name:ecol?-*"))) == expected


def test_prefix_word_in_full_text(catalogue):
    assert set(names(search(q="imprim*"))) == catalogue.having_word_prefix("imprim")


def test_field_exists(catalogue):
    expected = catalogue.where(lambda s: bool(s.get("spatial")))
    assert set(names(search(fq="spatial:*"))) == expected


def test_package_autocomplete(catalogue):
    result = helpers.call_action("package_autocomplete", q="fibre")
    expected = catalogue.where(lambda s: "fibre" in norm(s["title"]) or "fibre" in s["name"])
    assert {r["name"] for r in result} == expected


def test_autocomplete_ignores_accents(catalogue):
    result = helpers.call_action("package_autocomplete", q="deploiement")
    assert [r["name"] for r in result] == ["arcep-ftth-communes-2018"]
