"""Everything the portal knows about one establishment, joined on its UAI across every
ingested resource the visitor may read.

Shape of the record (also the JSON of `/etablissement/<uai>.json` and of the action
`ecarto_etablissement_show`):

    {"uai", "identite": {..., "web_url", "verifiee", "producteur", "sources": [...]},
     "axes": [{"id", "label",
               "indicateurs": [{"id", "label", "unit", "type", "valeur", "periode", "statut", "nc",
                                "applicable", "raison", "source", "millesime", "historique",
                                "references", "detail"?}],
               "niveau_commune": [<commune-level measures of that axis, "niveau": "commune">]}],
     "autres_donnees": [{"source", "periode", "colonnes": [{"colonne", "label", "unit", "type", "role",
                         "valeur", "periode", "statut", "raison", "references", "historique"}],
                         "lignes": [...], "erreur"?}],
     "contexte_commune": [{"source", "periode", "colonnes": [...], "lignes": [...], "mesures": [...],
                           "erreur"?}]}

Which column goes where (an axis indicator, « Autres données », the identity…) is decided by
``destinations`` — the rule the validation report announces before publishing. A source block
of ``autres_donnees`` is listed only when it has columns to show (or `erreur`): a source whose
every value feeds the axes leaves no empty heading. Reference values count the establishments
the territory pages count (see ``references``).

Values are read through the column model (``ingest/columns.py``, see ``series``): `valeur` is
the value of the latest period for this school (`periode`: « 2021-2022 », « T1 2018 », or the
resource's millésime when the file has no period), never the file's last row; `historique`
holds the earlier periods (oldest first), of that file and of the other resources of the same
series, each with its `periode`, `valeur`, `source` and `references`. Reference values are
computed for measures and flags only, on the same period; codes, labels and dimensions are shown
as they are.

`statut` tells what a missing value means: « valeur », « nc » (non communiqué: `valeur` None
with `nc` True — never a blank that could be read as zero), « non_applicable » (`applicable`
False: every source of the indicator covers only other types of establishment, e.g. a collèges
file on an école's page), « periodes_non_ordonnables » (the file's periods cannot be ordered:
rows kept, no current value, `raison` says why), « par_dimension » (several rows per period:
`detail` holds one value per dimension row). A source that cannot be read has `erreur` (« donnée illisible ») and
no values; its failure is logged. The identity comes from trusted directories only (see
`directory`); `web_url` is the website when it is a safe http(s) link, else None.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
from collections import defaultdict
from typing import Any, Callable, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import access, roles
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements import destinations, directory, labels, references, series
from ckanext.ecarto.etablissements.identity import TYPES, SECTION_COLUMNS, web_url
from ckanext.ecarto.ingest import columns as colmodel
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
                         for s in directory.one_per_resource(used)]
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




# --------------------------------------------------------------------------- reading the sources

def _rows(conn: Connection, res: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every row of one key in one resource (the file's order; periods are sorted later)."""
    sql = sa.text(f"SELECT * FROM {res['table_name']} WHERE _key = :key ORDER BY _row")
    return [dict(r) for r in conn.execute(sql, {"key": key}).mappings()]


def _covered_types(conn: Connection, res: dict[str, Any], version: tuple[Any, ...]) -> set[str]:
    """The establishment types (école, collège…) the directory knows among a resource's UAIs."""
    key = (res["table_name"], version)
    found = _TYPES_CACHE.get(key)
    if found is None:
        sql = sa.text(f"""SELECT DISTINCT s.type FROM {directory.table_name()} s
                          WHERE s.uai IN (SELECT DISTINCT _key FROM {res['table_name']})""")
        found = {r[0] for r in conn.execute(sql) if r[0]}
        if len(_TYPES_CACHE) >= 500:
            _TYPES_CACHE.clear()
        _TYPES_CACHE[key] = found
    return found


_TYPES_CACHE: dict[tuple[Any, ...], set[str]] = {}

