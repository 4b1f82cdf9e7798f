"""Periods on the establishment page (issue #14), on a real multi-year file.

`data/sample/ips-colleges-multi-annees/fr-en-ips_colleges.csv` (copy of ../shared/data's) (IPS of the collèges of the
académie de Lille, one row per collège and rentrée, rows NOT sorted) is loaded through the
product's path (an upload: CKAN's actions and the ingestion hooks), with the ministry's
geolocalisation of the collèges of France as the directory. The oracle is pandas on the same
file: the current value is the latest rentrée (never the file's last row), the history is the
other rentrées, the département's reference means are computed per rentrée on the collèges of
the directory; the same file with its rows shuffled gives the same page.

Hand-written fixtures (named as such, see data/README.md) cover what no real file here has: a
multi-campaign ETIC-like file (flags, axis indicators), periods that cannot be ordered, and an
effectifs-like file that also names and locates the collèges.
"""
from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers

from tests.etablissements.conftest import raw

pytestmark = pytest.mark.usefixtures("with_plugins")

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
IPS_YEARS = ROOT / "data" / "sample" / "ips-colleges-multi-annees" / "fr-en-ips_colleges.csv"
IPS_2023 = ROOT / "data" / "sample" / "ips-colleges-2023" / "ips-colleges-2023.csv"
GEOLOC = (ROOT / "data" / "sample" / "geolocalisation-etablissements"
          / "fr-en-adresse-et-geolocalisation-etablissements_colleges-france_2024-11.csv.gz")
ECOLES_094 = ROOT / "data" / "sample" / "annuaire-education" / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv"
ETIC = HERE / "data" / "etic_multi_campagnes_fixture_ecrite_a_la_main.csv"             # hand-written
CAMPAGNES = HERE / "data" / "campagnes_non_ordonnables_fixture_ecrite_a_la_main.csv"    # hand-written
EFFECTIFS = HERE / "data" / "effectifs_fixture_ecrite_a_la_main.csv"                    # hand-written

COLLEGE_NATURES = {"340", "350", "352"}
SAMPLE = ["0590002G", "0590006L", "0590030M", "0620016F", "0597055Y"]   # 0597055Y: 5 rentrées only



def _upload(content: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename)


def show(uai: str) -> dict[str, Any]:
    return helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai=uai)


def _ips_block(record: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in record["autres_donnees"] if b["source"]["dataset"] == "ips-lille")


def _column(block: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in block["colonnes"] if c["colonne"] == name)


def _indicator(record: dict[str, Any], ind_id: str) -> dict[str, Any]:
    return next(i for a in record["axes"] for i in a["indicateurs"] if i["id"] == ind_id)


# --------------------------------------------------------------------------- oracle (pandas)

@pytest.fixture(scope="module")
def ips() -> pd.DataFrame:
    frame = pd.read_csv(IPS_YEARS, sep=";", dtype=str)
    frame["IPS"] = frame["IPS"].astype(float)
    return frame


@pytest.fixture(scope="module")
def colleges_59() -> set[str]:
    """The collèges of département 59 in the directory (the geolocalisation file)."""
    geoloc = pd.read_csv(io.BytesIO(raw(GEOLOC)), sep=";", dtype=str, encoding="utf-8-sig")
    found = geoloc[(geoloc["code_departement"] == "059") & geoloc["nature_uai"].isin(COLLEGE_NATURES)]
    return set(found["numero_uai"])


# --------------------------------------------------------------------------- the portal

@pytest.fixture(scope="module")
def portal(module_portal_db, tmp_path_factory) -> dict[str, Any]:
    from ckan.tests import factories
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = helpers.call_action("organization_create", dict(ctx), name="menj", title="Ministère de l'Éducation nationale")
    datasets: dict[str, dict[str, Any]] = {}
    specs = [
        ("geoloc-colleges", "Adresse et géolocalisation des collèges", "etablissements", "2024",
         raw(GEOLOC), "geoloc-colleges.csv", None),
        ("annuaire-094", "Annuaire de l'éducation — écoles publiques du Val-de-Marne", "etablissements", "2026",
         raw(ECOLES_094), "annuaire-094.csv", None),
        ("ips-lille", "IPS des collèges de l'académie de Lille", "etablissements", "2022",
         IPS_YEARS.read_bytes(), "fr-en-ips_colleges.csv", None),
        ("etic-campagnes", "ETIC deux campagnes (fixture de test)", "equipement", "2022",
         ETIC.read_bytes(), "etic.csv", None),
        ("ateliers-campagnes", "Ateliers par campagne (fixture de test)", "equipement", "2022",
         CAMPAGNES.read_bytes(), "ateliers.csv", '[{"column": "campagne", "role": "period"}]'),
        ("effectifs-colleges", "Effectifs des collèges (fixture de test)", "etablissements", "2023",
         EFFECTIFS.read_bytes(), "effectifs.csv", None),
    ]
    for name, title, axe, millesime, content, filename, dictionary in specs:
        pkg = helpers.call_action("package_create", ctx, name=name, title=title, owner_org=menj["id"],
                                  axe=axe, millesime=millesime, license_id="etalab-2.0")
        extra = {"data_dictionary": dictionary} if dictionary else {}
        resource = helpers.call_action("resource_create", ctx, package_id=pkg["id"], name=title, format="CSV",
                                       upload=_upload(content, filename), **extra)
        status = helpers.call_action("ecarto_ingest_status", ctx, id=resource["id"])
        assert status["status"] == "ok", (name, status)
        datasets[name] = helpers.call_action("package_show", ctx, id=pkg["id"])
    model.Session.remove()
    return {"ctx": ctx, "datasets": datasets, "tmp": tmp_path_factory.mktemp("periodes")}


