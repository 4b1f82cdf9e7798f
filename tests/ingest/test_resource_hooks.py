"""Creating, replacing or deleting a resource through CKAN (web form, API, harvester) keeps its
table in step: a tabular upload with a UAI or commune column is loaded at once, a new file
replaces the table, deleting the resource drops it; a non-tabular file loads nothing."""
from __future__ import annotations

import io

import pytest
from ckan.tests import factories, helpers
from werkzeug.datastructures import FileStorage

from .ingest_helpers import IPS, MCI_TECHNO, raw_bytes, registry, scalar, source_records

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db", "ingest_db")


def _upload(content: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename)


def _call(action, **data):
    return helpers.call_action(action, context={"user": _call.user}, **data)


@pytest.fixture(autouse=True)
def _sysadmin(ingest_db):
    _call.user = factories.Sysadmin()["name"]


def _dataset():
    org = factories.Organization()
    return _call("package_create", name="ips-hooks", title="IPS", axe="etablissements", owner_org=org["id"])


def test_upload_update_delete(tmp_path):
    header, rows = source_records(IPS, delimiter=";")
    package = _dataset()

    resource = _call("resource_create", package_id=package["id"], name="IPS", format="CSV",
                                   upload=_upload(IPS.read_bytes(), "ips.csv"))

    stored = registry(resource["id"])
    assert stored is not None and stored["status"] == "ok", stored
    assert stored["n_rows"] == len(rows) and stored["key_column"] == "UAI"
    table = stored["table_name"]
    assert scalar(f"SELECT count(*) FROM {table}") == len(rows)

    _call("resource_update", id=resource["id"], package_id=package["id"], name="IPS",
                        format="CSV", upload=_upload(raw_bytes(MCI_TECHNO), "communes.csv"))

    stored = registry(resource["id"])
    assert stored["key_kind"] == "commune" and stored["n_rows"] == 6
    assert scalar(f"SELECT count(*) FROM {table}") == 6

    _call("resource_delete", id=resource["id"])

    assert registry(resource["id"]) is None
    assert scalar("SELECT to_regclass(:t) IS NULL", t=table)


def test_non_tabular_file_is_not_loaded():
    package = _dataset()
    resource = _call("resource_create", package_id=package["id"], name="Notice", format="PDF",
                                   upload=_upload(b"%PDF-1.4 notice", "notice.pdf"))
    assert registry(resource["id"]) is None


def test_bad_upload_is_saved_and_explained():
    package = _dataset()
    content = b"UAI;IPS\n" + b"\n".join(f"07500{i:02d}A;100".encode() for i in range(40)) + b"\n"
    resource = _call("resource_create", package_id=package["id"], name="IPS faux", format="CSV",
                                   upload=_upload(content, "faux.csv"))
    assert helpers.call_action("resource_show", id=resource["id"])["name"] == "IPS faux"
    status = _call("ecarto_ingest_status", id=resource["id"])
    # the dataset has an axis: the file is validated first (issue 15) and refused, not loaded
    assert status["status"] == "error" and status["failure"]["code"] == "validation"
    assert status["message"].startswith("Fichier non validé")
    assert "ligne(s) ont un UAI invalide dans la colonne « UAI »" in status["message"]
    assert status["table_name"] is None
