"""CKAN's i18n for modules that also run outside CKAN (ingestion, validation: scripts, bench, bare
tests).

``_`` and ``ungettext`` take French msgids (the catalogue is ``ckanext/ecarto/i18n``) and give
CKAN's translation for the current locale when an app or a request is there; otherwise the
French msgid itself, as flask_babel's NullTranslations would. CKAN is imported lazily, so that
importing these modules does not load it. Placeholders are filled by the caller with
``.format()`` after translation (never f-strings inside ``_()``: Babel extracts literals only).
"""
from __future__ import annotations


def _(msgid: str) -> str:
    """CKAN's translation when a request or app is there, the French msgid otherwise."""
    try:
        # optional dependency: CKAN, loaded lazily (scripts and bare tests run without it)
        import ckan.plugins.toolkit as tk
        return tk._(msgid)
    except Exception:  # noqa: BLE001 - outside CKAN (scripts, bare tests)
        return msgid


def ungettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n` (French msgids; no ``%`` in them: flask_babel
    %-formats plural forms)."""
    try:
        # optional dependency: CKAN, loaded lazily (scripts and bare tests run without it)
        import ckan.plugins.toolkit as tk
        return tk.ungettext(singular, plural, n)
    except Exception:  # noqa: BLE001 - outside CKAN (scripts, bare tests)
        return singular if n == 1 else plural


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where it cannot be translated yet (module constants): pass
    the value through ``_`` when it is shown."""
    return msgid
