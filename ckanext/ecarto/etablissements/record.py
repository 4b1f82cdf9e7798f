"""Everything the portal knows about one establishment, joined on its UAI across every
ingested resource the visitor may read.

Shape of the record (also the JSON of `/etablissement/<uai>.json` and of the action
`ecarto_etablissement_show`):

    {"uai", "identite": {...}, "sources_identite": [...],
     "axes": [{"id", "label", "indicateurs": [{"id", "label", "unit", "valeur", "nc",
               "source", "historique", "references"}]}],
     "autres_donnees": [{"source", "colonnes": [{"colonne", "label", "valeur", "unit",
                         "references"}], "lignes": [...]}],
     "contexte_commune": [{"source", "colonnes": [...], "lignes": [...]}]}

"n.c." (non communiqué) is explicit: `valeur` None with `nc` True — never a blank that
could be read as zero.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements import directory, references
from ckanext.ecarto.etablissements.identity import TYPES, SECTION_COLUMNS
from ckanext.ecarto.logic import access

REGISTRY = "ecarto_ingested_resource"


def plain(value: Any) -> Any:
    """JSON-friendly scalar."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def readable_resources(conn: Connection, reader: access.Reader, key_kind: str) -> list[dict[str, Any]]:
    """Ingested resources of readable datasets keyed on `key_kind` (`uai` or `commune`)."""
    sql = sa.text(f"""
        SELECT r.resource_id, r.package_id, r.table_name, r.key_column, r.millesime, r.columns,
               p.name AS package_name, p.title AS package_title,
               res.name AS resource_name, res.url AS resource_url,
               p.extras ->> 'axe' AS axe,
               g.title AS organization_title
        FROM {REGISTRY} r
        JOIN package p ON p.id = r.package_id
        JOIN resource res ON res.id = r.resource_id AND res.state = 'active'
        LEFT JOIN "group" g ON g.id = p.owner_org
        WHERE r.key_kind = :kind AND r.status = 'ok' AND {access.readable_packages_sql('p')}
        ORDER BY r.millesime DESC NULLS LAST, p.title""")
    rows = conn.execute(sql, {"kind": key_kind, **access.reader_params(reader)}).mappings()
    result = []
    for row in rows:
        item = dict(row)
        if isinstance(item["columns"], str):
            item["columns"] = json.loads(item["columns"])
        result.append(item)
    return result


def _source(res: dict[str, Any]) -> dict[str, Any]:
    return {
        "dataset": res["package_name"],
        "dataset_title": res["package_title"],
        "resource_id": res["resource_id"],
        "resource_name": res["resource_name"],
        "producteur": res.get("organization_title"),
        "millesime": res.get("millesime"),
        "axe": res.get("axe"),
    }


def _rows(conn: Connection, table: str, key: str) -> list[dict[str, Any]]:
    sql = sa.text(f"SELECT * FROM {table} WHERE _key = :key ORDER BY _row")
    return [dict(r) for r in conn.execute(sql, {"key": key}).mappings()]


def _value_columns(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Columns of a resource worth showing (not the join key, not internal columns)."""
    return [c for c in res["columns"]
            if not c["name"].startswith("_") and c.get("source") != res.get("key_column")]


def identity(conn: Connection, uai: str, reader: access.Reader) -> Optional[dict[str, Any]]:
    sources = directory.sources_for(conn, uai, reader)
    if not sources:
        return None
    merged = directory.merge(sources)
    merged["type_label"] = TYPES.get(merged.get("type") or "autre")
    sections = merged.get("sections") or []
    if isinstance(sections, str):
        sections = json.loads(sections)
    merged["sections"] = [SECTION_COLUMNS[s] for s in sections if s in SECTION_COLUMNS]
    merged["sources"] = [{"dataset": s["package_name"], "dataset_title": s["package_title"],
                          "resource_id": s["resource_id"], "millesime": s["millesime"]}
                         for s in sources]
    return merged


def build(conn: Connection, uai: str, reader: access.Reader, *, with_references: bool = True) -> Optional[dict[str, Any]]:
    """The full record of one UAI, or None when no readable directory knows it."""
    ident = identity(conn, uai, reader)
    if ident is None:
        return None
    directory_resources = {s["resource_id"] for s in ident["sources"]}
    axes = {axe: {"id": axe, "label": label, "indicateurs": {}} for axe, label in axes_mod.AXES}
    for axe, inds in axes_mod.indicators().items():
        for ind in inds:
            axes[axe]["indicateurs"][ind.id] = {
                "id": ind.id, "label": ind.label, "unit": ind.unit, "type": ind.type,
                "valeur": None, "nc": True, "source": None, "historique": [], "references": None,
            }
    others: list[dict[str, Any]] = []
    ref_jobs: list[tuple[dict[str, Any], dict[str, Any], str]] = []

    for res in readable_resources(conn, reader, "uai"):
        if res["resource_id"] in directory_resources:
            continue
        rows = _rows(conn, res["table_name"], uai)
        if not rows:
            continue
        latest = rows[-1] if len(rows) > 1 else rows[0]
        other_cols = []
        for col in _value_columns(res):
            value = plain(latest.get(col["name"]))
            ind = axes_mod.indicator_for_column(res.get("axe"), col.get("source") or col["name"],
                                                col.get("indicator"))
            if ind is not None:
                slot = axes[ind.axe]["indicateurs"][ind.id]
                entry = {"valeur": value, "source": _source(res), "millesime": res.get("millesime")}
                if slot["source"] is None:
                    slot.update(valeur=value, nc=value is None, source=entry["source"],
                                millesime=res.get("millesime"))
                    if ind.numeric:
                        ref_jobs.append((slot, res, col["name"]))
                else:
                    slot["historique"].append(entry)
                continue
            item = {"colonne": col.get("source") or col["name"], "label": col.get("label") or col.get("source"),
                    "unit": col.get("unit"), "type": col.get("type"), "valeur": value, "references": None}
            other_cols.append(item)
            if col.get("type") in {"integer", "number"}:
                ref_jobs.append((item, res, col["name"]))
        others.append({"source": _source(res), "colonnes": other_cols,
                       "lignes": [{k: plain(v) for k, v in r.items() if not k.startswith("_")} for r in rows]
                       if len(rows) > 1 else []})

    commune_context = []
    if ident.get("commune_code"):
        for res in readable_resources(conn, reader, "commune"):
            rows = _rows(conn, res["table_name"], ident["commune_code"])
            if rows:
                commune_context.append({
                    "source": _source(res),
                    "colonnes": [{"colonne": c.get("source") or c["name"], "label": c.get("label") or c.get("source"),
                                  "unit": c.get("unit")} for c in _value_columns(res)],
                    "lignes": [{(c.get("source") or c["name"]): plain(r.get(c["name"])) for c in _value_columns(res)}
                               for r in rows],
                })

    if with_references and ref_jobs:
        references.attach(conn, ident, ref_jobs, reader)

    return {
        "uai": uai,
        "identite": {k: plain(v) for k, v in ident.items()},
        "axes": [{"id": a["id"], "label": a["label"], "indicateurs": list(a["indicateurs"].values())}
                 for a in axes.values()],
        "autres_donnees": others,
        "contexte_commune": commune_context,
    }