MEASURES = (roles.MEASURE, roles.FLAG)
STATUT_VALEUR, STATUT_NC, STATUT_NON_APPLICABLE, STATUT_NON_ORDONNABLE, STATUT_DETAIL = (
    "valeur", "nc", "non_applicable", "periodes_non_ordonnables", "par_dimension")


def _period_key(res: dict[str, Any], point: series.Point) -> Optional[str]:
    """The period a reference is computed on: the row's `_periode`, None for a table without one."""
    return point.periode if colmodel.period_of(res) else None


def _point_dict(point: series.Point) -> dict[str, Any]:
    item = {"periode": point.periode, "valeur": point.valeur, "source": _source(point.res),
            "millesime": point.res.get("millesime"), "references": None}
    if point.detail:
        item["detail"] = point.detail
    return item


class _Page:
    """What the page collects while reading the sources of one UAI."""

    def __init__(self, ident: dict[str, Any]):
        self.ident = ident
        self.jobs: dict[tuple[str, str], tuple[dict[str, Any], str, dict[Optional[str], list[dict[str, Any]]]]] = {}
        self.indicator_points: dict[str, list[series.Point]] = defaultdict(list)
        self.series_points: dict[str, list[series.Point]] = defaultdict(list)
        self.series_order: list[str] = []
        self.blocks: dict[str, dict[str, Any]] = {}

    def want_reference(self, point: series.Point, target: dict[str, Any]) -> None:
        """Queue the reference values of `target` (a value of `point`'s column and period)."""
        if point.detail or not point.orderable or colmodel.role_of(point.col) not in MEASURES:
            return
        res, name = point.res, point.col["name"]
        job = self.jobs.setdefault((res["table_name"], name), (res, name, defaultdict(list)))
        job[2][_period_key(res, point)].append(target)

    def add_series(self, key: str, found: list[series.Point]) -> None:
        if key not in self.series_points:
            self.series_order.append(key)
        self.series_points[key].extend(found)


def _fill(item: dict[str, Any], page: _Page, split: series.Series, *, with_refs: bool = True) -> None:
    """Current value, its period and source, the history and the reference jobs of one item
    (an axis indicator or a column)."""
    current = split.current
    item["historique"] = [_point_dict(p) for p in split.history]
    if with_refs:
        for point, old in zip(split.history, item["historique"]):
            page.want_reference(point, old)
    if current is None:
        item.update(valeur=None, periode=None, statut=STATUT_NON_ORDONNABLE if split.raison else STATUT_NC,
                    raison=split.raison)
        return
    item.update(valeur=current.valeur, periode=current.periode, source=_source(current.res),
                millesime=current.res.get("millesime"), raison=None,
                statut=STATUT_DETAIL if current.detail else (STATUT_NC if current.valeur is None else STATUT_VALEUR))
    if current.detail:
        item["detail"] = current.detail
    if with_refs:
        page.want_reference(current, item)


def _column_item(res: dict[str, Any], col: dict[str, Any]) -> dict[str, Any]:
    return {"colonne": col.get("source") or col["name"], "label": labels.column_label(col),
            "unit": col.get("unit"), "type": col.get("type"), "role": colmodel.role_of(col),
            "valeur": None, "periode": None, "statut": STATUT_NC, "raison": None, "references": None,
            "historique": []}


def _shown_columns(res: dict[str, Any], identity_resources: set[str]) -> list[dict[str, Any]]:
    """The columns of a resource the page shows (``destinations.shown_columns``)."""
    return destinations.shown_columns(res, res["resource_id"] in identity_resources)


