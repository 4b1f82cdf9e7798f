"""The home page of a portal that has no data yet (a fresh deployment): it answers, says what
is missing, and shows no figure without a source — « n.c. » with its reason."""
from __future__ import annotations

import pytest


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_home_page_of_an_empty_portal(app):
    html = app.get("/", status=200).get_data(as_text=True)
    assert "Aucun jeu de données public pour le moment." in html
    assert "Aucun producteur n’a encore publié de jeu de données." in html
    assert "Aucun annuaire d’établissements publié sur le portail." in html
    assert 'data-figure="etablissements"' in html and "n.c." in html
    assert 'action="/etablissement"' in html and 'href="/territoire/region/76"' in html
