"""Territory referential: France, régions, académies, départements and communes.

Codes, names, parents (commune → département → académie → région → France) and real, simplified
boundaries, read from the package data in ``ckanext/ecarto/data/geo/`` (INSEE COG, IGN Admin
Express via france-geojson, MENJ académie contours and département → académie table; sources and
licences in that folder's README).

Codes are kept as text in INSEE form: région ``76``, département ``31`` / ``2A`` / ``971``,
commune ``31555``; académies use the ministry's 2-digit code (``16`` Toulouse, ``70`` Normandie).
``normalise_code`` accepts the MENJ spellings (``031``, ``02A``) and spreadsheet losses (``1001``).

Geometry of a commune: commune boundaries are not shipped (too big), so a commune-level dataset
gets the boundary of **its département** as ``spatial`` (the smallest enclosing territory whose
real boundary we have; never a point). Collectivités d'outre-mer (975, 977, 978, 986–988) and the
académies of the Pacific have no boundary here: no ``spatial`` is derived for them.
"""
from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from shapely import union_all
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"

FRANCE = "france"
REGION = "region"
ACADEMIE = "academie"
DEPARTEMENT = "departement"
COMMUNE = "commune"
LEVELS: tuple[str, ...] = (FRANCE, REGION, ACADEMIE, DEPARTEMENT, COMMUNE)
LEVEL_LABELS = {FRANCE: "France", REGION: "Région", ACADEMIE: "Académie",
                DEPARTEMENT: "Département", COMMUNE: "Commune"}

# Simplification of the boundaries put in a dataset's `spatial` (degrees, about 500 m):
# enough for a catalogue's coverage, small enough for every package_show.
SPATIAL_TOLERANCE = 0.005
_DROM_REGIONS = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}


@dataclass(frozen=True)
class Territory:
    level: str
    code: str          # "" for France
    name: str
    parent_level: Optional[str] = None
    parent_code: Optional[str] = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.level, self.code)

    @property
    def label(self) -> str:
        if self.level == FRANCE:
            return self.name
        return f"{self.name} ({LEVEL_LABELS[self.level].lower()} {self.code})"


# --------------------------------------------------------------------------- codes

def normalise_code(level: Optional[str], code: Optional[str]) -> str:
    """The canonical code of a territory of `level` (no existence check).

    ``031`` → ``31``, ``02a`` → ``2A``, ``9`` → ``09`` (département); ``1001`` → ``01001``
    (commune); ``6`` → ``06`` (académie, région); anything → ``""`` for France."""
    text = (code or "").strip().upper().replace(" ", "")
    if level == FRANCE:
        return ""
    if not text:
        return ""
    if level == DEPARTEMENT:
        if len(text) == 3 and text[0] == "0":
            text = text[1:]
        if len(text) == 1 and text.isdigit():
            text = "0" + text
        return text
    if level in (REGION, ACADEMIE):
        if text.isdigit() and len(text) == 1:
            return "0" + text
        return text
    if level == COMMUNE:
        if len(text) == 4 and text.isdigit():
            return "0" + text
        return text
    return text


# --------------------------------------------------------------------------- reading

def _open_text(name: str) -> io.TextIOBase:
    path = GEO_DIR / name
    if name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def _csv(name: str, delimiter: str = ",") -> Iterator[dict[str, str]]:
    with _open_text(name) as f:
        yield from csv.DictReader(f, delimiter=delimiter)


def _geojson(name: str) -> dict[str, Any]:
    with _open_text(name) as f:
        return json.load(f)


