"""A harvest source's rule can fix the roles of the columns it harvests (issue #14): its
``data_dictionary`` reaches the harvested resource and the ingestion's column model."""
from __future__ import annotations

import copy

import pytest

from ckanext.ecarto.harvesters import mapping
from ckanext.ecarto.harvesters.run import run_source
from ckanext.ecarto.ingest import registry

from .conftest import ODS_CONFIG, package_of

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_rule_roles_reach_the_column_model(make_source, remote):
    config = copy.deepcopy(ODS_CONFIG)
    for rule in config["datasets"]:
        if rule.get("keyword") == "IPS":
            rule["data_dictionary"] = [{"column": "Ecart-type de l'IPS", "role": "label",
                                        "label": "Écart-type (donné pour information)"}]
    source = make_source("ecarto_ods", remote.url, config)
    summary = run_source(source["name"])
    assert summary.errors == 0, summary.gather_errors + summary.object_errors
    resource = package_of("fr-en-ips-colleges-ap2022")["resources"][0]
    assert "Ecart-type" in resource["data_dictionary"]
    row = registry.status(resource["id"])
    by_source = {c["source"]: c for c in row["columns"]}
    ecart = by_source["Ecart-type de l'IPS"]
    assert (ecart["role"], ecart["origin"], ecart["type"]) == ("label", "dictionary", "string")
    assert ecart["label"] == "Écart-type (donné pour information)"
    assert by_source["IPS"]["role"] == "measure"
    # « Rentrée scolaire » 2023 is the period: rentrée 2023-2024
    assert row["layout"]["period"]["values"] == ["2023-2024"]


def test_rule_dictionary_wins_column_by_column():
    found = [{"column": "a", "label": "A", "type": "integer"}, {"column": "b", "label": "B"}]
    merged = mapping.rule_dictionary(found, {"columns": [{"column": "a", "role": "code"}],
                                             "layout": {"field_column": "Champ"}})
    assert merged == {"columns": [{"column": "a", "label": "A", "type": "integer", "role": "code"},
                                  {"column": "b", "label": "B"}], "layout": {"field_column": "Champ"}}
    assert mapping.rule_dictionary(found, None) == found
