"""Metadata mappings shared by the harvesters: licences, update frequencies, dates, territories,
HTML descriptions and keywords, from what Opendatasoft and udata publish to the portal's schema
(``schemas/licenses.json``, ``logic/validators.py``)."""
from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any, Iterable, Optional
from urllib.parse import urlparse

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.axes import FREQUENCY_BASE
from ckanext.ecarto.referentiel import territories

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


# Every udata frequency code (udata/core/dataset/constants.py ``UpdateFrequency``, udata 17, with
# its legacy aliases) and every code of the EU frequency authority table
# (publications.europa.eu/resource/authority/frequency, what DCAT carries) -> the portal's vocabulary
# (core/axes.FREQUENCIES). When the portal has no exact code, the closest one that is NOT more
# frequent than the source is chosen, so that the portal never promises fresher data than the
# producer does; a rhythm slower than every three years is "irregular" (no regular code fits).
# `punctual` is udata's "as needed" (EU AS_NEEDED): updated when needed, hence irregular — not
# "never". `notPlanned` (no update planned) is "never"; `other` says nothing: "unknown".
_SUB_DAILY = ("oneminute", "fiveminutes", "tenminutes", "fifteenminutes", "thirtyminutes",
              "hourly", "bihourly", "trihourly", "twelvehours", "severaltimesaday", "fourtimesaday",
              "threetimesaday", "semidaily")
UDATA_FREQUENCIES: dict[str, str] = {
    "continuous": "CONT", "realtime": "CONT",
    **{code: "DAILY" for code in _SUB_DAILY},
    "daily": "DAILY",
    "fivetimesaweek": "WEEKLY", "fourtimesaweek": "WEEKLY", "threetimesaweek": "WEEKLY",
    "semiweekly": "WEEKLY", "weekly": "WEEKLY",
    "biweekly": "MONTHLY", "fortnighly": "MONTHLY", "fortnightly": "MONTHLY",
    "threetimesamonth": "MONTHLY", "semimonthly": "MONTHLY", "monthly": "MONTHLY",
    "bimonthly": "QUARTERLY", "quarterly": "QUARTERLY",
    "threetimesayear": "ANNUAL", "semiannual": "ANNUAL", "biannual": "ANNUAL", "annual": "ANNUAL",
    "biennial": "BIENNIAL", "triennial": "TRIENNIAL",
    "quadrennial": "IRREG", "quinquennial": "IRREG", "decennial": "IRREG", "bidecennial": "IRREG",
    "tridecennial": "IRREG", "irregular": "IRREG", "punctual": "IRREG",
    "never": "NEVER", "notplanned": "NEVER",
    "other": "UNKNOWN", "unknown": "UNKNOWN",
}
# EU frequency authority codes that are not the portal's own (the portal's own map to themselves).
EU_FREQUENCIES: dict[str, str] = {
    "UPDATE_CONT": "CONT", "1MIN": "DAILY", "5MIN": "DAILY", "10MIN": "DAILY", "15MIN": "DAILY",
    "30MIN": "DAILY", "HOURLY": "DAILY", "BIHOURLY": "DAILY", "TRIHOURLY": "DAILY", "12HRS": "DAILY",
    "DAILY_2": "DAILY", "DAILY_3": "DAILY", "WEEKLY_2": "WEEKLY", "WEEKLY_3": "WEEKLY", "WEEKLY_5": "WEEKLY",
    "BIWEEKLY": "MONTHLY", "MONTHLY_2": "MONTHLY", "MONTHLY_3": "MONTHLY", "BIMONTHLY": "QUARTERLY",
    "ANNUAL_2": "ANNUAL", "ANNUAL_3": "ANNUAL", "QUADRENNIAL": "IRREG", "QUINQUENNIAL": "IRREG",
    "DECENNIAL": "IRREG", "BIDECENNIAL": "IRREG", "TRIDECENNIAL": "IRREG", "AS_NEEDED": "IRREG",
    "NOT_PLANNED": "NEVER", "OTHER": "UNKNOWN", "OP_DATPRO": "UNKNOWN",
}
# French words (Opendatasoft `dcat.accrualperiodicity` is often free text)
FRENCH_FREQUENCIES: dict[str, str] = {
    "en continu": "CONT", "temps reel": "CONT", "quotidienne": "DAILY", "quotidien": "DAILY",
    "journaliere": "DAILY", "hebdomadaire": "WEEKLY", "mensuelle": "MONTHLY", "mensuel": "MONTHLY",
    "bimestrielle": "QUARTERLY", "trimestrielle": "QUARTERLY", "trimestriel": "QUARTERLY",
    "semestrielle": "ANNUAL", "annuelle": "ANNUAL", "annuel": "ANNUAL", "biennale": "BIENNIAL",
    "triennale": "TRIENNIAL", "irreguliere": "IRREG", "ponctuelle": "IRREG", "ponctuel": "IRREG",
    "au besoin": "IRREG", "selon les besoins": "IRREG", "jamais": "NEVER", "non planifiee": "NEVER",
    "inconnue": "UNKNOWN", "autre": "UNKNOWN",
}
EU_CODES = ("CONT", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL", "BIENNIAL", "TRIENNIAL",
            "IRREG", "NEVER", "UNKNOWN")


