"""Validation schemas of the extension's actions and pages (navl, as CKAN's DataStore does for
its own actions): one schema per action, applied once at its start by ``validate()``, which
raises ``ValidationError`` with French messages (the API answers 409, pages 400).

What every text parameter gets: a type check (a number is read as its text; a list or an object
is refused), no control characters (a NUL byte cannot even reach PostgreSQL), a length limit.
Integers: a type check (``abc``, ``1e5``, ``NaN``, ``10^20`` refused) and a range. Booleans:
``true``/``false``/``1``/``0``/``yes``/``no`` only. Limits on nested JSON are here too, for the
dataset validators and the request guard.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Optional, Union

import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import Missing, missing
from ckan.types import Context, Schema, Validator

from ckanext.ecarto.etablissements.identity import TYPES
from ckanext.ecarto.search.results import CATALOGUE_MAX_INT

_ = tk._
Invalid = tk.Invalid

ignore_missing = tk.get_validator("ignore_missing")
default = tk.get_validator("default")

#: lengths of the parameters
ID_LENGTH = 100            # CKAN names and ids (names are 100 characters at most)
CODE_LENGTH = 20           # UAI, territory codes and levels, axis names
QUERY_LENGTH = 200         # words typed in a search box
NAME_LENGTH = 500          # column names, resource names
URL_LENGTH = 2000
DESCRIPTION_LENGTH = 20_000
#: integers
MAX_ROWS = 100             # establishments per page of results
MAX_START = 1_000_000
MAX_PAGE = 50_000
MAX_REJECTS = 10_000

#: control characters refused in parameters: C0 (but tab, LF, CR) and DEL
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"true", "1", "yes", "oui", "on", "t", "y"}
_FALSE = {"false", "0", "no", "non", "off", "f", "n"}


# --------------------------------------------------------------------------- validators

def _present(value: Any) -> bool:
    return not (value is missing or value is None or isinstance(value, Missing))


def control_character_message() -> str:
    return _("contient un caractère de contrôle (par exemple l'octet nul %00) : retirez-le.")


def text(max_length: int) -> Validator:
    """A text of at most `max_length` characters without control characters; a number (not a
    boolean) is read as its text (``departement: 31``), lists and objects are refused."""
    def validator(value: Any, context: Context) -> Any:
        if not _present(value):
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Invalid(_("doit être un texte (reçu : {kind}).").format(kind=_kind(value)))
        value = value if isinstance(value, str) else str(value)
        if CONTROL_CHARACTERS.search(value):
            raise Invalid(control_character_message())
        if len(value) > max_length:
            raise Invalid(_("trop long : {n} caractères au plus (reçu : {got}).").format(
                n=max_length, got=len(value)))
        return value.strip()
    return validator


def integer(minimum: int, maximum: int) -> Validator:
    """A whole number between `minimum` and `maximum`, as a number or as its decimal digits."""
    def validator(value: Any, context: Context) -> Any:
        if not _present(value):
            return value
        number: Optional[int] = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,30}\s*", value):
            number = int(value)
        if number is None:
            raise Invalid(_("doit être un nombre entier entre {min} et {max} (reçu : « {got} »).").format(
                min=minimum, max=maximum, got=_shown(value)))
        if not minimum <= number <= maximum:
            raise Invalid(_("doit être compris entre {min} et {max} (reçu : {got}).").format(
                min=minimum, max=maximum, got=_shown(number)))
        return number
    return validator


def boolean(value: Any, context: Context) -> Any:
    """true/false (also 1/0, yes/no, oui/non); anything else is refused rather than guessed."""
    if not _present(value) or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid(_("doit valoir true ou false (reçu : « {got} »).").format(got=_shown(value)))


def choice(values: Iterable[str]) -> Validator:
    """One of `values` (empty means "not given")."""
    allowed = list(values)

    def validator(value: Any, context: Context) -> Any:
        if not _present(value) or value == "":
            return value
        if value not in allowed:
            raise Invalid(_("valeur inconnue « {got} » ; valeurs possibles : {values}.").format(
                got=_shown(value), values=", ".join(allowed)))
        return value
    return validator


def required(value: Any, context: Context) -> Any:
    if not _present(value) or (isinstance(value, str) and not value.strip()):
        raise Invalid(_("paramètre obligatoire."))
    return value


def empty_to_missing(value: Any, context: Context) -> Any:
    """An empty text means the parameter was not given (HTML forms send empty fields)."""
    return missing if isinstance(value, str) and not value.strip() else value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return _("un booléen")
    if isinstance(value, (list, tuple)):
        return _("une liste")
    if isinstance(value, dict):
        return _("un objet")
    return type(value).__name__


def _shown(value: Any, limit: int = 40) -> str:
    shown = CONTROL_CHARACTERS.sub("?", str(value))
    return shown if len(shown) <= limit else shown[:limit] + "…"


# --------------------------------------------------------------------------- nested JSON

#: nesting of the JSON bodies of API calls (a dataset with resources and extras needs ~6)
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_STRING_B = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")
_BRACKETS_B = re.compile(rb"[\[\]{}]")


def json_text_depth(text: Union[str, bytes], limit: int) -> int:
    """Nesting depth of the arrays and objects of a JSON text (strings skipped), without parsing
    it: Python's parser raises RecursionError on deep texts. Stops counting past `limit`."""
    if isinstance(text, bytes):
        stripped: Union[str, bytes] = _JSON_STRING_B.sub(b'""', text)
        brackets = _BRACKETS_B.finditer(stripped)
        opening: tuple = (b"[", b"{")
    else:
        stripped = _JSON_STRING.sub('""', text)
        brackets = _BRACKETS.finditer(stripped)
        opening = ("[", "{")
    depth = deepest = 0
    for match in brackets:
        if match.group() in opening:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def object_depth(value: Any, limit: int) -> int:
    """Nesting depth of lists and dicts (iterative: no recursion on hostile input)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (list, tuple, dict)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest


def nesting_depth(value: Any, limit: int) -> int:
    """Depth of a JSON value given as text or as Python lists and dicts."""
    if isinstance(value, (str, bytes)):
        return json_text_depth(value, limit)
    return object_depth(value, limit)


# --------------------------------------------------------------------------- schemas

def etablissement_show_schema() -> Schema:
    return {
        "uai": [ignore_missing, text(CODE_LENGTH)],
        "references": [default(True), boolean],
    }


def _etablissement_filters() -> Schema:
    return {
        "q": [ignore_missing, text(QUERY_LENGTH)],
        "type": [ignore_missing, text(CODE_LENGTH), empty_to_missing, ignore_missing, choice(TYPES)],
        "secteur": [ignore_missing, text(CODE_LENGTH), empty_to_missing, ignore_missing,
                    choice(("public", "prive"))],
        "departement": [ignore_missing, text(CODE_LENGTH), empty_to_missing],
        "academie": [ignore_missing, text(CODE_LENGTH), empty_to_missing],
        "commune": [ignore_missing, text(CODE_LENGTH), empty_to_missing],
    }


def etablissement_search_schema() -> Schema:
    return {
        **_etablissement_filters(),
        "rows": [default(20), integer(1, MAX_ROWS)],
        "start": [default(0), integer(0, MAX_START)],
    }


def etablissement_search_page_schema() -> Schema:
    """The `/etablissement` page: the same filters, a page number instead of rows/start."""
    return {**_etablissement_filters(), "page": [default(1), integer(1, MAX_PAGE)]}


def query_only_schema() -> Schema:
    """Pages that take only a free-text `q`: the establishment autocomplete, `/territoire`."""
    return {"q": [default(""), text(QUERY_LENGTH)]}


def territoire_show_schema() -> Schema:
    return {
        "niveau": [ignore_missing, text(CODE_LENGTH)],
        "code": [ignore_missing, text(CODE_LENGTH)],
    }


def territoire_map_schema() -> Schema:
    """`/territoire/carte.json`, `/territoire/contours.geojson`, `/territoire/etablissements.json`."""
    return {
        **territoire_show_schema(),
        "enfants": [ignore_missing, text(CODE_LENGTH)],
        "serie": [ignore_missing, text(NAME_LENGTH)],
        "dim": [ignore_missing, text(CODE_LENGTH)],
    }


def etat_des_lieux_schema() -> Schema:
    return {"format": [ignore_missing, text(CODE_LENGTH)]}


def ingest_resource_schema() -> Schema:
    return {
        "id": [required, text(ID_LENGTH)],
        "force": [default(False), boolean],
        "background": [default(False), boolean],
    }


def ingest_status_schema() -> Schema:
    return {
        "id": [required, text(ID_LENGTH)],
        "rejects_limit": [default(100), integer(0, MAX_REJECTS)],
    }


def staging_schema() -> Schema:
    """What a file deposit carries besides the file (actions and publication pages)."""
    return {
        "upload": [ignore_missing],
        "url": [ignore_missing, text(URL_LENGTH)],
        "uai_column": [ignore_missing, text(NAME_LENGTH)],
        "commune_column": [ignore_missing, text(NAME_LENGTH)],
        "feuille": [ignore_missing, text(NAME_LENGTH)],     # the sheet of a workbook (issue 15)
    }


def validate_resource_schema() -> Schema:
    return {
        **staging_schema(),
        "id": [ignore_missing, text(ID_LENGTH)],
        "axe": [ignore_missing, text(CODE_LENGTH * 2)],
        "package_id": [ignore_missing, text(ID_LENGTH)],
    }


def publish_resource_schema() -> Schema:
    return {
        **staging_schema(),
        "package_id": [required, text(ID_LENGTH)],
        "resource_id": [ignore_missing, text(ID_LENGTH)],
        "name": [ignore_missing, text(NAME_LENGTH)],
        "description": [ignore_missing, text(DESCRIPTION_LENGTH)],
    }


# --------------------------------------------------------------------------- applying them

def validate(data_dict: dict[str, Any], schema: Union[Schema, Callable[[], Schema]],
             context: Optional[Context] = None) -> dict[str, Any]:
    """`data_dict` checked and converted by `schema`; parameters the schema does not name are
    kept unchanged (CKAN adds some). Raises ValidationError {parameter: [message]}."""
    if callable(schema):
        schema = schema()
    data, errors = tk.navl_validate(dict(data_dict or {}), schema, dict(context or {}))
    extras = data.pop("__extras", None) or {}
    data.pop("__junk", None)
    if errors:
        raise tk.ValidationError({key: value for key, value in errors.items() if value})
    return {**extras, **data}


def error_message(error: tk.ValidationError) -> str:
    """One French sentence from a ValidationError: « paramètre rows : doit être… »."""
    parts = []
    for key, messages in (error.error_dict or {}).items():
        if key.startswith("__"):
            continue
        first = messages[0] if isinstance(messages, list) and messages else messages
        parts.append(_("paramètre « {name} » : {message}").format(name=key, message=first))
    return " ".join(parts) or _("Paramètres invalides.")


# --------------------------------------------------------------------------- CKAN's package_search

def search_text(value: Any, context: Context) -> Any:
    """`q`, `fq`, `sort` of package_search: a text (a number is read as text), no control
    characters. No length limit here: the search layer refuses what it cannot run with a
    SearchQueryError, which the catalogue page shows (a ValidationError there would be a 500)."""
    if not _present(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(_("doit être un texte (reçu : {kind}).").format(kind=_kind(value)))
    value = value if isinstance(value, str) else str(value)
    if CONTROL_CHARACTERS.search(value):
        raise Invalid(control_character_message())
    return value


def text_or_list_of_texts(value: Any, context: Context) -> Any:
    """`fl`, `facet.field`: a text (CKAN reads a JSON list or names separated by spaces) or a
    list of texts."""
    if not _present(value):
        return value
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise Invalid(_("doit être un texte ou une liste de textes (reçu : {kind}).").format(kind=_kind(item)))
        if CONTROL_CHARACTERS.search(item):
            raise Invalid(control_character_message())
    return value


def package_search_schema() -> Schema:
    """Checked before CKAN's own schema, whose validators crash on some input (`start=`,
    `facet.mincount=`, `fl: 31`, `rows: [1]`, `include_private=peut-être`) and answer in
    English. The catalogue page cannot fail here (it would answer 500 on a ValidationError):
    its parameters are texts, and its start is at most MAX_PAGE pages (request guard)."""
    big = CATALOGUE_MAX_INT
    return {
        "q": [ignore_missing, search_text],
        "fq": [ignore_missing, search_text],
        "sort": [ignore_missing, search_text],
        "fl": [ignore_missing, text_or_list_of_texts],
        "facet.field": [ignore_missing, text_or_list_of_texts],
        "rows": [empty_to_missing, ignore_missing, integer(0, big)],
        "start": [empty_to_missing, ignore_missing, integer(0, big)],
        "facet.limit": [empty_to_missing, ignore_missing, integer(-1, big)],
        "facet.mincount": [empty_to_missing, ignore_missing, integer(0, big)],
        "include_private": [empty_to_missing, ignore_missing, boolean],
        "include_drafts": [empty_to_missing, ignore_missing, boolean],
        "include_deleted": [empty_to_missing, ignore_missing, boolean],
        "use_default_schema": [empty_to_missing, ignore_missing, boolean],
    }
