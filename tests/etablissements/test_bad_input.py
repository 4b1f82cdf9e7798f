"""Malformed and unknown UAIs, and content that tries to inject HTML."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_malformed_uai_is_a_400_explaining_the_check_letter(app, portal):
    res = app.get("/etablissement/0750001A")
    assert res.status_code == 400
    assert "la lettre clé attendue est U" in res.body
    res = app.get("/etablissement/12345")
    assert res.status_code == 400 and "7 chiffres" in res.body


def test_unknown_valid_uai_is_a_404_with_suggestions(app, portal):
    college = portal.college_with_ips()["Identifiant_de_l_etablissement"]
    digits = college[:5] + "99"
    from ckanext.ecarto.core.uai import check_letter
    unknown = digits + check_letter(digits)
    known = {r["Identifiant_de_l_etablissement"] for r in portal.annuaire}
    assert unknown not in known
    res = app.get(f"/etablissement/{unknown}")
    assert res.status_code == 404
    assert "Établissements proches" in res.body
    assert any(u in res.body for u in known if u.startswith(college[:5]))


def test_json_errors(app, portal):
    assert app.get("/etablissement/0750001A.json").status_code == 400
    res = app.get("/api/3/action/ecarto_etablissement_show", query_string={"uai": "0750001A"})
    assert res.status_code == 409 and "lettre clé attendue est U" in str(res.json["error"])


def test_search_input_is_escaped(app, portal):
    res = app.get("/etablissement", query_string={"q": "<script>alert(1)</script>"})
    assert res.status_code == 200
    assert "<script>alert(1)</script>" not in res.body