# --------------------------------------------------------------------------- tests

def test_current_value_is_the_latest_rentree_and_history_the_others(portal, ips):
    for uai in SAMPLE:
        rows = ips[ips["UAI"] == uai].sort_values("Rentrée scolaire")
        assert len(rows) >= 2, uai
        column = _column(_ips_block(show(uai)), "IPS")
        latest = rows.iloc[-1]
        assert (column["periode"], column["valeur"]) == (latest["Rentrée scolaire"], pytest.approx(latest["IPS"])), uai
        assert column["statut"] == "valeur"
        assert [(h["periode"], h["valeur"]) for h in column["historique"]] == [
            (r["Rentrée scolaire"], pytest.approx(r["IPS"])) for _i, r in rows.iloc[:-1].iterrows()], uai
    # the example: the file's last row of 0590002G is 2016-2017 (75.7); 2021-2022 gives 80.4
    column = _column(_ips_block(show("0590002G")), "IPS")
    assert (column["periode"], column["valeur"]) == ("2021-2022", 80.4)
    assert ("2016-2017", 75.7) in [(h["periode"], h["valeur"]) for h in column["historique"]]
    assert ips[ips["UAI"] == "0590002G"].iloc[-1]["Rentrée scolaire"] == "2016-2017"   # the trap


def test_departement_means_per_rentree_equal_pandas(portal, ips, colleges_59):
    column = _column(_ips_block(show("0590002G")), "IPS")
    by_period = {column["periode"]: column["references"]}
    by_period.update({h["periode"]: h["references"] for h in column["historique"]})
    assert set(by_period) == set(ips["Rentrée scolaire"])
    for rentree, refs in by_period.items():
        rows = ips[(ips["Rentrée scolaire"] == rentree) & ips["UAI"].isin(colleges_59)]
        got = refs["departement"]
        assert got["code"] == "59" and got["statistique"] == "moyenne"
        assert got["n_etablissements"] == len(colleges_59), rentree
        assert got["n_valeurs"] == rows["UAI"].nunique(), rentree
        assert got["moyenne"] == pytest.approx(rows["IPS"].mean(), abs=1e-3), rentree
        assert got["taux_nc"] == pytest.approx(1 - rows["UAI"].nunique() / len(colleges_59), abs=1e-3)


def test_periods_codes_and_labels_get_no_reference(portal):
    block = _ips_block(show("0590002G"))
    names = [c["colonne"] for c in block["colonnes"]]
    assert "Rentrée scolaire" not in names                    # it is the period, not a column
    assert block["periode"]["label"] == "Rentrée scolaire" and block["periode"]["derniere"] == "2021-2022"
    for name in ("Code du département", "Code INSEE de la commune", "Nom de l'établissment", "Secteur"):
        col = _column(block, name)
        assert col["references"] is None and col["historique"] == [], name
        assert col["role"] in {"code", "label", "dimension"}, name
    # a label is shown as it is, from the latest rentrée (2016-2017 has the typo « COLLEGETHEODORE »)
    assert _column(block, "Nom de l'établissment")["valeur"] == "COLLEGE THEODORE MONOD"
    assert _column(block, "Code du département")["valeur"] == "059"
    # the measure « Ecart-type de l'IPS », empty before 2019-2020, has its mean from the same rentrée
    ecart = _column(block, "Ecart-type de l'IPS")
    assert (ecart["periode"], ecart["valeur"]) == ("2021-2022", 29.7)
    assert [h["valeur"] for h in ecart["historique"]][:3] == [None, None, None]


