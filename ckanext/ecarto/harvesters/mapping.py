"""Metadata mappings shared by the harvesters: licences, update frequencies, dates, territories,
HTML descriptions and keywords, from what Opendatasoft and udata publish to the portal's schema
(``schemas/licenses.json``, ``logic/validators.py``)."""
from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any, Iterable, Optional

from ckanext.ecarto.core.axes import FREQUENCY_BASE
from ckanext.ecarto.referentiel import territories

DEFAULT_LICENSE = "etalab-2.0"
UNKNOWN_LICENSE = "notspecified"

# udata licence ids (www.data.gouv.fr/api/1/datasets/licenses/) -> portal licence ids.
# The Licence Ouverte 1.0 (`fr-lo`) is published under its successor: Etalab states that
# version 2.0 is compatible and replaces it.
UDATA_LICENSES: dict[str, str] = {
    "lov2": "etalab-2.0", "fr-lo": "etalab-2.0", "lov1": "etalab-2.0",
    "odc-odbl": "odc-odbl", "odc-by": "odc-by", "odc-pddl": "odc-pddl",
    "cc-by": "cc-by", "cc-by-sa": "cc-by-sa", "cc-zero": "cc-zero",
    "notspecified": UNKNOWN_LICENSE, "other-open": UNKNOWN_LICENSE, "other-at": UNKNOWN_LICENSE,
    "other-pd": UNKNOWN_LICENSE, "other-closed": UNKNOWN_LICENSE,
}


