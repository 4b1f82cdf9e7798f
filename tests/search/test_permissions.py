"""Private, draft and deleted datasets are returned only to those allowed to see them."""
from __future__ import annotations

import pytest

from .conftest import names, search

pytestmark = pytest.mark.usefixtures("with_plugins")

PRIVATE = {"budget-numerique-prive", "enquete-wifi-lycees-privee"}


def test_anonymous_never_sees_private_datasets(catalogue):
    for params in ({}, {"include_private": True}, {"q": "budget"}, {"fq": "capacity:private"}):
        assert PRIVATE.isdisjoint(names(search(**params))), params
    assert search(include_private=True)["count"] == len(catalogue.public())


def test_member_sees_the_private_datasets_of_their_organization_only(catalogue):
    result = names(search(user=catalogue.member["name"], include_private=True))
    assert "budget-numerique-prive" in result
    assert "enquete-wifi-lycees-privee" not in result
    assert set(result) == set(catalogue.public()) | {"budget-numerique-prive"}


def test_private_needs_include_private(catalogue):
    assert "budget-numerique-prive" not in names(search(user=catalogue.member["name"]))


def test_sysadmin_with_drafts_and_deleted(catalogue):
    admin = catalogue.sysadmin["name"]
    assert "ecoles-brouillon" not in names(search(user=admin, include_private=True))
    assert "ecoles-brouillon" in names(search(user=admin, include_private=True, include_drafts=True))
    # CKAN removes deleted datasets from the index (ckan.search.remove_deleted_packages, default
    # true): see test_index_lifecycle for include_deleted with that option off
    assert "ancien-annuaire-supprime" not in names(search(user=admin, include_private=True, include_deleted=True))
    everything = set(catalogue.specs) - {"ancien-annuaire-supprime"}
    assert set(names(search(user=admin, include_private=True, include_drafts=True))) == everything
