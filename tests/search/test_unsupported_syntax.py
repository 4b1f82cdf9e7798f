"""What the backend cannot answer faithfully is an explicit error, never a guessed result."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.mark.parametrize("params, fragment", [
    ({"q": "{!func}sum(1,2)"}, "Local parameters"),   # refused by CKAN itself first
    ({"q": "title:annuaire^4"}, "pondération"),
    ({"q": "annuaire~2"}, "floue"),
    ({"q": "name:/ann.*/"}, "expressions régulières"),
    ({"fq": 'tags:"écoles'}, "guillemet"),
    ({"fq": "organization:(menj OR arcep"}, "parenthèse"),
    ({"fq": "metadata_modified:[2024-01-01 TO"}, "intervalle"),
    ({"sort": "title_string sideways"}, "sort"),
    ({"ext_bbox": "1,2,3"}, "ext_bbox"),
])
def test_unsupported_query_is_rejected_with_a_reason(app, catalogue, params, fragment):
    res = app.get("/api/3/action/package_search", query_string=params)
    assert res.status_code in (400, 409)
    body = res.json
    assert body["success"] is False
    assert fragment in str(body["error"])


def test_catalogue_page_explains_a_bad_query(app, catalogue):
    res = app.get("/dataset/", query_string={"q": "title:annuaire^4"})
    assert res.status_code in (200, 400)
    assert "annuaire-education-occitanie" not in res.body
