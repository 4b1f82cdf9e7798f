"""A PostgreSQL object that speaks the part of pysolr's `Solr` API that CKAN uses
(`add`, `delete`, `commit`, `search`), so CKAN's own index and query code runs unchanged.

Index writes go through their own connection and are committed at once (like Solr's own
commit): CKAN re-indexes some datasets after its session has committed (the DataStore's
`datastore_active` flag), and a write bound to that session would be lost.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import ckan.model as model
from ckan.common import config
from ckan.lib.search.common import SearchQueryError

from ckanext.ecarto import replicas
from ckanext.ecarto.search import batch, parser as p
from ckanext.ecarto.search.bbox import bbox_of
from ckanext.ecarto.search.model import PAYLOAD_FIELDS, TABLE, facet_values
from ckanext.ecarto.search.query import run_search
from ckanext.ecarto.search.results import Results, ts_config
from ckanext.ecarto.search.sql import Compiler

log = logging.getLogger(__name__)

# Solr parameters that change nothing here (response format, dismax tuning CKAN always sends).
IGNORED_PARAMS = {"wt", "defType", "tie", "qf", "mm", "df", "q.op", "facet", "fq_list",
                  "waitSearcher", "indent", "hl", "commit"}
SUPPORTED_PARAMS = IGNORED_PARAMS | {"q", "fq", "rows", "start", "sort", "fl", "facet.field",
                                     "facet.limit", "facet.mincount"}
# Keys of the index document that never hold words worth finding.
NOT_TEXT = {"id", "index_id", "site_id", "entity_type", "dataset_type", "state", "capacity",
            "owner_org", "data_dict", "validated_data_dict", "permission_labels", "type",
            "metadata_created", "metadata_modified", "license_id", "url", "title_string",
            "creator_user_id", "spatial", "private", "isopen", "num_resources", "num_tags",
            "organization", "groups", "tags", "title", "name", "notes", "res_url", "res_format",
            "res_type", "harvest_source_id", "harvest_object_id", "version",
            "qualite", "qualite_manque"}
# Control characters (PostgreSQL refuses NUL in any text; the others are never meant in a search).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_control_characters(q: Optional[str], params: dict[str, Any]) -> None:
    """A search parameter holding a control character is refused before any SQL is built."""
    for name, value in [("q", q), *params.items()]:
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, str) and _CONTROL.search(v) for v in values):
            raise SearchQueryError(f"Paramètre « {name} » : contient un caractère de contrôle "
                                   f"(par exemple l'octet nul %00) : retirez-le.")


def _engine() -> Engine:
    engine = model.meta.engine
    if engine is None:
        engine = sa.create_engine(config["sqlalchemy.url"])
    return engine


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _flat_text(values: Iterable[Any]) -> str:
    parts: list[str] = []
    for value in values:
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, (list, tuple)):
            parts.append(_flat_text(value))
        else:
            parts.append(str(value))
    return " ".join(p for p in parts if p)


def _parse_iso(value: Any) -> Optional[dt.datetime]:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _iso(when: Optional[dt.datetime]) -> Optional[str]:
    return when.isoformat() if when else None


def text_weights(doc: dict[str, Any]) -> dict[str, str]:
    """The words of a document by weight: A title and name, B tags, groups and producer,
    C description, D extras, resources and the other text fields."""
    org_title = ""
    try:
        validated = json.loads(doc.get("validated_data_dict") or "{}")
        org_title = (validated.get("organization") or {}).get("title") or ""
    except (TypeError, ValueError, AttributeError):
        pass
    rest = [v for k, v in doc.items()
            if k not in NOT_TEXT and not k.startswith(("res_extras_url", "vocab_"))
            and isinstance(v, (str, list)) and not (isinstance(v, str) and v[:1] in "{[")]
    return {
        "A": _flat_text([doc.get("title"), (doc.get("name") or "").replace("-", " ")]),
        "B": _flat_text([doc.get("tags"), doc.get("groups"), doc.get("organization"), org_title]
                        + [v for k, v in doc.items() if k.startswith("vocab_")]),
        "C": _flat_text([doc.get("notes")]),
        "D": _flat_text(rest),
    }


class PgSolrConnection:
    """The index in the table `ecarto_search_index` (migration 0001_search_index)."""

    url = f"postgresql://{TABLE}"

    def __init__(self, engine: Optional[Engine] = None):
        self.engine = engine or _engine()

    # ----------------------------------------------------------------- writes

    def add(self, docs: Iterable[dict[str, Any]], commit: bool = True, **kwargs: Any) -> None:
        """Write CKAN's index documents. `commit=False` (CKAN's `defer_commit`, used by
        `ckan search-index rebuild` and the harvesters' reindex) keeps them in this process's
        batch, written `search_batch_size` at a time and at the next `commit()`, search or
        delete (or at the end of a `batch.deferred()` block); see `batch.py`."""
        rows = [self._row(doc) for doc in docs]
        if not rows:
            return
        if (commit and not batch.forced()) or not batch.deferrable():
            batch.flush(self.engine, extra=rows)
            return
        batch.defer(self.engine, rows)

    def _row(self, doc: dict[str, Any]) -> dict[str, Any]:
        index_id = doc.get("index_id") or f"{doc.get('id')}{doc.get('site_id', '')}"
        bbox = bbox_of(doc.get("spatial") or doc.get("extras_spatial"))
        row = {
            "index_id": index_id,
            "id": doc.get("id"),
            "name": doc.get("name"),
            "site_id": doc.get("site_id"),
            "entity_type": doc.get("entity_type"),
            "dataset_type": doc.get("dataset_type"),
            "state": doc.get("state"),
            "capacity": doc.get("capacity"),
            "owner_org": doc.get("owner_org"),
            "title_string": doc.get("title_string") or doc.get("title"),
            "metadata_created": _iso(_parse_iso(doc.get("metadata_created"))),
            "metadata_modified": _iso(_parse_iso(doc.get("metadata_modified"))),
            "permission_labels": _as_list(doc.get("permission_labels")),
            "facet_values": facet_values(doc),
            "bbox_minx": bbox[0] if bbox else None,
            "bbox_miny": bbox[1] if bbox else None,
            "bbox_maxx": bbox[2] if bbox else None,
            "bbox_maxy": bbox[3] if bbox else None,
            "doc": {k: v for k, v in doc.items() if k not in PAYLOAD_FIELDS},
            "data_dict": doc.get("data_dict"),
            "validated_data_dict": doc.get("validated_data_dict"),
        }
        for weight, text in text_weights(doc).items():
            row[f"w{weight}"] = text
        return row

    def delete(self, id: Any = None, q: Optional[str] = None, commit: bool = True, **kwargs: Any) -> None:
        compiler = Compiler(ts_config())
        if q is not None:
            condition = compiler.condition(p.parse(q))
        elif id is not None:
            ids = id if isinstance(id, (list, tuple)) else [id]
            condition = f"index_id = ANY(CAST({compiler.out.bind(list(ids))} AS text[]))"
        else:
            raise SearchQueryError("delete attend id ou q")
        batch.flush(self.engine)
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {TABLE} WHERE {condition}"), compiler.out.params)

    def commit(self, *args: Any, **kwargs: Any) -> None:
        """Write the deferred batch. CKAN calls this after bulk work (`ckan search-index
        rebuild`, harvest reindex): also refresh the planner's statistics for the new contents."""
        batch.flush(self.engine)
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {TABLE}"))

    def optimize(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to optimise: PostgreSQL's autovacuum keeps the indexes in shape."""

    # ----------------------------------------------------------------- search

    def search(self, q: Optional[str] = None, **params: Any) -> Results:
        unknown = set(params) - SUPPORTED_PARAMS
        if unknown:
            raise SearchQueryError(
                "Paramètres de recherche non pris en charge : " + ", ".join(sorted(unknown)))
        if str(params.get("q.op", "AND")).upper() != "AND":
            raise SearchQueryError("Seul q.op=AND est pris en charge")
        check_control_characters(q, params)
        batch.flush(self.engine, strict=False)  # this process reads what it wrote, deferred or not
        with replicas.read_connection(self.engine) as conn:      # a hot standby when one is usable
            return run_search(conn, q, params)
