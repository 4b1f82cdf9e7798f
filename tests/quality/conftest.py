"""The sample catalogue of `ckan ecarto load-sample` (the real files of data/sample), built once
per module through the CLI command, plus the people of the quality dashboard tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ckan.tests import factories, helpers

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
PASSWORD = "motdepasse-de-test-123"
PRIVATE_DATASET = "brouillon-prive-menj"


@dataclass
class People:
    editor_menj: dict[str, Any]     # editor of the organization menj
    editor_arcep: dict[str, Any]    # editor of arcep only
    member_none: dict[str, Any]     # no organization

    def token(self, who: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": helpers.call_action("api_token_create", {"ignore_auth": True},
                                                     user=who["name"], name="t")["token"]}


@pytest.fixture(scope="module")
def sample_portal(module_portal_db) -> str:
    """The sample datasets loaded by `ckan ecarto load-sample`; returns the command's output."""
    from ckanext.ecarto.ingest import commands

    app = helpers._get_test_app()
    with app.flask_app.test_request_context():
        result = CliRunner().invoke(commands.load_sample, ["--dir", str(SAMPLE)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def people(sample_portal) -> People:
    """An editor of each sample organization, a user of none, and one private dataset of menj
    (with a short description: a low score). Requested by the first test of a module, while the
    plugins loaded by `module_portal_db` are all there."""
    made = People(*(factories.User(name=name, password=PASSWORD)
                    for name in ("editrice-menj", "editeur-arcep", "sans-organisation")))
    for org, user in (("menj", made.editor_menj), ("arcep", made.editor_arcep)):
        helpers.call_action("organization_member_create", {"ignore_auth": True}, id=org,
                            username=user["name"], role="editor")
    helpers.call_action("package_create", {"user": made.editor_menj["name"]}, name=PRIVATE_DATASET,
                        title="Brouillon privé du ministère", owner_org="menj", private=True,
                        axe="etablissements", notes="Brouillon.", license_id="etalab-2.0")
    return made