def frequency(value: Any) -> Optional[str]:
    """EU frequency URI (one of the portal's) for a udata code, a Dublin Core frequency term, an EU
    URI or code, or a French word; None if unknown."""
    raw = str(value or "").strip()
    if not raw:
        return None
    tail = raw.rstrip("/").rsplit("/", 1)[-1]
    if tail.upper() in EU_CODES:
        return FREQUENCY_BASE + tail.upper()
    if tail.upper() in EU_FREQUENCIES:
        return FREQUENCY_BASE + EU_FREQUENCIES[tail.upper()]
    key = re.sub(r"[^a-z]", "", tail.lower())   # a udata code, or a Dublin Core term (purl.org/cld/freq/…)
    if key in UDATA_FREQUENCIES:
        return FREQUENCY_BASE + UDATA_FREQUENCIES[key]
    plain = plain_text(raw)
    if plain in FRENCH_FREQUENCIES:
        return FREQUENCY_BASE + FRENCH_FREQUENCIES[plain]
    return None


# Attachment MIME types -> CKAN formats (what the resource list shows).
MIMETYPE_FORMATS = {
    "application/pdf": "PDF", "text/csv": "CSV", "application/json": "JSON", "application/geo+json": "GeoJSON",
    "application/vnd.geo+json": "GeoJSON", "application/zip": "ZIP", "application/x-zip-compressed": "ZIP",
    "application/gzip": "GZ", "application/x-gzip": "GZ", "application/xml": "XML", "text/xml": "XML",
    "text/plain": "TXT", "text/html": "HTML", "image/png": "PNG", "image/jpeg": "JPEG", "image/svg+xml": "SVG",
    "application/vnd.ms-excel": "XLS", "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS", "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.google-earth.kml+xml": "KML", "application/x-shapefile": "SHP",
}


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
    return zones_report(zones, granularity)[0]


def zones_report(zones: Iterable[Any], granularity: Any = None) -> tuple[Optional[tuple[str, str]], list[str]]:
    """``territory_from_zones`` and the zone ids that matched no French territory (reported in
    the harvest report, never dropped silently)."""
    found: list[territories.Territory] = []
    unmatched: list[str] = []
    france = False
    for zone in zones or []:
        ident = zone.get("id") if isinstance(zone, dict) else zone
        ident = str(ident or "").strip()
        if not ident:
            continue
        match = _ZONE.match(ident.split("@")[0])
        if not match:
            unmatched.append(ident)
            continue
        level, code = match.group(1), match.group(2)
        if level in ("pays", "country"):
            if code.lower() == "fr":
                france = True
            else:
                unmatched.append(ident)
            continue
        territory = territories.get(level, code)
        if territory is not None:
            found.append(territory)
        else:
            unmatched.append(ident)
    if not found:
        whole = (territories.FRANCE, "") if france or str(granularity or "") == "country" else None
        return whole, unmatched
    return _common(found), unmatched


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
    return names_report(names)[0]


def names_report(names: Iterable[Any]) -> tuple[Optional[tuple[str, str]], list[str]]:
    """``territory_from_names`` and the names that matched no French territory (« World »…)."""
    found: list[territories.Territory] = []
    unmatched: list[str] = []
    for name in names or []:
        plain = plain_text(name)
        if not plain:
            continue
        if plain in ("france", "france entiere", "national"):
            return (territories.FRANCE, ""), []
        matches = [t for t in territories.search(str(name), limit=5) if plain_text(t.name) == plain]
        if matches:
            found.append(matches[0])
        else:
            unmatched.append(str(name))
    return (_common(found) if found else None), unmatched


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


def annotation_text(value: Any) -> Optional[str]:
    """An Opendatasoft field annotation as text. Explore v2.1 gives each annotation as a list of
    arguments (``"unit": ["%"]``, ``"facet": []``), v2.0 and hand-made metadata a plain value:
    ``["%"]`` -> ``%``, ``[]`` -> None, never the Python spelling ``"['%']"``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (list, tuple)):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return ", ".join(parts) or None
    text = str(value).strip()
    return text or None


def fallback_description(source_url: str, identifier: str, url: str) -> str:
    """The description of a harvested dataset whose producer gave none: factual, in French,
    naming where it comes from (a harvested dataset always has a description)."""
    source = urlparse(source_url).netloc or source_url or "?"
    return tk._("Jeu de données moissonné depuis {source} (identifiant à la source : {identifier}). Le "
                "producteur n'en a pas publié de description : voir la fiche d'origine, {url}.").format(
                    source=source, identifier=identifier, url=url)
