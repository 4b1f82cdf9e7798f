"""Sorting (score, title_string, name, metadata_created/modified, id, view_recent), paging, `fl`."""
from __future__ import annotations

import pytest

from .conftest import names, norm, search

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_title_ascending_and_descending(catalogue):
    by_title = sorted(catalogue.public(), key=lambda n: norm(catalogue.spec(n)["title"]))
    assert names(search(sort="title_string asc")) == by_title
    assert names(search(sort="title_string desc")) == list(reversed(by_title))


def test_name_and_id(catalogue):
    assert names(search(sort="name asc")) == sorted(catalogue.public())
    by_id = sorted(catalogue.public(), key=lambda n: catalogue.datasets[n]["id"])
    assert names(search(sort="id asc")) == by_id


def test_most_recent_first(catalogue):
    by_created = sorted(catalogue.public(), key=lambda n: catalogue.datasets[n]["metadata_created"], reverse=True)
    assert names(search(sort="metadata_created desc")) == by_created
    by_modified = sorted(catalogue.public(), key=lambda n: catalogue.datasets[n]["metadata_modified"], reverse=True)
    assert names(search(sort="metadata_modified desc")) == by_modified
    # the home page's "popular" sort has no tracking data: it falls back on the most recent
    assert names(search(sort="view_recent desc")) == by_modified


def test_paging_covers_everything_once(catalogue):
    seen = []
    for start in range(0, 40, 5):
        seen += names(search(sort="name asc", rows=5, start=start))
    assert seen == sorted(catalogue.public())


def test_count_is_independent_of_paging(catalogue):
    result = search(q="*:*", rows=3, start=3)
    assert result["count"] == len(catalogue.public()) and len(result["results"]) == 3


def test_field_list(catalogue):
    result = search(q="name:ips-colleges-2023", fl=["id", "name", "title"])
    assert result["results"] == [{"id": catalogue.datasets["ips-colleges-2023"]["id"],
                                  "name": "ips-colleges-2023",
                                  "title": catalogue.spec("ips-colleges-2023")["title"]}]
