"""Everything the portal knows about one establishment, joined on its UAI across every
ingested resource the visitor may read.

Shape of the record (also the JSON of `/etablissement/<uai>.json` and of the action
`ecarto_etablissement_show`):

    {"uai", "identite": {..., "web_url", "verifiee", "producteur", "sources": [...]},
     "axes": [{"id", "label", "indicateurs": [{"id", "label", "unit", "valeur", "nc",
               "source", "historique", "references"}]}],
     "autres_donnees": [{"source", "colonnes": [{"colonne", "label", "valeur", "unit",
                         "references"}], "lignes": [...], "erreur"?}],
     "contexte_commune": [{"source", "colonnes": [...], "lignes": [...], "erreur"?}]}

"n.c." (non communiqué) is explicit: `valeur` None with `nc` True — never a blank that
could be read as zero. A source that cannot be read has `erreur` (« donnée illisible ») and
no values; its failure is logged. The identity comes from trusted directories only (see
`directory`); `web_url` is the website when it is a safe http(s) link, else None.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
from typing import Any, Callable, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import access
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements import directory, references
from ckanext.ecarto.etablissements.identity import TYPES, SECTION_COLUMNS, web_url
from ckanext.ecarto.ingest import registry

log = logging.getLogger(__name__)

T = TypeVar("T")


def plain(value: Any) -> Any:
    """JSON-friendly scalar."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN / infinity: not a value a page or a JSON reader can use
    return value


def readable_resources(conn: Connection, reader: access.Reader, key_kind: str) -> list[dict[str, Any]]:
    """Ingested resources of readable datasets keyed on `key_kind` (`uai` or `commune`), from
    the registry's owner (``ingest/registry.py``)."""
    return registry.readable_resources(conn, reader, key_kind)


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
    """The identity of one UAI from the directory sources allowed to make it (see
    `directory`'s docstring: trusted sources only, or one untrusted producer when no trusted
    source knows the UAI). `verifiee` False marks the latter; `producteur` names it."""
    used = directory.identity_sources(directory.sources_for(conn, uai, reader))
    if not used:
        return None
    merged = directory.merge(used)
    merged["type_label"] = TYPES.get(merged.get("type") or "autre")
    sections = merged.get("sections") or []
    if isinstance(sections, str):
        sections = json.loads(sections)
    merged["sections"] = [SECTION_COLUMNS[s] for s in sections if s in SECTION_COLUMNS]
    merged["web_url"] = web_url(merged.get("web"))
    merged["verifiee"] = bool(used[0].get("trusted"))
    merged["producteur"] = None if merged["verifiee"] else used[0].get("organization_title")
    merged["sources"] = [{"dataset": s["package_name"], "dataset_title": s["package_title"],
                          "resource_id": s["resource_id"], "millesime": s["millesime"],
                          "producteur": s.get("organization_title")}
                         for s in used]
    return merged


def _guarded(conn: Connection, what: str, res: dict[str, Any], step: Callable[[], T]) -> tuple[Optional[T], bool]:
    """Run one source's part of the page in a savepoint: a failure there (unreadable table,
    value PostgreSQL refuses…) is logged and reported as (None, False) instead of taking the
    whole page down; the transaction stays usable for the other sources."""
    savepoint = conn.begin_nested()
    try:
        result = step()
    except Exception:  # noqa: BLE001 - one source never breaks the page
        savepoint.rollback()
        log.exception("Fiche établissement : %s de la ressource %s (%s) illisible",
                      what, res.get("resource_id"), res.get("table_name"))
        return None, False
    savepoint.commit()
    return result, True


def unreadable() -> str:
    """What a reader sees for a source the portal could not read (the details are in the log)."""
    return _("donnée illisible")


