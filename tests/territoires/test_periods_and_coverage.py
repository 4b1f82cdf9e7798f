"""Territory aggregates per period, one series per measure, coverage (issue #14), on real files.

- Arcep's FttH deployment per commune (``ftthCommunes``: ``Code commune,Champ,T3 2017,T4 2017,
  T1 2018``, two measures in ``Champ``, quarters as columns), loaded through the product's path
  (an upload into a public dataset of the Connectivité axis): the département figures of each
  quarter must equal Arcep's own, independent ``ftthDepartements.csv`` (288 663 premises
  connectable in Haute-Garonne in T1 2018) for every département of Occitanie; the département
  whose communes were withheld from the file (found here with pandas) is n.c. — couverture
  insuffisante.
- The IPS of the collèges of the académie de Lille, rentrées 2016-2017 to 2021-2022 (rows not
  sorted), published as two resources of one dataset (Nord, then Pas-de-Calais: a national file
  and its complements, one series): département means per rentrée equal to pandas.
- A hand-written fixture (file name says so) of 5 écoles of Haute-Garonne: its figures are no
  département or national figures (« n.c. — couverture insuffisante (5 sur N) »).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates, record as record_mod

from tests.territoires.conftest import ROOT, frame, raw, show

pytestmark = pytest.mark.usefixtures("with_plugins")

FTTH = ROOT / "data" / "sample" / "arcep-observatoire-thd-2018t1" / "ftthCommunes.csv.gz"
FTTH_DEPARTEMENTS = ROOT / "tests" / "territoires" / "data" / "arcep-ftthDepartements-2018t1.csv"  # Arcep's own
IPS_MULTI = ROOT / "data" / "sample" / "ips-colleges-multi-annees" / "fr-en-ips_colleges.csv"
CINQ_ECOLES = Path(__file__).parent / "data" / "cinq_ecoles_fixture_ecrite_a_la_main.csv"   # hand-written
CAMPAGNES = ROOT / "tests" / "etablissements" / "data" / "campagnes_non_ordonnables_fixture_ecrite_a_la_main.csv"

QUARTERS = ("T3 2017", "T4 2017", "T1 2018")
OVERRIDE_IPS = 150.0          # hand-written value, far from any real IPS
OCCITANIE = ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82")


# --------------------------------------------------------------------------- expected (pandas)

def arcep_departements() -> pd.DataFrame:
    """Arcep's own département figures: locaux raccordables per quarter."""
    d = frame(FTTH_DEPARTEMENTS, sep=",", skiprows=4)
    d = d[d.Champ == "Locaux Raccordables"].set_index("Code département")
    return d[list(QUARTERS)].astype(float)


def ftth_communes() -> pd.DataFrame:
    c = frame(FTTH, sep=",", skiprows=4)
    c = c[c.Champ == "Locaux Raccordables"].copy()
    codes = c["Code commune"]
    c["dep"] = codes.str[:3].where(codes.str.startswith("97"), codes.str[:2])
    return c


def withheld_departement() -> str:
    """The département of ftthDepartements with no commune in ftthCommunes (README: one
    département's communes were withheld for evaluation)."""
    missing = sorted(set(arcep_departements().index) - set(ftth_communes().dep))
    assert len(missing) == 1, missing
    return missing[0]


def ips_multi() -> pd.DataFrame:
    f = frame(IPS_MULTI)
    f["dep"] = f["Code du département"].str.lstrip("0").str.zfill(2)
    f["IPS"] = f["IPS"].astype(float)
    return f


def ips_means(establishments: pd.DataFrame, rows: pd.DataFrame, dep: str) -> dict[str, dict[str, Any]]:
    """Per rentrée: the collèges of the directory in `dep`, those with an IPS, their mean."""
    colleges = establishments[(establishments.dep == dep) & (establishments.type == "college")]
    known = set(colleges.uai)
    result = {}
    for rentree, group in rows.groupby("Rentrée scolaire"):
        values = group[group.UAI.isin(known)].drop_duplicates("UAI", keep="last")
        result[rentree] = {"n": len(colleges), "k": len(values), "mean": values.IPS.mean()}
    return result


# --------------------------------------------------------------------------- portal

def _dataset(ctx: dict[str, Any], org: str, name: str, title: str, axe: str, millesime: str) -> dict[str, Any]:
    return helpers.call_action("package_create", ctx, name=name, title=title, owner_org=org, axe=axe,
                               millesime=millesime, license_id="etalab-2.0")


