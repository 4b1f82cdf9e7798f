"""A portal with real sample data for the territory pages, built once per module through CKAN's
actions (uploads → ingestion hooks), and the figures the pages must show, computed here
independently from the source files with pandas.

Data: annuaire de l'éducation (Occitanie), géolocalisation des collèges (France), IPS des
collèges, Arcep 2018 (one row per commune), Arcep « Ma connexion internet » 2026 (6 communes),
and the hand-written ETIC fixture of tests/etablissements (values made up, file name says so)
for the axis indicators."""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
GEOLOC = SAMPLE / "geolocalisation-etablissements" / "fr-en-adresse-et-geolocalisation-etablissements_colleges-france_2024-11.csv.gz"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
ARCEP_COMMUNES = SAMPLE / "arcep-observatoire-thd-2018t1" / "communes.csv.gz"
MCI_DEBIT = SAMPLE / "arcep-maconnexioninternet-2026t1" / "commune_debit_filaire_sample.csv"
ETIC = ROOT / "tests" / "etablissements" / "data" / "etic_fixture_ecrite_a_la_main.csv"   # hand-written
COG_COMMUNES = ROOT / "ckanext" / "ecarto" / "data" / "geo" / "communes.csv.gz"


def raw(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def frame(path: Path, sep: str = ";", skiprows: int = 0) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw(path)), sep=sep, dtype=str, encoding="utf-8-sig",
                       keep_default_na=False, skiprows=skiprows)


def number(text: str) -> float:
    """Arcep's spreadsheet numbers: ' 1 234    ', '-' (nothing)."""
    cleaned = str(text).replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    return float("nan") if cleaned in ("", "-") else float(cleaned)


def _dep_insee(code: str) -> str:
    return code[1:] if len(code) == 3 and code.startswith("0") else code


@dataclass
class Expected:
    """Figures computed from the source files, independently of the portal's code."""

    establishments: pd.DataFrame = field(default_factory=pd.DataFrame)  # uai, type, secteur, dep
    ips: dict[str, float] = field(default_factory=dict)
    arcep: pd.DataFrame = field(default_factory=pd.DataFrame)
    cog: pd.DataFrame = field(default_factory=pd.DataFrame)
    mci: pd.DataFrame = field(default_factory=pd.DataFrame)

    def counts(self, dep: str) -> dict[tuple[str, str], int]:
        sub = self.establishments[self.establishments.dep == dep]
        return {k: int(v) for k, v in sub.groupby(["type", "secteur"]).size().items()}

    def ips_figure(self, column: str = "", code: str = "") -> dict[str, Any]:
        coll = self.establishments[self.establishments.type == "college"]
        if column:
            coll = coll[coll[column] == code]
        values = [self.ips[u] for u in coll.uai if u in self.ips]
        return {"n": len(coll), "k": len(values), "mean": sum(values) / len(values) if values else None}


def _expected() -> Expected:
    kinds = {"Ecole": "ecole", "Collège": "college", "Lycée": "lycee"}
    sectors = {"Public": "public", "Privé": "prive"}
    a = frame(OCCITANIE)
    a = a[a.etat == "OUVERT"]
    # a cité scolaire (one UAI, a collège row and a lycée row) counts once, as its lycée
    a = a.assign(type=a.Type_etablissement.map(kinds).fillna("autre"),
                 secteur=a.Statut_public_prive.map(sectors).fillna(""),
                 dep=a.Code_departement.map(_dep_insee), uai=a.Identifiant_de_l_etablissement)
    a = a.sort_values("type", ascending=False).drop_duplicates("uai")
    g = frame(GEOLOC)
    g = g[(g.etat_etablissement_libe == "OUVERT") & ~g.numero_uai.isin(a.uai)]
    g = g.assign(uai=g.numero_uai, type="college", secteur=g.secteur_public_prive_libe.map(sectors).fillna(""),
                 dep=g.code_departement.map(_dep_insee), Code_region=g.code_region)
    a = a.rename(columns={"Code_region": "region"})
    g = g.rename(columns={"Code_region": "region"})
    cols = ["uai", "type", "secteur", "dep", "region"]
    establishments = pd.concat([a[cols], g[cols]], ignore_index=True)
    ips = {r.UAI: float(r.IPS) for r in frame(IPS).itertuples()}
    arcep = frame(ARCEP_COMMUNES, sep=",", skiprows=4)
    cog = frame(COG_COMMUNES, sep=",")
    cog = cog[cog.TYPECOM == "COM"]
    return Expected(establishments=establishments, ips=ips, arcep=arcep, cog=cog, mci=frame(MCI_DEBIT))


