"""What a search answers and how text is weighed: shared by the connection (`connection.py`,
which CKAN talks to) and the query runner (`query.py`), below both of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ckan.common import config

# ts_rank_cd weights of the tsvector's four classes.
WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"   # D, C, B, A
#: rows and start of the catalogue's search (package_search): CKAN also caps rows at
#: `ckan.search.rows_max`; a page number up to logic/schema.MAX_PAGE stays under this start
CATALOGUE_MAX_INT = 10_000_000


@dataclass
class Results:
    """What CKAN reads from a pysolr response."""

    hits: int
    docs: list[dict[str, Any]]
    facets: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self):
        return iter(self.docs)


def ts_config() -> str:
    """The PostgreSQL text search configuration of the index (French, unaccented by default)."""
    return config.get("ckanext.ecarto.search_text_config") or "ecarto_fr"