def _resource(ctx: dict[str, Any], pkg: dict[str, Any], name: str, data: bytes, filename: str) -> dict[str, Any]:
    return helpers.call_action("resource_create", ctx, package_id=pkg["id"], name=name, format="CSV",
                               upload=FileStorage(stream=io.BytesIO(data), filename=filename))


def _csv_bytes(rows: pd.DataFrame, columns: list[str]) -> bytes:
    return rows[columns].to_csv(sep=";", index=False).encode("utf-8")


@pytest.fixture(scope="module")
def periods(portal):
    """The sample portal plus FttH per commune, the multi-year IPS (two resources, one series)
    and the 5-school fixture, through uploads (the ingestion hooks)."""
    ctx = {"user": portal.sysadmin["name"]}
    arcep = helpers.call_action("organization_show", ctx, id="arcep")["id"]
    menj = helpers.call_action("organization_show", ctx, id="menj")["id"]
    ftth = _dataset(ctx, arcep, "arcep-ftth-communes-2018t1", "Arcep — déploiement FttH par commune", "connectivite",
                    "2018")
    _resource(ctx, ftth, "FttH par commune", raw(FTTH), "ftthCommunes.csv")
    ips = _dataset(ctx, menj, "ips-colleges-lille", "IPS des collèges de l'académie de Lille", "etablissements",
                   "2021-2022")
    source = frame(IPS_MULTI)
    header = list(source.columns)
    _resource(ctx, ips, "IPS Nord", _csv_bytes(source[source["Code du département"] == "059"], header), "ips-nord.csv")
    _resource(ctx, ips, "IPS Pas-de-Calais", _csv_bytes(source[source["Code du département"] == "062"], header),
              "ips-pas-de-calais.csv")
    # the same rows shuffled, then (loaded later) one hand-written row contradicting the file for
    # collège 0590002G in 2021-2022: the later resource wins
    melange = _dataset(ctx, menj, "ips-lille-melange", "IPS Lille (lignes mélangées)", "etablissements", "2021-2022")
    _resource(ctx, melange, "IPS mélangé", _csv_bytes(source.sample(frac=1, random_state=14), header),
              "ips-melange.csv")
    override = source[(source.UAI == "0590002G") & (source["Rentrée scolaire"] == "2021-2022")].copy()
    override["IPS"] = str(OVERRIDE_IPS)
    _resource(ctx, melange, "Correction (ligne écrite à la main)", _csv_bytes(override, header),
              "ips-correction-ecrite-a-la-main.csv")
    cinq = _dataset(ctx, menj, "cinq-ecoles-fixture", "Cinq écoles (fixture écrite à la main)", "equipement", "2024")
    _resource(ctx, cinq, "Cinq écoles", CINQ_ECOLES.read_bytes(), "cinq_ecoles.csv")
    # campaigns « printemps » / « automne » declared as the period: they cannot be ordered
    ateliers = _dataset(ctx, menj, "ateliers-campagnes", "Ateliers par campagne (fixture écrite à la main)",
                        "equipement", "2024")
    helpers.call_action("resource_create", ctx, package_id=ateliers["id"], name="Ateliers", format="CSV",
                        upload=FileStorage(stream=io.BytesIO(CAMPAGNES.read_bytes()), filename="ateliers.csv"),
                        data_dictionary='[{"column": "campagne", "role": "period"}]')
    model.Session.remove()
    return {"ftth": ftth, "ips": ips, "cinq": cinq}


def fr(n: int) -> str:
    """Thousands as shown: « 4 104 » (narrow no-break space)."""
    return f"{n:,}".replace(",", "\u202f")


def block_of(rec: dict[str, Any], dataset: str, serie_suffix: str) -> dict[str, Any]:
    found = [b for a in rec["axes"] for b in a["indicateurs"]
             if b["serie"].endswith(serie_suffix) and any(s["dataset"] == dataset for s in b["sources"])]
    assert len(found) == 1, [b["serie"] for a in rec["axes"] for b in a["indicateurs"]]
    return found[0]


def ftth_block(code: str) -> dict[str, Any]:
    return block_of(show("departement", code), "arcep-ftth-communes-2018t1", ":locaux_raccordables")


# --------------------------------------------------------------------------- FttH (communes)