def _read_uai_resource(page: _Page, res: dict[str, Any], rows: list[dict[str, Any]], rank: int,
                       identity_resources: set[str]) -> dict[str, Any]:
    """Read one resource's rows of the UAI: axis indicators and measure series collect their
    points (placed once every source is read); codes, labels and dimensions are shown as they
    are, from the latest period."""
    groups = series.by_period(res, rows)
    shown = _shown_columns(res, identity_resources)
    block = {"source": _source(res), "periode": _period_info(res), "colonnes": [],
             "lignes": _lines(res, groups, shown) if len(rows) > 1 else []}
    pending_indicators: list[tuple[str, list[series.Point]]] = []
    pending_series: list[tuple[str, list[series.Point]]] = []
    for col in shown:
        found = series.points(res, col, groups, plain, rank)
        # where the column goes: decided where the validation report reads it too
        where = destinations.value_destination(res, col)
        if where.kind == destinations.INDICATEUR:
            pending_indicators.append((where.indicateur, found))
        elif where.references:
            pending_series.append((colmodel.series_key(res, col), found))
        else:
            item = _column_item(res, col)
            _fill(item, page, series.split(found), with_refs=False)
            item["historique"] = []
            block["colonnes"].append(item)
    # applied only once the whole block was read: a failure above leaves the page untouched
    for ind_id, found in pending_indicators:
        page.indicator_points[ind_id].extend(found)
    for key, found in pending_series:
        page.add_series(key, found)
    return block


def _period_info(res: dict[str, Any]) -> Optional[dict[str, Any]]:
    period = colmodel.period_of(res)
    if not period:
        return None
    label = period.get("label") or period.get("source") or ""
    if not label or label.startswith("("):   # periods read from the columns' headers
        label = colmodel.PERIOD_KIND_LABELS.get(period.get("kind") or "", "période").capitalize()
    return {"label": label, "kind": period.get("kind"),
            "orderable": period.get("orderable", True), "raison": period.get("reason"),
            "derniere": period.get("latest")}


def _lines(res: dict[str, Any], groups: list[series.PeriodRows],
           cols: Optional[list[dict[str, Any]]] = None) -> list[dict[str, Any]]:
    """Every row of the key, oldest period first, with its period, as the file names columns
    (`cols`: the columns shown, all of them by default)."""
    cols = colmodel.value_columns(res) if cols is None else cols
    lines = []
    for group in groups:
        for row in group.rows:
            line = {"periode": group.periode} if colmodel.period_of(res) else {}
            line.update({(c.get("source") or c["name"]): plain(row.get(c["name"])) for c in cols})
            lines.append(line)
    return lines


def _new_indicator(ind: axes_mod.Indicator) -> dict[str, Any]:
    return {"id": ind.id, "label": ind.label, "unit": ind.unit, "type": ind.type,
            "valeur": None, "nc": True, "applicable": True, "statut": STATUT_NC, "raison": None,
            "periode": None, "source": None, "millesime": None, "historique": [], "references": None}


