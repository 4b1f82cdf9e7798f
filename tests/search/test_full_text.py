"""Free-text search in French: accents, case and plurals ignored, CKAN's dismax `mm`, ranking."""
from __future__ import annotations

import pytest

from .conftest import names, search

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.mark.parametrize("q", ["ecole", "École", "ÉCOLES", "ecoles"])
def test_accents_case_and_plural_are_ignored(catalogue, q):
    expected = catalogue.having_word_prefix("ecole")
    assert set(names(search(q=q))) == expected
    assert {"ecole-jules-ferry-ent", "ecole-elementaire-robert-doisneau", "ecoles-fresnes-wifi"} <= expected


def test_lycees_finds_lycee(catalogue):
    expected = catalogue.having_word_prefix("lycee")
    assert "lycee-pierre-paul-riquet-tni" in expected and "lycees-occitanie-fibre" in expected
    assert set(names(search(q="lycées"))) == expected
    assert set(names(search(q="lycee"))) == expected


def test_several_words_all_required(catalogue):
    expected = catalogue.having_word_prefix("fibre") & catalogue.having_word_prefix("lycee")
    assert set(names(search(q="fibre lycées"))) == expected == {"lycees-occitanie-fibre"}


def test_three_words_need_all_but_one(catalogue):
    # CKAN's dismax mm "2<-1 5<80%": with 3 words, 2 are enough
    pool = catalogue.public()
    expected = {n for n in pool if sum(bool(catalogue.having_word_prefix(p, [n])) for p in ("tablette", "college", "herault")) >= 2}
    assert set(names(search(q="tablettes collèges Hérault"))) == expected


def test_title_match_ranks_before_description_match(catalogue):
    result = names(search(q="wifi"))
    assert result[0] == "ecoles-fresnes-wifi"


def test_words_of_resources_are_found(catalogue):
    # resource names carry the format: "(GeoJSON)" only on one dataset
    assert names(search(q="geojson")) == ["lycees-occitanie-fibre"]


def test_match_all(catalogue):
    assert search(q="*:*")["count"] == len(catalogue.public())
    assert search(q="")["count"] == len(catalogue.public())