@functools.lru_cache(maxsize=1)
def _referential() -> dict[tuple[str, str], Territory]:
    ref: dict[tuple[str, str], Territory] = {(FRANCE, ""): Territory(FRANCE, "", "France")}
    for row in _csv("regions.csv"):
        ref[(REGION, row["REG"])] = Territory(REGION, row["REG"], row["LIBELLE"], FRANCE, "")
    menj = list(_csv("departement-academie-region_menj.csv", ";"))
    academie_region: dict[str, str] = {}
    for row in _csv("departements.csv"):
        academie = next((m["code_academie"] for m in menj if m["code_departement_insee"] == row["DEP"]), None)
        if academie:
            academie_region.setdefault(academie, row["REG"])
    for row in menj:
        aca = row["code_academie"]
        region = academie_region.get(aca)
        ref.setdefault((ACADEMIE, aca), Territory(
            ACADEMIE, aca, row["libelle_academie"], REGION if region else FRANCE, region or ""))
    cog_deps = {row["DEP"]: row for row in _csv("departements.csv")}
    for row in menj:
        dep = row["code_departement_insee"]
        name = cog_deps[dep]["LIBELLE"] if dep in cog_deps else row["libelle_departement"]
        ref[(DEPARTEMENT, dep)] = Territory(DEPARTEMENT, dep, name, ACADEMIE, row["code_academie"])
    for dep, row in cog_deps.items():  # a COG département missing from the MENJ table
        ref.setdefault((DEPARTEMENT, dep), Territory(DEPARTEMENT, dep, row["LIBELLE"], REGION, row["REG"]))
    for row in _csv("communes.csv.gz"):
        if row["TYPECOM"] in ("COM", "ARM") and row["DEP"]:
            ref.setdefault((COMMUNE, row["COM"]),
                           Territory(COMMUNE, row["COM"], row["LIBELLE"], DEPARTEMENT, row["DEP"]))
    return ref


def get(level: Optional[str], code: Optional[str]) -> Optional[Territory]:
    """The territory, or None when the code does not exist at that level."""
    if level not in LEVELS:
        return None
    return _referential().get((level, normalise_code(level, code)))


def exists(level: Optional[str], code: Optional[str]) -> bool:
    return get(level, code) is not None


def all_of(level: str) -> list[Territory]:
    return list(_all_of(level))


@functools.lru_cache(maxsize=8)
def _all_of(level: str) -> tuple[Territory, ...]:
    return tuple(sorted((t for t in _referential().values() if t.level == level), key=lambda t: t.code))


def parent(territory: Territory) -> Optional[Territory]:
    if territory.parent_level is None:
        return None
    return _referential().get((territory.parent_level, territory.parent_code or ""))


def ancestors(level: str, code: Optional[str]) -> list[Territory]:
    """Enclosing territories, nearest first, ending with France."""
    current = get(level, code)
    chain: list[Territory] = []
    while current is not None and (current := parent(current)) is not None:
        chain.append(current)
    return chain


def children(level: str, code: Optional[str]) -> list[Territory]:
    wanted = (level, normalise_code(level, code))
    return sorted((t for t in _referential().values()
                   if (t.parent_level, t.parent_code) == wanted), key=lambda t: t.code)


# --------------------------------------------------------------------------- geometries

@functools.lru_cache(maxsize=1)
def _boundaries() -> dict[tuple[str, str], dict[str, Any]]:
    """(level, code) → original GeoJSON geometry, for every territory with a boundary."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name in ("departements-version-simplifiee.geojson.gz", "departements-drom.geojson.gz"):
        for feature in _geojson(name)["features"]:
            found[(DEPARTEMENT, feature["properties"]["code"])] = feature["geometry"]
    for feature in _geojson("regions-version-simplifiee.geojson.gz")["features"]:
        found[(REGION, feature["properties"]["code"])] = feature["geometry"]
    for region, dep in _DROM_REGIONS.items():
        found[(REGION, region)] = found[(DEPARTEMENT, dep)]
    for feature in _geojson("fr-en-contour-academies-2020.geojson.gz")["features"]:
        found[(ACADEMIE, feature["properties"]["code_academie"])] = feature["geometry"]
    return found


def round_coordinates(coords: Any, digits: int = 5) -> Any:
    """GeoJSON coordinates (nested lists) rounded to `digits` decimals."""
    if isinstance(coords, (int, float)):
        return round(coords, digits)
    return [round_coordinates(c, digits) for c in coords]


def _polygonal(geom: Any) -> Any:
    """Keep the polygons of a geometry (a union can return a collection)."""
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    polygons: list[Any] = []
    for part in getattr(geom, "geoms", []):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
    return MultiPolygon(polygons)


@functools.lru_cache(maxsize=256)
def _geometry_json(level: str, code: str, tolerance: float) -> Optional[str]:

    boundaries = _boundaries()
    if level == FRANCE:
        parts = [g for (lvl, _c), g in boundaries.items() if lvl == REGION]
        geom = union_all([shape(g).buffer(0) for g in parts])
    elif level == COMMUNE:
        territory = _referential().get((COMMUNE, code))
        if territory is None:
            return None
        return _geometry_json(DEPARTEMENT, territory.parent_code or "", tolerance)
    elif (level, code) in boundaries:
        geom = shape(boundaries[(level, code)])
    else:
        return None
    if tolerance:
        geom = geom.simplify(tolerance, preserve_topology=True)
    geom = _polygonal(geom)
    if geom.is_empty:
        return None
    data = mapping(geom)
    return json.dumps({"type": data["type"], "coordinates": round_coordinates(data["coordinates"])},
                      separators=(",", ":"))


def geometry(level: Optional[str], code: Optional[str] = None, *,
             tolerance: float = SPATIAL_TOLERANCE) -> Optional[dict[str, Any]]:
    """GeoJSON Polygon/MultiPolygon of the territory (simplified by `tolerance` degrees; 0 =
    as shipped), or None when there is no boundary for it. A commune gets its département's."""
    text = spatial(level, code, tolerance=tolerance)
    return json.loads(text) if text else None


