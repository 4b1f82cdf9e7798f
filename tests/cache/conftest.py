"""A small portal for the anonymous page cache (ckanext/ecarto/pagecache.py): a cut of the real
Occitanie directory (a few collèges), a public dataset and a private one (the IPS of those
collèges, uploaded and ingested through CKAN's actions), an editor of the private dataset's
organization. Built once per module; the cache is on and its version bumped around each test."""
from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers

from ckanext.ecarto import pagecache

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
COLLEGES = 4
PASSWORD = "motdepasse-de-test-123"


@dataclass
class CachePortal:
    sysadmin: dict[str, Any]
    editor: dict[str, Any]
    token: str
    uai: str                          # a collège of the directory whose IPS is in the private dataset
    ips: str                          # its IPS as written in the file
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)


def _cut_files() -> tuple[bytes, bytes, str, str]:
    """The first collèges of the directory that have an IPS, and their IPS rows."""
    ips_lines = IPS.read_bytes().decode("utf-8-sig").splitlines()
    ips = {line.split(";")[1]: line for line in ips_lines[1:]}
    reader = csv.DictReader(io.StringIO(gzip.decompress(OCCITANIE.read_bytes()).decode("utf-8-sig")), delimiter=";")
    chosen = [r for r in reader if r["code_nature"] == "340"
              and r["Identifiant_de_l_etablissement"] in ips and r["latitude"]][:COLLEGES]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []), delimiter=";")
    writer.writeheader()
    writer.writerows(chosen)
    uais = [r["Identifiant_de_l_etablissement"] for r in chosen]
    ips_rows = "\n".join([ips_lines[0]] + [ips[u] for u in uais]) + "\n"
    return out.getvalue().encode(), ips_rows.encode(), uais[0], ips[uais[0]].split(";")[2]


@pytest.fixture(scope="module")
def cache_portal(module_portal_db) -> CachePortal:
    from ckan.tests import factories
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = helpers.call_action("organization_create", dict(ctx), name="menj", title="Ministère de l'Éducation nationale")
    editor = factories.User(password=PASSWORD)
    helpers.call_action("organization_member_create", dict(ctx), id=menj["id"], username=editor["name"], role="editor")
    token = helpers.call_action("api_token_create", {"user": editor["name"]}, user=editor["name"], name="t")["token"]
    directory, ips_rows, uai, ips = _cut_files()
    portal = CachePortal(sysadmin=sysadmin, editor=editor, token=token, uai=uai, ips=ips)
    specs = [("annuaire-mini", "Annuaire de l'éducation — quelques collèges", False, directory, "annuaire.csv"),
             ("ips-prive-cache", "IPS confidentiel zébulon", True, ips_rows, "ips-colleges-2023.csv")]
    for name, title, private, data, filename in specs:
        pkg = helpers.call_action("package_create", dict(ctx), name=name, title=title, owner_org=menj["id"],
                                  axe="etablissements", millesime="2023", license_id="etalab-2.0", private=private)
        helpers.call_action("resource_create", dict(ctx), package_id=pkg["id"], name=title, format="CSV",
                            upload=FileStorage(stream=io.BytesIO(data), filename=filename))
        portal.datasets[name] = helpers.call_action("package_show", dict(ctx), id=pkg["id"])
    model.Session.remove()
    return portal


@pytest.fixture
def cache_on(ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The cache on (test.ini turns it off for the rest of the suite), a fresh version."""
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.page_cache.enabled", True)
    pagecache.bump("test")
    yield
    pagecache.bump("test")