def _indicator_sources(resources: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """indicator id -> the readable resources that have a column feeding it."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for res in resources:
        for col in colmodel.value_columns(res):
            ind = destinations.indicator_of(res, col)
            if ind is not None and res not in found[ind.id]:
                found[ind.id].append(res)
    return found


def _applicable(conn: Connection, ident: dict[str, Any], feeding: list[dict[str, Any]],
                version: tuple[Any, ...]) -> bool:
    """False when every source of an indicator covers only other types of establishment (a
    collèges file, and the page is an école's): the indicator does not concern the school."""
    kind = ident.get("type")
    if not feeding or not kind:
        return True
    covered: set[str] = set()
    for res in feeding:
        found, ok = _guarded(conn, "types couverts", res, lambda res=res: _covered_types(conn, res, version))
        if not ok or found is None:
            return True
        covered |= found
    return not covered or kind in covered


def build(conn: Connection, uai: str, reader: access.Reader, *, with_references: bool = True) -> Optional[dict[str, Any]]:
    """The full record of one UAI, or None when no readable directory knows it.

    Each source is read on its own (`_guarded`): a source that cannot be read shows as a block
    with `erreur` « donnée illisible » in `autres_donnees` (or `contexte_commune`), and the
    identity, the other sources and the references still come out. Values are read through the
    column model: the current value is the latest period's, earlier periods are history
    (`series`)."""
    ident = identity(conn, uai, reader)
    if ident is None:
        return None
    page = _Page(ident)
    identity_resources = {s["resource_id"] for s in ident["sources"]}
    axes = {axe: {"id": axe, "label": label, "indicateurs": {}, "niveau_commune": []} for axe, label in axes_mod.AXES}
    for axe, inds in axes_mod.indicators().items():
        for ind in inds:
            axes[axe]["indicateurs"][ind.id] = _new_indicator(ind)
    slots = {ind_id: slot for a in axes.values() for ind_id, slot in a["indicateurs"].items()}

    resources = readable_resources(conn, reader, "uai")
    blocks: list[dict[str, Any]] = []
    for rank, res in enumerate(resources):
        rows, ok = _guarded(conn, "lecture des lignes", res, lambda res=res: _rows(conn, res, uai))
        if not ok:
            blocks.append(_unreadable_block(res))
            continue
        if not rows:
            continue
        try:
            block = _read_uai_resource(page, res, rows, rank, identity_resources)
        except Exception:  # noqa: BLE001 - an odd value never breaks the page
            log.exception("Fiche établissement %s : valeurs de la ressource %s illisibles", uai, res["resource_id"])
            block = _unreadable_block(res)
        page.blocks[res["resource_id"]] = block
        blocks.append(block)

    for ind_id, found in page.indicator_points.items():
        slot = slots[ind_id]
        _fill(slot, page, series.split(found))
        slot["nc"] = slot["statut"] == STATUT_NC
    _place_series(page)
    _mark_not_applicable(conn, ident, slots, page, resources)
    # a source whose every value went to the axes has nothing under « Autres données »: no
    # heading with nothing under it
    shown_blocks = [b for b in blocks if b.get("erreur") or b["colonnes"]]

    commune_context = _commune_context(conn, ident, reader, axes, page) if ident.get("commune_code") else []

    if with_references and page.jobs:
        references.attach(conn, ident, list(page.jobs.values()), reader, guard=_guarded)

    return {
        "uai": uai,
        "identite": {k: plain(v) for k, v in ident.items()},
        "axes": [{"id": a["id"], "label": a["label"], "indicateurs": list(a["indicateurs"].values()),
                  "niveau_commune": a["niveau_commune"]} for a in axes.values()],
        "autres_donnees": shown_blocks,
        "contexte_commune": commune_context,
    }


def _place_series(page: _Page) -> None:
    """Each measure series once: in the block of the resource holding its current value (else
    its first resource), with the other periods — of that file or of others of the series — as
    history."""
    for key in page.series_order:
        found = page.series_points[key]
        split = series.split(found)
        home = split.current or found[0]
        block = page.blocks.get(home.res["resource_id"])
        if block is None or block.get("erreur"):
            continue
        item = _column_item(home.res, home.col)
        item["serie"] = key
        _fill(item, page, split)
        block["colonnes"].append(item)


def _mark_not_applicable(conn: Connection, ident: dict[str, Any], slots: dict[str, dict[str, Any]],
                         page: _Page, resources: list[dict[str, Any]]) -> None:
    """An indicator without a value whose sources only cover other types of establishment is
    « non applicable », not n.c."""
    missing = [i for i, slot in slots.items() if slot["valeur"] is None and not page.indicator_points.get(i)]
    if not missing:
        return
    feeding = _indicator_sources(resources)
    version = references.data_version(conn)
    for ind_id in missing:
        if feeding.get(ind_id) and not _applicable(conn, ident, feeding[ind_id], version):
            slots[ind_id].update(applicable=False, statut=STATUT_NON_APPLICABLE, nc=False)


def _unreadable_block(res: dict[str, Any]) -> dict[str, Any]:
    return {"source": _source(res), "periode": None, "colonnes": [], "lignes": [], "erreur": unreadable()}


# --------------------------------------------------------------------------- commune context

def _commune_axis(res: dict[str, Any]) -> Optional[str]:
    """The axis a commune-keyed resource informs (``destinations.commune_axis``)."""
    return destinations.commune_axis(res)


def _commune_context(conn: Connection, ident: dict[str, Any], reader: access.Reader,
                     axes: dict[str, dict[str, Any]], page: _Page) -> list[dict[str, Any]]:
    context = []
    for rank, res in enumerate(readable_resources(conn, reader, "commune")):
        rows, ok = _guarded(conn, "contexte communal", res, lambda res=res: _rows(conn, res, ident["commune_code"]))
        if not ok:
            context.append(_unreadable_block(res))
            continue
        if not rows:
            continue
        try:
            block, measures = _commune_block(res, rows, rank, page)
        except Exception:  # noqa: BLE001
            log.exception("Fiche établissement %s : contexte communal %s illisible", ident.get("uai"), res["resource_id"])
            context.append(_unreadable_block(res))
            continue
        axe = _commune_axis(res)
        if axe is not None:   # shown in the axis, not twice
            axes[axe]["niveau_commune"].extend(measures)
        else:
            block["mesures"] = measures
        context.append(block)
    return context


def _commune_block(res: dict[str, Any], rows: list[dict[str, Any]], rank: int,
                   page: _Page) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The commune's rows (every period, oldest first) and its measures and flags: the latest
    period's value and the earlier ones as history, labelled « niveau commune »."""
    groups = series.by_period(res, rows)
    cols = colmodel.value_columns(res)
    colonnes = [{"colonne": c.get("source") or c["name"], "label": labels.column_label(c),
                 "unit": c.get("unit"), "role": colmodel.role_of(c)} for c in cols]
    if colmodel.period_of(res):
        colonnes.insert(0, {"colonne": "periode", "label": _period_info(res)["label"] or _("Période"),
                            "unit": None, "role": roles.PERIOD})
    measures = []
    for col in colmodel.by_role(res, *MEASURES):
        item = _column_item(res, col)
        item["niveau"] = "commune"
        item["commune_code"] = page.ident.get("commune_code")
        _fill(item, page, series.split(series.points(res, col, groups, plain, rank)), with_refs=False)
        measures.append(item)
    block = {"source": _source(res), "periode": _period_info(res), "colonnes": colonnes,
             "lignes": _lines(res, groups)}
    return block, measures


# --------------------------------------------------------------------------- preview of a file

def preview_lines(res: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines the establishment page shows for the rows of one UAI in one resource, read by
    the page's own code (``_read_uai_resource``, ``_fill``, ``_place_series``), without the
    other sources and without reference values: the validation report's preview of what a file
    will put on the pages. ``res`` is a resource as the registry describes it (``columns``,
    ``axe``, ``key_column``, ``layout``, ``millesime``), ``rows`` its typed rows of the UAI
    (``_row``, ``_periode``, ``_periode_ordre`` and the columns' SQL names).

    Each line: {"destination" (``indicateur`` | ``autres_donnees``), "axe", "axe_label", "id"
    (indicator) or "colonne", "label", "unit", "role", "valeur", "periode", "statut", "raison",
    "detail"?}; the axis indicators first (in the axes' order), then the other data."""
    makes_identity = destinations.is_directory(res)
    identity_resources = {res["resource_id"]} if makes_identity else set()
    page = _Page({})
    block = _read_uai_resource(page, res, rows, 0, identity_resources)
    page.blocks[res["resource_id"]] = block
    lines: list[dict[str, Any]] = []
    for axe, label in axes_mod.AXES:
        for ind in axes_mod.indicators().get(axe, ()):
            found = page.indicator_points.get(ind.id)
            if not found:
                continue
            slot = _new_indicator(ind)
            _fill(slot, page, series.split(found), with_refs=False)
            lines.append(_preview_line(slot, destinations.INDICATEUR, axe, _(label)))
    _place_series(page)
    for item in block["colonnes"]:
        lines.append(_preview_line(item, destinations.AUTRES, None, None))
    return lines


def _preview_line(item: dict[str, Any], where: str, axe: Optional[str], axe_label: Optional[str]) -> dict[str, Any]:
    kept = {k: item.get(k) for k in ("id", "colonne", "label", "unit", "role", "valeur", "periode", "statut",
                                      "raison", "detail") if k in item}
    return {"destination": where, "axe": axe, "axe_label": axe_label, **kept}