def test_shuffled_rows_give_the_same_page(portal, app):
    before = {uai: show(uai) for uai in SAMPLE}
    html_before = _article(app.get("/etablissement/0590002G").get_data(as_text=True))
    lines = IPS_YEARS.read_text(encoding="utf-8").splitlines()
    header, data = lines[0], lines[1:]
    random.Random(14).shuffle(data)
    shuffled = portal["tmp"] / "fr-en-ips_colleges-melange.csv"
    shuffled.write_text("\n".join([header] + data) + "\n", encoding="utf-8")
    resource = portal["datasets"]["ips-lille"]["resources"][0]
    model.Session.remove()   # end the reads' transaction: the new version replaces the table
    helpers.call_action("resource_patch", dict(portal["ctx"]), id=resource["id"],
                        upload=_upload(shuffled.read_bytes(), "fr-en-ips_colleges.csv"))
    status = helpers.call_action("ecarto_ingest_status", dict(portal["ctx"]), id=resource["id"])
    assert status["status"] == "ok", status
    for uai in SAMPLE:
        assert json.dumps(show(uai), sort_keys=True) == json.dumps(before[uai], sort_keys=True), uai
    assert _article(app.get("/etablissement/0590002G").get_data(as_text=True)) == html_before


def _article(html: str) -> str:
    """The page's content (the rest holds a per-request CSRF token)."""
    return html.split('<article class="ecarto-etablissement">', 1)[1].split("</article>", 1)[0]


def test_page_shows_period_history_chart_and_table(portal, app):
    html = app.get("/etablissement/0590002G").get_data(as_text=True)
    other = html.split('id="autres-donnees"', 1)[1]
    assert "2021-2022" in other and "ecarto-period" in other
    assert "<svg" in other and 'role="img"' in other and "<title" in other and "<desc" in other
    assert "ecarto-history-table" in other and "2016-2017" in other
    assert "<script>" not in html.replace("<script src", "")   # no inline script (CSP)


def test_csv_and_json_exports_carry_the_period(portal, app):
    as_json = app.get("/etablissement/0590002G.json").json
    column = _column(_ips_block(as_json), "IPS")
    assert column["periode"] == "2021-2022" and len(column["historique"]) == 5
    body = app.get("/etablissement/0590002G.csv").get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    ips_rows = [r for r in table if r["indicateur"] == "IPS"]
    assert [(r["periode"], r["actuelle"]) for r in ips_rows][0] == ("2021-2022", "oui")
    assert {r["periode"] for r in ips_rows} == {"2016-2017", "2017-2018", "2018-2019", "2019-2020",
                                                "2020-2021", "2021-2022"}
    assert next(r for r in ips_rows if r["periode"] == "2016-2017")["valeur"] == "75.7"


def test_multi_campaign_indicators_flags_and_shares(portal, app):
    record = show("0590002G")
    terminals = _indicator(record, "nb_terminaux")
    assert (terminals["periode"], terminals["valeur"], terminals["statut"]) == ("2021-2022", 120, "valeur")
    assert [(h["periode"], h["valeur"]) for h in terminals["historique"]] == [("2020-2021", 95)]
    wifi = _indicator(record, "wifi")
    assert (wifi["periode"], wifi["valeur"]) == ("2021-2022", True)
    assert [(h["periode"], h["valeur"]) for h in wifi["historique"]] == [("2020-2021", False)]
    # a flag's reference is the share of « oui » among the département's collèges, same campaign:
    # 2021-2022: 0590002G oui, 0590006L oui, 0590007M non, 0590030M oui -> 3 of 4
    ref = wifi["references"]["departement"]
    assert ref["statistique"] == "part_oui" and ref["n_valeurs"] == 4 and ref["moyenne"] == pytest.approx(0.75)
    old = wifi["historique"][0]["references"]["departement"]     # 2020-2021: 3 collèges, 1 oui
    assert old["n_valeurs"] == 3 and old["moyenne"] == pytest.approx(1 / 3, abs=1e-4)
    mean = terminals["references"]["departement"]
    assert mean["moyenne"] == pytest.approx((120 + 64 + 30 + 48) / 4)
    html = app.get("/etablissement/0590002G").get_data(as_text=True)
    row = html.split('data-indicator="wifi"', 1)[1].split("data-indicator=", 1)[0]
    assert "Oui" in row and "Non" in row                   # current « Oui », 2020-2021 « Non » in history
    assert "75 %" in row.replace("\u00a0", " ")


