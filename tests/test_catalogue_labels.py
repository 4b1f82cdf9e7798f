"""The catalogue and the dataset page for people and data users, on the real sample catalogue
(`ckan ecarto load-sample`): facet values and filter pills with their French labels (axis,
territory level, territory name), the territory filter, the dataset page's metadata without raw
values (no GeoJSON, no ISO dates, no empty fields of other axes), its geographic coverage by
name and outline map, and the developers' links (API JSON, DCAT Turtle / RDF/XML / JSON-LD)
answering with the right content type — and never exposing a private dataset."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from ckan.tests import factories, helpers

from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.schemas import display, facets, labels
from tests.quality.conftest import sample_portal  # noqa: F401 - module fixture: real sample data

pytestmark = pytest.mark.usefixtures("with_plugins", "sample_portal")

OCCITANIE = "annuaire-education-occitanie-2024"
VAL_DE_MARNE = "annuaire-education-val-de-marne-ecoles-publiques-2026"
FTTH = "arcep-deploiements-ftth-communes-2018-t1"
IPS = "ips-colleges-rentree-2023"
PRIVATE = "brouillon-prive-catalogue"


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _item_labels(html: str) -> list[str]:
    return [unescape(label).strip() for label in re.findall(r'<span class="item-label">([^<]*)</span>', html)]


def _facet_links(html: str, title: str) -> dict[str, str]:
    """Visible label -> accessible name of the links of the facet titled `title`."""
    nav = re.search(rf'<nav aria-label="Filtrer par : {re.escape(title)}">(.*?)</nav>', html, re.S)
    assert nav, title
    links = re.findall(r'<a hx-boost="true" href="[^"]+" aria-label="([^"]*)"[^>]*>\s*'
                       r'<span class="item-label">([^<]*)</span>', nav.group(1))
    return {unescape(label).strip(): unescape(aria) for aria, label in links}


def _visible_html(html: str) -> str:
    """The page without its JSON-LD (schema.org metadata for search engines, ckanext-dcat)."""
    return re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.S)


# --------------------------------------------------------------------------- labels (no web)

def test_labels_of_the_codes_people_would_otherwise_read():
    assert labels.axis_label("connectivite") == "Connectivité"
    assert labels.axis_label("etablissements") == "Annuaire et référentiels des établissements"
    assert labels.level_label("departement") == "Département"
    assert labels.territory_facet_value("region", "76") == "region-76"
    assert labels.territory_facet_value("departement", "076") == "departement-76"
    assert labels.territory_facet_value("france", "") == "france"
    assert labels.territory_label(labels.territory_of_facet_value("region-76")) == "Occitanie (région 76)"
    assert labels.territory_label(labels.territory_of_facet_value("departement-76")) == \
        "Seine-Maritime (département 76)"
    assert labels.frequency_label(
        "http://publications.europa.eu/resource/authority/frequency/QUARTERLY") == "Trimestrielle"
    # anything a harvester or a hand-made dataset may carry: shown as it is, never an error
    for odd in ("inconnu", "region-", "region-999", "-", "commune-x", None, ""):
        assert labels.territory_of_facet_value(odd) is None
    assert labels.axis_label("autre_axe") == "autre_axe"
    assert labels.frequency_label("tous les jours") == "tous les jours"


def test_outline_of_a_publisher_geometry_is_defensive():
    square = {"type": "Polygon", "coordinates": [[[1, 43], [2, 43], [2, 44], [1, 44], [1, 43]]]}
    svg = display.outline_svg(json.dumps(square))
    assert svg and svg["path"].startswith("M") and svg["path"].endswith("Z") and not svg["partial"]
    assert max(svg["width"], svg["height"]) == 240.0
    for bad in ("", "{", "[1, 2]", json.dumps({"type": "Point", "coordinates": [1, 43]}),
                json.dumps({"type": "Polygon", "coordinates": [[[1, "x"]]]}),
                json.dumps({"type": "Polygon", "coordinates": []}), "[" * 5000, 42, None):
        assert display.outline_svg(bad) is None


def test_coverage_of_a_commune_names_the_departement_drawn():
    pkg = {"territoire_niveau": "commune", "territoire_code": "31555",
           "spatial": territories.spatial("commune", "31555")}
    coverage = display.coverage(pkg)
    assert coverage["label"] == "Toulouse (commune 31555)" and coverage["path"] == "/territoire/commune/31555"
    assert coverage["map_name"] == "Haute-Garonne (département de la commune)"
    assert display.coverage({"territoire_niveau": "region", "territoire_code": "999"}) is None
    assert display.coverage({}) is None


# --------------------------------------------------------------------------- catalogue

def test_catalogue_facets_show_labels_not_codes(app):
    html = app.get("/dataset/").body
    shown = _item_labels(html)
    for label in ("Connectivité", "Annuaire et référentiels des établissements", "Département",
                  "Région", "France", "Occitanie (région 76)", "Val-de-Marne (département 94)"):
        assert any(label.startswith(s.rstrip(".")) for s in shown if s), (label, shown)
    for raw in ("etablissements", "connectivite", "departement", "region", "76", "94", "region-76"):
        assert raw not in shown, raw
    # the facet titles people read
    assert "Niveau du territoire" in html and "Territoire couvert" in html
    assert "Code du territoire" not in _text(html)
    # screen-reader names: French, the facet's title and the value's label
    axes = _facet_links(html, "Axe")
    assert axes["Connectivité"] == "Filtrer par Axe : Connectivité (2)"
    territories = _facet_links(html, "Territoire couvert")
    assert territories["Occitanie (région 76)"] == "Filtrer par Territoire couvert : Occitanie (région 76) (1)"
    # CKAN's English of the catalogue templates the portal overrides, and no empty facet
    # (« Groupes »: the portal has none)
    for english in ("Search datasets by", "Filter by:", "Show More", "Relevance", "Name Ascending",
                    "Last Modified", "There are no", "Search datasets..."):
        assert english not in html, english
    assert "Aucune valeur de" not in html and 'aria-label="Filtrer par : Groupes"' not in html


def test_territory_filter_finds_the_dataset_and_its_pill_says_the_name(app):
    html = app.get("/dataset/", params={"territoire": "region-76"}).body
    assert f'href="/dataset/{OCCITANIE}"' in html
    assert f'href="/dataset/{VAL_DE_MARNE}"' not in html and f'href="/dataset/{FTTH}"' not in html
    pill = re.search(r'<span class="filtered pill">(.*?)</span>', html, re.S)
    assert pill and "Occitanie (région 76)" in _text(pill.group(1)), pill
    assert "region-76" not in _text(pill.group(1))
    # the active value's link removes the filter, and says so
    assert _facet_links(html, "Territoire couvert")["Occitanie (région 76)"] == \
        "Retirer le filtre Territoire couvert : Occitanie (région 76)"

    html = app.get("/dataset/", params={"axe": "connectivite"}).body
    pill = re.search(r'<span class="filtered pill">(.*?)</span>', html, re.S)
    assert "Connectivité" in _text(pill.group(1)) and "connectivite" not in _text(pill.group(1))
    assert f'href="/dataset/{FTTH}"' in html and f'href="/dataset/{OCCITANIE}"' not in html


def test_territory_facet_in_the_search_api():
    result = helpers.call_action("package_search", rows=0,
                                 **{"facet.field": json.dumps(["territoire", "axe"])})
    items = {i["name"]: i["display_name"] for i in result["search_facets"]["territoire"]["items"]}
    assert items == {"france": "France", "region-76": "Occitanie (région 76)",
                     "departement-94": "Val-de-Marne (département 94)"}
    axes = {i["name"]: i["display_name"] for i in result["search_facets"]["axe"]["items"]}
    assert axes == {"etablissements": "Annuaire et référentiels des établissements", "connectivite": "Connectivité"}


def test_facet_field_of_a_dataset_follows_its_territory():
    pkg = facets.before_dataset_index({"territoire_niveau": "departement", "territoire_code": "094"})
    assert pkg["territoire"] == "departement-94"
    assert "territoire" not in facets.before_dataset_index({"territoire_niveau": "region", "territoire_code": "99"})
    assert "territoire" not in facets.before_dataset_index({})


# --------------------------------------------------------------------------- dataset page

def _additional_info(html: str) -> dict[str, str]:
    section = re.search(r'<section class="additional-info".*?</section>', html, re.S).group(0)
    rows = re.findall(r'<th scope="row" class="dataset-label">(.*?)</th>\s*<td[^>]*>(.*?)</td>', section, re.S)
    return {_text(k).strip(): " ".join(_text(v).split()) for k, v in rows}


def test_dataset_page_shows_its_territory_by_name_never_coordinates(app):
    for name in (OCCITANIE, VAL_DE_MARNE, FTTH, IPS):
        html = _visible_html(app.get(f"/dataset/{name}").body)
        assert "coordinates" not in html and "MultiPolygon" not in html, name
        assert len(html) < 80_000, (name, len(html))

    html = app.get(f"/dataset/{OCCITANIE}").body
    info = _additional_info(html)
    assert info["Territoire couvert"] == "Occitanie (région 76)"
    assert '<a href="/territoire/region/76">Occitanie (région 76)</a>' in html
    assert info["Axe"] == "Annuaire et référentiels des établissements"
    assert info["Début de la période couverte"] == "26 novembre 2024"
    # sidebar: the outline map of the région, named
    coverage = re.search(r'<section class="module module-narrow module-shallow ecarto-coverage".*?</section>',
                         html, re.S)
    assert coverage and "<svg" in coverage.group(0) and 'role="img"' in coverage.group(0)
    assert "Contour de la zone couverte : Occitanie" in coverage.group(0)
    path = re.search(r'<path d="([^"]+)"', coverage.group(0)).group(1)
    assert path.startswith("M") and len(path) < 20_000


def test_dataset_page_has_no_empty_or_foreign_fields(app):
    html = app.get(f"/dataset/{FTTH}").body
    info = _additional_info(html)
    assert info["Fréquence de mise à jour"] == "Trimestrielle"
    assert info["Début de la période couverte"] == "1 juillet 2017"
    assert info["Fin de la période couverte"] == "31 mars 2018"
    assert info["Territoire couvert"] == "France"
    assert all(value for value in info.values()), info
    assert "None" not in info.values()
    # fields of the other axes (and the code/level shown together as the territory) are absent
    for label in ("Types d'établissements couverts", "Programme", "Espace numérique de travail (ENT)",
                  "Code du territoire", "Couverture géographique (GeoJSON)", "Auteur"):
        assert label not in info, label
    for english in ("Additional Info", "Last Updated", "Created", ">Field<", ">Value<", "None"):
        assert english not in _visible_html(html).split("<footer")[0], english
    assert app.get(f"/en/dataset/{FTTH}").status_code == 200
    # the France-wide dataset's map leaves the overseas parts out, and says so
    assert "ne sont pas dessinées sur cette vignette" in html


def test_dataset_page_links_for_developers_answer_with_their_content_type(app):
    html = app.get(f"/dataset/{IPS}").body
    block = re.search(r'<section class="ecarto-developer-access".*?</section>', html, re.S).group(0)
    assert "Accès pour les développeurs" in block
    links = dict((fmt, unescape(href)) for href, fmt in
                 re.findall(r'<a href="([^"]+)" type="[^"]+" data-ecarto-format="([^"]+)"', block))
    assert links == {"api": f"/api/3/action/package_show?id={IPS}", "ttl": f"/dataset/{IPS}.ttl",
                     "rdf": f"/dataset/{IPS}.rdf", "jsonld": f"/dataset/{IPS}.jsonld"}
    expected = {"api": "application/json", "ttl": "text/turtle", "rdf": "application/rdf+xml",
                "jsonld": "application/ld+json"}
    for fmt, href in links.items():
        response = app.get(href)
        assert response.status_code == 200, href
        assert response.headers["Content-Type"].startswith(expected[fmt]), (href, response.headers["Content-Type"])
        assert "Indice de position sociale (IPS)" in response.get_data(as_text=True), href
    assert 'href="/documentation-api"' in block


def test_private_dataset_is_not_exposed_to_anonymous_users(app):
    sysadmin = factories.Sysadmin()
    member = factories.User()
    helpers.call_action("organization_member_create", {"user": sysadmin["name"]}, id="menj",
                        username=member["name"], role="member")
    helpers.call_action("package_create", {"user": sysadmin["name"]}, name=PRIVATE, private=True,
                        title="Brouillon privé", owner_org="menj", axe="etablissements",
                        license_id="etalab-2.0", territoire_niveau="departement", territoire_code="31")
    for path in (f"/dataset/{PRIVATE}", f"/dataset/{PRIVATE}.ttl", f"/dataset/{PRIVATE}.rdf",
                 f"/dataset/{PRIVATE}.jsonld", f"/api/3/action/package_show?id={PRIVATE}"):
        response = app.get(path, status=None)
        assert response.status_code in (403, 404), path
        assert "Brouillon privé" not in response.get_data(as_text=True), path
    assert PRIVATE not in app.get("/dataset/").body
    search = helpers.call_action("package_search", {"user": ""}, **{"facet.field": json.dumps(["territoire"])})
    assert "departement-31" not in {i["name"] for i in search["search_facets"]["territoire"]["items"]}

    # a member of its organization sees the page, its developer links and the token notice
    token = helpers.call_action("api_token_create", {"ignore_auth": True}, user=member["name"], name="t")["token"]
    html = app.get(f"/dataset/{PRIVATE}", headers={"Authorization": token}).body
    assert "Haute-Garonne (département 31)" in html
    assert "clé d'API" in unescape(html)
    response = app.get(f"/dataset/{PRIVATE}.ttl", headers={"Authorization": token})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
