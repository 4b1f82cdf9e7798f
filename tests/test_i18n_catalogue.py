"""The portal's catalogues (ckanext/ecarto/i18n): French msgids, an English catalogue, and French
for the CKAN core, ckanext-activity, ckanext-scheming/-dcat and ckanext-harvest strings the portal
shows (ckanext/ecarto/core/i18n_overrides.py), which must survive `make i18n` and win over CKAN's
own catalogue at run time."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages import checkers
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from ckanext.ecarto.core import i18n_overrides

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "ckanext" / "ecarto" / "i18n"
OVERRIDES = ROOT / "ckanext" / "ecarto" / "core" / "i18n_overrides.py"
# the Makefile's extraction keywords (`make i18n`)
KEYWORDS = {"_": None, "ungettext": (1, 2), "N_": None}
# translations that are rightly the msgid itself (names, symbols, bare placeholders)
SAME_IN_FRENCH = {"CSV", "X", "Facebook", "Notification", "URI", "GUID", "{key}", "{tag_link}",
                  "<q>{key}</q>", "{actor} {activity_type}", "message", "{object_type}s"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sdr]|\{\w*\}")


def catalogue(lang: str):
    with open(I18N / lang / "LC_MESSAGES" / "ckanext-ecarto.po", "rb") as f:
        return read_po(f, locale=lang)


def _text(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (list, tuple)) else (message.string,)


def _msgid(message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def test_make_i18n_extraction_keeps_the_override_msgids():
    """pybabel extract (as `make i18n` runs it) finds every override msgid in the module, so
    `pybabel update` keeps their translations instead of marking them obsolete."""
    found = set()
    for _line, msgid, _comments, _context in extract_from_file("python", str(OVERRIDES), keywords=KEYWORDS):
        found.update(msgid if isinstance(msgid, tuple) else (msgid,))
    assert set(i18n_overrides.ALL) <= found
    assert "There is no description for this dataset." in found and "Reharvest" in found
    assert "{num} Members" in found  # plural forms too


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_catalogues_compile_without_errors(lang):
    cat = catalogue(lang)
    errors = [(m.id, str(e)) for m in cat if m.id for e in checkers_errors(cat, m)]
    assert not errors
    write_mo(io.BytesIO(), cat)


def checkers_errors(cat, message) -> list[Exception]:
    found = []
    for checker in checkers.checkers:
        try:
            checker(cat, message)
        except Exception as error:  # noqa: BLE001 - babel's TranslationError and friends
            found.append(error)
    return found


def test_every_override_has_french_that_keeps_the_placeholders():
    cat = catalogue("fr")
    by_first_form = {_msgid(m): m for m in cat if m.id}
    plural_forms = {m.id[1] for m in cat if m.pluralizable}
    problems = []
    for msgid in set(i18n_overrides.ALL) - plural_forms:
        message = by_first_form.get(msgid)
        if message is None or message.fuzzy or not all(_text(message)):
            problems.append(f"untranslated: {msgid!r}")
            continue
        for text in _text(message):
            if text == msgid and msgid not in SAME_IN_FRENCH:
                problems.append(f"left in English: {msgid!r}")
            extra = set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(" ".join(
                message.id if isinstance(message.id, (list, tuple)) else (message.id,))))
            if extra:  # .format()/% would fail on a placeholder the msgid has not
                problems.append(f"unknown placeholders {extra} in the French of {msgid!r}")
    assert not problems, "\n".join(problems)


def test_every_french_msgid_has_an_english_translation():
    """The English catalogue translates every msgid of the portal (French) once `make i18n` has
    extracted it; the override msgids are English already and translate to themselves."""
    missing = [m.id for m in catalogue("en") if m.id and (m.fuzzy or not all(_text(m)))]
    assert not missing, f"{len(missing)} msgids without English, e.g. {missing[:10]}"


@pytest.mark.usefixtures("with_plugins")
def test_the_portal_catalogue_wins_over_ckan_and_harvest_at_run_time(app):
    """flask_babel merges CKAN's catalogue first, then the plugins' (ecarto, first of
    ckan.plugins, last): the French of the overrides is what the pages get."""
    home = app.get("/").body
    assert "Aller au contenu" in home and "Skip to main content" not in home
    import ckan.plugins.toolkit as tk
    with app.flask_app.test_request_context("/"):
        assert tk._("There is no description for this dataset.") == "Ce jeu de données n’a pas de description."
        assert tk._("Reharvest") == "Moissonner maintenant"
        assert tk._("Licenses") == "Licences"
        assert tk.ungettext("{num} Member", "{num} Members", 3) == "{num} membres"


@pytest.mark.usefixtures("with_plugins")
def test_javascript_strings_are_served_in_french(app):
    """/api/i18n/fr (CKAN's JavaScript catalogue) is built when the app starts, also under
    gunicorn: « Show more » of the tables, « Please Confirm » of the dialogs."""
    strings = app.get("/api/i18n/fr").json
    assert strings["Show more"][1] == "Montrer plus"
    assert strings["Please Confirm"][1] == "Confirmation"
