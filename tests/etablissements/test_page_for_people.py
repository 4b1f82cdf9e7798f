"""The establishment page read by people (#16): labels instead of column names, codes explained
(Arcep operators, nature codes, sector), categories in normal case, rounded coordinates, French
numbers, « n.c. » explained in text, and a CSV for spreadsheet users with one row per indicator
— from real sample data (annuaire Occitanie, IPS 2023, Arcep observatoire 2018 T1)."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from bs4 import BeautifulSoup

import ckan.model as model
import ckan.tests.helpers as helpers

from ckanext.ecarto.etablissements import labels
from tests.etablissements.conftest import SAMPLE, IPS, _upload, rows

pytestmark = pytest.mark.usefixtures("with_plugins")

ARCEP_COMMUNES = SAMPLE / "arcep-observatoire-thd-2018t1" / "communes.csv.gz"
FERMAT = "0311236A"            # Collège Pierre de Fermat, Toulouse: FttH operators FREE-FRTE-SFR0 in 2018 T1
SAINT_JOSEPH = "0340885C"      # Collège privé Saint-Joseph, Sète


@pytest.fixture(scope="module")
def people_portal(portal):
    """The establishment portal plus Arcep's per-commune sheet (operator codes) and the IPS file
    published again with a data dictionary giving one of its columns a label."""
    ctx = {"user": portal.sysadmin["name"]}
    arcep = helpers.call_action("organization_show", dict(ctx), id="arcep")
    menj = helpers.call_action("organization_show", dict(ctx), id="menj")
    pkg = helpers.call_action("package_create", dict(ctx), name="arcep-communes-2018",
                              title="Informations par commune — Arcep 2018 T1", owner_org=arcep["id"],
                              axe="connectivite", millesime="2018", license_id="etalab-2.0")
    helpers.call_action("resource_create", dict(ctx), package_id=pkg["id"], name="communes", format="CSV",
                        upload=_upload(ARCEP_COMMUNES, "communes.csv"))
    dictionary = [{"column": "Ecart-type de l'IPS", "label": "Dispersion sociale des élèves (écart-type de l'IPS)"}]
    pkg = helpers.call_action("package_create", dict(ctx), name="ips-dictionnaire", title="IPS avec dictionnaire",
                              owner_org=menj["id"], axe="etablissements", millesime="2023", license_id="etalab-2.0")
    helpers.call_action("resource_create", dict(ctx), package_id=pkg["id"], name="ips", format="CSV",
                        upload=_upload(IPS, "ips.csv"), data_dictionary=json.dumps(dictionary, ensure_ascii=False))
    model.Session.remove()
    return portal


def _soup(app, path: str) -> BeautifulSoup:
    response = app.get(path)
    assert response.status_code == 200, path
    return BeautifulSoup(response.body, "html.parser")


def _row_header_texts(soup: BeautifulSoup) -> list[str]:
    return [" ".join(th.get_text(" ", strip=True).split()) for th in soup.select("article.ecarto-etablissement th[scope=row]")]


# --------------------------------------------------------------------------- words and codes

@pytest.mark.parametrize("header, label", [
    ("Lycee_Agricole", "Lycée agricole"),
    ("Lycee_des_metiers", "Lycée des métiers"),
    ("rpi_concentre", "RPI concentré"),
    ("Nombre_d_eleves", "Nombre d'élèves"),
    ("Identifiant_de_l_etablissement", "Identifiant de l'établissement"),
    ("Type_et_Libelle", "Type et libellé"),
    ("Parite", "Parité"),
    ("GRETA", "GRETA"),
    ("OI 2018 T1", "OI 2018 T1"),
])
def test_a_header_without_dictionary_is_humanised(header, label):
    assert labels.column_label({"source": header, "label": header}) == label


def test_the_dictionary_label_wins_over_the_header():
    assert labels.column_label({"source": "Parite", "label": "Parité filles-garçons"}) == "Parité filles-garçons"


def test_categories_in_capitals_are_written_in_normal_case_but_not_names_or_acronyms():
    assert labels.normal_case("COLLEGE") == "Collège"
    assert labels.normal_case("A FERMER") == "À fermer"
    assert labels.normal_case("ECOLE DE NIVEAU ELEMENTAIRE") == "École de niveau élémentaire"
    assert labels.normal_case("REP+") == "REP+"
    assert labels.normal_case("SEGPA") == "SEGPA"
    assert labels.normal_case("Collège Pierre de Fermat") == "Collège Pierre de Fermat"


def test_every_arcep_operator_value_of_the_2018_sheet_reads():
    """Each distinct « OI 2018 T1 » of the real file: the national operators named, the other
    codes kept as published — never a value lost."""
    values = {r["OI 2018 T1"].strip() for r in rows(ARCEP_COMMUNES, delimiter=",", skip=4) if r["OI 2018 T1"].strip()}
    assert {"FRTE", "SFR0", "FREE-FRTE-SFR0"} <= values
    assert labels.operators_text("FRTE") == "Orange"
    assert labels.operators_text("FREE-FRTE-SFR0") == "Free, Orange, SFR"
    assert labels.operators_text("FRTE partielle") == "Orange (partiel)"
    for value in values:
        text = labels.operators_text(value)
        if text is not None:
            kept = [p for p in re.split(r"[-\s]+", value) if p and p not in labels.ARCEP_OPERATORS and p != "partielle"]
            assert all(code in text for code in kept), (value, text)


def test_every_nature_code_of_the_directory_has_a_label():
    natures = {r["code_nature"] for r in rows(SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz")}
    assert natures <= labels.NATURES.keys()
    assert labels.nature_label("320") == "Lycée professionnel"


# --------------------------------------------------------------------------- the page

def test_the_page_shows_labels_explained_codes_and_rounded_coordinates(app, people_portal):
    soup = _soup(app, f"/etablissement/{FERMAT}")
    headers = _row_header_texts(soup)
    assert any(h.startswith("Lycée agricole") for h in headers)
    assert not any(h.startswith("Lycee_Agricole") for h in headers)
    # the raw name stays for data users, beside the label
    agricole = soup.select_one('#autres-donnees tr[data-colonne="Lycee_Agricole"]')
    assert agricole.select_one("th code.ecarto-colname").get_text() == "Lycee_Agricole"
    # the dictionary's label
    assert any(h.startswith("Dispersion sociale des élèves (écart-type de l'IPS)") for h in headers)
    # nature, state, sector
    assert soup.select_one('[data-identity=nature]').get_text(" ", strip=True).startswith("Collège")
    assert "COLLEGE" not in soup.select_one('[data-identity=nature]').get_text()
    assert soup.select_one('[data-identity=etat]').get_text(strip=True) == "Ouvert"
    assert soup.select_one('[data-secteur]').get_text(strip=True) == "Public"
    # coordinates: 5 decimals at most
    position = soup.select_one('[data-identity=position]').get_text(" ", strip=True)
    decimals = re.findall(r"\d+,(\d+)", position)
    assert len(decimals) == 2 and all(len(d) <= 5 for d in decimals), position
    # Arcep operators of the commune, explained, with the code beside
    context = soup.select_one("#contexte-commune")
    operators = context.select_one('tr[data-colonne="OI 2018 T1"]')
    assert operators is not None
    assert "Free, Orange, SFR" in operators.get_text(" ", strip=True)
    assert operators.select_one("code.ecarto-code").get_text() == "FREE-FRTE-SFR0"


def test_the_commune_context_is_turned_to_fit_the_page(app, people_portal):
    """Twelve columns and one row become twelve rows and one column: no table with twelve
    columns for a phone."""
    soup = _soup(app, f"/etablissement/{FERMAT}")
    for table in soup.select("#contexte-commune table"):
        assert len(table.select("thead th")) <= 4
        assert table.find_parent(class_="ecarto-table-scroll") is not None
        assert table.select_one("caption").get_text(strip=True)


def test_private_sector_reads_prive_on_the_page_and_in_the_search(app, people_portal):
    soup = _soup(app, f"/etablissement/{SAINT_JOSEPH}")
    assert soup.select_one('[data-secteur]').get_text(strip=True) == "Privé"
    search = _soup(app, "/etablissement?q=saint-joseph")
    facet_texts = [a.get_text(strip=True) for a in search.select(".module-narrow a")]
    assert "Privé" in facet_texts and "prive" not in facet_texts
    assert ", privé —" in " ".join(search.get_text(" ").split()) or "privé" in search.select_one(".ecarto-link-list").get_text()


def test_nc_is_explained_in_text_before_its_first_use(app, people_portal):
    response = app.get(f"/etablissement/{FERMAT}")
    body = response.body
    legend = body.index('id="nc-definition"')
    first_nc = body.index('class="ecarto-nc"')
    assert legend < first_nc
    soup = BeautifulSoup(body, "html.parser")
    assert "non communiqué" in soup.select_one("#nc-definition").get_text()
    territory = app.get("/territoire/departement/31").body
    soup = BeautifulSoup(territory, "html.parser")
    assert "non communiqué" in soup.select_one("#nc-definition").get_text()
    first = re.search(r'class="ecarto-nc(-share)?"', territory)
    assert first and territory.index('id="nc-definition"') < first.start()


# --------------------------------------------------------------------------- the people CSV

def _people_csv(app, uai: str) -> list[dict[str, str]]:
    response = app.get(f"/etablissement/{uai}-indicateurs.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for spreadsheets"
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "axe;libellé;valeur;unité;période;source;références"
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_the_people_csv_has_one_row_per_indicator_in_french(app, people_portal):
    record = helpers.call_action("ecarto_etablissement_show", {"user": ""}, uai=FERMAT)
    found = _people_csv(app, FERMAT)
    indicators = [i for a in record["axes"] for i in a["indicateurs"]]
    axis_labels = {a["label"] for a in record["axes"]}
    assert len([r for r in found if r["axe"] in axis_labels and "(niveau commune)" not in r["libellé"]]) == len(indicators)
    by_label = {r["libellé"]: r for r in found}
    # real value: IPS 123.1, « 123,1 » in French, with its source and its references
    ips = by_label["Indice de position sociale (IPS)"] if "Indice de position sociale (IPS)" in by_label else by_label["IPS"]
    assert ips["valeur"] == "123,1"
    assert ips["source"] in {"IPS des collèges 2023", "IPS avec dictionnaire"}
    assert "Département 31" in ips["références"] and "moyenne" in ips["références"]
    # n.c. written out, never an empty cell
    assert by_label["Nombre total de terminaux"]["valeur"] == "n.c."
    # identity: nature in words, coordinates rounded
    assert by_label["Nature"]["valeur"] == "Collège"
    assert len(by_label["Latitude"]["valeur"].split(",")[1]) <= 5
    # Arcep commune measures, French thousands separator
    logements = [r for r in found if r["libellé"].startswith("Logements")]
    assert logements and re.fullmatch(r"\d{1,3}(\u202f\d{3})*", logements[0]["valeur"])


def test_the_page_links_both_csv(app, people_portal):
    soup = _soup(app, f"/etablissement/{FERMAT}")
    assert soup.select_one('a[data-export=indicateurs]')["href"] == f"/etablissement/{FERMAT}-indicateurs.csv"
    assert soup.select_one('a[data-export=csv]')["href"] == f"/etablissement/{FERMAT}.csv"


@pytest.fixture
def ips_private(people_portal):
    ctx = {"user": people_portal.sysadmin["name"]}
    for name in ("ips-colleges-2023", "ips-dictionnaire"):
        helpers.call_action("package_patch", dict(ctx), id=name, private=True)
    yield
    for name in ("ips-colleges-2023", "ips-dictionnaire"):
        helpers.call_action("package_patch", dict(ctx), id=name, private=False)


def test_a_private_dataset_feeds_no_output_for_anonymous_visitors(app, people_portal, ips_private):
    titles = ("IPS des collèges 2023", "IPS avec dictionnaire")
    outputs = {
        "page": app.get(f"/etablissement/{FERMAT}").body,
        "json": app.get(f"/etablissement/{FERMAT}.json").body,
        "csv": app.get(f"/etablissement/{FERMAT}.csv").get_data().decode("utf-8-sig"),
        "people csv": app.get(f"/etablissement/{FERMAT}-indicateurs.csv").get_data().decode("utf-8-sig"),
    }
    for name, text in outputs.items():
        for title in titles:
            assert title not in text, (name, title)
        assert "ips-dictionnaire" not in text and "ips-colleges-2023" not in text, name
        assert "123,1" not in text and "123.1" not in text, name
        assert "Dispersion sociale" not in text, name
