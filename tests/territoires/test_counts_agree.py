"""Issue #15, « Counts disagree »: an establishment page said its commune had 8 schools
(38 % n.c.) where the commune page said 5 of 7 (29 % n.c.). Both now count the same
establishments (``directory.counted_sql``: best directory row, open establishments, of the
establishment's type and of the sectors the source covers on the period).

Checked on the pages as served (HTML), on the real sample data of the territory tests
(annuaire Occitanie, géolocalisation des collèges — with its 12 collèges « A OUVRIR » —, IPS des
collèges 2023) and on a copy of the real IPS file kept to the **public** collèges (built here
from the real files: a source that covers one sector, in communes that also have private
collèges)."""
from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers

from tests.territoires.conftest import GEOLOC, IPS, frame

pytestmark = pytest.mark.usefixtures("with_plugins")

PAIR = re.compile(r"\((\d+)/(\d+)")
PERCENT = re.compile(r"(\d+)\s*%\s*n\.c\.")


def _geoloc() -> pd.DataFrame:
    g = frame(GEOLOC)
    return g.assign(uai=g.numero_uai, commune=g.code_commune)


@pytest.fixture(scope="module")
def public_ips(portal) -> dict[str, Any]:
    """The real IPS file, public collèges only, published as its own dataset."""
    ips = frame(IPS)
    g = _geoloc()
    public = set(g[g.secteur_public_prive_libe == "Public"].uai)
    kept = ips[ips.UAI.isin(public)]
    data = kept.to_csv(sep=";", index=False).encode("utf-8")
    ctx = {"user": portal.sysadmin["name"]}
    menj = helpers.call_action("organization_show", ctx, id="menj")
    pkg = helpers.call_action("package_create", ctx, name="ips-colleges-publics", title="IPS des collèges publics",
                              owner_org=menj["id"], axe="etablissements", millesime="2023-2024",
                              license_id="etalab-2.0")
    helpers.call_action("resource_create", ctx, package_id=pkg["id"], name="IPS des collèges publics", format="CSV",
                        upload=FileStorage(stream=io.BytesIO(data), filename="ips-publics.csv"))
    model.Session.remove()
    return helpers.call_action("package_show", ctx, id=pkg["id"])


def _communes(portal) -> list[tuple[str, str]]:
    """(commune, one open collège of it with an IPS): communes with an « A OUVRIR » collège,
    communes with private collèges beside public ones, and a few ordinary ones."""
    g = _geoloc()
    g = g[g.code_region != "76"]             # outside Occitanie: the géolocalisation file is the directory
    ips = set(frame(IPS).UAI)
    g = g.assign(has_ips=g.uai.isin(ips))
    chosen: list[str] = []
    to_open = g[g.etat_etablissement_libe == "A OUVRIR"].commune.unique().tolist()
    for commune in to_open:
        sub = g[(g.commune == commune) & g.has_ips & (g.secteur_public_prive_libe == "Public")]
        if len(sub) >= 1:
            chosen.append(commune)
        if len(chosen) >= 3:
            break
    mixed = g.groupby("commune").secteur_public_prive_libe.nunique()
    big = g.groupby("commune").size()
    for commune in mixed[(mixed > 1) & (big >= 4)].index.tolist()[:3]:
        chosen.append(commune)
    assert len(chosen) >= 5, chosen
    result = []
    for commune in chosen:
        sub = g[(g.commune == commune) & g.has_ips & (g.secteur_public_prive_libe == "Public")
                & (g.etat_etablissement_libe == "OUVERT")].sort_values("uai")
        result.append((commune, sub.uai.iloc[0]))
    return result


def _establishment_reference(app, uai: str, dataset_title: str) -> dict[str, Any]:
    """The commune reference beside the IPS of `dataset_title` on the establishment page."""
    soup = BeautifulSoup(app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True), "lxml")
    section = soup.select_one("#autres-donnees")
    for heading in section.find_all("h3"):
        if dataset_title not in heading.get_text(" ", strip=True):
            continue
        table = heading.find_next("table")
        row = next(tr for tr in table.select("tbody tr") if tr.th.get_text(strip=True) == "IPS")
        item = row.select_one('li[data-level="commune"]')
        text = item.get_text(" ", strip=True)
        k, n = (int(x) for x in PAIR.search(text).groups())
        assert (int(item["data-k"]), int(item["data-n"])) == (k, n)
        return {"k": k, "n": n, "nc": int(PERCENT.search(text).group(1)), "text": text}
    raise AssertionError(f"no {dataset_title!r} block on /etablissement/{uai}")


def _commune_figure(app, commune: str, package_id: str) -> dict[str, Any]:
    """The IPS figure of the collèges (breakdown by type) on the commune page."""
    soup = BeautifulSoup(app.get(f"/territoire/commune/{commune}", status=200).get_data(as_text=True), "lxml")
    row = soup.select_one(f'tr[data-serie="col:{package_id}:ips"]')
    assert row is not None, f"no IPS series of {package_id} on /territoire/commune/{commune}"
    line = row.select_one('tr[data-dim="type:college"]')
    text = line.get_text(" ", strip=True)
    k, n = (int(x) for x in PAIR.search(text).groups())
    assert (int(line["data-k"]), int(line["data-n"])) == (k, n)
    return {"k": k, "n": n, "nc": int(PERCENT.search(text).group(1)), "text": text}


def test_an_establishment_page_and_its_commune_page_count_the_same_collèges(portal, public_ips, app):
    checked = 0
    for dataset in ("ips-colleges-2023", public_ips["name"]):
        package = portal.datasets.get(dataset) or public_ips
        for commune, uai in _communes(portal):
            on_school = _establishment_reference(app, uai, package["title"])
            on_commune = _commune_figure(app, commune, package["id"])
            assert (on_school["k"], on_school["n"], on_school["nc"]) == \
                (on_commune["k"], on_commune["n"], on_commune["nc"]), (dataset, commune, uai, on_school, on_commune)
            checked += 1
    assert checked >= 10


def test_the_count_is_the_open_collèges_of_the_sectors_the_source_covers(portal, public_ips, app):
    """Figures computed here from the source files: an « A OUVRIR » collège is not counted, and
    a source of public collèges counts the public ones only."""
    g = _geoloc()
    ips = set(frame(IPS).UAI)
    for commune, uai in _communes(portal):
        colleges = g[(g.commune == commune) & (g.etat_etablissement_libe == "OUVERT")]
        if colleges.empty:
            continue
        public = colleges[colleges.secteur_public_prive_libe == "Public"]
        whole = _establishment_reference(app, uai, "IPS des collèges 2023")
        assert whole["n"] == len(colleges), (commune, whole)
        assert whole["k"] == int(colleges.uai.isin(ips).sum()), (commune, whole)
        only_public = _establishment_reference(app, uai, public_ips["title"])
        assert only_public["n"] == len(public), (commune, only_public)
        assert only_public["k"] == int(public.uai.isin(ips).sum()), (commune, only_public)
