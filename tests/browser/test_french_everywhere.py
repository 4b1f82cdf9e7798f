"""French everywhere (issue #16): no English on the pages people use, read in a real browser.

The portal runs with ``ckan.locale_default = fr``; CKAN core, ckanext-activity and
ckanext-harvest still have English strings that CKAN's French catalogue lacks, which the portal's
catalogue translates (ckanext/ecarto/core/i18n_overrides.py). Each page of the lists below is
opened in Chromium as an anonymous visitor, a sysadmin and a collectivité's editor, with real
sample data and a real harvest job; its rendered DOM (after CKAN's JavaScript modules ran) is
read for its text and for what screen readers and tooltips say (title, aria-label, placeholder,
alt, button values). A sentence fails the test when it holds one of the English words below that
are not French words, whole-word and case-insensitive. Code (``<code>``, ``<pre>``), URLs,
e-mail addresses and passages marked ``lang="en"`` or ``translate="no"`` are not read: they are
not the interface's language.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import lxml.html
import pytest

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data
from tests.harvesters.conftest import FAST
from tests.harvesters.portal import FakePortal

# English words that are not French words (so "page", "source", "type", "format", "description",
# "contact", "menu", "site", "total"… are not here).
ENGLISH = frozenset("""
the and with there this these those is are was were been has have had will would can could should
show more less submit publish published unpublish settings dataset datasets search skip add added
edit delete deleted view views license licenses found job jobs harvest harvested reharvest
of to for your you from by at not all new create created update updated save cancel back next
previous home about user users login logout sign register password username member members
organization organizations group groups activity activities stream followers follow unfollow
modified last first results result order relevance popular filter filters filtered tags download
preview additional field fields value values author maintainer state clear dashboard close remove
upload uploaded link links title private draft error errors warning success loading please required
optional select choose resource resources token tokens manage details status frequency run stop
started finished running pending none yes toggle breadcrumb feed recently changed powered what how
why when who here it its that than then if else only also any each every some such into out up down
over under again once while during before after above below between through we our they their them
his her my do does did get make see use using want need know find which where other another
in key read showing items item recent latest newest oldest today yesterday ago hours days month months
year years just now welcome sorry click account profile since joined address phone website homepage
language english browse logged
""".split())

# Names and values that stay as they are in French text.
ALLOWED = [
    r"\bCC[- ]BY(?:[- ]SA)?\b", r"\bODC[- ]BY\b", r"Open Licence", r"\bOpen Data Commons\b[^,.;]*",
    r"\bCreative Commons\b[^,.;]*",
]
SKIPPED = {"script", "style", "code", "pre", "kbd", "samp", "noscript", "template", "svg", "math"}
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "aria-description", "aria-placeholder",
              "aria-roledescription", "aria-valuetext", "data-bs-title")
# URLs, host names, paths, e-mail addresses, `<slug>` placeholders of URLs, names of CKAN extensions,
# configuration keys quoted « like_this », snake_case and prefixed (hydra:next) identifiers
NOT_WORDS = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+|\S+@\S+\.\S+|\b[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:/\S*)?"
                       r"|(?<!\S)/[\w./<>-]*|<[\w-]+>|\bckanext-[\w-]+|«\s*[a-z_]+\s*»|\b\w+_\w+\b|\b[a-z]+:[a-z]\w*\b"
                       # identifiers: UUIDs and hex digests (« …a444add3 » holds the letters « add »)
                       r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{16,}\b")
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

MISSING = "/page-qui-n-existe-pas"  # the 404 page
PUBLIC = ["/", "/dataset/", "/dataset/{dataset}", "/dataset/{dataset}/resource/{resource}",
          "/dataset/activity/{dataset}", "/etablissement", "/etablissement/{uai}", "/territoire/france",
          "/territoire/commune/{commune}", "/organization/", "/organization/menj", "/about",
          "/user/login", "/user/register", "/user/reset", MISSING, "/territoire", "/territoire/region/76",
          "/etat-des-lieux", "/schemas", "/schemas/connectivite", "/accessibilite"]
SYSADMIN = ["/harvest", "/harvest/new", "/harvest/{source}", "/harvest/about/{source}", "/harvest/admin/{source}",
            "/harvest/edit/{source}", "/harvest/{source}/job", "/harvest/{source}/job/{job}",
            "/user/{sysadmin}", "/user/edit/{sysadmin}", "/user/activity/{sysadmin}", "/dashboard/datasets",
            "/dataset/", "/user/", "/organization/members/menj", "/organization/edit/menj",
            "/organization/new", "/dataset/{dataset}/resource/{resource}"]
EDITOR = ["/dataset/new", "/dataset/{dataset}/publier", "/dataset/edit/{dataset}",
          "/dataset/{dataset}/resource/new", "/user/{editor}", "/user/edit/{editor}",
          "/dashboard/datasets", "/dashboard/organizations", "/organization/menj", "/user/{editor}/api-tokens",
          "/tableau-de-bord/qualite"]


def _marked_foreign(element: Any) -> bool:
    return (element.tag in SKIPPED or element.get("lang", "fr")[:2] not in ("fr", "")
            or element.get("translate") == "no")


def _where(element: Any, attribute: str = "") -> str:
    """`tag#id.class[attribute]`: where a text sits, for the failure message."""
    ident = f"#{element.get('id')}" if element.get("id") else ""
    classes = (element.get("class") or "").split()
    return f"{element.tag}{ident}{'.' + classes[0] if classes else ''}{f'[{attribute}]' if attribute else ''}"


def _foreign(element: Any) -> bool:
    return _marked_foreign(element) or any(_marked_foreign(e) for e in element.iterancestors())


def page_texts(html: str) -> list[tuple[str, str]]:
    """What a page says, as (where, text): its text nodes and the user-facing attributes."""
    root = lxml.html.fromstring(html)
    found: list[tuple[str, str]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if not _foreign(element):
            found.extend((_where(element, a), element.get(a)) for a in ATTRIBUTES if element.get(a))
            if element.tag == "input" and element.get("type") in ("submit", "button", "reset"):
                found.append((_where(element, "value"), element.get("value") or ""))
            found.append((_where(element), element.text or ""))
        parent = element.getparent()
        if parent is not None and not _foreign(parent):
            found.append((_where(parent), element.tail or ""))
    return [(where, " ".join(text.split())) for where, text in found if text and text.strip()]


def english_words(text: str) -> list[str]:
    cleaned = NOT_WORDS.sub(" ", text)
    for pattern in ALLOWED:
        cleaned = re.sub(pattern, " ", cleaned, flags=re.IGNORECASE)
    return [w for w in WORD.findall(cleaned) if w.lower() in ENGLISH]


def english_on(html: str) -> list[str]:
    """The sentences of a page holding English words, with where they are."""
    seen: list[str] = []
    for where, text in page_texts(html):
        if english_words(text) and f"{where}: {text}" not in seen:
            seen.append(f"{where}: {text}")
    return seen


def test_the_detector_finds_english_and_spares_french():
    html = """<html lang="fr"><head><title>Jeux de données - eCarto</title></head><body>
      <a href="#content" aria-label="Skip to main content">Aller au contenu</a>
      <p>Il n’y a pas de description pour ce jeu de données.</p><p>There is no description</p>
      <input type="submit" value="Submit"><span title="Show more">…</span>
      <p>Licence Ouverte / Open Licence 2.0 — source : data.education.gouv.fr, contact@ac-lille.fr</p>
      <code>curl https://example.org/api/3/action/package_search?q=the</code>
      <p lang="en">Open Data Commons Open Database License</p>
      <p>Les données sont à jour : <a href="https://www.data.gouv.fr/fr/datasets/">data.gouv.fr</a></p>
      <label>127.0.0.1:5000/dataset/</label><input placeholder="<dataset>">
      <p>Les règles « keyword » de package_search ; la page suivante : hydra:next ; ckanext-harvest.</p>
      <p>Navigate to resource</p>
      <table><tr><td>029245cf-6790-42e0-a839-7595a444add3</td><td>5d41402abc4b2a76b9719d911017c592</td></tr></table>
    </body></html>"""
    assert [text.split(": ", 1)[1] for text in english_on(html)] == [
        "Skip to main content", "There is no description", "Submit", "Show more", "Navigate to resource"]


class FrenchPortal:
    def __init__(self, data: Any, editor: dict[str, Any], source: dict[str, Any], job: str) -> None:
        dataset = data.datasets["ips-colleges-2023"]
        college = data.college_with_ips()
        self.sysadmin, self.editor = data.sysadmin, editor
        self.values = {"dataset": dataset["name"], "resource": dataset["resources"][0]["id"],
                       "uai": college["Identifiant_de_l_etablissement"], "commune": college["Code_commune"],
                       "source": source["name"], "job": job, "sysadmin": data.sysadmin["name"],
                       "editor": editor["name"]}

    def paths(self, templates: list[str]) -> list[str]:
        return [t.format(**self.values) for t in templates]


@pytest.fixture(scope="module")
def remote_portal() -> Iterator[FakePortal]:
    remote = FakePortal().start()
    yield remote
    remote.stop()


@pytest.fixture(scope="module")
def french_portal(portal, remote_portal) -> FrenchPortal:  # noqa: F811 - the imported module fixture
    """The sample portal, an editor of the MENJ and a harvest source run once (a real job)."""
    import json
    from ckanext.ecarto.harvesters.run import run_source

    menj = helpers.call_action("organization_show", {"ignore_auth": True}, id="menj")
    # the factories' profiles are English lorem ipsum: people of the portal write in French
    sysadmin = model.User.get(portal.sysadmin["name"])
    sysadmin.about = "Administrateur du portail eCarto de l'académie."
    model.Session.commit()
    editor = factories.User(about="Chargée de mission numérique éducatif au rectorat.")
    helpers.call_action("organization_member_create", {"ignore_auth": True}, id=menj["id"],
                        username=editor["name"], role="editor")
    # FAST's 2 s timeout is for the fault tests; here the run must succeed even on a loaded machine
    config = {"datasets": [{"keyword": "IPS", "axe": "etablissements", "millesime": "2023"}], **FAST,
              "timeout": 60}
    source = helpers.call_action(
        "harvest_source_create", {"user": portal.sysadmin["name"]}, name="menj-ods", url=remote_portal.url,
        title="Ministère de l'Éducation nationale — data.education.gouv.fr", source_type="ecarto_ods",
        config=json.dumps(config), frequency="MANUAL", owner_org=menj["id"])
    run_source(source["name"])
    jobs = helpers.call_action("harvest_job_list", {"ignore_auth": True}, source_id=source["id"])
    assert not jobs[0]["stats"].get("errored"), f"the harvest run failed: {jobs[0]['stats']}"
    model.Session.remove()
    return FrenchPortal(portal, editor, source, jobs[0]["id"])


def _english_by_page(page: Any, live_server: str, paths: list[str], token: str = "") -> dict[str, list[str]]:
    if token:
        page.context.set_extra_http_headers({"Authorization": token})
    found = {}
    for path in paths:
        response = page.goto(live_server + path)
        if response.status >= 500 or (response.status == 404) != (path == MISSING):
            found[path] = [f"HTTP {response.status}"]
            continue
        english = english_on(page.content())
        lang = page.evaluate("document.documentElement.lang")
        if not lang.startswith("fr"):  # passages marked lang="en" are skipped: the page must be French
            english.insert(0, f"<html lang={lang!r}>")
        if english:
            found[path] = english
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "English on the French portal:\n" + "\n".join(
        f"  {path}:\n" + "\n".join(f"      {text[:180]}" for text in texts) for path, texts in found.items())


@pytest.mark.usefixtures("with_plugins")
def test_public_pages_speak_french(french_portal, page, live_server, screenshot):
    found = _english_by_page(page, live_server, french_portal.paths(PUBLIC))
    page.goto(live_server + french_portal.paths(["/dataset/activity/{dataset}"])[0])
    screenshot(page, "french-dataset-activity")
    assert not found, _report(found)


@pytest.mark.usefixtures("with_plugins")
def test_sysadmin_pages_speak_french(french_portal, page, live_server, screenshot):
    token = factories.APIToken(user=french_portal.sysadmin["name"])["token"]
    found = _english_by_page(page, live_server, french_portal.paths(SYSADMIN), token)
    page.goto(live_server + french_portal.paths(["/harvest/{source}/job/{job}"])[0])
    screenshot(page, "french-harvest-job-report")
    assert not found, _report(found)


@pytest.mark.usefixtures("with_plugins")
def test_editor_pages_speak_french(french_portal, page, live_server):
    token = factories.APIToken(user=french_portal.editor["name"])["token"]
    found = _english_by_page(page, live_server, french_portal.paths(EDITOR), token)
    assert not found, _report(found)
