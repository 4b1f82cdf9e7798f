"""Running a Solr-style search (q, fq, sort, paging, fl, facets) on the index table.

Every parameter is checked before any SQL is built (French `SearchQueryError`, answered 400 by
CKAN): integers and their ranges, the size of `q`, the number of filters, sort clauses and facet
fields, and the terms of the whole search (parser.check_limits)."""
from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckan.common import config
from ckan.lib.search.common import SearchQueryError

from ckanext.ecarto.search import parser as p
from ckanext.ecarto.search.model import (
    COLUMN_FIELDS, DATE_COLUMNS, FACET_SEPARATOR, NOT_FACETED, PAYLOAD_FIELDS, SORT_TITLE, TABLE,
)
from ckanext.ecarto.search.results import CATALOGUE_MAX_INT, WEIGHTS, Results, ts_config
from ckanext.ecarto.search.sql import Compiler, escape_like

_SORT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s+(asc|desc)\s*$", re.I)
# Usage counters CKAN can sort on, absent without the tracking plugin: equal for all datasets.
_UNTRACKED = {"view_recent", "views_recent", "views_total"}
# Document fields holding numbers, sorted as numbers (datasets without one last, both ways):
# the metadata quality score in percent (ckanext/ecarto/quality).
NUMERIC_SORTS = frozenset({"qualite_score"})
MAX_Q_LENGTH = 20_000
MAX_FILTERS = 50
MAX_SORT_CLAUSES = 10
MAX_FACET_FIELDS = 100
#: rows and start (package_search checks them first, logic/schema.package_search_schema)
MAX_ROWS = MAX_START = CATALOGUE_MAX_INT


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except (ValueError, TypeError, RecursionError):
            pass
    return [text] if text else []


def _int(value: Any, default: int, name: str, minimum: int = -1, maximum: int = MAX_START) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)) or \
            (isinstance(value, str) and not re.fullmatch(r"\s*[+-]?[0-9]{1,30}\s*", value)):
        raise SearchQueryError(f"Paramètre « {name} » : un nombre entier est attendu (reçu : {str(value)[:40]!r})")
    number = int(value)
    if not minimum <= number <= maximum:
        raise SearchQueryError(f"Paramètre « {name} » : doit être compris entre {minimum} et {maximum} "
                               f"(reçu : {str(number)[:40]})")
    return number


# The index's data version (migration 0007_search_latency): the id of the last transaction
# that wrote the index, visible with the data it describes.
VERSION_TABLE = "ecarto_search_version"
# Fields of the filters CKAN adds to every catalogue search (visibility, permissions, site):
# a search filtered on these only is the whole catalogue a visitor may see.
CATALOGUE_FIELDS = frozenset({"capacity", "state", "site_id", "dataset_type", "entity_type",
                              "permission_labels"})
COUNTS_CACHE_SIZE = 256
# Working memory of one search: the matched set of a whole-catalogue search stays in memory.
SEARCH_WORK_MEM = "64MB"


