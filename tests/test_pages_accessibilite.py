"""`/accessibilite`: the déclaration d'accessibilité in the form of RGAA 4.1's model (status,
test results, non-conformities, derogations, exempted contents, how it was established,
contact, recourse to the Défenseur des droits), its options, and the audit behind it: axe-core
(every impact) is run over the audited pages of a portal with real data, and what it finds must
be exactly what the declaration lists — a fixed violation must leave the declaration, a new one
must enter it."""
from __future__ import annotations

import html
import re

import pytest

import ckan.tests.factories as factories
import ckan.tests.helpers as helpers
from ckan.common import config

from ckanext.ecarto.logic import pages as logic
from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
CONTENT_PAGES = ["/accessibilite", "/documentation-api", "/about"]


def _text(body: str) -> str:
    """The page's text as a reader gets it: tags removed, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _declaration(app) -> tuple[str, str]:
    response = app.get("/accessibilite")
    assert response.status_code == 200
    return response.body, _text(response.body)


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_declaration_follows_the_rgaa_model(app):
    body, text = _declaration(app)
    headings = re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", body)
    for heading in ("Déclaration d’accessibilité", "État de conformité", "Résultats des tests",
                    "Contenus non accessibles", "Non-conformités", "Dérogations pour charge disproportionnée",
                    "Contenus non soumis à l’obligation d’accessibilité",
                    "Établissement de cette déclaration d’accessibilité",
                    "Technologies utilisées pour la réalisation du portail", "Environnement de test",
                    "Outils pour évaluer l’accessibilité", "Retour d’information et contact", "Voies de recours"):
        assert html.escape(heading, quote=False) in headings or heading in headings, heading
    assert "article 47 de la loi n° 2005-102 du 11 février 2005" in text
    assert "RGAA), version 4.1.2" in text
    assert "établie le 1er décembre 2026" in text
    for tech in ("HTML5", "CSS", "JavaScript", "SVG"):
        assert tech in text
    assert "axe-core" in text and "clavier" in text and "Chromium" in text


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_recourse_gives_every_way_to_reach_the_defenseur_des_droits(app):
    body, text = _declaration(app)
    assert 'href="https://formulaire.defenseurdesdroits.fr/"' in body
    assert "délégué du Défenseur des droits" in text
    assert "09 69 39 00 00" in text and 'href="tel:+33969390000"' in body
    assert "Défenseur des droits Libre réponse 71120 75342 Paris CEDEX 07" in text


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_every_finding_is_listed_with_its_criterion_and_alternative(app):
    _, text = _declaration(app)
    for finding in logic.AUDIT_FINDINGS + logic.MANUAL_FINDINGS:
        assert finding.title in text
        assert f"critère RGAA {finding.criterion}" in text
        if finding.alternative:
            assert finding.alternative in text
    assert "Aucune dérogation n’est invoquée." in text
    assert "Cartes en ligne et fonds de carte" in text


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_without_a_complete_audit_the_portal_is_declared_non_conforme(app):
    _, text = _declaration(app)
    assert "Le portail est non conforme avec le référentiel" in text
    assert "Aucun audit complet des critères du RGAA" in text


@pytest.mark.parametrize("rate, status", [("72,5", "partiellement conforme"), ("100", "totalement conforme"),
                                          ("30", "non conforme"), ("abc", "non conforme")])
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_status_follows_the_rate_of_a_complete_audit(app, monkeypatch, rate, status):
    monkeypatch.setitem(config, "ckanext.ecarto.accessibility_compliance_rate", rate)
    _, text = _declaration(app)
    assert f"Le portail est {status} avec" in text
    if rate == "72,5":
        assert "72,5 % des critères du RGAA sont respectés" in text
        assert "Aucun audit complet" not in text


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_contact_option_e_mail_or_form(app, monkeypatch):
    _, text = _declaration(app)
    assert "Aucune adresse de contact n’est encore renseignée" in text
    assert "ckanext.ecarto.accessibility_contact" not in text          # the admin hint is for sysadmins
    sysadmin = factories.Sysadmin()
    token = factories.APIToken(user=sysadmin["name"])["token"]
    assert "renseignez l’option ckanext.ecarto.accessibility_contact" in _text(
        app.get("/accessibilite", headers={"Authorization": token}).body)
    monkeypatch.setitem(config, "ckanext.ecarto.accessibility_contact", "accessibilite@exemple.fr")
    body, _ = _declaration(app)
    assert '<a href="mailto:accessibilite@exemple.fr">accessibilite@exemple.fr</a>' in body
    monkeypatch.setitem(config, "ckanext.ecarto.accessibility_contact", "https://exemple.fr/contact?sujet=a11y")
    body, text = _declaration(app)
    assert 'href="https://exemple.fr/contact?sujet=a11y"' in body and "Formulaire de contact" in text
    monkeypatch.setitem(config, "ckanext.ecarto.accessibility_audit_date", "2027-03-15")
    monkeypatch.setitem(config, "ckanext.ecarto.accessibility_organisation", "Département de la Haute-Garonne")
    _, text = _declaration(app)
    assert "établie le 15 mars 2027" in text
    assert "Département de la Haute-Garonne s’engage à rendre" in text


def _axe(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}}).response["violations"]


def _audited_paths(portal) -> list[str]:
    """The declaration's sample (logic.AUDITED_PAGES) on this portal's data."""
    assert len(logic.AUDITED_PAGES) == 21
    ips = portal.datasets["ips-colleges-2023"]
    return ["/", "/dataset/", "/dataset/ips-colleges-2023",
            f"/dataset/ips-colleges-2023/resource/{ips['resources'][0]['id']}", "/organization/",
            "/organization/menj", "/etablissement?q=jean+jaures", "/etablissement/0301326D", "/territoire",
            "/territoire/france", "/territoire/region/76", "/territoire/academie/16", "/territoire/departement/31",
            "/territoire/commune/31555", "/etat-des-lieux", "/schemas", "/about", "/accessibilite",
            "/documentation-api", "/user/login", "/harvest"]


@pytest.mark.usefixtures("with_plugins")
def test_content_pages_have_no_accessibility_violation_at_all(portal, page, live_server, screenshot):
    """The three content pages: no axe-core violation of any impact (best practices included)."""
    found = {}
    for path in CONTENT_PAGES:
        assert page.goto(live_server + path).status == 200
        violations = _axe(page)
        if violations:
            found[path] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
        screenshot(page, "page" + path.replace("/", "-"))
    assert not found


@pytest.mark.usefixtures("with_plugins")
def test_declaration_lists_exactly_what_the_automated_audit_finds(portal, page, live_server):
    """axe-core over the audited pages, every impact: the rules it reports are the declared
    ones (logic.AUDIT_FINDINGS). On failure, update the declaration, not this test."""
    found: dict[str, set[str]] = {}
    for path in _audited_paths(portal):
        assert page.goto(live_server + path).status == 200, path
        for violation in _axe(page):
            found.setdefault(violation["id"], set()).add(path)
    declared = logic.declared_axe_rules()
    undeclared = {rule: sorted(paths) for rule, paths in found.items() if rule not in declared}
    assert not undeclared, f"non-conformités à ajouter à la déclaration : {undeclared}"
    assert not declared - set(found), f"non-conformités corrigées, à retirer : {declared - set(found)}"


@pytest.mark.usefixtures("with_plugins")
def test_keyboard_reaches_the_contact_and_recourse_links_with_visible_focus(portal, page, live_server, screenshot):
    page.goto(live_server + "/accessibilite")
    reached = None
    for _ in range(80):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href')")
        if href == "https://formulaire.defenseurdesdroits.fr/":
            reached = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow}; }""")
            break
    assert reached, "le formulaire du Défenseur des droits n'est pas atteint au clavier"
    assert (reached["outline"] != "none" and reached["width"] >= 1) or reached["shadow"] != "none"
    screenshot(page, "accessibilite-focus-defenseur")


