"""Issue #15, « The report tells the truth »: the validation report says, for each column, where
it will appear — which axis indicator, « Autres données », or not shown and why — and previews
the lines of a few establishment pages; after publishing, the pages show exactly that. The
report and the pages ask the same code (``etablissements/destinations.py``,
``etablissements.record.preview_lines``).

The file has the shape of an ETIC campaign file as a collectivité fills it for the
« Équipement » axis: real UAIs (collèges of Haute-Garonne from the real annuaire of
``data/sample``), a ``Wifi`` column — an indicator of the **Connectivité** axis, which the former
report announced as « Autres données » —, two Équipement indicators and two columns no schema
knows. Its values are WRITTEN HERE BY HAND (made up, deterministic): no real ETIC file is
reachable from this project (see tests/etablissements/data/README.md)."""
from __future__ import annotations

import io
import re
from typing import Any

import pytest
from bs4 import BeautifulSoup

import ckan.tests.helpers as helpers

from tests.publication import files

pytestmark = pytest.mark.usefixtures("with_plugins")

HEADER = ["UAI", "Millésime", "Wifi", "Nombre total de terminaux", "Nb imprimantes 3D", "Salles informatiques",
          "Observations"]


def _uais(n: int = 6) -> list[str]:
    return sorted(files.colleges_31())[:n]


def _etic_like_file(with_period_column: bool = True) -> bytes:
    """The ETIC-shaped file; without its Millésime column, its rows take the dataset's millésime."""
    keep = [i for i, name in enumerate(HEADER) if with_period_column or name != "Millésime"]
    lines = [";".join(HEADER[i] for i in keep)]
    for i, uai in enumerate(_uais()):
        wifi = "oui" if i % 3 else "non"
        row = [uai, "2023", wifi, str(40 + 7 * i), str(i % 3), str(1 + i % 2), f"salle rénovée en {2015 + i}"]
        lines.append(";".join(row[k] for k in keep))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _connectivity_only_file() -> bytes:
    lines = ["UAI;Millésime;Wifi;Débit max"]
    for i, uai in enumerate(_uais()):
        lines.append(f"{uai};2023;{'oui' if i % 2 else 'non'};{100 * (i + 1)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ", strip=True)).strip()


def _deposit_and_publish(app, portal, name: str, content: bytes, filename: str) -> BeautifulSoup:
    response = app.post(f"/dataset/{name}/publier", data={"upload": (io.BytesIO(content), filename)},
                        headers=portal.headers("editor"), follow_redirects=False)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    report = BeautifulSoup(app.get(location, headers=portal.headers("editor"), status=200).get_data(as_text=True),
                           "lxml")
    assert report.select_one("[data-verdict]")["data-verdict"] in ("ok", "warnings")
    published = app.post(f"{location}/publier", data={"name": filename, "description": ""},
                         headers=portal.headers("editor"), follow_redirects=False)
    assert published.status_code == 302
    return report


def _destinations(report: BeautifulSoup) -> dict[str, dict[str, Any]]:
    rows = report.select("table.ecarto-report-destinations tbody tr")
    return {tr["data-destination-of"]: {"kind": tr["data-destination"], "axe": tr.get("data-axe"),
                                        "indicator": tr.get("data-indicator"), "text": _text(tr)} for tr in rows}


def _preview(report: BeautifulSoup) -> dict[str, list[tuple[str, str, str]]]:
    """uai -> [(destination, label, value and period as shown)]."""
    found = {}
    for table in report.select("table.ecarto-report-apercu"):
        found[table["data-uai"]] = [(tr["data-destination"], _text(tr.th), _text(tr.select_one("td[data-value]")))
                                    for tr in table.select("tbody tr")]
    return found


def _page(app, uai: str) -> BeautifulSoup:
    return BeautifulSoup(app.get(f"/etablissement/{uai}", status=200).get_data(as_text=True), "lxml")


def _block(page: BeautifulSoup, title: str):
    """The rows of the « Autres données » block of the dataset `title` (None: no block)."""
    section = page.select_one("#autres-donnees")
    for heading in section.find_all("h3"):
        if title in _text(heading):
            table = heading.find_next_sibling(["table", "h3"])
            return table.select("tbody tr") if table is not None and table.name == "table" else []
    return None


def _axis_rows(page: BeautifulSoup, title: str) -> dict[str, Any]:
    """indicator id -> its row, for the axis indicators whose current value comes from `title`."""
    found = {}
    for tr in page.select("section.ecarto-axis tr[data-indicator]"):
        cells = tr.find_all("td")
        if cells and title in _text(cells[1]):
            found[tr["data-indicator"]] = tr
    return found


def _no_empty_heading(page: BeautifulSoup) -> None:
    section = page.select_one("#autres-donnees")
    for heading in section.find_all("h3"):
        nxt = heading.find_next_sibling()
        assert nxt is not None and nxt.name != "h3", f"« Autres données » : titre sans contenu {_text(heading)!r}"
        assert nxt.name == "table" or "donnée illisible" in _text(nxt), _text(heading)


