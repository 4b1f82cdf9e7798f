"""Reference values beside an establishment's numeric indicators: the mean for establishments
of the same type in its commune, département, académie and in France (the loaded data), each
with the number of establishments counted and the n.c. rate (share without a value).

No ranking: a reference is a context value, never a position in a list.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.logic import access

LEVELS: tuple[tuple[str, str, str], ...] = (
    # level, directory column, label
    ("commune", "commune_code", "Commune"),
    ("departement", "departement_code", "Département"),
    ("academie", "academie_code", "Académie"),
    ("france", "", "France (données chargées)"),
)


def _directory_cte() -> str:
    """One row per readable UAI of the given type, best directory source first."""
    return f"""
        dir AS (
            SELECT DISTINCT ON (s.uai) s.uai, s.commune_code, s.departement_code, s.academie_code
            FROM {directory.table_name()} s JOIN package p ON p.id = s.package_id
            WHERE s.type = :type AND {access.readable_packages_sql('p')}
            ORDER BY s.uai, s.priority, s.millesime DESC NULLS LAST
        )"""


def compute(conn: Connection, ident: dict[str, Any], table: str, columns: list[str],
            reader: access.Reader) -> dict[str, dict[str, Any]]:
    """column -> {level: {"label", "code", "moyenne", "n_etablissements", "n_valeurs", "taux_nc"}}"""
    filters: dict[str, str] = {}
    params: dict[str, Any] = {"type": ident.get("type") or "autre", **access.reader_params(reader)}
    selects: list[str] = []
    for level, col, _label in LEVELS:
        if col:
            if not ident.get(col):
                continue
            params[f"code_{level}"] = ident[col]
            filters[level] = f"d.{col} = :code_{level}"
        else:
            filters[level] = "TRUE"
    for i, column in enumerate(columns):
        for level, cond in filters.items():
            selects.append(f"count(*) FILTER (WHERE {cond}) AS n_{level}_{i}")
            selects.append(f'count(v."{column}") FILTER (WHERE {cond}) AS k_{level}_{i}')
            selects.append(f'avg(v."{column}"::double precision) FILTER (WHERE {cond}) AS m_{level}_{i}')
    value_cols = ", ".join(f'"{c}"' for c in columns)
    sql = sa.text(f"""
        WITH {_directory_cte()},
        vals AS (SELECT DISTINCT ON (_key) _key, {value_cols} FROM {table} ORDER BY _key, _row DESC)
        SELECT {", ".join(selects)}
        FROM dir d LEFT JOIN vals v ON v._key = d.uai""")
    row = conn.execute(sql, params).mappings().one()
    result: dict[str, dict[str, Any]] = {}
    for i, column in enumerate(columns):
        per_level: dict[str, Any] = {}
        for level, col, label in LEVELS:
            if level not in filters:
                continue
            n, k, mean = row[f"n_{level}_{i}"], row[f"k_{level}_{i}"], row[f"m_{level}_{i}"]
            if not n:
                continue
            per_level[level] = {
                "label": label,
                "code": ident.get(col) if col else None,
                "moyenne": round(float(mean), 4) if mean is not None else None,
                "n_etablissements": n,
                "n_valeurs": k,
                "taux_nc": round(1 - k / n, 4),
            }
        result[column] = per_level
    return result


def attach(conn: Connection, ident: dict[str, Any], jobs: list[tuple[dict[str, Any], dict[str, Any], str]],
           reader: access.Reader) -> None:
    """Fill `references` of each (slot, resource, column) job, one query per resource."""
    by_table: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for slot, res, column in jobs:
        by_table[res["table_name"]].append((slot, column))
    for table, items in by_table.items():
        columns = sorted({column for _slot, column in items})
        values = compute(conn, ident, table, columns, reader)
        for slot, column in items:
            slot["references"] = values.get(column)
