"""Which source column carries which identity field, and the portal's establishment typology.

Real files name the same thing differently (annuaire: `Identifiant_de_l_etablissement`,
géolocalisation: `numero_uai`, labels export: `Code établissement`…): columns are matched on a
normalised header (lower case, no accents, `_` for separators).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping, Optional
from urllib.parse import urlsplit

# identity field -> normalised headers that carry it, in order of preference
IDENTITY_ALIASES: dict[str, tuple[str, ...]] = {
    "uai": ("identifiant_de_l_etablissement", "numero_uai", "uai", "code_uai", "code_etablissement",
            "numero_d_etablissement", "code_rne"),
    "nom": ("nom_etablissement", "appellation_officielle", "nom_de_l_etablissement",
            "denomination_principale"),
    "type_libelle": ("type_etablissement", "nature_uai_libe", "libelle_nature"),
    "code_nature": ("code_nature", "nature_uai"),
    "libelle_nature": ("libelle_nature", "nature_uai_libe"),
    "secteur": ("statut_public_prive", "secteur_public_prive_libe", "secteur"),
    "adresse": ("adresse_1", "adresse_uai"),
    "lieu_dit": ("adresse_2", "lieu_dit_uai"),
    "code_postal": ("code_postal", "code_postal_uai"),
    "commune_code": ("code_commune",),
    "commune_nom": ("nom_commune", "libelle_commune"),
    "departement_code": ("code_departement",),
    "departement_nom": ("libelle_departement",),
    "academie_code": ("code_academie",),
    "academie_nom": ("libelle_academie",),
    "region_code": ("code_region",),
    "region_nom": ("libelle_region",),
    "education_prioritaire": ("appartenance_education_prioritaire",),
    "eleves": ("nombre_d_eleves",),
    "etat": ("etat", "etat_etablissement_libe"),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "telephone": ("telephone",),
    "web": ("web",),
    "date_ouverture": ("date_ouverture",),
}

# Sections offered (annuaire booleans 1/0/empty) shown on the establishment page.
SECTION_COLUMNS: dict[str, str] = {
    "ecole_maternelle": "École maternelle",
    "ecole_elementaire": "École élémentaire",
    "voie_generale": "Voie générale",
    "voie_technologique": "Voie technologique",
    "voie_professionnelle": "Voie professionnelle",
    "restauration": "Restauration",
    "hebergement": "Hébergement",
    "ulis": "ULIS",
    "segpa": "SEGPA",
    "apprentissage": "Apprentissage",
    "section_arts": "Section arts",
    "section_cinema": "Section cinéma",
    "section_theatre": "Section théâtre",
    "section_sport": "Section sport",
    "section_internationale": "Section internationale",
    "section_europeenne": "Section européenne",
    "post_bac": "Post-bac",
}

TYPES: dict[str, str] = {
    "ecole": "École",
    "college": "Collège",
    "lycee": "Lycée",
    "autre": "Autre",
}

# Ministry nature codes (code_nature / nature_uai) of lycées professionnels.
_LP_NATURES = {"320", "334"}


def normalise_header(header: str) -> str:
    """`Code établissement` -> `code_etablissement`; `Nombre_d_eleves` -> `nombre_d_eleves`."""
    text = unicodedata.normalize("NFKD", header or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def map_identity_columns(headers: Iterable[str]) -> dict[str, str]:
    """identity field -> the source header that carries it, for the headers present."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), header)
    mapping: dict[str, str] = {}
    for field, aliases in IDENTITY_ALIASES.items():
        for alias in aliases:
            if alias in by_norm:
                mapping[field] = by_norm[alias]
                break
    return mapping


def map_section_columns(headers: Iterable[str]) -> dict[str, str]:
    """normalised section key -> source header, for the section columns present."""
    return {normalise_header(h): h for h in headers if normalise_header(h) in SECTION_COLUMNS}


def is_directory(headers: Iterable[str]) -> bool:
    """A resource is an establishment directory when it names and locates establishments."""
    mapping = map_identity_columns(headers)
    return {"uai", "nom"} <= mapping.keys() and bool({"commune_code", "departement_code"} & mapping.keys())


def _plain(text: Optional[str]) -> str:
    return normalise_header(text or "")


def establishment_type(code_nature: Optional[str], type_libelle: Optional[str]) -> str:
    """The portal's typology (ecole, college, lycee, autre) from the ministry's nature code,
    falling back on the type label (`Ecole`, `Collège`, `LYCEE PROFESSIONNEL`…)."""
    code = (code_nature or "").strip()
    if code[:1] == "1" and len(code) == 3:
        return "ecole"
    if code in {"340", "350", "352"}:
        return "college"
    if code in {"300", "301", "302", "306", "307", "310", "320", "334", "335"}:
        return "lycee"
    label = _plain(type_libelle)
    for key in ("ecole", "college", "lycee"):
        # whole word: "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE" (nature 400) is post-bac, not an école
        if label == key or label.startswith(key + "_"):
            return key
    return "autre"


def lycee_kind(code_nature: Optional[str], libelle: Optional[str]) -> Optional[str]:
    """`LP` (lycée professionnel) or `LGT` (général et technologique, polyvalent) for lycées."""
    code = (code_nature or "").strip()
    if code in _LP_NATURES or "professionnel" in _plain(libelle):
        return "LP"
    if code in {"300", "301", "302", "306", "307", "310", "335"} or _plain(libelle).startswith("lycee"):
        return "LGT"
    return None


def sector(value: Optional[str]) -> Optional[str]:
    """`public` or `prive` from `Public`, `Privé`, `PRIVE`…"""
    plain = _plain(value)
    if plain.startswith("public"):
        return "public"
    if plain.startswith("prive"):
        return "prive"
    return None


def education_prioritaire(value: Optional[str]) -> Optional[str]:
    """`REP+`, `REP`, or None (hors éducation prioritaire / not known)."""
    text = (value or "").strip().upper().replace(" ", "")
    if text in {"REP+", "REP"}:
        return text
    return None


def departement_insee(code: Optional[str]) -> Optional[str]:
    """MENJ 3-character codes (`031`, `02A`, `971`) to INSEE form (`31`, `2A`, `971`)."""
    text = (code or "").strip().upper()
    if not text:
        return None
    if len(text) == 3 and text[0] == "0":
        return text[1:]
    if len(text) == 1 and text.isdigit():
        return "0" + text
    return text


_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")


def web_url(value: Optional[str]) -> Optional[str]:
    """The website as a link target, or None when it must not be one.

    Only absolute ``http``/``https`` URLs with a host qualify: a publisher's ``javascript:``,
    ``data:`` or ``file:`` value, a protocol-relative ``//host``, or a value holding spaces,
    control characters or backslashes (read differently by browsers) is shown as text, never
    as a link."""

    text = (value or "").strip()
    if not text or len(text) > 2000 or _CONTROL.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return text


def first(row: Mapping[str, object], *keys: str) -> Optional[object]:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return value
    return None
