"""A département publishes real files through the API (`ecarto_validate_resource`,
`ecarto_publish_resource`) as an editor of its organization: each file gets its report, a valid
one joins the pages of its UAIs, a refused one changes nothing."""
from __future__ import annotations

import codecs

import pytest

import ckan.logic as logic
import ckan.tests.helpers as helpers

from tests.publication import files
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")


def _as(portal, who):
    """The context of a request by `who` (call_action skips auth checks unless told)."""
    return {"user": portal.user(who)["name"], "ignore_auth": False}


def _publish(portal, package, content, filename, who="editor", **extra):
    return helpers.call_action("ecarto_publish_resource", _as(portal, who), package_id=package["id"],
                               upload=upload(content, filename), **extra)


def _refused(portal, package, content, filename, **extra) -> dict:
    with pytest.raises(logic.ValidationError) as exc:
        _publish(portal, package, content, filename, **extra)
    report = exc.value.error_dict["rapport"][0]
    assert report["blocking"] is True
    return report


def _codes(entries):
    return {e["code"] for e in entries}


def _page(app, uai, headers=None):
    return app.get(f"/etablissement/{uai}", headers=headers or {}, status=200).get_data(as_text=True)


def test_valid_file_is_published_and_joins_its_establishments(app, portal, new_dataset):
    package = new_dataset("ips-colleges-haute-garonne", title="IPS des collèges de Haute-Garonne (département)")
    outcome = _publish(portal, package, files.ips_haute_garonne(), "ips-colleges-31.csv")

    report = outcome["report"]
    assert report["valid"] and report["verdict"] == "warnings"          # IPS columns are not in the schema
    assert report["file"]["n_rows"] == len(files.ips_lines()) - 1
    assert report["key"] == {"kind": "uai", "column": "UAI", "declared": False, "candidates": []}
    assert report["uai"]["n_invalid"] == 0 and report["uai"]["not_in_directory"]["n"] == 0
    assert _codes(report["warnings"]) == {"unknown-columns"}
    assert outcome["ingest"]["status"] == "ok" and outcome["ingest"]["n_rows"] == report["file"]["n_rows"]

    shown = helpers.call_action("package_show", id=package["id"])
    assert [r["name"] for r in shown["resources"]] == ["ips-colleges-31"]
    assert shown["license_id"] == "etalab-2.0"                          # Licence Ouverte 2.0 by default
    assert shown["organization"]["title"] == "Département de la Haute-Garonne"

    uai, ips = next(iter(files.ips_values().items()))
    page = _page(app, uai)
    others = page.split('id="autres-donnees"', 1)[1].split("</section>", 1)[0]
    assert "IPS des collèges de Haute-Garonne (département)" in others
    assert ips.replace(".", ",") in others                           # French number format


def test_invalid_uais_are_listed_with_the_expected_letter_and_nothing_is_published(app, portal, new_dataset):
    package = new_dataset("ips-uai-faux")
    lines = files.ips_lines()
    good = lines[3].split(";")[1]
    bad = files.wrong_letter(good)
    content = files.with_cell(files.ips_haute_garonne(), line=4, column="UAI", value=bad)
    content = files.with_cell(content, line=7, column="UAI", value=lines[6].split(";")[1][:7])

    report = _refused(portal, package, content, "ips-faux.csv")

    assert "invalid-uai" in _codes(report["errors"])
    assert report["uai"]["n_invalid"] == 2
    first, second = report["uai"]["invalid"]
    assert (first["line"], first["value"], first["expected_letter"]) == (4, bad, good[7])
    assert f"la lettre clé attendue est {good[7]}" in first["message"]
    assert second["line"] == 7 and second["expected_letter"] == files.check_letter(lines[6].split(";")[1][:7])
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []
    assert "ips-uai-faux" not in _page(app, good)


def test_cp1252_file_is_read_right_and_warned(portal, new_dataset):
    package = new_dataset("annuaire-cp1252")
    content = files.annuaire_colleges(encoding="cp1252")
    assert content.decode("cp1252") and b"\xe9" in content                  # é as one cp1252 byte

    outcome = _publish(portal, package, content, "colleges-excel.csv")

    report = outcome["report"]
    assert report["file"]["encoding"] == "cp1252" and report["file"]["bom"] is False
    assert "encoding" in _codes(report["warnings"])
    names = [r["values"][1] for r in report["preview"]["rows"]]
    expected = [line.split(";")[1] for line in files.annuaire_lines()[1:len(names) + 1]]
    assert names == expected and any("é" in n or "è" in n for n in names)
    assert outcome["ingest"]["status"] == "ok"