def plain_text(text: Any) -> str:
    """Lower-case ASCII words, for comparing names and titles (accents and punctuation dropped)."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text).split())


def license_id(value: Any, url: Any = None) -> Optional[str]:
    """The portal licence of a remote licence id, title or URL; None when unrecognised."""
    raw = str(value or "").strip()
    if raw.lower() in UDATA_LICENSES:
        return UDATA_LICENSES[raw.lower()]
    text = f"{plain_text(raw)} {plain_text(url)}"
    if not text.strip():
        return None
    if "odbl" in text or "open database" in text:
        return "odc-odbl"
    if "licence ouverte" in text or "open licence" in text or "etalab" in text:
        return "etalab-2.0"
    if "pddl" in text:
        return "odc-pddl"
    if "odc by" in text or "odc.by" in text or "opendatacommons.org licenses by" in text:
        return "odc-by"
    if "cc0" in text or "cc zero" in text or "publicdomain zero" in text:
        return "cc-zero"
    if "by sa" in text or "by.sa" in text:
        return "cc-by-sa"
    if re.search(r"\bcc by\b|creativecommons.org licenses by\b|creative commons attribution", text):
        return "cc-by"
    return None


# --------------------------------------------------------------------------- frequency


# udata frequencies -> the portal's vocabulary (core/axes.FREQUENCIES). When the portal has
# no exact code, the closest one that is NOT more frequent than the source is chosen, so that the
# portal never promises fresher data than the producer does.
UDATA_FREQUENCIES: dict[str, str] = {
    "continuous": "CONT", "hourly": "DAILY", "fourtimesaday": "DAILY", "threetimesaday": "DAILY",
    "semidaily": "DAILY", "daily": "DAILY", "fourtimesaweek": "WEEKLY", "threetimesaweek": "WEEKLY",
    "semiweekly": "WEEKLY", "weekly": "WEEKLY", "biweekly": "MONTHLY", "threetimesamonth": "MONTHLY",
    "semimonthly": "MONTHLY", "monthly": "MONTHLY", "bimonthly": "QUARTERLY", "quarterly": "QUARTERLY",
    "threetimesayear": "ANNUAL", "semiannual": "ANNUAL", "annual": "ANNUAL", "biennial": "BIENNIAL",
    "triennial": "TRIENNIAL", "quinquennial": "IRREG", "irregular": "IRREG", "punctual": "NEVER",
    "unknown": "UNKNOWN",
}
# French words (Opendatasoft `dcat.accrualperiodicity` is often free text)
FRENCH_FREQUENCIES: dict[str, str] = {
    "en continu": "CONT", "temps reel": "CONT", "quotidienne": "DAILY", "quotidien": "DAILY",
    "journaliere": "DAILY", "hebdomadaire": "WEEKLY", "mensuelle": "MONTHLY", "mensuel": "MONTHLY",
    "bimestrielle": "QUARTERLY", "trimestrielle": "QUARTERLY", "trimestriel": "QUARTERLY",
    "semestrielle": "ANNUAL", "annuelle": "ANNUAL", "annuel": "ANNUAL", "biennale": "BIENNIAL",
    "triennale": "TRIENNIAL", "irreguliere": "IRREG", "ponctuelle": "NEVER", "ponctuel": "NEVER",
    "inconnue": "UNKNOWN",
}
EU_CODES = ("CONT", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL", "BIENNIAL", "TRIENNIAL",
            "IRREG", "NEVER", "UNKNOWN")


def frequency(value: Any) -> Optional[str]:
    """EU frequency URI for a udata code, an EU URI or code, or a French word; None if unknown."""
    raw = str(value or "").strip()
    if not raw:
        return None
    tail = raw.rstrip("/").rsplit("/", 1)[-1]
    if tail.upper() in EU_CODES:
        return FREQUENCY_BASE + tail.upper()
    key = re.sub(r"[^a-z]", "", raw.lower())
    if key in UDATA_FREQUENCIES:
        return FREQUENCY_BASE + UDATA_FREQUENCIES[key]
    plain = plain_text(raw)
    if plain in FRENCH_FREQUENCIES:
        return FREQUENCY_BASE + FRENCH_FREQUENCIES[plain]
    return None


# --------------------------------------------------------------------------- dates

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def iso_date(value: Any) -> Optional[str]:
    """`2024-11-26T10:00:00+00:00` -> `2024-11-26`; None when not an ISO date."""
    match = _ISO_DATE.match(str(value or "").strip())
    return "-".join(match.groups()) if match else None


def millesime_from_period(start: Optional[str], end: Optional[str]) -> Optional[str]:
    """A year when the period lies within one calendar year, a school year when it runs from
    September to August, else None."""
    if not start or not end:
        return None
    y1, y2 = int(start[:4]), int(end[:4])
    if y1 == y2:
        return str(y1)
    if y2 == y1 + 1 and start[5:7] >= "08" and end[5:7] <= "08":
        return f"{y1}-{y2}"
    return None


# --------------------------------------------------------------------------- territories

_ZONE = re.compile(r"^(?:fr[:/])?(region|departement|commune|academie|pays|country)[:/]([0-9a-zA-Z]+)")


def territory_from_zones(zones: Iterable[Any], granularity: Any = None) -> Optional[tuple[str, str]]:
    """(level, code) of udata spatial zones (`fr:departement:31`, `fr:region:76`,
    `fr:commune:31555@2020-01-01`, `country:fr`); several zones give their smallest common
    enclosing territory. None when nothing maps."""
    found: list[territories.Territory] = []
    france = False
    for zone in zones or []:
        ident = zone.get("id") if isinstance(zone, dict) else zone
        match = _ZONE.match(str(ident or "").split("@")[0])
        if not match:
            continue
        level, code = match.group(1), match.group(2)
        if level in ("pays", "country"):
            france = france or code.lower() == "fr"
            continue
        territory = territories.get(level, code)
        if territory is not None:
            found.append(territory)
    if not found:
        return (territories.FRANCE, "") if france or str(granularity or "") == "country" else None
    return _common(found)


def _chain(territory: territories.Territory) -> list[tuple[str, str]]:
    return [territory.key] + [t.key for t in territories.ancestors(territory.level, territory.code)]


def _common(found: list[territories.Territory]) -> tuple[str, str]:
    chains = [_chain(t) for t in found]
    for key in chains[0]:
        if all(key in chain for chain in chains[1:]):
            return key
    return (territories.FRANCE, "")


def territory_from_names(names: Iterable[Any]) -> Optional[tuple[str, str]]:
    """Opendatasoft `territory` metadata (names such as « France », « Occitanie »)."""
    found: list[territories.Territory] = []
    for name in names or []:
        plain = plain_text(name)
        if plain in ("france", "france entiere", "national"):
            return (territories.FRANCE, "")
        matches = [t for t in territories.search(str(name), limit=5) if plain_text(t.name) == plain]
        if matches:
            found.append(matches[0])
    return _common(found) if found else None


# --------------------------------------------------------------------------- text

class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: Optional[str] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n" if tag != "br" else "\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href:
            self.parts.append(f" ({self.href})")
            self.href = None
        if tag in self.BLOCKS and tag != "br":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: Any) -> str:
    """Opendatasoft descriptions are HTML: plain text with paragraphs (Markdown-safe)."""
    text = str(value or "")
    if "<" not in text:
        return html.unescape(text).strip()
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    out = "".join(parser.parts)
    out = re.sub(r"[ \t\u00a0]+\n", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


_TAG_BAD = re.compile(r"[^\w \-.]", re.UNICODE)


def tags(values: Iterable[Any]) -> list[str]:
    """Keywords CKAN accepts (letters, digits, spaces, - _ .; 2 to 100 characters), deduplicated."""
    seen: dict[str, str] = {}
    for value in values or []:
        if isinstance(value, dict):
            value = value.get("name") or value.get("id")
        text = " ".join(_TAG_BAD.sub(" ", str(value or "")).split())[:100].strip()
        if len(text) >= 2:
            seen.setdefault(text.lower(), text)
    return list(seen.values())


def rule_dictionary(found: Any, declared: Any) -> Any:
    """The data dictionary of a harvested resource: what the source describes (``found``: the
    ETIC fields' dictionary, a list of columns) with the harvest rule's ``data_dictionary``
    over it (a list of columns, or ``{"columns": [...], "layout": {...}}``: the rule's roles,
    types and reshape win, column by column; see ``ingest/columns.py``)."""
    found = list(found or [])
    if not declared:
        return found
    columns = declared.get("columns") or [] if isinstance(declared, dict) else list(declared)
    layout = declared.get("layout") if isinstance(declared, dict) else None
    by_column = {str(e.get("column")): dict(e) for e in found if isinstance(e, dict)}
    for entry in columns:
        if isinstance(entry, dict) and entry.get("column"):
            by_column[str(entry["column"])] = {**by_column.get(str(entry["column"]), {}), **entry}
    merged = list(by_column.values())
    return {"columns": merged, "layout": layout} if layout else merged