def test_the_report_destinations_are_what_the_establishment_pages_show(app, portal, new_dataset):
    title = "Équipement des collèges — campagne 2023"
    package = new_dataset("etic-hg-2023", title=title, axe="equipement", millesime="2023")
    report = _deposit_and_publish(app, portal, package["name"], _etic_like_file(), "etic-hg-2023.csv")

    where = _destinations(report)
    assert list(where) == HEADER                                     # every column of the file, in order
    assert where["UAI"]["kind"] == "cle" and where["Millésime"]["kind"] == "periode"
    assert (where["Wifi"]["kind"], where["Wifi"]["axe"], where["Wifi"]["indicator"]) == \
        ("indicateur", "connectivite", "wifi")
    assert "Connectivité" in where["Wifi"]["text"] and "Autres données" not in where["Wifi"]["text"]
    assert where["Nombre total de terminaux"]["axe"] == "equipement"
    assert where["Salles informatiques"]["kind"] == where["Observations"]["kind"] == "autres_donnees"
    warnings = _text(report.select_one(".ecarto-report-warnings") or report.new_tag("p"))
    assert "Wifi" not in warnings                                    # no more « Wifi → Autres données »

    for uai in _uais():
        page = _page(app, uai)
        _no_empty_heading(page)
        axis = _axis_rows(page, title)
        block = _block(page, title)
        others = {_text(tr.th): tr for tr in block or []}
        for column, dest in where.items():
            if dest["kind"] == "indicateur":
                row = axis.get(dest["indicator"])
                assert row is not None, (uai, column)
                assert row.find_parent("section")["id"] == f"axe-{dest['axe']}", (uai, column)
                assert f"indicateur « {_text(row.th)} »" in dest["text"], (uai, column, dest["text"])
                assert _text(row.th) not in others
            elif dest["kind"] == "autres_donnees":
                assert column in others, (uai, column, list(others))
            else:
                assert column not in others and column not in {_text(r.th) for r in axis.values()}
        # and nothing the report did not announce
        assert set(axis) == {d["indicator"] for d in where.values() if d["kind"] == "indicateur"}
        assert set(others) == {c for c, d in where.items() if d["kind"] == "autres_donnees"}

    # the resource page says the same, column by column
    resource = helpers.call_action("package_show", id=package["name"])["resources"][0]
    page = BeautifulSoup(app.get(f"/dataset/{package['name']}/resource/{resource['id']}",
                                 status=200).get_data(as_text=True), "lxml")
    on_resource = {tr["data-column"]: tr.select_one("td[data-destination]")
                   for tr in page.select(".ecarto-column-model tr[data-column]")}
    for column, dest in where.items():
        if column in on_resource:
            assert on_resource[column]["data-destination"] == dest["kind"], column
    assert "Connectivité" in _text(on_resource["Wifi"])


@pytest.mark.parametrize("with_period_column", [True, False], ids=["colonne-millesime", "millesime-du-jeu"])
def test_the_preview_lines_are_the_page_lines(app, portal, new_dataset, with_period_column):
    title = "Équipement des collèges — aperçu"
    name = "etic-hg-apercu" if with_period_column else "etic-hg-apercu-sans-colonne"
    package = new_dataset(name, title=title, axe="equipement", millesime="2023")
    report = _deposit_and_publish(app, portal, package["name"], _etic_like_file(with_period_column), f"{name}.csv")
    preview = _preview(report)
    assert 3 <= len(preview) <= 5 and set(preview) <= set(_uais())
    for uai, lines in preview.items():
        assert len(lines) == 5                                       # 3 indicators + 2 other columns
        page = _page(app, uai)
        axis = _axis_rows(page, title)
        others = {_text(tr.th): tr for tr in _block(page, title) or []}
        for destination, label, shown in lines:
            if destination == "indicateur":
                row = next(tr for tr in axis.values() if _text(tr.th) == label)
            else:
                row = others[label]
            on_page = _text(row.find_all("td")[0])
            assert on_page == shown, (uai, label, on_page, shown)
        assert "2023" in " ".join(shown for _d, _l, shown in lines)   # the period beside each value


def test_a_source_whose_columns_all_feed_axes_leaves_no_empty_heading(app, portal, new_dataset):
    title = "Connectivité déclarée — campagne 2023"
    package = new_dataset("connectivite-hg-2023", title=title, axe="equipement", millesime="2023")
    report = _deposit_and_publish(app, portal, package["name"], _connectivity_only_file(), "connectivite.csv")
    where = _destinations(report)
    assert {c: d["kind"] for c, d in where.items()} == {
        "UAI": "cle", "Millésime": "periode", "Wifi": "indicateur", "Débit max": "indicateur"}
    for uai in _uais()[:3]:
        page = _page(app, uai)
        assert _block(page, title) is None                           # no heading for it in « Autres données »
        _no_empty_heading(page)
        assert set(_axis_rows(page, title)) == {"wifi", "debit_max"}
