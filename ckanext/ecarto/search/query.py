"""Running a Solr-style search (q, fq, sort, paging, fl, facets) on the index table."""
from __future__ import annotations

import json
import re
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckan.common import config
from ckan.lib.search.common import SearchQueryError

from ckanext.ecarto.search import parser as p
from ckanext.ecarto.search.connection import WEIGHTS, Results, ts_config
from ckanext.ecarto.search.model import (
    COLUMN_FIELDS, DATE_COLUMNS, FACET_SEPARATOR, NOT_FACETED, PAYLOAD_FIELDS, TABLE,
)
from ckanext.ecarto.search.sql import Compiler

_SORT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s+(asc|desc)\s*$", re.I)
# Usage counters CKAN can sort on, absent without the tracking plugin: equal for all datasets.
_UNTRACKED = {"view_recent", "views_recent", "views_total"}


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except ValueError:
            pass
    return [text] if text else []


def _int(value: Any, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SearchQueryError(f"Paramètre « {name} » non entier : {value!r}")


def build_where(compiler: Compiler, q: Optional[str], fqs: list[str]) -> str:
    q = (q or "").strip()
    if not q or q in ("*:*", '""', "''"):
        q_cond = "TRUE"
    elif ":" in q or any(op in q.split() for op in ("AND", "OR", "NOT")) or q.startswith(("(", "+")):
        q_cond = compiler.condition(p.parse(q), rank=True)
    else:
        q_cond = compiler.free_text(q)
    conds = [q_cond] + [compiler.condition(p.parse(fq)) for fq in fqs]
    return " AND ".join(f"({c})" for c in conds)


def order_by(sort: Optional[str], has_rank: bool) -> str:
    sort = (sort or "score desc, metadata_modified desc").strip()
    parts = []
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
            parts.append(f"unaccent(lower(title_string)) {direction}")
        elif name in COLUMN_FIELDS or name in DATE_COLUMNS:
            parts.append(f"{name} {direction}")
        else:
            if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                raise SearchQueryError(f"Tri impossible sur « {name} »")
            parts.append(f"(doc ->> '{name}') {direction}")
    parts.append("metadata_modified DESC")
    parts.append("id ASC")
    return ", ".join(parts)


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


def _facet_sql(fields: list[str], params: dict[str, Any]) -> str:
    """Value counts per field over the matched documents `m`: from the flat `facet_values`
    array, or from `doc` for the fields that array leaves out."""
    selects = []
    flat = [name for name in fields if name not in NOT_FACETED]
    if flat:
        params["facet_flat_fields"] = flat
        params["facet_all_fields"] = list(fields)
        selects.append(
            "SELECT array_position(CAST(:facet_all_fields AS text[]), split_part(v, :facet_sep, 1)) - 1 AS f, "
            "substr(v, strpos(v, :facet_sep) + 1) AS v, count(*) AS n "
            "FROM m, unnest(m.facet_values) v "
            "WHERE split_part(v, :facet_sep, 1) = ANY(CAST(:facet_flat_fields AS text[])) GROUP BY 1, 2")
        params["facet_sep"] = FACET_SEPARATOR
    for i, name in enumerate(fields):
        if name in flat:
            continue
        key = f"facet_field_{i}"
        params[key] = name
        selects.append(
            f"SELECT {i} AS f, e AS v, count(*) AS n FROM m, LATERAL jsonb_array_elements_text("
            f"CASE jsonb_typeof(m.doc -> :{key}) WHEN 'array' THEN m.doc -> :{key} "
            f"WHEN 'null' THEN '[]'::jsonb WHEN 'object' THEN '[]'::jsonb "
            f"ELSE jsonb_build_array(m.doc -> :{key}) END) e WHERE e <> '' GROUP BY e")
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
    counted, paged and faceted; a second small query fetches the page's dataset dicts."""
    compiler = Compiler(ts_config())
    fqs = _list(params.get("fq")) + _list(params.get("fq_list"))
    where = build_where(compiler, q, fqs)
    rank = _rank(compiler)
    bound = dict(compiler.out.params)
    rows = max(0, _int(params.get("rows"), 10, "rows"))
    start = max(0, _int(params.get("start"), 0, "start"))
    ordering = order_by(params.get("sort"), bool(compiler.out.rank_queries))

    facet_on = str(params.get("facet", "true")).lower() != "false"
    facet_fields = _list(params.get("facet.field")) if facet_on else []
    default_limit = config.get("search.facets.limit") or 50
    limit = _int(params.get("facet.limit"), int(default_limit), "facet.limit")
    mincount = _int(params.get("facet.mincount"), 1, "facet.mincount")

    needs_doc = "doc" in ordering or any(name in NOT_FACETED for name in facet_fields)
    facet_part = "NULL::json"
    if facet_fields:
        facet_part = f"(SELECT json_agg(json_build_array(f, v, n)) FROM ({_facet_sql(facet_fields, bound)}) fc)"
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT {", ".join(dict.fromkeys(("index_id",) + COLUMN_FIELDS + DATE_COLUMNS))},
                   facet_values, {"doc," if needs_doc else ""}
                   {rank} AS score
            FROM {TABLE} WHERE {where})
        SELECT (SELECT count(*) FROM m) AS hits,
               (SELECT json_agg(json_build_array(pg.index_id, pg.score)) FROM (
                    SELECT index_id, score FROM m ORDER BY {ordering} LIMIT :_rows OFFSET :_start) pg) AS page,
               {facet_part} AS facets"""
    result = conn.execute(sa.text(sql), {**bound, "_rows": rows, "_start": start}).one()
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
    facets = _facets(result.facets or [], facet_fields, limit, mincount)
    return Results(hits=result.hits, docs=docs, facets={"facet_fields": facets})
