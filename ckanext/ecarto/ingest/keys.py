"""The join key of an ingested table: a UAI or an INSEE commune code.

Which column holds it: the one the publisher declared (``uai_column`` / ``commune_column``), else
a header known to carry it (``Identifiant_de_l_etablissement``, ``numero_uai``, ``UAI``,
``Code commune``, ``code_insee``…), else, for UAIs only, the column whose values are valid UAIs
(the check letter makes that reliable; five-digit codes are not: postal codes look the same).

Private minimal versions: the schemas' shared helpers (``logic/columns.py``) can replace them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
import pandas as pd

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.core.uai import check
from ckanext.ecarto.ingest.coltypes import normalise_header

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI_SHAPE = re.compile(r"^[0-9]{7}[A-Z]$")
_COMMUNE_SHAPE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")

UAI_HEADERS = (
    "identifiant_de_l_etablissement", "numero_uai", "uai", "code_uai", "code_etablissement",
    "numero_d_etablissement", "numero_etablissement", "code_rne", "rne", "uai_etablissement",
    "identifiant_etablissement", "numero_uai_etablissement", "code_uai_etablissement",
)
COMMUNE_HEADERS = (
    "code_commune", "code_insee", "code_commune_insee", "codgeo", "code_geo", "insee_com", "depcom",
    "code_insee_commune", "com", "insee", "commune_code", "codecommune", "cog_commune",
)

UAI = "uai"
COMMUNE = "commune"


@dataclass(frozen=True)
class KeySpec:
    kind: str    # uai | commune
    column: str  # source header


class KeyError_(ValueError):
    """The declared key column is missing (French message)."""


def _find(headers: list[str], wanted: str) -> Optional[str]:
    if wanted in headers:
        return wanted
    norm = normalise_header(wanted)
    return next((h for h in headers if normalise_header(h) == norm), None)


def normalise_uai(values: pd.Series) -> pd.Series:
    """Upper case, spaces removed (`0311131l ` -> `0311131L`); None when missing."""
    return pd.Series([v.strip().upper() if isinstance(v, str) else None for v in values.tolist()],
                     index=values.index, dtype=object)


def normalise_commune(values: pd.Series) -> pd.Series:
    """Upper case; a 4-digit code lost its leading zero in a spreadsheet (`1001` -> `01001`)."""
    def one(value: object) -> Optional[str]:
        if not isinstance(value, str):
            return None
        text = value.strip().upper()
        if len(text) == 4 and text.isdigit():
            return "0" + text
        return text
    return pd.Series([one(v) for v in values.tolist()], index=values.index, dtype=object)


def valid_uai(values: pd.Series) -> np.ndarray:
    """Vectorised UAI check: 7 digits + the check letter LETTERS[int(digits) % 23]."""
    text = values.fillna("").astype(str)
    shape = text.str.match(_UAI_SHAPE).to_numpy(dtype=bool)
    result = np.zeros(len(text), dtype=bool)
    if shape.any():
        good = text[shape]
        digits = good.str.slice(0, 7).astype("int64").to_numpy()
        expected = np.array(list(LETTERS))[digits % 23]
        result[shape] = good.str.slice(7, 8).to_numpy(dtype=object) == expected
    return result


def valid_commune(values: pd.Series) -> np.ndarray:
    return values.fillna("").astype(str).str.match(_COMMUNE_SHAPE).to_numpy(dtype=bool)


def uai_reason(value: Optional[str]) -> str:
    if not isinstance(value, str) or not value:
        return _("UAI manquant.")
    return check(value).message or _("UAI {uai} invalide.").format(uai=value)


def commune_reason(value: Optional[str]) -> str:
    if not isinstance(value, str) or not value:
        return _("Code commune manquant.")
    return _("« {value} » n'est pas un code commune INSEE (5 caractères, par exemple 31555 ou "
             "2A004).").format(value=value)


def _uai_share(values: pd.Series) -> float:
    values = values.dropna()
    if values.empty:
        return 0.0
    return float(valid_uai(normalise_uai(values)).mean())


def detect(headers: list[str], sample: pd.DataFrame, *, uai_column: Optional[str] = None,
           commune_column: Optional[str] = None) -> Optional[KeySpec]:
    """The key column of a table, or None when it has neither UAI nor commune code.

    Raises KeyError_ when a declared column is absent from the file."""
    for kind, declared in ((UAI, uai_column), (COMMUNE, commune_column)):
        if declared:
            found = _find(headers, declared)
            if found is None:
                message = (_("La colonne UAI « {column} » est absente du fichier. Colonnes trouvées : "
                             "{columns}.") if kind == UAI else
                           _("La colonne code commune « {column} » est absente du fichier. Colonnes "
                             "trouvées : {columns}."))
                raise KeyError_(message.format(
                    column=declared, columns=", ".join(headers[:30]) + ("…" if len(headers) > 30 else "")))
            return KeySpec(kind, found)
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), header)
    for alias in UAI_HEADERS:
        # a UAI header whose values look like UAIs, check letters right or wrong (wrong ones are
        # then rejected row by row, not a reason to ignore the column)
        header = by_norm.get(alias)
        if header is not None and header in sample and _uai_shape_share(sample[header]) >= 0.5:
            return KeySpec(UAI, header)
    best: tuple[float, int] = (0.0, 0)
    for i, header in enumerate(headers):
        if header in sample:
            share = _uai_share(sample[header])
            if share >= 0.9 and share > best[0]:
                best = (share, i)
    if best[0]:
        return KeySpec(UAI, headers[best[1]])
    for alias in COMMUNE_HEADERS:
        header = by_norm.get(alias)
        if header is not None and header in sample and _commune_share(sample[header]) >= 0.5:
            return KeySpec(COMMUNE, header)
    for header in headers:
        words = set(normalise_header(header).split("_"))
        if ("insee" in words or ("commune" in words and "code" in words)) and "postal" not in words:
            if header in sample and _commune_share(sample[header]) >= 0.5:
                return KeySpec(COMMUNE, header)
    return None


def _uai_shape_share(values: pd.Series) -> float:
    values = values.dropna()
    if values.empty:
        return 0.0
    return float(normalise_uai(values).str.match(_UAI_SHAPE).mean())


def _commune_share(values: pd.Series) -> float:
    values = values.dropna()
    if values.empty:
        return 0.0
    return float(valid_commune(normalise_commune(values)).mean())


def headers_hint(headers: Iterable[str]) -> str:
    return ", ".join(list(headers)[:12])