class CountsCache:
    """Hits and facet counts of whole-catalogue searches, per search and per data version of
    the index (this process only; a change of the index makes every entry stale)."""

    def __init__(self, size: int = COUNTS_CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict[Any, tuple[int, int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Optional[tuple[int, int, Any]]:
        """(version, hits, facet rows) last computed for this search, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Any, version: int, hits: int, facets: Any) -> None:
        with self._lock:
            self._entries[key] = (version, hits, facets)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


counts_cache = CountsCache()


def _fields_of(node: p.Node) -> set[str]:
    if isinstance(node, (p.Term, p.Range)):
        return {node.field}
    if isinstance(node, p.Not):
        return _fields_of(node.node)
    if isinstance(node, (p.And, p.Or)):
        return set().union(*(_fields_of(n) for n in node.nodes)) if node.nodes else set()
    return set()


def is_whole_catalogue(q: Optional[str], fqs: list[str]) -> bool:
    """No words and no filter but those CKAN adds for visibility and permissions."""
    q = (q or "").strip()
    if q and q not in ("*:*", '""', "''"):
        return False
    return all(_fields_of(p.parse(fq)) <= CATALOGUE_FIELDS for fq in fqs)


def build_where(compiler: Compiler, q: Optional[str], fqs: list[str]) -> str:
    q = (q or "").strip()
    if len(q) > MAX_Q_LENGTH:
        raise SearchQueryError(f"Requête de recherche trop longue : {MAX_Q_LENGTH} caractères au plus")
    if len(fqs) > MAX_FILTERS:
        raise SearchQueryError(f"Trop de filtres (fq) : {MAX_FILTERS} au plus")
    terms = wildcards = 0
    q_node: Optional[p.Node] = None
    if not q or q in ("*:*", '""', "''"):
        pass
    elif ":" in q or any(op in q.split() for op in ("AND", "OR", "NOT")) or q.startswith(("(", "+")):
        q_node = p.parse(q)
        terms, wildcards = p.count_terms(q_node)
    else:
        words = p.free_text_words(q)
        terms, wildcards = len(words), sum(1 for w in words if "*" in w or "?" in w)
    fq_nodes = [p.parse(fq) for fq in fqs]
    for node in fq_nodes:
        n, w = p.count_terms(node)
        terms, wildcards = terms + n, wildcards + w
    p.check_limits(terms, wildcards)
    if q_node is not None:
        q_cond = compiler.condition(q_node, rank=True)
    elif q and q not in ("*:*", '""', "''"):
        q_cond = compiler.free_text(q)
    else:
        q_cond = "TRUE"
    conds = [q_cond] + [compiler.condition(node) for node in fq_nodes]
    return " AND ".join(f"({c})" for c in conds)


def order_by(sort: Optional[str], has_rank: bool) -> str:
    sort = (sort or "score desc, metadata_modified desc").strip()
    parts = []
    if sort.count(",") >= MAX_SORT_CLAUSES:
        raise SearchQueryError(f"Paramètre « sort » : {MAX_SORT_CLAUSES} critères de tri au plus")
    for clause in sort.split(","):
        m = _SORT_RE.match(clause)
        if not m:
            raise SearchQueryError('Paramètre « sort » invalide : attendu « champ asc|desc[, …] »')
        name, direction = m.group(1), m.group(2).upper()
        if name == "score":
            if has_rank:
                parts.append(f"score {direction}")
        elif name in _UNTRACKED:
            continue
        elif name == "title_string":
            parts.append(f"{SORT_TITLE} {direction}")   # unaccent(lower(title_string)), indexed
        elif name in COLUMN_FIELDS or name in DATE_COLUMNS:
            parts.append(f"{name} {direction}")
        elif name in NUMERIC_SORTS:
            parts.append(f"(CAST(NULLIF(doc ->> '{name}', '') AS double precision)) {direction} NULLS LAST")
        else:
            if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                raise SearchQueryError(f"Tri impossible sur « {name} »")
            parts.append(f"(doc ->> '{name}') {direction}")
    parts.append("metadata_modified DESC")
    parts.append("id ASC")
    return ", ".join(parts)


def _sort_columns(ordering: str) -> list[str]:
    """The columns the matched set keeps: the id and what the ordering reads (a narrow set
    stays in memory)."""
    named = [c for c in COLUMN_FIELDS + DATE_COLUMNS + (SORT_TITLE,) if re.search(rf"\b{c}\b", ordering)]
    return list(dict.fromkeys(["index_id", "id", *named]))


def _rank(compiler: Compiler) -> str:
    if not compiler.out.rank_queries:
        return "0.0"
    terms = [f"coalesce(ts_rank_cd('{WEIGHTS}', tsv, {rq}), 0)" for rq in compiler.out.rank_queries]
    return "(" + " + ".join(terms) + ")"


def _fields(fl: Optional[str]) -> Optional[list[str]]:
    names = [f for f in re.split(r"[,\s]+", (fl or "").strip()) if f]
    if not names or "*" in names:
        return None
    return names


def _like_prefix(field_name: str) -> str:
    """The LIKE pattern of the `facet_values` elements of a field: `field<US>…`."""
    return f"{escape_like(field_name)}{FACET_SEPARATOR}%"


def _facet_sql(fields: list[str], params: dict[str, Any]) -> str:
    """Value counts per field over the matched documents `m` (each document once per value, as
    Solr counts): from the flat `facet_values` array, or from `doc` for the fields that array
    leaves out."""
    selects = []
    flat = [name for name in fields if name not in NOT_FACETED]
    if flat:
        # Each element is tested by a prefix match and counted as it is; only the few distinct
        # values found are then split into field and value (1.5× faster than splitting every
        # element of every matched document). `unnest` in the select list: no function scan
        # per document.
        params["facet_prefixes"] = [_like_prefix(name) for name in flat]
        params["facet_all_fields"] = list(fields)
        selects.append(
            "SELECT array_position(CAST(:facet_all_fields AS text[]), split_part(g.v, :facet_sep, 1)) - 1 AS f, "
            "substr(g.v, strpos(g.v, :facet_sep) + 1) AS v, g.n AS n "
            "FROM (SELECT u.v, count(*) AS n FROM (SELECT unnest(m.facet_values) AS v FROM m) u "
            "WHERE u.v LIKE ANY(CAST(:facet_prefixes AS text[])) GROUP BY u.v) g")
        params["facet_sep"] = FACET_SEPARATOR
    for i, name in enumerate(fields):
        if name in flat:
            continue
        key = f"facet_field_{i}"
        params[key] = name
        selects.append(
            f"SELECT {i} AS f, d.e AS v, count(*) AS n FROM m, LATERAL (SELECT DISTINCT e FROM "
            f"jsonb_array_elements_text(CASE jsonb_typeof(m.doc -> :{key}) WHEN 'array' THEN m.doc -> :{key} "
            f"WHEN 'null' THEN '[]'::jsonb WHEN 'object' THEN '[]'::jsonb "
            f"ELSE jsonb_build_array(m.doc -> :{key}) END) e) d WHERE d.e <> '' GROUP BY d.e")
    return " UNION ALL ".join(selects)


def _facets(rows: list[Any], fields: list[str], limit: int, mincount: int) -> dict[str, list[Any]]:
    counts: dict[int, list[tuple[str, int]]] = {i: [] for i in range(len(fields))}
    for f, v, n in rows:
        if n >= mincount:
            counts[f].append((v, n))
    result = {}
    for i, name in enumerate(fields):
        items = sorted(counts[i], key=lambda item: (-item[1], item[0]))
        if limit >= 0:
            items = items[:limit]
        flat: list[Any] = []
        for value, n in items:
            flat.extend([value, n])
        result[name] = flat
    return result


def run_search(conn: Connection, q: Optional[str], params: dict[str, Any]) -> Results:
    """One statement scans the index once: the matched documents are materialised, then
    counted, paged and faceted; a second small query fetches the page's dataset dicts.
    A whole-catalogue search (no words, no filter of the visitor's) reuses its counts while
    the index is unchanged (`counts_cache`) and reads its page in the order of an index."""
    compiler = Compiler(ts_config())
    fqs = _list(params.get("fq")) + _list(params.get("fq_list"))
    where = build_where(compiler, q, fqs)
    rank = _rank(compiler)
    bound = dict(compiler.out.params)
    rows = _int(params.get("rows"), 10, "rows", 0, MAX_ROWS)
    start = _int(params.get("start"), 0, "start", 0, MAX_START)
    ordering = order_by(params.get("sort"), bool(compiler.out.rank_queries))

    facet_on = str(params.get("facet", "true")).lower() != "false"
    facet_fields = _list(params.get("facet.field")) if facet_on else []
    if len(facet_fields) > MAX_FACET_FIELDS:
        raise SearchQueryError(f"Paramètre « facet.field » : {MAX_FACET_FIELDS} champs au plus")
    default_limit = config.get("search.facets.limit") or 50
    limit = _int(params.get("facet.limit"), int(default_limit), "facet.limit", -1, MAX_ROWS)
    mincount = _int(params.get("facet.mincount"), 1, "facet.mincount", 0, MAX_ROWS)

    needs_doc = "doc" in ordering or any(name in NOT_FACETED for name in facet_fields)
    needs_flat = any(name not in NOT_FACETED for name in facet_fields)
    facet_part = "NULL::json"
    if facet_fields:
        facet_part = f"(SELECT json_agg(json_build_array(f, v, n)) FROM ({_facet_sql(facet_fields, bound)}) fc)"
    page_sql = "SELECT json_agg(json_build_array(pg.index_id, pg.score)) FROM ({}) pg"
    params_sql = {**bound, "_rows": rows, "_start": start}
    conn.execute(sa.text(f"SET LOCAL work_mem = '{SEARCH_WORK_MEM}'"))
    key, cached = None, None
    if is_whole_catalogue(q, fqs):
        # The whole catalogue: its counts are read from this process's cache when the index
        # has not changed since (same statement, same snapshot as the data version), and its
        # page from the table in index order (capacity/state filter, sort key, LIMIT).
        key = (where, json.dumps(bound, sort_keys=True, default=str), tuple(facet_fields))
        cached = counts_cache.get(key)
        params_sql["_known"] = cached[0] if cached else -1
        stale = "(v.version IS NULL OR v.version <> :_known)"
        page = page_sql.format(f"SELECT index_id, {rank} AS score FROM {TABLE} WHERE {where} "
                               f"ORDER BY {ordering} LIMIT :_rows OFFSET :_start")
        sql = f"""
            WITH v AS (SELECT (SELECT version FROM {VERSION_TABLE} WHERE id = 1) AS version),
            m AS MATERIALIZED (
                SELECT {"facet_values," if needs_flat else ""} {"doc," if needs_doc else ""} 1 AS one
                FROM {TABLE} WHERE {where})
            SELECT v.version AS version,
                   CASE WHEN {stale} THEN (SELECT count(*) FROM m) END AS hits,
                   ({page}) AS page,
                   CASE WHEN {stale} THEN {facet_part} END AS facets
            FROM v"""
    else:
        page = page_sql.format(f"SELECT index_id, score FROM m ORDER BY {ordering} LIMIT :_rows OFFSET :_start")
        sql = f"""
            WITH m AS MATERIALIZED (
                SELECT {", ".join(_sort_columns(ordering))},
                       {"facet_values," if needs_flat else ""} {"doc," if needs_doc else ""}
                       {rank} AS score
                FROM {TABLE} WHERE {where})
            SELECT NULL AS version, (SELECT count(*) FROM m) AS hits, ({page}) AS page,
                   {facet_part} AS facets"""
    result = conn.execute(sa.text(sql), params_sql).one()
    hits, facet_rows = result.hits, result.facets
    if key is not None:
        if hits is None:            # unchanged since the cached counts
            _, hits, facet_rows = cached
        elif result.version is not None:
            counts_cache.put(key, result.version, hits, facet_rows)
    page = result.page or []
    docs: list[dict[str, Any]] = []
    if page:
        wanted = _fields(params.get("fl"))
        fetched = {r.index_id: r for r in conn.execute(sa.text(
            f"SELECT index_id, doc, data_dict, validated_data_dict FROM {TABLE} "
            f"WHERE index_id = ANY(CAST(:ids AS text[]))"), {"ids": [p[0] for p in page]})}
        for index_id, score in page:
            row = fetched[index_id]
            doc = dict(row.doc)
            for payload in PAYLOAD_FIELDS:
                if getattr(row, payload) is not None:
                    doc[payload] = getattr(row, payload)
            doc["score"] = float(score or 0)
            docs.append(doc if wanted is None else {k: doc[k] for k in wanted if k in doc})
    facets = _facets(facet_rows or [], facet_fields, limit, mincount)
    return Results(hits=hits, docs=docs, facets={"facet_fields": facets})
