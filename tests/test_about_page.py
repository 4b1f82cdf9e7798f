"""« À propos » (`/about`, CKAN's home.about): eCarto and its history, the four axes, the
sources, how the figures are computed (period, coverage threshold, n.c.), the licence and who
publishes — in French, without CKAN's own presentation. A deployment's `ckan.site_about`
replaces the presentation paragraph only."""
from __future__ import annotations

import html
import re

import pytest

from ckan.common import config

from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data


def _about(app) -> tuple[str, str]:
    response = app.get("/about")
    assert response.status_code == 200
    body = response.body
    return body, re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.mark.usefixtures("with_plugins")
def test_about_presents_ecarto_not_ckan(portal, app):
    body, text = _about(app)
    assert "À propos d’eCarto" in text
    assert "né en 2018" in text and "Banque des Territoires" in text and "Etalab" in text and "Arcep" in text
    assert "Association des maires de France" in text and "Régions de France" in text
    for axis in ("Connectivité", "Équipement", "Services et ressources", "Expérimentations"):
        assert f"<dt>{axis}</dt>" in body
    for ckan_text in ("CKAN is the world", "open-source data portal", "CKAN est le", "About"):
        assert ckan_text not in text
    # the catalogue as an anonymous visitor sees it: the sample's 3 datasets and 2 producers
    assert "3 jeux de données publics de 2 producteurs" in text


@pytest.mark.usefixtures("with_plugins")
def test_about_names_its_sources_and_links_them(portal, app):
    body, text = _about(app)
    for source in ("annuaire de l’éducation", "enquête ETIC", "indice de position sociale (IPS)",
                   "Ma connexion internet", "Mon réseau mobile", "data.gouv.fr"):
        assert source in text, source
    for href in ('href="/schemas"', 'href="/organization/"', 'href="/dataset/"', 'href="/etat-des-lieux"',
                 'href="/documentation-api"', 'href="/accessibilite"',
                 'href="https://www.etalab.gouv.fr/licence-ouverte-open-licence/"'):
        assert href in body, href


@pytest.mark.usefixtures("with_plugins")
def test_about_explains_figures_with_the_configured_threshold(portal, app, monkeypatch):
    _, text = _about(app)
    assert "moins de 50 % des établissements" in text
    assert "n.c. signifie « non communiqué »" in text and "jamais un zéro" in text
    assert "Licence Ouverte / Open Licence version 2.0" in text
    assert "article L. 312-1-1 du code des relations entre le public et l’administration" in text
    monkeypatch.setitem(config, "ckanext.ecarto.coverage_threshold", "0.7")
    _, text = _about(app)
    assert "moins de 70 % des établissements" in text


@pytest.mark.usefixtures("with_plugins")
def test_site_about_replaces_the_presentation_only(portal, app, monkeypatch):
    monkeypatch.setitem(config, "ckan.site_about",
                        "**Observatoire du numérique éducatif de la Haute-Garonne**, publié par le Département.\n\n"
                        "<script>alert(1)</script>")
    body, text = _about(app)
    assert "<strong>Observatoire du numérique éducatif de la Haute-Garonne</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "né en 2018" not in text                              # the deployment's text instead
    assert "Comment les chiffres sont calculés" in text and "Licence" in text   # the data sections stay
