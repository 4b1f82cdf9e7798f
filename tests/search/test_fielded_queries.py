"""`field:value`, quoted values, a space after the colon, negation, as CKAN and its clients send them."""
from __future__ import annotations

import pytest

from .conftest import names, search, words

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_tag_exact_value(catalogue):
    expected = catalogue.where(lambda s: "thd" in s["tags"])
    assert set(names(search(fq='tags:"thd"'))) == expected
    assert set(names(search(fq="tags:thd"))) == expected


def test_space_after_colon_as_ckan_feeds_send_it(catalogue):
    expected = catalogue.where(lambda s: "écoles" in s["tags"])
    assert set(names(search(fq='tags: "écoles"'))) == expected


def test_organization_and_negated_tag_like_data_gouv_fr(catalogue):
    # udata's CKAN harvester: q=organization:X AND -tags:Y, rows=1000
    expected = catalogue.where(lambda s: s["org"] == "menj" and "annuaire" not in s["tags"])
    result = search(q="organization:menj AND -tags:annuaire")
    assert set(names(result)) == expected and expected


def test_name_or_id(catalogue):
    a, b = catalogue.datasets["ips-colleges-2023"], catalogue.datasets["arcep-ftth-communes-2018"]
    result = search(q=f'name:"{a["name"]}" OR id:"{b["id"]}"')
    assert set(names(result)) == {a["name"], b["name"]}


def test_resource_format(catalogue):
    expected = catalogue.where(lambda s: "JSON" in s["formats"])
    assert set(names(search(fq='res_format:"JSON"'))) == expected


def test_scheming_field_axe(catalogue):
    expected = catalogue.where(lambda s: s["axe"] == "connectivite")
    assert set(names(search(fq="axe:connectivite"))) == expected


def test_analysed_text_field(catalogue):
    expected = catalogue.where(lambda s: any(w.startswith("college") for w in words(s["title"])))
    assert set(names(search(q="title:collèges"))) == expected


def test_bare_words_with_fields_use_the_full_text(catalogue):
    expected = catalogue.having_word_prefix("tablette") & catalogue.where(lambda s: s["org"] == "herault")
    assert set(names(search(q="tablettes organization:herault"))) == expected


def test_pure_negative_filter(catalogue):
    expected = catalogue.where(lambda s: s["org"] != "menj")
    assert set(names(search(fq="-organization:menj"))) == expected
