"""The portal's identity as a visitor sees it: its name, logo and favicon in place of CKAN's, its
colours, page titles « <page> - <site name> » with no doubled separator, a footer with the
accessibility status and the portal's own links on every page (error pages too), in French.
A collectivité or an académie renames and recolours the portal through declared options; a
malformed or too light colour, or a logo that is not a URL, is ignored and never reaches the page."""
from __future__ import annotations

import re
from html import unescape

import pytest

from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

OCCITANIE = {
    "ckanext.ecarto.site_name": "eCarto Occitanie",
    "ckanext.ecarto.logo": "https://www.example.org/occitanie/logo.png",
    "ckanext.ecarto.favicon": "/occitanie/favicon.png",
    "ckanext.ecarto.primary_color": "#6A1B4D",
    "ckanext.ecarto.accent_color": "#00695c",
}


def title_of(body: str) -> str:
    match = re.search(r"<title>(.*?)</title>", body, re.S)
    assert match, "page without <title>"
    return unescape(" ".join(match.group(1).split()))


def css_variable(body: str, name: str) -> str:
    match = re.search(rf"--{name}:\s*([^;]+);", body)
    assert match, f"--{name} not set"
    return match.group(1).strip()


def footer_of(body: str) -> str:
    start = body.index('<footer class="site-footer')
    return body[start:body.index("</footer>", start)]


def with_options(options: dict[str, str]):
    """Stack ckan_config markers (one per option)."""
    def decorate(test):
        for key, value in options.items():
            test = pytest.mark.ckan_config(key, value)(test)
        return test
    return decorate


@pytest.mark.usefixtures("with_plugins")
class TestDefaultIdentity:
    def test_header_shows_the_portals_name_and_logo_not_ckans(self, app, portal):
        body = app.get("/dataset/").body
        assert '<span class="ecarto-brand-name">eCarto</span>' in body
        assert 'class="ecarto-brand-logo"' in body                       # the inline SVG mark
        assert "ckan-logo" not in body and "ckan.ico" not in body
        assert "Skip to main content" not in body
        assert '<a class="ecarto-skip-link" href="#content">Aller au contenu</a>' in body

    def test_favicon_is_the_portals_svg_with_an_ico_fallback(self, app, portal):
        body = app.get("/dataset/").body
        assert '<link rel="icon" href="/ecarto/favicon.svg" type="image/svg+xml" />' in body
        assert '<link rel="icon" href="/ecarto/favicon.ico" sizes="32x32" />' in body
        svg = app.get("/ecarto/favicon.svg")
        assert svg.status_code == 200 and "<svg" in svg.body
        ico = app.get("/ecarto/favicon.ico")
        assert ico.status_code == 200 and ico.data[:4] == b"\x00\x00\x01\x00"   # ICO header
        assert app.get("/ecarto/logo.svg").status_code == 200

    def test_theme_and_default_colours_are_on_every_page(self, app, portal):
        body = app.get("/etablissement").body
        assert re.search(r'href="/webassets/ecarto/[^"]*_theme\.css"', body)
        assert css_variable(body, "ecarto-primary") == "#1b4f72"
        assert css_variable(body, "ecarto-accent") == "#b34700"
        assert css_variable(body, "bs-link-color-rgb") == "27, 79, 114"

    @pytest.mark.parametrize("path, page", [
        ("/etablissement", "Établissements"),
        ("/etablissement/0000000X", "Établissement"),
        ("/territoire", "Territoires"),
        ("/territoire/region/76", "Occitanie - Territoires"),
        ("/territoire/pays/nulle-part", "Territoire introuvable"),
        ("/schemas", "Schémas de données"),
        ("/etat-des-lieux", "État des lieux"),
    ])
    def test_page_titles_name_the_page_then_the_site_once(self, app, portal, path, page):
        title = title_of(app.get(path, status=None).body)
        assert title == f"{page} - eCarto"

    def test_establishment_title_has_no_doubled_separator(self, app, portal):
        college = portal.college_with_ips()
        uai = college["Identifiant_de_l_etablissement"]
        title = title_of(app.get(f"/etablissement/{uai}").body)
        assert title.endswith(f"({uai}) - eCarto"), title
        assert " -  - " not in title and title.count("eCarto") == 1

    @pytest.mark.parametrize("path", ["/", "/dataset/", "/dataset/ips-colleges-2023", "/organization/",
                                      "/about", "/user/login", "/etablissement/0000000X",
                                      "/page-qui-n-existe-pas"])
    def test_every_title_ends_with_the_site_name_once(self, app, portal, path):
        title = title_of(app.get(path, status=None).body)
        assert title == "eCarto" or title.endswith(" - eCarto"), title
        assert title.count(" - eCarto") <= 1 and not re.search(r"-\s+-", title), title


