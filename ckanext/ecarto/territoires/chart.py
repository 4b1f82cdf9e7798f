"""The evolution chart of a territory's series, drawn on the server as inline SVG.

The pages' Content-Security-Policy forbids inline scripts: the chart is plain SVG computed here
(coordinates, ticks, labels) and written by the template ``ecarto/territoire/_evolution.html``,
with the table of the same values as its text alternative. A period without a shown value
(n.c., coverage too low) is a gap in the line, never a zero.
"""
from __future__ import annotations

import math
from typing import Any, Optional

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 30


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _bounds(values: list[float]) -> tuple[float, float, float]:
    low, high = min(values), max(values)
    if low >= 0 and (high - low) > 0.3 * high:
        low = 0.0                                       # counts and shares start at zero
    if high == low:
        high, low = high + (abs(high) or 1) * 0.1, low - (abs(low) or 1) * 0.1
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _tick_label(value: float, step: float) -> str:
    digits = 0 if step >= 1 else min(3, -math.floor(math.log10(step)))
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text


def evolution_chart(points: list[dict[str, Any]], unit: Optional[str]) -> Optional[dict[str, Any]]:
    """Geometry of the chart of `points` ({periode, ordre, valeur}, oldest first), or None when
    fewer than two ordered periods have a value."""
    ordered = [p for p in points if p.get("ordre") is not None and p.get("periode")]
    shown = [p for p in ordered if p.get("valeur") is not None]
    if len(ordered) < 2 or len(shown) < 2:
        return None
    low, high, step = _bounds([float(p["valeur"]) for p in shown])
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(i: int) -> float:
        return round(LEFT + (inner_w * i / (len(ordered) - 1)), 1)

    def y_of(value: float) -> float:
        return round(TOP + inner_h * (1 - (value - low) / (high - low)), 1)

    segments: list[list[tuple[float, float]]] = [[]]
    dots, labels = [], []
    for i, point in enumerate(ordered):
        labels.append({"x": x_of(i), "y": HEIGHT - 10, "text": point["periode"]})
        if point.get("valeur") is None:
            if segments[-1]:
                segments.append([])
            continue
        xy = (x_of(i), y_of(float(point["valeur"])))
        segments[-1].append(xy)
        dots.append({"x": xy[0], "y": xy[1], "periode": point["periode"], "valeur": point["valeur"]})
    ticks = []
    value = low
    while value <= high + step / 2:
        ticks.append({"y": y_of(value), "text": _tick_label(value, step)})
        value += step
    if len(labels) > 6:                                 # long series: every other label
        for i, label in enumerate(labels):
            if i % 2 and i != len(labels) - 1:
                label["text"] = ""
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": HEIGHT - BOTTOM, "unit": unit or "",
        "lines": [" ".join(f"{x},{y}" for x, y in seg) for seg in segments if len(seg) >= 2],
        "dots": dots, "labels": labels, "ticks": ticks,
        "first": ordered[0]["periode"], "last": ordered[-1]["periode"],
    }
