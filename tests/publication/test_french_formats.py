"""French spreadsheet habits are accepted where the Table Schema types allow them (issue 15):
decimal comma, thousands separators (space, no-break space, ``1.234,5``), ``45 %``, booleans
``oui``/``non``, ``vrai``/``faux``, ``O``/``N`` in any case, dates ``jj/mm/aaaa`` — by the
validation (the report passes) and by the loader (the same values), and the establishment pages
show them. ODS and XLSX workbooks publish like the CSV.

Real rows: the IPS of the Haute-Garonne collèges and, for those collèges, the annuaire's
« Restauration » / « Hebergement » flags (1/0 written oui/non, O/N) and opening dates (written
jj/mm/aaaa). The connectivity values (shares of connected classes, speeds) have no public
source per school: they are illustrative values on the real UAIs, written the French way.
"""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.tests.helpers as helpers

from ckanext.ecarto import ingest
from ckanext.ecarto.validation import validate_file
from tests.publication import files
from tests.publication.conftest import upload

pytestmark = pytest.mark.usefixtures("with_plugins")


def _ctx(portal):
    return {"user": portal.editor["name"], "ignore_auth": False}


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def _rows(resource_id: str) -> dict[str, dict]:
    table = ingest.status(resource_id)["table_name"]
    with model.meta.engine.connect() as conn:
        return {r["_key"]: dict(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")).mappings()}


def _types(resource_id: str) -> dict[str, str]:
    table = ingest.status(resource_id)["table_name"]
    schema, name = [p.strip('"') for p in table.split(".")]
    with model.meta.engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"),
            {"s": schema, "t": name}).all())


def _ips_french() -> tuple[bytes, dict[str, dict[str, str]]]:
    """The IPS of the Haute-Garonne collèges written the French way, with the annuaire's flags
    and opening dates of those collèges; and the source values by UAI."""
    colleges = files.colleges_31()
    lines = files.ips_lines()
    out = ["UAI;IPS;Ecart-type de l'IPS;Restauration;Hebergement;Date d'ouverture"]
    source: dict[str, dict[str, str]] = {}
    for line in lines[1:]:
        _year, uai, ips, ecart = line.split(";")
        row = colleges[uai]
        restauration = {"1": "Oui", "0": "non"}.get(row["Restauration"], "")
        hebergement = {"1": "O", "0": "n"}.get(row["Hebergement"], "")
        year, month, day = row["date_ouverture"].split("-")
        out.append(";".join([uai, ips.replace(".", ","), ecart.replace(".", ","), restauration, hebergement,
                             f"{day}/{month}/{year}"]))
        source[uai] = {"ips": ips, "ecart": ecart, "restauration": row["Restauration"],
                       "hebergement": row["Hebergement"], "ouverture": row["date_ouverture"]}
    return ("\n".join(out) + "\n").encode("utf-8"), source


def test_french_numbers_booleans_and_dates_are_validated_and_loaded(app, portal, new_dataset, tmp_path):
    content, source = _ips_french()
    path = tmp_path / "ips-fr.csv"
    path.write_bytes(content)
    report = validate_file(str(path), "etablissements", check_directory=False)
    assert report["valid"], report["errors"]

    package = new_dataset("ips-a-la-francaise", title="IPS à la française")
    outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                  upload=upload(content, "ips-fr.csv"))
    resource_id = outcome["resource"]["id"]
    types = _types(resource_id)
    assert types["ips"] == "double precision" and types["ecart_type_de_l_ips"] == "double precision"
    assert types["restauration"] == "boolean" and types["hebergement"] == "boolean"
    assert types["date_d_ouverture"] == "date"
    rows = _rows(resource_id)
    for uai, expected in source.items():
        row = rows[uai]
        assert row["ips"] == float(expected["ips"]) and row["ecart_type_de_l_ips"] == float(expected["ecart"])
        assert row["restauration"] is (expected["restauration"] == "1")
        assert row["hebergement"] is (expected["hebergement"] == "1")
        assert row["date_d_ouverture"].isoformat() == expected["ouverture"]

    uai = next(u for u, e in source.items() if e["restauration"] == "1")
    page = _text(app.get(f"/etablissement/{uai}", status=200))
    others = page.split('id="autres-donnees"', 1)[1]
    assert "IPS à la française" in others
    assert source[uai]["ips"].replace(".", ",") in others


