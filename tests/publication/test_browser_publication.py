"""A département publishes its collèges' data in Chromium, as a collectivité would: log in,
create the dataset, upload a file with a wrong UAI, read the report, fix the file, publish,
open an establishment page that now shows the data. Screenshots: publication-rapport.png (the
report), publication-resultat.png (the establishment page)."""
from __future__ import annotations

import pytest

from tests.publication import files
from tests.publication.browser import log_in

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_a_collectivite_publishes_in_a_browser(portal, page, live_server, screenshot, tmp_path):
    lines = files.ips_lines()
    uai = lines[1].split(";")[1]
    bad = files.wrong_letter(uai)
    broken = tmp_path / "ips-colleges-31.csv"
    broken.write_bytes(files.with_cell(files.ips_haute_garonne(), line=2, column="UAI", value=bad))
    fixed = tmp_path / "ips-colleges-31-corrige.csv"
    fixed.write_bytes(files.ips_haute_garonne())

    log_in(page, live_server, portal.editor["name"], portal.password)

    page.goto(f"{live_server}/dataset/new")
    page.fill("#field-title", "IPS des collèges de la Haute-Garonne 2023")
    page.select_option("#field-axe", "etablissements")
    page.select_option("#field-organizations", portal.org["id"])
    page.fill("#field-millesime", "2023")
    page.fill("#field-notes", "Indice de position sociale des collèges de la Haute-Garonne, rentrée 2023.")
    page.locator("button[name=save]").click()
    page.wait_for_url("**/resource/new")

    page.set_input_files("#ecarto-upload", str(broken))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.wait_for_selector(".ecarto-report")
    assert page.locator(".ecarto-report").get_attribute("data-verdict") == "blocking"
    row = page.locator(".ecarto-report-invalid-uai tbody tr").first
    assert row.locator("td").nth(0).inner_text() == "2"
    assert row.locator("td").nth(1).inner_text() == bad
    assert row.locator("td").nth(2).inner_text() == uai[7]
    assert page.get_by_role("button", name="Publier ces données").count() == 0
    screenshot(page, "publication-rapport")

    page.set_input_files(".ecarto-reupload #ecarto-upload", str(fixed))
    page.get_by_role("button", name="Vérifier le fichier corrigé").click()
    page.wait_for_selector(".ecarto-report[data-verdict=warnings]")
    assert page.locator(".ecarto-report-preview tbody tr").count() == 10
    screenshot(page, "publication-rapport-corrige")
    page.get_by_role("button", name="Publier ces données").click()

    page.wait_for_selector(".ecarto-published")
    page.locator(".ecarto-fed-pages a").first.click()
    page.wait_for_selector("#autres-donnees")
    assert page.url.endswith(f"/etablissement/{uai}")
    others = page.locator("#autres-donnees")
    assert others.get_by_text("IPS des collèges de la Haute-Garonne 2023").count() >= 1
    assert lines[1].split(";")[2].replace(".", ",") in others.inner_text()     # its IPS, French format
    others.scroll_into_view_if_needed()
    screenshot(page, "publication-resultat")