@dataclass
class Portal:
    sysadmin: dict[str, Any]
    member: dict[str, Any]
    datasets: dict[str, dict[str, Any]]
    expected: Expected

    def resource_id(self, dataset: str) -> str:
        return self.datasets[dataset]["resources"][0]["id"]


def _upload(path: Path, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(raw(path)), filename=filename)


SPECS = [
    # name, title, org, axe, millésime, file, upload name, extra resource fields, private
    ("annuaire-occitanie", "Annuaire de l'éducation — Occitanie", "menj", "etablissements", "2024", OCCITANIE,
     "annuaire-occitanie.csv", {}, False),
    ("geoloc-colleges", "Géolocalisation des collèges", "menj", "etablissements", "2024", GEOLOC,
     "geoloc-colleges.csv", {}, False),
    ("ips-colleges-2023", "IPS des collèges 2023", "menj", "etablissements", "2023-2024", IPS,
     "ips-colleges-2023.csv", {}, False),
    ("arcep-communes-2018", "Arcep — informations par commune 2018 T1", "arcep", "connectivite", "2018",
     ARCEP_COMMUNES, "communes.csv", {}, False),
    ("arcep-mci-2026", "Ma connexion internet — seuils de débit, extrait", "arcep", "connectivite", "2026",
     MCI_DEBIT, "commune_debit_filaire.csv", {"data_dictionary": [
         {"column": "nbr", "label": "Nombre de locaux", "type": "integer", "unit": "locaux"},
         {"column": "elig_thd30", "label": "Locaux éligibles à 30 Mbit/s ou plus (filaire)", "type": "integer",
          "unit": "locaux"}]}, False),
    ("etic-fixture", "ETIC (fixture écrite à la main pour les tests)", "menj", "equipement", "2018", ETIC,
     "etic.csv", {}, False),
    # the same real IPS file in a PRIVATE dataset: must never feed any aggregate
    ("ips-prive", "IPS des collèges (copie privée)", "menj", "etablissements", "2099", IPS,
     "ips-prive.csv", {}, True),
]


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    from ckan.tests import factories
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    orgs = {name: helpers.call_action("organization_create", dict(ctx), name=name, title=title)
            for name, title in (("menj", "Ministère de l'Éducation nationale"), ("arcep", "Arcep"))}
    member = factories.User()
    helpers.call_action("organization_member_create", ctx, id=orgs["menj"]["id"], username=member["name"],
                        role="member")
    datasets = {}
    for name, title, org, axe, millesime, path, filename, extra, private in SPECS:
        pkg = helpers.call_action("package_create", ctx, name=name, title=title, owner_org=orgs[org]["id"],
                                  axe=axe, millesime=millesime, license_id="etalab-2.0", private=private)
        helpers.call_action("resource_create", ctx, package_id=pkg["id"], name=title, format="CSV",
                            upload=_upload(path, filename), **extra)
        datasets[name] = helpers.call_action("package_show", ctx, id=pkg["id"])
    model.Session.remove()
    return Portal(sysadmin=sysadmin, member=member, datasets=datasets, expected=_expected())


def show(niveau: str, code: str = "", user: str = "") -> dict[str, Any]:
    return helpers.call_action("ecarto_territoire_show", {"user": user, "ignore_auth": False},
                               niveau=niveau, code=code)


def indicator(record: dict[str, Any], dataset: str, column_label: str) -> dict[str, Any]:
    for axe in record["axes"]:
        for block in axe["indicateurs"]:
            if block["source"]["dataset"] == dataset and block["libelle"] == column_label:
                return block
    raise AssertionError(f"no indicator {column_label!r} from {dataset}")
