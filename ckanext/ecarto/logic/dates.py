"""Dates with their hour in French.

CKAN writes a date with its hour with an English pattern whatever the language
(``ckan/lib/formatters.py``: ``MMMM d, YYYY, HH:mm (z)``), so French pages read
« décembre 1, 2026, 10:00 (UTC) ». Chained over ``h.render_datetime``: in French, « 1 décembre
2026 à 10:00 (UTC) »; every other case is CKAN's.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk
from ckan.lib import formatters

FRENCH_DATE_AND_HOUR = "d MMMM y 'à' HH:mm (z)"
# CKAN's own conversion to the display time zone, kept in the text it gives back
_ISO_WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%z"


def _language() -> str:
    """The page's language (the portal's default outside a page)."""
    return tk.h.lang() or tk.config.get("ckan.locale_default") or "en"


@tk.chained_helper
def render_datetime(next_helper: Callable[..., str], datetime_: Any, date_format: Optional[str] = None,
                    with_hours: bool = False, with_seconds: bool = False) -> str:
    if date_format or not with_hours or with_seconds or _language() != "fr":
        return next_helper(datetime_, date_format=date_format, with_hours=with_hours,
                           with_seconds=with_seconds)
    iso = next_helper(datetime_, date_format=_ISO_WITH_OFFSET)
    if not iso:
        return iso       # CKAN's answer to a date it cannot read: empty
    moment = dt.datetime.strptime(iso, _ISO_WITH_OFFSET)
    return formatters.localised_nice_date(moment, show_date=True, with_hours=True,
                                          format=FRENCH_DATE_AND_HOUR)