@pytest.mark.usefixtures("with_plugins")
def test_manual_findings_still_hold(portal, page, live_server):
    """The keyboard and reflow findings are checked too: when one of these defects is fixed,
    this test fails — remove the finding from logic.MANUAL_FINDINGS (and this check)."""
    assert {f.criterion for f in logic.MANUAL_FINDINGS} == {"7.3", "10.11", "8.2"}
    page.goto(live_server + "/territoire/departement/31")
    page.wait_for_selector(".leaflet-overlay-pane .leaflet-interactive")
    points = page.evaluate("""() => [...document.querySelectorAll('.leaflet-overlay-pane .leaflet-interactive')]
        .map(e => e.getAttribute('tabindex'))""")
    assert len(points) > 100 and all(t in (None, "-1") for t in points)       # 7.3: mouse only
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/etat-des-lieux", "/territoire/departement/31"):
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") > 340, path   # 10.11
    for path in ("/accessibilite", "/documentation-api", "/about"):
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 330, path  # our pages reflow
    page.set_viewport_size({"width": 1280, "height": 900})
    ctx = {"user": portal.sysadmin["name"]}
    menj = helpers.call_action("organization_show", ctx, id="menj")
    documents = helpers.call_action(
        "package_create", ctx, name="notices-8-2", title="Notices", owner_org=menj["id"], axe="etablissements",
        millesime="2024", license_id="etalab-2.0", notes="Deux documents.",
        resources=[{"name": "Notice", "url": "http://example.org/notice.pdf", "format": "PDF"},
                   {"name": "Annexe", "url": "http://example.org/annexe.pdf", "format": "PDF"}])
    try:
        page.goto(live_server + "/dataset/notices-8-2")
        assert page.locator("#dropdownExplorer").count() == 2                       # 8.2: repeated id
    finally:
        helpers.call_action("dataset_purge", ctx, id=documents["id"])