@pytest.mark.usefixtures("with_plugins")
class TestFooter:
    @pytest.mark.parametrize("path, status", [
        ("/", 200), ("/dataset/", 200), ("/dataset/ips-colleges-2023", 200), ("/etablissement", 200),
        ("/territoire/france", 200), ("/about", 200), ("/user/login", 200),
        ("/page-qui-n-existe-pas", 404), ("/etablissement/0000000X", 400),
    ])
    def test_footer_states_accessibility_and_links_the_portals_pages(self, app, portal, path, status):
        response = app.get(path, status=None)
        assert response.status_code == status
        footer = footer_of(response.body)
        # no complete RGAA audit declared: « non conforme », as the statement says (RGAA's rule)
        assert '<a href="/accessibilite">Accessibilité : non conforme</a>' in footer
        assert '<a href="/documentation-api">Documentation de l’API</a>' in footer
        assert '<a href="/about">À propos</a>' in footer
        assert '<a href="/schemas">Schémas de données</a>' in footer
        assert ">Licence Ouverte 2.0</a>" in footer
        assert "docs.ckan.org" not in footer and "CKAN API" not in footer and "API CKAN" not in footer

    @pytest.mark.ckan_config("ckanext.ecarto.accessibility_compliance_rate", "72.5")
    def test_footer_status_follows_the_audit_of_the_statement(self, app, portal):
        for path in ("/etablissement", "/page-qui-n-existe-pas"):
            footer = footer_of(app.get(path, status=None).body)
            assert '<a href="/accessibilite">Accessibilité : partiellement conforme</a>' in footer
        statement = app.get("/accessibilite").body
        assert '<strong class="ecarto-accessibility-status">partiellement conforme</strong>' in statement

    def test_language_switch_is_labelled_in_french_and_keeps_the_page(self, app, portal):
        footer = footer_of(app.get("/etablissement").body)
        assert "Langue :" in footer and "Language" not in footer
        assert '<a href="/en/etablissement" lang="en" hreflang="en">' in footer
        english = app.get("/en/etablissement")
        assert english.status_code == 200 and 'lang="en"' in english.body


@pytest.mark.usefixtures("with_plugins")
class TestConfiguredIdentity:
    @with_options(OCCITANIE)
    def test_a_collectivite_renames_and_recolours_the_portal(self, app, portal):
        body = app.get("/territoire").body
        assert '<span class="ecarto-brand-name">eCarto Occitanie</span>' in body
        assert '<img class="ecarto-brand-logo" src="https://www.example.org/occitanie/logo.png" alt="" />' in body
        assert '<link rel="icon" href="/occitanie/favicon.png" type="image/png" />' in body
        assert "/ecarto/favicon.ico" not in body
        assert css_variable(body, "ecarto-primary") == "#6a1b4d"
        assert css_variable(body, "ecarto-accent") == "#00695c"
        assert title_of(body) == "Territoires - eCarto Occitanie"
        assert "eCarto Occitanie" in footer_of(body)

    @with_options({
        "ckanext.ecarto.primary_color": "red;} body{display:none} :root{--x:1",
        "ckanext.ecarto.accent_color": "#ffff66",                 # yellow: 1.1:1 on white
        "ckanext.ecarto.logo": "javascript:alert(1)",
        "ckanext.ecarto.favicon": "//evil.example/f.ico",
        "ckanext.ecarto.site_name": "  ",
    })
    def test_invalid_options_are_ignored_and_never_reach_the_page(self, app, portal):
        response = app.get("/territoire")
        assert response.status_code == 200
        body = response.body
        assert "display:none" not in body and "javascript:" not in body and "evil.example" not in body
        assert css_variable(body, "ecarto-primary") == "#1b4f72"
        assert css_variable(body, "ecarto-accent") == "#b34700"
        assert "#ffff66" not in body
        assert '<span class="ecarto-brand-name">eCarto</span>' in body
        assert '<link rel="icon" href="/ecarto/favicon.svg" type="image/svg+xml" />' in body

    @with_options({"ckanext.ecarto.site_name": '<script>alert("x")</script> Académie'})
    def test_site_name_is_text_not_markup(self, app, portal):
        body = app.get("/territoire").body
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Académie" in body
