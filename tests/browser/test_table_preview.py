"""The table preview of an ingested resource (issue 16), in a real browser: a data user opens a
resource of the sample and reads its first rows (the real values of the file, labelled with the
data dictionary), pages to the next rows with plain links, sorts by a column; the preview is a
captioned table with column headers, without serious accessibility violation."""
from __future__ import annotations

import csv
import io
import re

import pytest

from tests.etablissements.conftest import IPS, portal  # noqa: F401 - module fixture: real sample data

pytestmark = pytest.mark.usefixtures("with_plugins")
DATASET = "ips-colleges-2023"


def ips_rows() -> list[dict[str, str]]:
    """The sample file, read with the csv module (file order)."""
    return list(csv.DictReader(io.StringIO(IPS.read_bytes().decode("utf-8-sig")), delimiter=";"))


def decimal(value: str) -> str:
    """How the preview writes a number of the file: decimal comma."""
    return value.replace(".", ",")


def number(cell: str) -> float:
    return float(cell.replace(",", "."))


def shown_rows(page) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.locator(".ecarto-tableau-table tbody tr").all()]


def test_a_data_user_reads_pages_and_sorts_the_preview(portal, page, live_server, screenshot):
    rows = ips_rows()
    total = f"{len(rows):,}".replace(",", "\u00a0")
    page.goto(f"{live_server}/dataset/{DATASET}")
    page.locator("a.heading[href*='/resource/']").first.click()   # the resource in the dataset's list
    page.wait_for_url(re.compile(r"/dataset/.+/resource/"))

    table = page.locator(".ecarto-tableau-table")
    assert table.is_visible()
    assert "IPS des collèges 2023" in table.locator("caption").inner_text()
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    # no data dictionary on this resource: the file's own headers (the sample's dictionary labels
    # are checked in tests/ingest/test_default_views.py)
    assert [h.split("—")[0].strip() for h in headers] == list(rows[0])
    assert table.locator("thead th[scope=col]").count() == 4
    first = shown_rows(page)
    assert len(first) == 25
    assert [r[1] for r in first] == [r["UAI"] for r in rows[:25]]
    assert [[number(c) for c in r[2:]] for r in first] == [[float(r["IPS"]), float(r["Ecart-type de l'IPS"])]
                                                           for r in rows[:25]]
    assert first[0][2] == decimal(rows[0]["IPS"])       # 111.1 in the file, 111,1 on the page
    assert f"Lignes 1 à 25 sur {total}" in page.locator(".ecarto-tableau-compte").inner_text()
    screenshot(page, "apercu-tableau")

    page.get_by_role("link", name="Page suivante ›").click()
    page.wait_for_url(re.compile(r"page=2"))
    second = shown_rows(page)
    assert [r[1] for r in second] == [r["UAI"] for r in rows[25:50]]
    assert f"Lignes 26 à 50 sur {total}" in page.locator(".ecarto-tableau-compte").inner_text()
    assert page.locator(".ecarto-tableau-table caption").inner_text().strip().endswith(
        f"page 2 sur {(len(rows) + 24) // 25:,}".replace(",", "\u00a0"))

    page.get_by_role("link", name="Page précédente").click()
    page.wait_for_url(lambda url: "page=" not in url)
    assert [r[1] for r in shown_rows(page)] == [r["UAI"] for r in rows[:25]]

    # sort by the IPS, highest first: a second click on the header
    page.locator(".ecarto-tableau-table thead th").nth(2).locator("a").click()
    page.wait_for_url(re.compile(r"tri=ips"))
    page.locator(".ecarto-tableau-table thead th").nth(2).locator("a").click()
    page.wait_for_url(re.compile(r"ordre=desc"))
    highest = max(rows, key=lambda r: float(r["IPS"]))
    assert number(shown_rows(page)[0][2]) == float(highest["IPS"])
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("IPS")


def test_the_preview_has_no_serious_accessibility_violation(portal, page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    resource = portal.datasets[DATASET]["resources"][0]
    response = page.goto(f"{live_server}/dataset/{DATASET}/resource/{resource['id']}?page=3")
    assert response.status == 200
    assert page.locator(".ecarto-tableau-table tbody tr").count() == 25
    result = Axe().run(page, context={"include": [[".ecarto-tableau"]]},
                       options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    serious = [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}" for v in result.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious
