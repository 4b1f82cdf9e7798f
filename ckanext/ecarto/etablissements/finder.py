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


def _where(query: Query) -> tuple[str, dict[str, Any]]:
    clauses = ["TRUE"]
    params: dict[str, Any] = {}
    for i, term in enumerate(_terms(query.q)):
        clauses.append(f"b.search_text LIKE :t{i}")
        params[f"t{i}"] = f"%{term}%"
    for name in ("type", "secteur", "academie", "commune"):
        value = getattr(query, name)
        if value:
            column = {"academie": "academie_code", "commune": "commune_code"}.get(name, name)
            clauses.append(f"b.{column} = :{name}")
            params[name] = value
    if query.departement:
        clauses.append("b.departement_code = :departement")
        params["departement"] = departement_insee(query.departement)
    return " AND ".join(clauses), params


def _best_cte(conn: Connection) -> tuple[str, dict[str, Any]]:
    """One row per readable UAI: its best directory row, a trusted source's whenever one knows
    the UAI (so a name, commune or position from an editor's directory-like file is neither
    shown nor searchable for an establishment of the ministry's directory)."""
    trusted, params = directory.trusted_sql(conn, "p")
    return f"""
        best AS (
            SELECT DISTINCT ON (s.uai) s.uai, s.nom, s.type, s.secteur, s.commune_code, s.commune_nom,
                   s.departement_code, s.departement_nom, s.academie_code, s.academie_nom,
                   s.code_postal, s.latitude, s.longitude, s.search_text
            FROM {directory.table_name()} s JOIN package p ON p.id = s.package_id
            WHERE {access.readable_packages_sql('p')}
            ORDER BY s.uai, {directory.best_order(trusted)}, p.metadata_modified DESC
        )""", params


def search(conn: Connection, query: Query, reader: access.Reader) -> Results:
    if not directory.exists(conn):
        return Results(count=0)
    where, params = _where(query)
    best, trust_params = _best_cte(conn)
    params.update(trust_params)
    params.update(access.reader_params(reader), limit=max(1, min(query.limit, 100)),
                  offset=max(0, query.offset), q_uai=query.q.strip().upper())
    base = f"WITH {best} SELECT {{cols}} FROM best b WHERE {where}"
    count = conn.execute(sa.text(base.format(cols="count(*)")), params).scalar() or 0
    rows = conn.execute(sa.text(
        base.format(cols="b.*") + " ORDER BY (b.uai = :q_uai) DESC, b.nom, b.uai LIMIT :limit OFFSET :offset"
    ), params).mappings()
    items = [{k: v for k, v in r.items() if k != "search_text"} for r in rows]
    facets: dict[str, dict[str, int]] = {}
    for name, column in (("type", "type"), ("secteur", "secteur"), ("departement", "departement_code")):
        sql = base.format(cols=f"b.{column} AS value, count(*) AS n") + f" GROUP BY b.{column} ORDER BY n DESC LIMIT 30"
        facets[name] = {r["value"]: r["n"] for r in conn.execute(sa.text(sql), params).mappings() if r["value"]}
    return Results(count=count, items=items, facets=facets)


def suggestions(conn: Connection, uai: str, reader: access.Reader, limit: int = 5) -> list[dict[str, Any]]:
    """Known establishments whose UAI is close to an unknown one (same first 5 digits)."""
    if not directory.exists(conn) or len(uai) < 5:
        return []
    best, trust_params = _best_cte(conn)
    sql = sa.text(f"WITH {best} SELECT b.uai, b.nom, b.commune_nom FROM best b "
                  f"WHERE b.uai LIKE :prefix ORDER BY b.uai LIMIT :limit")
    params = {"prefix": uai[:5] + "%", "limit": limit, **trust_params, **access.reader_params(reader)}
    return [dict(r) for r in conn.execute(sql, params).mappings()]
