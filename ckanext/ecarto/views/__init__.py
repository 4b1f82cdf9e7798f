"""Flask blueprints of the portal's own pages."""
from __future__ import annotations

from flask import Blueprint

from ckanext.ecarto.views.colonnes import colonnes
from ckanext.ecarto.views.etablissement import etablissement
from ckanext.ecarto.views.pages import pages
from ckanext.ecarto.views.publication import publication
from ckanext.ecarto.views.qualite import qualite
from ckanext.ecarto.views.schemas import schemas
from ckanext.ecarto.views.territoire import territoire


def get_blueprints() -> list[Blueprint]:
    return [etablissement, publication, territoire, colonnes, schemas, qualite, pages]
