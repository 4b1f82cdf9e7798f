"""A private dataset's ingested table is registered like any other, but the pages' access rule
(read from CKAN's package at query time, so it follows the dataset when it changes) hides it from
anonymous visitors and members of other organizations; its status is private too."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.tests import factories, helpers
from werkzeug.datastructures import FileStorage

from ckanext.ecarto.core import access
from .ingest_helpers import IPS, registry

pytestmark = pytest.mark.usefixtures("with_plugins", "ecarto_db", "ingest_db")


def _visible_resources(reader):
    sql = sa.text(f"SELECT r.resource_id FROM ecarto_ingested_resource r JOIN package p ON p.id = r.package_id "
                  f"WHERE r.status = 'ok' AND {access.readable_packages_sql('p')}")
    with model.meta.engine.connect() as conn:
        return {row[0] for row in conn.execute(sql, access.reader_params(reader))}


def test_private_dataset_table_is_hidden_from_outsiders():
    member = factories.User()
    outsider = factories.User()
    org = factories.Organization(users=[{"name": member["name"], "capacity": "member"}])
    admin = {"user": factories.Sysadmin()["name"]}
    package = helpers.call_action("package_create", context=dict(admin), name="ips-prive", title="IPS privé", axe="etablissements",
                                  owner_org=org["id"], private=True)
    resource = helpers.call_action("resource_create", context=dict(admin), package_id=package["id"], name="IPS", format="CSV",
                                   upload=FileStorage(stream=io.BytesIO(IPS.read_bytes()), filename="ips.csv"))
    assert registry(resource["id"])["status"] == "ok"

    assert resource["id"] not in _visible_resources(access.ANONYMOUS)
    assert resource["id"] not in _visible_resources(access.reader_for(outsider["name"]))
    assert resource["id"] in _visible_resources(access.reader_for(member["name"]))

    with pytest.raises(Exception) as anonymous:
        helpers.call_action("ecarto_ingest_status", context={"user": "", "ignore_auth": False}, id=resource["id"])
    assert "NotAuthorized" in type(anonymous.value).__name__
    status = helpers.call_action("ecarto_ingest_status", context={"user": member["name"], "ignore_auth": False},
                                 id=resource["id"])
    assert status["n_rows"] == 6864

    helpers.call_action("package_patch", context=dict(admin), id=package["id"], private=False)
    assert resource["id"] in _visible_resources(access.ANONYMOUS)