def test_an_indicator_for_other_types_is_not_applicable(portal, app):
    ecole = pd.read_csv(ECOLES_094, sep=";", dtype=str, encoding="utf-8-sig").iloc[0]["Identifiant_de_l_etablissement"]
    record = show(ecole)
    assert record["identite"]["type"] == "ecole"
    terminals = _indicator(record, "nb_terminaux")
    assert terminals["statut"] == "non_applicable" and terminals["applicable"] is False
    assert terminals["nc"] is False and terminals["valeur"] is None
    # an indicator no source gives at all stays n.c.
    ent = _indicator(record, "ent")
    assert ent["statut"] == "nc" and ent["nc"] is True and ent["applicable"] is True
    # a collège without ETIC row: n.c., not « non applicable » (the source covers collèges)
    college = _indicator(show("0620016F"), "nb_terminaux")
    assert college["statut"] == "nc" and college["applicable"] is True
    html = app.get(f"/etablissement/{ecole}").get_data(as_text=True)
    assert "non applicable" in html.split('data-indicator="nb_terminaux"', 1)[1].split("data-indicator=", 1)[0]


def test_periods_that_cannot_be_ordered_keep_rows_without_current_value(portal, app):
    record = show("0590002G")
    block = next(b for b in record["autres_donnees"] if b["source"]["dataset"] == "ateliers-campagnes")
    assert block["periode"] is not None, block
    assert block["periode"]["orderable"] is False and "ordonnées" in block["periode"]["raison"]
    ateliers = _column(block, "nb_ateliers")
    assert ateliers["valeur"] is None and ateliers["statut"] == "periodes_non_ordonnables"
    assert "ordonnées" in ateliers["raison"] and ateliers["references"] is None
    assert sorted((h["periode"], h["valeur"]) for h in ateliers["historique"]) == [("automne", 4), ("printemps", 3)]
    assert len(block["lignes"]) == 2
    html = app.get("/etablissement/0590002G").get_data(as_text=True)
    assert "pas de valeur actuelle" in html


def test_a_statistics_file_with_names_feeds_identity_once_and_shows_its_measures(portal):
    record = show("0590002G")
    sources = [s["dataset"] for s in record["identite"]["sources"]]
    assert sources.count("effectifs-colleges") == 1 and sources[0] == "geoloc-colleges"
    assert len(sources) == len(set(sources))
    block = next(b for b in record["autres_donnees"] if b["source"]["dataset"] == "effectifs-colleges")
    names = [c["colonne"] for c in block["colonnes"]]
    assert names == ["effectif_total"]                   # no name, address, postcode, commune
    effectif = block["colonnes"][0]
    assert (effectif["periode"], effectif["valeur"]) == ("2022-2023", 512)
    assert [(h["periode"], h["valeur"]) for h in effectif["historique"]] == [("2021-2022", 498)]


def test_several_resources_of_one_series_make_one_history(portal):
    """IPS 2016..2022 (rentrée column) + the IPS 2023 file added to the same dataset: one series,
    the 2023 value current, the six rentrées as history."""
    ctx = dict(portal["ctx"])
    model.Session.remove()
    extra = helpers.call_action("resource_create", ctx, package_id=portal["datasets"]["ips-lille"]["id"],
                                name="IPS 2023", format="CSV", upload=_upload(IPS_2023.read_bytes(), "ips-2023.csv"))
    try:
        assert helpers.call_action("ecarto_ingest_status", ctx, id=extra["id"])["status"] == "ok"
        record = show("0590002G")
        ips_items = [c for b in record["autres_donnees"] if b["source"]["dataset"] == "ips-lille"
                     for c in b["colonnes"] if c["colonne"] == "IPS"]
        assert len(ips_items) == 1                       # one row for the measure, not one per resource
        item = ips_items[0]
        assert item["valeur"] == 81.5 and item["periode"].startswith("2023")
        assert [h["periode"] for h in item["historique"]] == ["2016-2017", "2017-2018", "2018-2019", "2019-2020",
                                                              "2020-2021", "2021-2022"]
        assert item["historique"][-1]["valeur"] == 80.4
    finally:
        model.Session.remove()
        helpers.call_action("resource_delete", ctx, id=extra["id"])


def test_history_chart_in_a_browser(portal, page, live_server, screenshot):
    """A visitor opens a Lille collège: the IPS shows its rentrée, the history opens on a chart
    (server-drawn SVG, no script) and its table; the CSP reports no violation."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server}/etablissement/0590002G")
    row = page.locator("#autres-donnees tr", has=page.get_by_role("rowheader", name="IPS", exact=True)).first
    assert "2021-2022" in row.inner_text()
    row.locator("summary").first.click()
    chart = row.locator("svg[data-history-chart]")
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img"
    assert chart.locator("circle").count() == 6
    assert "2016-2017" in row.locator("table.ecarto-history-table").inner_text()
    row.scroll_into_view_if_needed()
    full = screenshot(page, "etablissement-historique")
    row.screenshot(path=str(full.with_name("etablissement-historique-ips.png")))
    assert not violations, violations