@pytest.mark.parametrize("delimiter", [";", ","])
def test_semicolon_or_comma_gives_the_same_reading(portal, delimiter):
    content = files.annuaire_colleges(delimiter=delimiter)
    report = helpers.call_action("ecarto_validate_resource", _as(portal, "editor"), axe="etablissements",
                                 upload=upload(content, "colleges.csv"))
    assert report["file"]["separator"] == delimiter
    assert report["file"]["n_rows"] == 40 and report["valid"]
    assert report["key"]["column"] == "Identifiant_de_l_etablissement"
    assert report["schema"]["n_errors"] == 0
    matched = {f["field"]: f["column"] for f in report["schema"]["fields"] if f["column"]}
    assert matched["latitude"] == "latitude" and matched["nombre_eleves"] == "Nombre_d_eleves"


@pytest.mark.parametrize("bom", [True, False])
def test_bom_or_not_the_first_column_is_clean(portal, bom):
    report = helpers.call_action("ecarto_validate_resource", _as(portal, "editor"), axe="etablissements",
                                 upload=upload(files.ips_haute_garonne(bom=bom), "ips.csv"))
    assert report["file"]["bom"] is bom
    assert report["file"]["columns"][0] == "Rentrée scolaire"
    assert ("bom" in _codes(report["infos"])) is bom
    assert report["valid"]


def test_type_and_constraint_errors_per_line_and_column(portal, new_dataset):
    package = new_dataset("annuaire-types-faux")
    content = files.annuaire_colleges(limit=10)
    # « 43,6 » is a number now (decimal comma, issue 15): degrees-minutes are not
    content = files.with_cell(content, line=3, column="latitude", value="43°36'N")
    content = files.with_cell(content, line=5, column="Code_postal", value="3100")
    content = files.with_cell(content, line=6, column="Nombre_d_eleves", value="-12")

    report = _refused(portal, package, content, "colleges-types.csv")

    assert "schema-errors" in _codes(report["errors"])
    found = {(e["line"], e["column"], e["type"], e.get("constraint")) for e in report["schema"]["errors"]}
    assert found == {(3, "latitude", "type-error", None), (5, "Code_postal", "constraint-error", "pattern"),
                     (6, "Nombre_d_eleves", "constraint-error", "minimum")}
    by_line = {e["line"]: e for e in report["schema"]["errors"]}
    assert "« 43°36'N » n'est pas un nombre" in by_line[3]["message"]
    assert by_line[3]["message_frictionless"].startswith('Type error in the cell "43°36\'N" in row "3"')
    assert "minimum autorisé (0)" in by_line[6]["message"]
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []


def test_unknown_columns_are_a_warning_and_published_as_other_data(portal):
    report = helpers.call_action("ecarto_validate_resource", _as(portal, "editor"), axe="connectivite",
                                 upload=upload(files.ips_haute_garonne(), "ips.csv"))
    assert report["valid"]
    assert report["schema"]["unknown_columns"] == ["Rentrée scolaire", "IPS", "Ecart-type de l'IPS"]
    warning = next(w for w in report["warnings"] if w["code"] == "unknown-columns")
    assert "« IPS »" in warning["message"] and "Autres données" in warning["message"]


@pytest.mark.parametrize("content, code", [
    (b"", "empty-file"),
    (b"\r\n\r\n", "empty-file"),
])
def test_empty_files_are_refused(portal, new_dataset, content, code):
    package = new_dataset(f"vide-{len(content)}")
    report = _refused(portal, package, content, "vide.csv")
    assert _codes(report["errors"]) == {code}
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []


def test_header_only_file_is_refused(portal, new_dataset):
    package = new_dataset("entete-seule")
    header = codecs.BOM_UTF8 + (files.ips_lines()[0] + "\n").encode()
    report = _refused(portal, package, header, "entete.csv")
    assert "no-rows" in _codes(report["errors"])


def test_a_file_that_is_not_a_table_is_refused(portal, new_dataset):
    package = new_dataset("pas-un-csv")
    report = _refused(portal, package, files.SCREENSHOT_PNG.read_bytes(), "donnees.csv")
    assert _codes(report["errors"]) == {"not-a-table"}
    assert "image PNG" in report["errors"][0]["message"]
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []


def test_non_members_and_read_only_members_are_refused(portal, new_dataset):
    package = new_dataset("refus-non-membres")
    for who in ("outsider", "member"):
        with pytest.raises(logic.NotAuthorized):
            _publish(portal, package, files.ips_haute_garonne(), "ips.csv", who=who)
    with pytest.raises(logic.NotAuthorized):
        helpers.call_action("ecarto_validate_resource", {"user": "", "ignore_auth": False}, axe="etablissements",
                            upload=upload(files.ips_haute_garonne(), "ips.csv"))
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []
