"""Issue #15: where the validation report says a column goes is where the establishment page puts
it, for the two other kinds of file the publication tests do not cover: a directory (the real
annuaire de l'éducation of Occitanie: its names and addresses make the identity, its other
yes/no columns go to « Autres données », the rest is not shown) and a commune-keyed file
(Arcep's real FttH deployment per commune, one column per quarter: commune context, its
measures in the Connectivité axis at « niveau commune »). The report reads the files from ``data/sample`` as the portal of
``conftest`` published them."""
from __future__ import annotations

from pathlib import Path

import pytest

import ckan.tests.helpers as helpers

from ckanext.ecarto.validation.report import validate_file
from tests.etablissements.conftest import ARCEP_FTTH, OCCITANIE, raw

pytestmark = pytest.mark.usefixtures("with_plugins")


def show(uai: str) -> dict:
    return helpers.call_action("ecarto_etablissement_show", {"user": "", "ignore_auth": False}, uai=uai)


def _report(tmp_path: Path, source: Path, name: str, axe: str, millesime: str) -> dict:
    path = tmp_path / name
    path.write_bytes(raw(source))
    report = validate_file(str(path), axe, check_directory=False, millesime=millesime)
    assert not report["blocking"], report["errors"]
    return report


def test_a_directory_file_identity_and_other_data(portal, tmp_path):
    report = _report(tmp_path, OCCITANIE, "annuaire.csv", "etablissements", "2024")
    where = {d["column"]: d for d in report["destinations"]}
    assert where["Identifiant_de_l_etablissement"]["kind"] == "cle"
    assert {where[c]["kind"] for c in ("Nom_etablissement", "Adresse_1", "Code_commune", "latitude")} == {"identite"}
    others = {c for c, d in where.items() if d["kind"] == "autres_donnees"}
    assert others and not {c for c, d in where.items() if d["kind"] == "indicateur"}
    assert all(where[c]["raison"] for c, d in where.items() if d["kind"] == "ignoree")

    college = portal.college_with_ips()
    record = show(college["Identifiant_de_l_etablissement"])
    block = next(b for b in record["autres_donnees"] if b["source"]["dataset"] == "annuaire-occitanie")
    assert {c["colonne"] for c in block["colonnes"]} == others
    preview = {p["uai"]: p["lignes"] for p in report["apercu"]}
    assert preview and all({line["colonne"] for line in lines} == others for lines in preview.values())


def test_a_commune_file_goes_to_the_commune_context_and_its_axis(portal, tmp_path):
    report = _report(tmp_path, ARCEP_FTTH, "ftthCommunes.csv", "connectivite", "2018")
    assert report["key"]["kind"] == "commune" and report["apercu"] == []
    # a wide file: its quarter columns (« T3 2017 »…) become periods, « Champ » names the measures
    assert {d["kind"] for d in report["destinations"] if d["column"].startswith("T")} == {"periode"}
    assert next(d for d in report["destinations"] if d["column"] == "Champ")["kind"] == "ignoree"
    where = [d for d in report["destinations"] if d["kind"] not in ("cle", "periode", "ignoree")]
    assert where and {d["kind"] for d in where} == {"contexte_commune"}
    in_axis = {d["label"] for d in where if d["axe"] == "connectivite"}
    assert in_axis

    college = portal.college_with_ips()
    record = show(college["Identifiant_de_l_etablissement"])
    connectivite = next(a for a in record["axes"] if a["id"] == "connectivite")
    assert {m["label"] for m in connectivite["niveau_commune"]} == in_axis
    block = next(b for b in record["contexte_commune"] if b["source"]["dataset"] == "arcep-ftth-2018")
    assert {c["colonne"] for c in block["colonnes"] if c["colonne"] != "periode"} == \
        {d["column"] for d in where}
