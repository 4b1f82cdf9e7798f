"""`ecarto_ingest_resource` reloads a resource's table on demand (editors only) and
`ecarto_ingest_status` tells anyone who may read the resource what was loaded and rejected."""
from __future__ import annotations

import io

import pytest
from ckan import logic
from ckan.tests import factories, helpers
from werkzeug.datastructures import FileStorage

from ckanext.ecarto.ingest import SKIP_FLAG, ingest_resource

from .ingest_helpers import IPS, raw_bytes, registry

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db", "ingest_db")


def test_reload_and_status():
    admin = {"user": factories.Sysadmin()["name"]}
    org = factories.Organization()
    package = helpers.call_action("package_create", dict(admin), name="ips-actions", title="IPS",
                                  axe="etablissements", owner_org=org["id"])
    valid = raw_bytes(IPS)
    lines = valid.decode("utf-8-sig").split("\n")
    lines[1] = lines[1].replace(lines[1].split(";")[1], "0750001A")
    faulty = "\n".join(lines).encode()

    # a file the validation refuses is not loaded, not even by a forced reload (issue 15)
    resource = helpers.call_action("resource_create", dict(admin), package_id=package["id"], name="IPS", format="CSV",
                                   upload=FileStorage(io.BytesIO(faulty), filename="ips.csv"))
    assert registry(resource["id"])["failure"]["code"] == "validation"
    refused = helpers.call_action("ecarto_ingest_resource", dict(admin), id=resource["id"], force=True)
    assert refused["status"] == "error" and registry(resource["id"])["table_name"] is None

    helpers.call_action("resource_update", dict(admin), id=resource["id"], package_id=package["id"], name="IPS",
                        format="CSV", upload=FileStorage(io.BytesIO(valid), filename="ips.csv"))
    loaded_at = registry(resource["id"])["loaded_at"]
    unchanged = helpers.call_action("ecarto_ingest_resource", dict(admin), id=resource["id"])
    assert unchanged["unchanged"] is True and registry(resource["id"])["loaded_at"] == loaded_at
    forced = helpers.call_action("ecarto_ingest_resource", dict(admin), id=resource["id"], force=True)
    assert forced["unchanged"] is False and forced["n_rows"] == 6864 and forced["n_rejected"] == 0
    assert registry(resource["id"])["loaded_at"] > loaded_at

    # the loader's own rejects, for code that loads by itself (harvests, `ckan ecarto load`)
    harvested = helpers.call_action("resource_create", {**admin, SKIP_FLAG: True}, package_id=package["id"],
                                    name="IPS moissonné", format="CSV",
                                    upload=FileStorage(io.BytesIO(faulty), filename="ips-moissonne.csv"))
    report = ingest_resource(harvested["id"])
    assert report.n_rows == 6863 and report.n_rejected == 1
    status = helpers.call_action("ecarto_ingest_status", {"user": "", "ignore_auth": False}, id=harvested["id"])
    assert status["status"] == "ok" and status["key_column"] == "UAI" and status["n_rejected"] == 1
    assert status["rejects"] == [{"row": 1, "value": "0750001A",
                                  "reason": "UAI 0750001A invalide : la lettre clé attendue est U."}]
    assert helpers.call_action("ecarto_ingest_status", {"user": "", "ignore_auth": False}, id=harvested["id"],
                               rejects_limit=0)["rejects"] == []

    outsider = factories.User()
    with pytest.raises(logic.NotAuthorized):
        helpers.call_action("ecarto_ingest_resource", {"user": outsider["name"], "ignore_auth": False},
                            id=resource["id"])