def build(conn: Connection, uai: str, reader: access.Reader, *, with_references: bool = True) -> Optional[dict[str, Any]]:
    """The full record of one UAI, or None when no readable directory knows it.

    Each source is read on its own (`_guarded`): a source that cannot be read shows as a block
    with `erreur` « donnée illisible » in `autres_donnees` (or `contexte_commune`), and the
    identity, the other sources and the references still come out."""
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
        rows, ok = _guarded(conn, "lecture des lignes", res, lambda res=res: _rows(conn, res["table_name"], uai))
        if not ok:
            others.append(_unreadable_block(res))
            continue
        if not rows:
            continue
        try:
            block = _uai_block(res, rows, axes, ref_jobs)
        except Exception:  # noqa: BLE001 - an odd value never breaks the page
            log.exception("Fiche établissement %s : valeurs de la ressource %s illisibles", uai, res["resource_id"])
            block = _unreadable_block(res)
        others.append(block)

    commune_context = []
    if ident.get("commune_code"):
        for res in readable_resources(conn, reader, "commune"):
            rows, ok = _guarded(conn, "contexte communal", res,
                                lambda res=res: _rows(conn, res["table_name"], ident["commune_code"]))
            if not ok:
                commune_context.append(_unreadable_block(res))
                continue
            if rows:
                try:
                    commune_context.append(_commune_block(res, rows))
                except Exception:  # noqa: BLE001
                    log.exception("Fiche établissement %s : contexte communal %s illisible", uai, res["resource_id"])
                    commune_context.append(_unreadable_block(res))

    if with_references and ref_jobs:
        references.attach(conn, ident, ref_jobs, reader, guard=_guarded)

    return {
        "uai": uai,
        "identite": {k: plain(v) for k, v in ident.items()},
        "axes": [{"id": a["id"], "label": a["label"], "indicateurs": list(a["indicateurs"].values())}
                 for a in axes.values()],
        "autres_donnees": others,
        "contexte_commune": commune_context,
    }


def _unreadable_block(res: dict[str, Any]) -> dict[str, Any]:
    return {"source": _source(res), "colonnes": [], "lignes": [], "erreur": unreadable()}


def _uai_block(res: dict[str, Any], rows: list[dict[str, Any]], axes: dict[str, Any],
               ref_jobs: list[tuple[dict[str, Any], dict[str, Any], str]]) -> dict[str, Any]:
    """The `autres_donnees` block of one UAI-keyed resource; fills the axis indicators it feeds
    and queues reference values for the numeric indicators (a value that is not a number, such
    as "douze", counts as n.c. there) and for the other columns stored as numbers."""
    latest = rows[-1] if len(rows) > 1 else rows[0]
    other_cols = []
    slots: list[tuple[dict[str, Any], dict[str, Any]]] = []
    jobs: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    for col in _value_columns(res):
        value = plain(latest.get(col["name"]))
        numeric = col.get("type") in references.NUMERIC_STORED
        ind = axes_mod.indicator_for_column(res.get("axe"), col.get("source") or col["name"],
                                            col.get("indicator"))
        if ind is not None:
            slots.append((axes[ind.axe]["indicateurs"][ind.id], {"valeur": value, "ind": ind, "col": col}))
            continue
        item = {"colonne": col.get("source") or col["name"], "label": col.get("label") or col.get("source"),
                "unit": col.get("unit"), "type": col.get("type"), "valeur": value, "references": None}
        other_cols.append(item)
        if numeric:
            jobs.append((item, res, col["name"]))
    block = {"source": _source(res), "colonnes": other_cols,
             "lignes": [{k: plain(v) for k, v in r.items() if not k.startswith("_")} for r in rows]
             if len(rows) > 1 else []}
    # applied only once the whole block was read: a failure above leaves the axes untouched
    for slot, found in slots:
        value = found["valeur"]
        if slot["source"] is None:
            slot.update(valeur=value, nc=value is None, source=_source(res), millesime=res.get("millesime"))
            if found["ind"].numeric:  # a text column is read through references.number_sql
                jobs.append((slot, res, found["col"]["name"]))
        else:
            slot["historique"].append({"valeur": value, "source": _source(res), "millesime": res.get("millesime")})
    ref_jobs.extend(jobs)
    return block


def _commune_block(res: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "source": _source(res),
        "colonnes": [{"colonne": c.get("source") or c["name"], "label": c.get("label") or c.get("source"),
                      "unit": c.get("unit")} for c in _value_columns(res)],
        "lignes": [{(c.get("source") or c["name"]): plain(r.get(c["name"])) for c in _value_columns(res)}
                   for r in rows],
    }
