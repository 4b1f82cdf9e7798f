"""Finding establishments by name, commune or UAI (accent- and case-insensitive), with filters
by type, sector and territory. Reads the directory of readable datasets only."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import access
from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.etablissements.identity import departement_insee


@dataclass
class Query:
    q: str = ""
    type: Optional[str] = None
    secteur: Optional[str] = None
    departement: Optional[str] = None
    academie: Optional[str] = None
    commune: Optional[str] = None
    limit: int = 20
    offset: int = 0


@dataclass
class Results:
    count: int
    items: list[dict[str, Any]] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def _terms(q: str) -> list[str]:
    return [t for t in directory.search_text(q).split() if t][:8]


def _conditions(query: Query, alias: str) -> tuple[list[str], dict[str, Any]]:
    """The search's conditions on a directory row aliased `alias`, and their parameters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, term in enumerate(_terms(query.q)):
        clauses.append(f"{alias}.search_text LIKE :t{i}")
        params[f"t{i}"] = f"%{term}%"
    for name in ("type", "secteur", "academie", "commune"):
        value = getattr(query, name)
        if value:
            column = {"academie": "academie_code", "commune": "commune_code"}.get(name, name)
            clauses.append(f"{alias}.{column} = :{name}")
            params[name] = value
    if query.departement:
        clauses.append(f"{alias}.departement_code = :departement")
        params["departement"] = departement_insee(query.departement)
    return clauses, params


def _where(query: Query) -> tuple[str, dict[str, Any]]:
    clauses, params = _conditions(query, "b")
    return " AND ".join(["TRUE"] + clauses), params


def _candidates(query: Query) -> str:
    """A condition on the directory rows (alias ``s``) keeping the UAIs having at least one row
    that matches the search: the best row of a UAI can match only then, so the best rows are
    chosen among these UAIs alone (a few hundred rows sorted instead of the whole country's)
    and ``_where`` still decides on the best row, as before: the same results, without an index
    on ``search_text`` to maintain at every load. Empty when nothing is searched."""
    clauses, _params = _conditions(query, "d")
    if not clauses:
        return ""
    # an array computed once, then read through the UAI index: the planner cannot tell how
    # few rows the LIKEs keep and would otherwise probe the candidates for every row
    return f"s.uai = ANY(ARRAY(SELECT d.uai FROM {directory.table_name()} d WHERE {' AND '.join(clauses)}))"


def _best_cte(conn: Connection, restrict: str = "") -> tuple[str, dict[str, Any]]:
    """One row per readable UAI: its best directory row, a trusted source's whenever one knows
    the UAI (so a name, commune or position from an editor's directory-like file is neither
    shown nor searchable for an establishment of the ministry's directory). `restrict`: a
    condition on ``s`` keeping or dropping every row of a UAI alike (fewer rows to sort)."""
    trusted, params = directory.trusted_sql(conn, "p")
    where = f" AND ({restrict})" if restrict else ""
    return f"""
        best AS (
            SELECT DISTINCT ON (s.uai) s.uai, s.nom, s.type, s.secteur, s.commune_code, s.commune_nom,
                   s.departement_code, s.departement_nom, s.academie_code, s.academie_nom,
                   s.code_postal, s.latitude, s.longitude, s.search_text
            FROM {directory.table_name()} s JOIN package p ON p.id = s.package_id
            WHERE {access.readable_packages_sql('p')}{where}
            ORDER BY s.uai, {directory.best_order(trusted)}, p.metadata_modified DESC
        )""", params


FACETS = (("type", "type"), ("secteur", "secteur"), ("departement", "departement_code"))
FACET_SIZE = 30


def search(conn: Connection, query: Query, reader: access.Reader) -> Results:
    if not directory.exists(conn):
        return Results(count=0)
    where, params = _where(query)
    best, trust_params = _best_cte(conn, _candidates(query))
    params.update(trust_params)
    params.update(access.reader_params(reader), limit=max(1, min(query.limit, 100)),
                  offset=max(0, query.offset), q_uai=query.q.strip().upper())
    # the count and the facets (the FACET_SIZE most frequent values of each, empty ones
    # dropped after) in one reading of the best rows
    groups = " UNION ALL ".join(
        ["SELECT '', CAST(NULL AS text), count(*) FROM hits"]
        + [f"SELECT '{name}', {column}, count(*) FROM hits GROUP BY {column}" for name, column in FACETS])
    counts = conn.execute(sa.text(f"""
        WITH {best}, hits AS (SELECT b.* FROM best b WHERE {where})
        SELECT facet, value, n FROM (
            SELECT facet, value, n, row_number() OVER (PARTITION BY facet ORDER BY n DESC) AS rank
            FROM ({groups}) g (facet, value, n)) r
        WHERE rank <= {FACET_SIZE} ORDER BY facet, rank"""), params).all()
    count = next((n for facet, _value, n in counts if facet == ""), 0)
    facets: dict[str, dict[str, int]] = {name: {} for name, _column in FACETS}
    for facet, value, n in counts:
        if facet and value:
            facets[facet][value] = n
    items: list[dict[str, Any]] = []
    if count > params["offset"]:
        rows = conn.execute(sa.text(
            f"WITH {best} SELECT b.* FROM best b WHERE {where} "
            "ORDER BY (b.uai = :q_uai) DESC, b.nom, b.uai LIMIT :limit OFFSET :offset"), params).mappings()
        items = [{k: v for k, v in r.items() if k != "search_text"} for r in rows]
    return Results(count=count, items=items, facets=facets)


def suggestions(conn: Connection, uai: str, reader: access.Reader, limit: int = 5) -> list[dict[str, Any]]:
    """Known establishments whose UAI is close to an unknown one (same first 5 digits)."""
    if not directory.exists(conn) or len(uai) < 5:
        return []
    best, trust_params = _best_cte(conn, "s.uai LIKE :prefix")
    sql = sa.text(f"WITH {best} SELECT b.uai, b.nom, b.commune_nom FROM best b "
                  f"WHERE b.uai LIKE :prefix ORDER BY b.uai LIMIT :limit")
    params = {"prefix": uai[:5] + "%", "limit": limit, **trust_params, **access.reader_params(reader)}
    return [dict(r) for r in conn.execute(sql, params).mappings()]
