"""The portal's content pages: `/accessibilite` (déclaration d'accessibilité, RGAA) and
`/documentation-api` (the Action API, the portal's exports and the DCAT catalogue, with curl
examples built from this portal's own data). « À propos » is CKAN's `home.about`, whose
template the extension overrides (templates/home/about.html)."""
from __future__ import annotations

from flask import Blueprint

import ckan.plugins.toolkit as tk

from ckanext.ecarto.logic import pages as logic

pages = Blueprint("ecarto_pages", __name__)


@pages.route("/accessibilite")
def accessibilite() -> str:
    return tk.render("ecarto/pages/accessibilite.html", {"declaration": logic.declaration()})


@pages.route("/documentation-api")
def api_doc() -> str:
    return tk.render("ecarto/pages/api_doc.html", {"doc": logic.api_documentation()})
