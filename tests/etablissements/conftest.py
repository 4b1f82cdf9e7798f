"""A small portal with real data for the establishment pages: the annuaire de l'éducation of
Occitanie (directory), the IPS of collèges (an upload with a UAI column, no special code) and
Arcep's FttH deployment per commune (commune-level context). Built once per test module through
CKAN's actions (uploads, ingestion hooks); tests only read it. Expected values are computed
here from the source files with the csv module, independently of the portal's code."""
from __future__ import annotations

import csv
import gzip
import io
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
ARCEP_FTTH = SAMPLE / "arcep-observatoire-thd-2018t1" / "ftthCommunes.csv.gz"
COLLEGE_NATURES = {"340", "350", "352"}


def raw(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def rows(path: Path, delimiter: str = ";", skip: int = 0) -> list[dict[str, str]]:
    text = raw(path).decode("utf-8-sig")
    lines = text.splitlines()[skip:]
    return list(csv.DictReader(lines, delimiter=delimiter))


@dataclass
class Portal:
    sysadmin: dict[str, Any]
    member: dict[str, Any] = field(default_factory=dict)     # member of the MENJ organization
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    annuaire: list[dict[str, str]] = field(default_factory=list)
    ips: dict[str, float] = field(default_factory=dict)

    def college_with_ips(self) -> dict[str, str]:
        """A real collège of the directory that has an IPS (first in file order)."""
        for r in self.annuaire:
            if r["code_nature"] == "340" and r["Identifiant_de_l_etablissement"] in self.ips and r["latitude"]:
                return r
        raise AssertionError("no collège with an IPS in the sample")

    def reference(self, level_column: Optional[str], code: Optional[str]) -> dict[str, Any]:
        """Mean IPS of the directory's collèges in a territory, counted as the page should."""
        colleges = {r["Identifiant_de_l_etablissement"]: r for r in self.annuaire
                    if r["code_nature"] in COLLEGE_NATURES and (level_column is None or r[level_column] == code)}
        values = [self.ips[u] for u in colleges if u in self.ips]
        return {"n_etablissements": len(colleges), "n_valeurs": len(values),
                "moyenne": round(statistics.fmean(values), 4) if values else None,
                "taux_nc": round(1 - len(values) / len(colleges), 4)}


def _upload(path: Path, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(raw(path)), filename=filename)


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    from ckan.tests import factories
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = helpers.call_action("organization_create", dict(ctx), name="menj", title="Ministère de l'Éducation nationale")
    arcep = helpers.call_action("organization_create", dict(ctx), name="arcep", title="Arcep")
    member = factories.User()
    helpers.call_action("organization_member_create", ctx, id=menj["id"], username=member["name"], role="member")
    portal = Portal(sysadmin=sysadmin, member=member)
    specs = [
        ("annuaire-occitanie", "Annuaire de l'éducation — Occitanie", menj, "etablissements", "2024",
         OCCITANIE, "annuaire-occitanie.csv", "CSV"),
        ("ips-colleges-2023", "IPS des collèges 2023", menj, "etablissements", "2023",
         IPS, "ips-colleges-2023.csv", "CSV"),
        ("arcep-ftth-2018", "Déploiement FttH par commune 2018 T1", arcep, "connectivite", "2018",
         ARCEP_FTTH, "ftthCommunes.csv", "CSV"),
    ]
    for name, title, org, axe, millesime, path, filename, fmt in specs:
        pkg = helpers.call_action("package_create", ctx, name=name, title=title, owner_org=org["id"],
                                  axe=axe, millesime=millesime, license_id="etalab-2.0")
        helpers.call_action("resource_create", ctx, package_id=pkg["id"], name=title, format=fmt,
                            upload=_upload(path, filename))
        portal.datasets[name] = helpers.call_action("package_show", ctx, id=pkg["id"])
    portal.annuaire = rows(OCCITANIE)
    portal.ips = {r["UAI"]: float(r["IPS"]) for r in rows(IPS)}
    model.Session.remove()
    return portal
