"""Values of one subject (an establishment, a commune) through time, read through the column
model (``ingest/columns.py``): which period each value holds for, which one is *current* and
which ones are history.

- A table with a period column: each row has its period (``_periode``, ``_periode_ordre``); the
  current value is the one of the latest period, whatever the order of the file's rows.
- A table without one: the resource's ``millesime`` is the period of all its rows.
- Several resources of one series (same ``columns.series_key``: the same axis indicator, or the
  same column of one dataset's yearly files) make one history; for one period the first
  resource given (latest millésime first) wins.
- Periods that cannot be ordered (``layout.period.orderable`` false): the values are kept, in
  the file's order, but there is no current value; ``raison`` says why.

Pure functions over rows already read: the queries stay in ``record`` and ``references``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ckanext.ecarto.core import roles
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.ingest import columns as colmodel


@dataclass
class PeriodRows:
    """The rows of one subject for one period of one resource."""

    periode: Optional[str]
    ordre: Optional[int]
    rows: list[dict[str, Any]]


@dataclass
class Point:
    """One value of a series: a column of a resource for one period."""

    periode: Optional[str]
    ordre: Optional[int]
    valeur: Any
    res: dict[str, Any]
    col: dict[str, Any]
    orderable: bool = True
    rank: int = 0                       # order of the resource among those read (first wins a tie)
    detail: list[dict[str, Any]] = field(default_factory=list)   # one entry per dimension row


@dataclass
class Series:
    """The points of one measure (or flag, code, label) for one subject, split in current and history."""

    current: Optional[Point]
    history: list[Point]                # oldest first, without the current point
    raison: Optional[str] = None        # why there is no current value (periods not orderable)


def resource_period(res: dict[str, Any]) -> tuple[bool, Optional[str]]:
    """(orderable, reason) of the periods of a resource's rows."""
    period = colmodel.period_of(res)
    if not period or period.get("orderable", True):
        return True, None
    return False, period.get("reason") or _default_reason()


def _default_reason() -> str:
    return _("Les périodes de ce fichier ne peuvent pas être ordonnées : aucune valeur n’est présentée comme actuelle.")


def millesime_order(res: dict[str, Any]) -> Optional[int]:
    found = colmodel.millesime_period(res.get("millesime"))
    return found.order if found else None


def millesime_label(res: dict[str, Any]) -> Optional[str]:
    found = colmodel.millesime_period(res.get("millesime"))
    return found.label if found else res.get("millesime")


def by_period(res: dict[str, Any], rows: list[dict[str, Any]]) -> list[PeriodRows]:
    """The rows of one subject grouped by period, oldest first (the file's order when the
    periods cannot be ordered). A table without a period: one group, the millésime's."""
    if not colmodel.period_of(res):
        return [PeriodRows(millesime_label(res), millesime_order(res), list(rows))] if rows else []
    groups: dict[Any, PeriodRows] = {}
    for row in rows:
        label = row.get(colmodel.PERIOD_COLUMN)
        group = groups.get(label)
        if group is None:
            group = groups[label] = PeriodRows(label, row.get(colmodel.PERIOD_ORDER_COLUMN), [])
        group.rows.append(row)
    ordered = list(groups.values())
    orderable, _reason = resource_period(res)
    if orderable:
        ordered.sort(key=lambda g: (g.ordre is not None, g.ordre or 0))
    for group in ordered:
        group.rows.sort(key=lambda r: r.get("_row") or 0)
    return ordered


def dimension_columns(res: dict[str, Any]) -> list[dict[str, Any]]:
    return colmodel.by_role(res, roles.DIMENSION)


def point_value(res: dict[str, Any], col: dict[str, Any], group: PeriodRows,
                plain: Any) -> tuple[Any, list[dict[str, Any]]]:
    """(value, detail) of a column for one period: the single row's value; for dimension rows
    (several rows of one period split by dimensions) no single value and one detail entry per
    row (its dimensions and value)."""
    name = col["name"]
    role = colmodel.role_of(col)
    values = [_flag(plain(r.get(name))) if role == roles.FLAG else plain(r.get(name)) for r in group.rows]
    if len(values) == 1:
        return values[0], []
    if role not in (roles.MEASURE, roles.FLAG):
        return values[-1], []
    dims = dimension_columns(res)
    detail = [{"dimensions": {(d.get("label") or d.get("source") or d["name"]): plain(r.get(d["name"])) for d in dims},
               "valeur": v} for r, v in zip(group.rows, values)]
    split_rows = len({tuple(d["dimensions"].values()) for d in detail}) > 1
    if not dims or not split_rows:   # the same row twice (multi_uai…): the latest one
        return values[-1], []
    # several rows of one period, split by dimensions: no single value (summing a « total » row
    # with its parts would be wrong); each row is shown with its dimensions
    return None, detail


def _flag(value: Any) -> Any:
    """A flag shown as « Oui »/« Non »: 0/1 stored as numbers (tables loaded before the column
    model) become booleans."""
    if isinstance(value, bool) or value is None:
        return value
    if value in (0, 1):
        return bool(value)
    return value


def points(res: dict[str, Any], col: dict[str, Any], groups: list[PeriodRows], plain: Any, rank: int) -> list[Point]:
    orderable, _reason = resource_period(res)
    found = []
    for group in groups:
        value, detail = point_value(res, col, group, plain)
        found.append(Point(group.periode, group.ordre if orderable else None, value, res, col,
                           orderable=orderable, rank=rank, detail=detail))
    return found


def _recency(point: Point) -> tuple[bool, int, int]:
    return (point.ordre is not None, point.ordre or 0, -point.rank)


def split(found: list[Point]) -> Series:
    """Current value (latest orderable period; the first resource on a tie) and history (the
    other periods, oldest first, one point per period)."""
    orderable = [p for p in found if p.orderable]
    if not orderable:
        reasons = [resource_period(p.res)[1] for p in found]
        return Series(None, _unique_periods(found), next((r for r in reasons if r), None))
    current = max(orderable, key=_recency)
    rest = [p for p in orderable if p is not current and p.periode != current.periode]
    history = _unique_periods(sorted(rest, key=lambda p: p.rank))   # one point per period: the first resource's
    history.sort(key=lambda p: (p.ordre is not None, p.ordre or 0))
    history += _unique_periods([p for p in found if not p.orderable])
    return Series(current, history)


def _unique_periods(found: list[Point]) -> list[Point]:
    seen: set[Any] = set()
    kept = []
    for point in found:
        key = (point.periode, point.orderable)
        if point.periode is not None and key in seen:
            continue
        seen.add(key)
        kept.append(point)
    return kept
