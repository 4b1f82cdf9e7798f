"""The scheming schema is composed from common.yaml + axes/<axe>.yaml, and the per-axis Table
Schemas carry the indicators the establishment pages read."""
from __future__ import annotations

import json

import pytest

from ckanext.ecarto.core.axes import AXIS_IDS
from ckanext.ecarto.schemas import SCHEMAS_DIR, compose

AXES = AXIS_IDS


def test_dataset_yaml_is_up_to_date():
    assert compose.main(["--check"]) == 0, "python -m ckanext.ecarto.schemas.compose"


def test_one_ckan_type_with_every_axis():
    schema = compose.build()
    assert schema["dataset_type"] == "dataset"
    axe = next(f for f in schema["dataset_fields"] if f["field_name"] == "axe")
    assert [c["value"] for c in axe["choices"]] == list(AXES)
    assert axe["required"] is True
    names = [f["field_name"] for f in schema["dataset_fields"]]
    for name in ("territoire_niveau", "territoire_code", "millesime", "frequency", "temporal_start",
                 "temporal_end", "spatial", "url", "license_id", "author", "maintainer", "maintainer_email"):
        assert name in names
    for axe_name in AXES:
        own = [f for f in schema["dataset_fields"] if f.get("ecarto_axe") == axe_name]
        assert own, axe_name
        for field in own:
            assert field["field_name"].startswith(axe_name + "_")
            assert field["validators"].startswith(f"ecarto_axe_only({axe_name}) ")
    resource_names = [f["field_name"] for f in schema["resource_fields"]]
    for name in ("uai_column", "commune_column", "millesime", "data_dictionary"):
        assert name in resource_names


def test_required_fields_are_ones_a_loader_fills():
    schema = compose.build()
    required = {f["field_name"] for f in schema["dataset_fields"] if f.get("required")}
    assert required == {"axe", "notes"}   # notes: `ckan ecarto load` writes a factual one when not given


@pytest.mark.parametrize("axe", AXES)
def test_table_schema_per_axis(axe):
    table = json.loads((SCHEMAS_DIR / "tableschema" / f"{axe}.json").read_text(encoding="utf-8"))
    names = [f["name"] for f in table["fields"]]
    assert names[0] == "uai"
    assert table["fields"][0]["constraints"]["pattern"] == "^[0-9]{7}[A-HJ-NPR-Z]$"
    for field in table["fields"]:
        assert field["title"] and field["description"]
        assert field["type"] in ("string", "integer", "number", "boolean", "date")
        assert isinstance(field.get("x-aliases", []), list)
    indicators = compose.indicator_choices(compose.load_yaml(f"axes/{axe}.yaml"))
    assert indicators and all(c["value"] in names for c in indicators)
