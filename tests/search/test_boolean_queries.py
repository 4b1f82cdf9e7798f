"""AND / OR / NOT, `+` and `-`, `&&` `||` `!`, groups and `field:(a OR b)`."""
from __future__ import annotations

import pytest

from .conftest import names, search

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_or_group_on_a_field(catalogue):
    expected = catalogue.where(lambda s: s["org"] in ("arcep", "herault"))
    assert set(names(search(fq="organization:(arcep OR herault)"))) == expected


def test_or_between_fields_like_ckan_harvester(catalogue):
    expected = catalogue.where(lambda s: s["org"] in ("arcep", "herault"))
    assert set(names(search(fq="organization:arcep OR organization:herault"))) == expected


def test_plus_minus_and_groups(catalogue):
    expected = catalogue.where(lambda s: s["axe"] == "equipement" and s["org"] != "herault")
    assert set(names(search(fq="+axe:equipement -organization:herault"))) == expected
    assert set(names(search(fq="axe:equipement AND NOT organization:herault"))) == expected
    assert set(names(search(fq="axe:equipement && !organization:herault"))) == expected


def test_nested_groups(catalogue):
    expected = catalogue.where(lambda s: (s["org"] == "menj" or s["org"] == "arcep") and "thd" in s["tags"])
    assert set(names(search(q="(organization:menj OR organization:arcep) AND tags:thd"))) == expected
    expected = catalogue.where(lambda s: s["org"] == "menj" or ("thd" in s["tags"] and s["org"] == "arcep"))
    assert set(names(search(q="organization:menj || (tags:thd && organization:arcep)"))) == expected