@pytest.mark.parametrize("dep", OCCITANIE)
def test_ftth_locaux_raccordables_per_quarter_equal_arcep_departement_figures(periods, dep):
    expected = arcep_departements().loc[dep]
    block = ftth_block(dep)
    assert block["periode"] == "T1 2018" and block["statut"] == "ok"
    assert block["valeur"] == pytest.approx(expected["T1 2018"], abs=0.5)
    assert block["statistique"] == "somme" and block["base"] == "communes"
    evolution = {p["periode"]: p for p in block["evolution"]}
    assert list(evolution) == list(QUARTERS)                           # oldest first
    for quarter in QUARTERS:
        assert evolution[quarter]["valeur"] == pytest.approx(expected[quarter], abs=0.5), quarter
    assert block["graphique"] and block["graphique"]["first"] == "T3 2017" and block["graphique"]["last"] == "T1 2018"


def test_haute_garonne_is_288_663_premises_in_t1_2018_with_its_coverage(periods):
    block = ftth_block("31")
    assert block["valeur"] == 288663
    communes = ftth_communes()
    assert block["n_valeurs"] == int((communes.dep == "31").sum())      # every commune of the file
    assert block["n_communes"] >= block["n_valeurs"] * 0.9
    # the parent (académie de Toulouse) and France on the same quarter
    assert block["parent"]["periode"] == "T1 2018" and block["france"]["periode"] == "T1 2018"


def test_the_withheld_departement_is_nc_couverture_insuffisante(periods):
    dep = withheld_departement()
    assert dep == "35"                                                  # found with pandas above
    block = ftth_block(dep)
    assert block["valeur"] is None and block["statut"] == "couverture_insuffisante"
    assert block["n_valeurs"] == 0 and block["n_communes"] > 300
    assert block["libelle_nc"] == f"n.c. — couverture insuffisante (0 sur {fr(block['n_communes'])})"
    assert all(p["valeur"] is None for p in block["evolution"])
    # the choropleth of the départements: no colour for it, Haute-Garonne's figure for 31
    chart = record_mod.choropleth(model.Session.connection(), territories.get("france", ""), "departement",
                                  block["serie"])
    by_code = {t["code"]: t for t in chart["territoires"]}
    assert by_code[dep]["valeur"] is None and by_code[dep]["statut"] == "couverture_insuffisante"
    assert by_code["31"]["valeur"] == 288663 and chart["periode"] == "T1 2018"


def test_categorie_is_a_code_not_a_series_and_the_map_menu_lists_each_measure_once(periods, app):
    rec = show("departement", "31")
    series = [b["serie"] for a in rec["axes"] for b in a["indicateurs"]]
    assert not [s for s in series if s.endswith(":categorie")]
    assert len(series) == len(set(series))
    options = record_mod.series_options(model.Session.connection())
    assert len({o["serie"] for o in options}) == len(options)
    keys = [(o["libelle"], o["source"]) for o in options]
    assert len(keys) == len(set(keys))
    ips = [o for o in options if o["source"] == "IPS des collèges de l'académie de Lille"]
    assert len([o for o in ips if o["serie"].endswith(":ips")]) == 1    # two resources, one entry
    page = app.get("/territoire/departement/31").body
    assert page.count('data-ecarto-evolution') >= 1 and "<svg" in page and "T3 2017" in page


def test_exports_carry_every_period(periods, app):
    import csv
    rows = list(csv.reader(io.StringIO(app.get("/territoire/departement/31.csv").data.decode("utf-8-sig")),
                           delimiter=";"))
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    ftth = [r for r in rows[1:] if r[col["serie"]].endswith(":locaux_raccordables") and r[col["ventilation"]] == "Ensemble"]
    by_period = {r[col["periode"]]: r for r in ftth}
    assert set(by_period) == set(QUARTERS)
    assert by_period["T1 2018"][col["periode_courante"]] == "oui"
    expected = arcep_departements().loc["31"]
    for quarter in QUARTERS:
        assert float(by_period[quarter][col["valeur"]].replace(",", ".")) == pytest.approx(expected[quarter])
    data = app.get("/territoire/departement/31.json").json
    block = next(b for a in data["axes"] for b in a["indicateurs"] if b["serie"].endswith(":locaux_raccordables"))
    assert [p["periode"] for p in block["evolution"]] == list(QUARTERS)


# --------------------------------------------------------------------------- IPS, several rentrées