CONNECTIVITY_HEADER = "uai;part_classes_connectees;debit_max;wifi;thd;acces_fibre_cable"
# written as a town hall's spreadsheet would, and what they mean
CONNECTIVITY_CELLS = [
    (("45 %", "1 000", "oui", "O", "VRAI"), (45.0, 1000.0, True, True, True)),
    (("12,5 %", "1.000,5", "NON", "n", "faux"), (12.5, 1000.5, False, False, False)),
    (("100%", "8,25", "Oui", "N", "Vrai"), (100.0, 8.25, True, False, True)),
    (("0,5", "1\u00a0234", "non", "o", "FAUX"), (0.5, 1234.0, False, True, False)),
]


def _connectivity() -> tuple[list[str], list[list[str]]]:
    uais = list(files.ips_values())[:len(CONNECTIVITY_CELLS)]
    return uais, [[uai, *cells] for uai, (cells, _meaning) in zip(uais, CONNECTIVITY_CELLS)]


def _connectivity_csv() -> bytes:
    _uais, rows = _connectivity()
    return ("\ufeff" + "\n".join([CONNECTIVITY_HEADER] + [";".join(r) for r in rows]) + "\n").encode("utf-8")


def _assert_connectivity_loaded(resource_id: str) -> None:
    uais, _rows_written = _connectivity()
    rows = _rows(resource_id)
    for uai, (_cells, meaning) in zip(uais, CONNECTIVITY_CELLS):
        row = rows[uai]
        got = (row["part_classes_connectees"], row["debit_max"], row["wifi"], row["thd"], row["acces_fibre_cable"])
        assert got == meaning, (uai, got)


def test_percentages_thousands_and_oui_non_through_the_api(app, portal, new_dataset, tmp_path):
    """Through ``resource_create`` (the validation in front of the loader lets them through)."""
    content = _connectivity_csv()
    path = tmp_path / "connectivite.csv"
    path.write_bytes(content)
    report = validate_file(str(path), "connectivite", check_directory=False)
    assert report["valid"], report["errors"]
    assert not [e for e in report["schema"].get("errors") or [] if e.get("type") == "type-error"]

    package = new_dataset("connectivite-fr", title="Connectivité à la française", axe="connectivite")
    resource = helpers.call_action("resource_create", _ctx(portal), package_id=package["id"], name="Connectivité",
                                   format="CSV", upload=upload(content, "connectivite.csv"))
    status = helpers.call_action("ecarto_ingest_status", _ctx(portal), id=resource["id"])
    assert status["status"] == "ok" and not status["failure"], status["message"]
    _assert_connectivity_loaded(resource["id"])

    uais, _written = _connectivity()
    page = _text(app.get(f"/etablissement/{uais[1]}", status=200))
    assert "12,5" in page and "1\u00a0000,5" in page.replace("&nbsp;", "\u00a0").replace("\u202f", "\u00a0")


def test_an_english_boolean_message_is_gone(tmp_path):
    """A value that is no boolean at all is still refused, with the French values listed."""
    content = _connectivity_csv().replace(b";oui;O;VRAI", b";peut-etre;O;VRAI")
    path = tmp_path / "connectivite.csv"
    path.write_bytes(content)
    report = validate_file(str(path), "connectivite", check_directory=False)
    assert report["blocking"]
    message = next(e["message"] for e in report["schema"]["errors"] if e["value"] == "peut-etre")
    assert "oui / non, vrai / faux, O / N" in message


