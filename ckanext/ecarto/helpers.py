"""Template helpers (`h.ecarto_*`): French number formatting; the column model of a resource
on its page (views/colonnes.py)."""
from __future__ import annotations

from typing import Any, Optional

from ckanext.ecarto.views.colonnes import column_model as ecarto_column_model

__all__ = ["ecarto_column_model", "ecarto_format_number", "ecarto_format_percent"]


def ecarto_format_number(value: Any, decimals: Optional[int] = None) -> str:
    """`12345.678` -> `12 345,68` (French: narrow no-break space for thousands, comma for decimals)."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if decimals is None:
        decimals = 0 if number == int(number) else 2
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def ecarto_format_percent(share: Any) -> str:
    """`0.1234` -> `12 %`."""
    if share is None:
        return ""
    return f"{round(float(share) * 100)}\u00a0%"
