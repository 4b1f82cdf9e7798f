"""The DCAT catalogue conforms to the DCAT-AP 3 SHACL shapes (SEMIC, copy in tests/dcat/shacl/).

The portal emits DCAT-AP 3 (`euro_dcat_ap_3 ecarto`). The DCAT-AP 2.1.1 shapes are not used: they
require `locn:geometry` to be a literal, where DCAT-AP 3 requires a `locn:Geometry` node."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

pytestmark = pytest.mark.usefixtures("dcat_catalogue")

SHACL = Path(__file__).with_name("shacl")


@pytest.mark.parametrize("shapes", ["dcat-ap_3_shacl_shapes.ttl"])
def test_catalogue_passes_dcat_ap_shapes(app, shapes):
    from pyshacl import validate
    data = Graph().parse(data=app.get("/catalog.ttl", status=200).get_data(as_text=True), format="turtle")
    conforms, _graph, text = validate(data, shacl_graph=Graph().parse(SHACL / shapes, format="turtle"),
                                      inference="none", abort_on_first=False)
    problems = sorted({line.strip() for line in text.splitlines()
                       if line.strip().startswith(("Message:", "Result Path:", "Source Shape:"))})
    assert conforms, "\n".join(problems)[:5000]