def spatial(level: Optional[str], code: Optional[str] = None, *,
            tolerance: float = SPATIAL_TOLERANCE) -> Optional[str]:
    """`geometry` as compact GeoJSON text, the form of a dataset's ``spatial`` field."""
    if level not in LEVELS:
        return None
    return _geometry_json(level, normalise_code(level, code), tolerance)


# --------------------------------------------------------------------------- hierarchy helpers
# (territory pages: ckanext/ecarto/territoires/)

@functools.lru_cache(maxsize=1)
def _enclosing_index() -> dict[tuple[str, str], dict[str, str]]:
    """(level, code) → {enclosing level: code} for every territory (itself included)."""
    index: dict[tuple[str, str], dict[str, str]] = {}
    for key, territory in _referential().items():
        codes = {territory.level: territory.code}
        current: Optional[Territory] = territory
        while current is not None and (current := parent(current)) is not None:
            codes[current.level] = current.code
        index[key] = codes
    return index


def enclosing(level: str, code: Optional[str]) -> dict[str, str]:
    """{level: code} of the territory and of every territory enclosing it (France → "")."""
    return dict(_enclosing_index().get((level, normalise_code(level, code)), {}))


def descendants(level: str, code: Optional[str], target_level: str) -> list[Territory]:
    """Territories of `target_level` inside a territory (e.g. the départements of a région,
    through its académies), sorted by code."""
    return list(_descendants(level, normalise_code(level, code), target_level))


@functools.lru_cache(maxsize=512)
def _descendants(level: str, code: str, target_level: str) -> tuple[Territory, ...]:
    return tuple(t for t in all_of(target_level) if _enclosing_index()[(t.level, t.code)].get(level) == code)


def _plain_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(text.replace("-", " ").replace("'", " ").split())


@functools.lru_cache(maxsize=1)
def _search_index() -> list[tuple[Territory, str]]:
    return [(t, _plain_text(t.name)) for t in _referential().values() if t.level != FRANCE]


def search(query: str, limit: int = 20, levels: tuple[str, ...] = LEVELS) -> list[Territory]:
    """Territories whose code or name matches `query` (accents, case and hyphens ignored),
    exact code first, then names starting with the words, then names containing them."""
    words = _plain_text(query)
    if not words:
        return []
    exact: list[Territory] = []
    starts: list[Territory] = []
    contains: list[Territory] = []
    for territory, name in _search_index():
        if territory.level not in levels:
            continue
        if territory.code and territory.code == normalise_code(territory.level, query):
            exact.append(territory)
        elif name == words or name.startswith(words + " ") or name.startswith(words):
            starts.append(territory)
        elif words in name:
            contains.append(territory)
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    key = lambda t: (order[t.level], len(t.name), t.name)  # noqa: E731
    return (sorted(exact, key=key) + sorted(starts, key=key) + sorted(contains, key=key))[:limit]
