"""`ckan ecarto load PATH --dataset NAME --axe AXE …` publishes a local file as a resource of a
dataset (created if needed, in its organization) and loads it, printing rows loaded/rejected;
running it again with the same file changes nothing, with another file replaces the table."""
from __future__ import annotations

import hashlib

import pytest
from ckan.cli.cli import ckan
from ckan.tests import helpers

from .ingest_helpers import IPS, derived, raw_bytes, registry, scalar, source_records

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db", "ingest_db")


def _load(cli, path, *extra):
    return cli.invoke(ckan, ["ecarto", "load", str(path), "--dataset", "ips-colleges-test", "--axe",
                             "etablissements", "--organization", "menj", "--millesime", "2023-2024", *extra])


def test_load_creates_dataset_resource_and_table(cli):
    header, rows = source_records(IPS, delimiter=";")

    result = _load(cli, IPS, "--title", "IPS des collèges (test)")

    assert result.exit_code == 0, result.output
    assert "6\u00a0864 lignes chargées, 0 rejetées" in result.output
    assert "Jeu de données ips-colleges-test : créé" in result.output
    package = helpers.call_action("package_show", id="ips-colleges-test")
    assert package["title"] == "IPS des collèges (test)" and package["axe"] == "etablissements"
    assert package["millesime"] == "2023-2024" and package["organization"]["name"] == "menj"
    [resource] = package["resources"]
    assert resource["url_type"] == "upload" and resource["name"] == "ips-colleges-2023.csv"
    assert resource["hash"] == hashlib.sha256(IPS.read_bytes()).hexdigest()
    stored = registry(resource["id"])
    assert stored["status"] == "ok" and stored["n_rows"] == len(rows) and stored["millesime"] == "2023-2024"
    assert scalar(f"SELECT count(*) FROM {stored['table_name']}") == len(rows)


def test_load_again_is_a_no_op_and_a_new_file_replaces(cli, tmp_path):
    assert _load(cli, IPS).exit_code == 0
    first = helpers.call_action("package_show", id="ips-colleges-test")["resources"][0]

    again = _load(cli, IPS)

    assert again.exit_code == 0, again.output
    assert "inchangée" in again.output and "inchangé" in again.output
    package = helpers.call_action("package_show", id="ips-colleges-test")
    assert [r["id"] for r in package["resources"]] == [first["id"]]

    smaller = derived(tmp_path, "ips-colleges-2023.csv",
                      "\n".join(raw_bytes(IPS).decode("utf-8-sig").split("\n")[:101]).encode("utf-8"))
    replaced = _load(cli, smaller, "--resource-name", "ips-colleges-2023.csv")

    assert replaced.exit_code == 0, replaced.output
    assert "remplacée" in replaced.output and "100 lignes chargées" in replaced.output
    assert [r["id"] for r in helpers.call_action("package_show", id="ips-colleges-test")["resources"]] == [first["id"]]
    assert registry(first["id"])["n_rows"] == 100


def test_load_reports_rejects_and_a_missing_column(cli, tmp_path):
    lines = raw_bytes(IPS).decode("utf-8-sig").split("\n")
    lines[2] = lines[2].replace(lines[2].split(";")[1], "0750001A")
    broken = derived(tmp_path, "ips-rejets.csv", "\n".join(lines).encode("utf-8"))

    result = _load(cli, broken)

    assert result.exit_code == 0, result.output
    assert "1 rejetées" in result.output
    assert "rejet ligne 2 : UAI 0750001A invalide : la lettre clé attendue est U." in result.output

    missing = _load(cli, IPS, "--uai-column", "numero_uai", "--resource-name", "autre")
    assert missing.exit_code == 1
    assert "La colonne UAI « numero_uai » est absente du fichier" in missing.output


def test_a_file_missing_from_storage_is_uploaded_again(cli):
    """A portal moved to another folder keeps its database but not its storage: loading the same
    file again restores the upload instead of reporting it lost."""
    import os
    from ckanext.ecarto import ingest

    assert _load(cli, IPS).exit_code == 0
    resource = helpers.call_action("package_show", id="ips-colleges-test")["resources"][0]
    stored, temporary = ingest.local_copy(resource)
    assert stored and not temporary
    os.unlink(stored)

    again = _load(cli, IPS)

    assert again.exit_code == 0, again.output
    # the upload is restored; the table, loaded from the same bytes, stays as it was
    assert "remplacée" in again.output and "6\u00a0864 lignes en base" in again.output
    assert ingest.local_copy(helpers.call_action("resource_show", id=resource["id"]))[0] is not None
    assert registry(resource["id"])["status"] == "ok"



@pytest.mark.ckan_config("ckan.auth.create_unowned_dataset", "false")
def test_a_portal_that_requires_an_organization_says_so_before_anything(app):
    """`make run`'s ckan.ini forbids datasets without organization: the load (what `ckan ecarto
    load` calls) says which option is missing, in French, and creates nothing — not CKAN's
    « Owner org » validation error after the fact."""
    from ckanext.ecarto.ingest import publish

    with app.flask_app.test_request_context():
        with pytest.raises(publish.PublishError, match="exige une organisation productrice.*--organization"):
            publish.load(str(IPS), dataset="ips-sans-organisation", axe="etablissements")
    with pytest.raises(Exception):
        helpers.call_action("package_show", id="ips-sans-organisation")
