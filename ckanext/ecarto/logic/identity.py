"""The portal's identity: its name, logo, favicon and two colours (`ckanext.ecarto.site_name`,
`.logo`, `.favicon`, `.primary_color`, `.accent_color`), so that a collectivité or an académie
deploys the portal under its own name and colours.

Every value comes from the configuration file, yet it is checked here before a template uses
it: the colours end up inside a `<style>` element (CSS custom properties) and the logo and
favicon inside `src`/`href` attributes. A colour that is not a `#rgb`/`#rrggbb` hex code, or
that is too light to carry white text and to be read on white (WCAG AA, contrast below 4.5:1),
is ignored with a warning in the log, and the default colour stays; a logo that is neither a
path of the portal nor an http(s) URL is ignored the same way. A wrong option never breaks the
pages nor injects anything into them.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

DEFAULT_SITE_NAME = "eCarto"
DEFAULT_LOGO = "/ecarto/logo.svg"
DEFAULT_FAVICON = "/ecarto/favicon.svg"
DEFAULT_FAVICON_ICO = "/ecarto/favicon.ico"
DEFAULT_PRIMARY = "#1b4f72"
DEFAULT_ACCENT = "#b34700"
SITE_NAME_MAX = 80
MIN_CONTRAST_ON_WHITE = 4.5          # WCAG 2.1 AA, normal text

HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Identity:
    """What the header, the footer and the `<head>` of every page show."""
    site_name: str
    logo: str
    favicon: str
    favicon_ico: Optional[str]       # the .ico fallback of the default favicon, None otherwise
    primary_color: str
    accent_color: str
    primary_dark: str                # hover and active states
    primary_light: str               # tinted backgrounds (panels, the footer)

    @property
    def primary_rgb(self) -> str:
        """`27, 79, 114`: for Bootstrap's `--bs-*-rgb` variables (links)."""
        return ", ".join(str(c) for c in _channels(self.primary_color))

    @property
    def primary_dark_rgb(self) -> str:
        return ", ".join(str(c) for c in _channels(self.primary_dark))

    @property
    def own_logo(self) -> bool:
        """The portal's own logo (drawn inline, in the configured colours)."""
        return self.logo == DEFAULT_LOGO

    @property
    def favicon_type(self) -> Optional[str]:
        """MIME type of the favicon link, from its extension (None: let the browser guess)."""
        path = urlsplit(self.favicon).path.lower()
        for suffix, mime in ((".svg", "image/svg+xml"), (".png", "image/png"), (".ico", "image/x-icon")):
            if path.endswith(suffix):
                return mime
        return None


def expand_hex(colour: str) -> str:
    """`#abc` → `#aabbcc` (lower case)."""
    digits = colour[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _channels(colour: str) -> tuple[int, int, int]:
    digits = expand_hex(colour)[1:]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a `#rrggbb` colour."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(c) for c in _channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mix(colour: str, other: str, share: float) -> str:
    """`colour` moved `share` (0–1) of the way towards `other`, as `#rrggbb`."""
    pairs = zip(_channels(colour), _channels(other))
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in pairs)


def checked_colour(value: Any, default: str, option: str) -> str:
    """The configured colour if it is a hex code dark enough for white text (WCAG AA), else the
    default (logged)."""
    text = str(value or "").strip()
    if not text:
        return default
    if not HEX_COLOUR.fullmatch(text):
        log.warning("%s = %r ignoré : couleur attendue au format #rrggbb", option, text[:40])
        return default
    colour = expand_hex(text)
    if contrast_ratio(colour, "#ffffff") < MIN_CONTRAST_ON_WHITE:
        log.warning("%s = %s ignoré : contraste avec le blanc inférieur à %s:1 (WCAG AA)",
                    option, colour, MIN_CONTRAST_ON_WHITE)
        return default
    return colour


def checked_url(value: Any, default: str, option: str) -> str:
    """A path of the portal (`/…`, not `//host`) or an http(s) URL; anything else → default."""
    text = str(value or "").strip()
    if not text:
        return default
    parts = urlsplit(text)
    is_local_path = text.startswith("/") and not text.startswith("//") and not parts.scheme
    is_web_url = parts.scheme in ("http", "https") and bool(parts.netloc)
    if (is_local_path or is_web_url) and not any(c in text for c in "\"'<> \t\r\n\\"):
        return text
    log.warning("%s = %r ignoré : chemin du portail (/…) ou URL http(s) attendu", option, text[:80])
    return default


def checked_name(value: Any) -> str:
    """The site name, on one line, at most SITE_NAME_MAX characters; empty → « eCarto »."""
    text = " ".join(str(value or "").split())
    return text[:SITE_NAME_MAX] or DEFAULT_SITE_NAME


OPTIONS = ("site_name", "logo", "favicon", "primary_color", "accent_color")


def identity() -> Identity:
    """The identity configured for this portal (the `ckanext.ecarto.*` options, checked)."""
    return _identity_of(tuple(tk.config.get(f"ckanext.ecarto.{name}") for name in OPTIONS))


@functools.lru_cache(maxsize=8)
def _identity_of(raw: tuple[Any, ...]) -> Identity:
    """Built once per set of option values (a wrong value is logged once, not on every page)."""
    values = dict(zip(OPTIONS, raw))
    primary = checked_colour(values["primary_color"], DEFAULT_PRIMARY, "ckanext.ecarto.primary_color")
    accent = checked_colour(values["accent_color"], DEFAULT_ACCENT, "ckanext.ecarto.accent_color")
    favicon = checked_url(values["favicon"], DEFAULT_FAVICON, "ckanext.ecarto.favicon")
    return Identity(
        site_name=checked_name(values["site_name"]),
        logo=checked_url(values["logo"], DEFAULT_LOGO, "ckanext.ecarto.logo"),
        favicon=favicon,
        favicon_ico=DEFAULT_FAVICON_ICO if favicon == DEFAULT_FAVICON else None,
        primary_color=primary,
        accent_color=accent,
        primary_dark=mix(primary, "#000000", 0.25),
        primary_light=mix(primary, "#ffffff", 0.92),
    )