def test_xlsx_and_ods_publish_like_the_csv(app, portal, new_dataset, tmp_path):
    _uais, rows = _connectivity()
    header = CONNECTIVITY_HEADER.split(";")

    xlsx = tmp_path / "connectivite.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Données"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    # a share typed as a number formatted in percent: 0.45 shown « 45 % »
    sheet["B2"] = 0.45
    sheet["B2"].number_format = "0%"
    workbook.save(xlsx)

    ods = tmp_path / "connectivite.ods"
    with pd.ExcelWriter(ods, engine="odf") as writer:
        pd.DataFrame(rows, columns=header).to_excel(writer, sheet_name="Données", index=False)

    for path, fmt in ((xlsx, "XLSX"), (ods, "ODS")):
        package = new_dataset(f"connectivite-{fmt.lower()}", title=f"Connectivité ({fmt})", axe="connectivite")
        outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                      upload=upload(path.read_bytes(), path.name))
        assert outcome["report"]["valid"], outcome["report"]["errors"]
        assert outcome["report"]["file"]["format"] == fmt.lower()
        assert outcome["resource"]["format"] == fmt
        assert outcome["ingest"]["status"] == "ok", outcome["ingest"]
        _assert_connectivity_loaded(outcome["resource"]["id"])

        uais, _written = _connectivity()
        page = _text(app.get(f"/etablissement/{uais[1]}", status=200))
        assert f"Connectivité ({fmt})" in page and "12,5" in page


def _workbook_with_a_notice_first(path) -> None:
    """An ODS workbook whose first sheet is a notice and whose second holds the table."""
    _uais, rows = _connectivity()
    with pd.ExcelWriter(path, engine="odf") as writer:
        pd.DataFrame({"Notice": ["Parts de classes connectées, débits : voir le schéma de l'axe."]}).to_excel(
            writer, sheet_name="Notice", index=False)
        pd.DataFrame(rows, columns=CONNECTIVITY_HEADER.split(";")).to_excel(writer, sheet_name="Données", index=False)


def test_a_chosen_sheet_through_the_form_and_the_api(app, portal, new_dataset, tmp_path):
    path = tmp_path / "classeur.ods"
    _workbook_with_a_notice_first(path)

    package = new_dataset("classeur-feuille-web", title="Connectivité (feuille choisie)", axe="connectivite")
    response = app.post(f"/dataset/{package['name']}/publier", headers=portal.headers("editor"),
                        data={"upload": (io.BytesIO(path.read_bytes()), "classeur.ods"), "feuille": "Données"},
                        follow_redirects=False)
    location = response.headers["Location"]
    report = _text(app.get(location, headers=portal.headers("editor"), status=200))
    assert 'data-verdict="blocking"' not in report and "feuille « Données »" in report
    response = app.post(f"{location}/publier", data={"name": "Connectivité", "description": ""},
                        headers=portal.headers("editor"), follow_redirects=False)
    assert response.status_code == 302
    resource = helpers.call_action("package_show", id=package["id"])["resources"][0]
    assert resource["feuille"] == "Données" and resource["format"] == "ODS"
    _assert_connectivity_loaded(resource["id"])

    # through the API: the second sheet by its number; without it, the notice is read and refused
    package = new_dataset("classeur-feuille-api", title="Connectivité (API, feuille 2)", axe="connectivite")
    chosen = helpers.call_action("resource_create", _ctx(portal), package_id=package["id"], name="Classeur",
                                 format="ODS", feuille="2", upload=upload(path.read_bytes(), "classeur.ods"))
    _assert_connectivity_loaded(chosen["id"])
    first = helpers.call_action("resource_create", _ctx(portal), package_id=package["id"], name="Notice",
                                format="ODS", upload=upload(path.read_bytes(), "classeur-notice.ods"))
    status = helpers.call_action("ecarto_ingest_status", _ctx(portal), id=first["id"])
    assert status["failure"]["code"] == "validation" and status["table_name"] is None