@pytest.mark.parametrize("dep", ["59", "62"])
def test_ips_departement_means_per_rentree_equal_pandas(periods, portal, dep):
    rows = ips_multi()
    expected = ips_means(portal.expected.establishments, rows[rows.dep == dep], dep)
    block = block_of(show("departement", dep), "ips-colleges-lille", ":ips")
    assert block["periode"] == "2021-2022"
    evolution = {p["periode"]: p for p in block["evolution"]}
    assert list(evolution) == sorted(expected)                          # 2016-2017 … 2021-2022
    for rentree, exp in expected.items():
        got = evolution[rentree]
        assert got["n_etablissements"] == exp["n"], rentree
        assert got["n_valeurs"] == exp["k"], rentree
        assert got["valeur"] == pytest.approx(exp["mean"], abs=0.01), rentree
    assert block["valeur"] == pytest.approx(expected["2021-2022"]["mean"], abs=0.01)
    # one series from the two resources, with the coverage of each
    assert [s["dataset"] for s in block["sources"]] == ["ips-colleges-lille", "ips-colleges-lille"]
    assert sorted(s["n_etablissements"] for s in block["sources"]) == sorted(
        max(v["k"] for v in ips_means(portal.expected.establishments, rows[rows.dep == d], d).values())
        for d in ("59", "62"))
    # the year column is a period, the département code a code: no series of them
    series = [b["serie"] for a in show("departement", dep)["axes"] for b in a["indicateurs"]]
    assert not [s for s in series if s.endswith((":rentree_scolaire", ":code_du_departement",
                                                  ":code_insee_de_la_commune"))]


def test_shuffled_rows_give_the_same_figures_and_the_later_resource_wins_a_conflict(periods, portal):
    rows = ips_multi()
    original = block_of(show("departement", "62"), "ips-colleges-lille", ":ips")
    shuffled = block_of(show("departement", "62"), "ips-lille-melange", ":ips")
    assert [(p["periode"], p["valeur"], p["n_valeurs"]) for p in shuffled["evolution"]] == \
        [(p["periode"], p["valeur"], p["n_valeurs"]) for p in original["evolution"]]
    # Nord: same figures, but 0590002G's 2021-2022 IPS is the correction's (loaded later)
    nord = rows[rows.dep == "59"].copy()
    nord.loc[(nord.UAI == "0590002G") & (nord["Rentrée scolaire"] == "2021-2022"), "IPS"] = OVERRIDE_IPS
    expected = ips_means(portal.expected.establishments, nord, "59")
    block = block_of(show("departement", "59"), "ips-lille-melange", ":ips")
    evolution = {p["periode"]: p for p in block["evolution"]}
    for rentree, exp in expected.items():
        assert evolution[rentree]["valeur"] == pytest.approx(exp["mean"], abs=0.01), rentree
        assert evolution[rentree]["n_valeurs"] == exp["k"], rentree          # one value per collège
    assert block["valeur"] != pytest.approx(
        block_of(show("departement", "59"), "ips-colleges-lille", ":ips")["valeur"], abs=0.001)
    assert {s["resource_id"] for s in block["sources"]} == {r["id"] for r in helpers.call_action(
        "package_show", {"user": portal.sysadmin["name"]}, id="ips-lille-melange")["resources"]}


def test_browser_territory_page_with_an_evolution_chart(periods, page, live_server, screenshot):
    aggregates.ensure_fresh(wait=True)              # computed once, not within the page's timeout
    page.goto(f"{live_server}/territoire/departement/31")
    chart = page.locator("[data-ecarto-evolution]").first
    chart.scroll_into_view_if_needed()
    assert chart.locator("svg polyline").count() >= 1
    assert chart.locator("svg circle").count() == 3                   # T3 2017, T4 2017, T1 2018
    assert "T3 2017" in chart.inner_text() and "T1 2018" in chart.inner_text()
    assert page.locator("text=couverture insuffisante (5 sur").count() >= 1
    shot = screenshot(page, "territoire-departement-31-evolution").with_name("territoire-evolution-ftth.png")
    page.locator(".ecarto-evolution-row").first.screenshot(path=str(shot))


# --------------------------------------------------------------------------- coverage

@pytest.mark.parametrize("suffix", [":tableaux_numeriques", ":salle_informatique"])
def test_five_schools_are_no_departement_nor_national_figure(periods, portal, suffix, app):
    exp = portal.expected.establishments
    ecoles_31 = int(((exp.dep == "31") & (exp.type == "ecole") & (exp.secteur == "public")).sum())
    ecoles_fr = int(((exp.type == "ecole") & (exp.secteur == "public")).sum())
    rec = show("departement", "31")
    block = block_of(rec, "cinq-ecoles-fixture", suffix)
    assert block["periode"] == "2024"
    assert block["valeur"] is None and block["statut"] == "couverture_insuffisante"
    assert (block["n_valeurs"], block["n_etablissements"]) == (5, ecoles_31)
    assert block["libelle_nc"] == f"n.c. — couverture insuffisante (5 sur {fr(ecoles_31)})"
    france = block["france"]
    assert france["valeur"] is None and france["statut"] == "couverture_insuffisante"
    assert (france["n_valeurs"], france["n_etablissements"]) == (5, ecoles_fr)
    assert block["parent"]["valeur"] is None                            # académie de Toulouse
    national = block_of(show("france"), "cinq-ecoles-fixture", suffix)
    assert national["valeur"] is None and national["libelle_nc"] == f"n.c. — couverture insuffisante (5 sur {fr(ecoles_fr)})"
    page = app.get("/territoire/departement/31").body
    assert f"couverture insuffisante (5 sur {fr(ecoles_31)})" in page
    # the map of France's régions: Occitanie gets no colour either
    chart = record_mod.choropleth(model.Session.connection(), territories.get("france", ""), "region", block["serie"])
    occitanie = next(t for t in chart["territoires"] if t["code"] == "76")
    assert occitanie["valeur"] is None and occitanie["statut"] == "couverture_insuffisante"
    assert chart["classes"] == []


def test_commune_figures_follow_their_own_coverage(periods, portal):
    """Commune 31080 has 2 public écoles, one in the fixture (1 of 2: 50 %, shown); Toulouse
    has 2 of its public écoles in it (n.c. — couverture insuffisante)."""
    annuaire = frame(ROOT / "data" / "sample" / "annuaire-education" /
                     "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz")
    public = annuaire[(annuaire.etat == "OUVERT") & (annuaire.Type_etablissement == "Ecole")
                      & (annuaire.Statut_public_prive == "Public")]
    small = block_of(show("commune", "31080"), "cinq-ecoles-fixture", ":tableaux_numeriques")
    assert (small["n_valeurs"], small["n_etablissements"]) == (1, int((public.Code_commune == "31080").sum())) == (1, 2)
    assert small["valeur"] == pytest.approx(2.0) and small["statut"] == "ok"
    toulouse = block_of(show("commune", "31555"), "cinq-ecoles-fixture", ":tableaux_numeriques")
    n = int((public.Code_commune == "31555").sum())
    assert toulouse["valeur"] is None and toulouse["libelle_nc"] == f"n.c. — couverture insuffisante (2 sur {n})"


def test_threshold_is_configurable(periods):
    import ckan.plugins.toolkit as tk
    from ckanext.ecarto.ingest import columns
    assert columns.coverage_threshold() == 0.5
    assert tk.config.get(columns.COVERAGE_OPTION) in (0.5, "0.5", None)


@pytest.mark.ckan_config("ckanext.ecarto.coverage_threshold", "0.001")
def test_a_low_threshold_shows_the_five_schools_mean(periods):
    block = block_of(show("departement", "31"), "cinq-ecoles-fixture", ":tableaux_numeriques")
    assert block["valeur"] == pytest.approx((2 + 1 + 3 + 0 + 4) / 5)
    flag = block_of(show("departement", "31"), "cinq-ecoles-fixture", ":salle_informatique")
    assert flag["valeur"] == pytest.approx(80.0) and flag["unite"] == "%"


def test_aggregates_are_per_period(periods):
    conn = model.Session.connection()
    aggregates.ensure_fresh(wait=True)
    rows = aggregates.values(conn, [("departement", "31")])
    assert rows and all("periode" in r and "periode_ordre" in r for r in rows)
    ftth = [r for r in rows if r["serie"].endswith(":locaux_raccordables")]
    if FTTH.exists():
        assert sorted(r["periode_ordre"] for r in ftth) == [20170701, 20171001, 20180101]


def test_periods_that_cannot_be_ordered_give_no_current_figure(periods):
    block = block_of(show("departement", "59"), "ateliers-campagnes", ":nb_ateliers")
    assert block["valeur"] is None and block["statut"] == "sans_periode_courante" and block["periode"] is None
    assert "ordonn" in block["raison"]
    assert block["france"]["valeur"] is None and block["graphique"] is None
    assert sorted(p["periode"] for p in block["evolution"]) == ["automne", "printemps"]
    data = record_mod.choropleth(model.Session.connection(), territories.get("france", ""), "region", block["serie"])
    assert all(t["valeur"] is None for t in data["territoires"])
