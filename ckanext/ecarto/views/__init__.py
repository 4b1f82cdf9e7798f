"""Flask blueprints of the portal's own pages."""
from __future__ import annotations

from flask import Blueprint


def get_blueprints() -> list[Blueprint]:
    from ckanext.ecarto.views.etablissement import etablissement
    from ckanext.ecarto.views.publication import publication
    from ckanext.ecarto.views.territoire import territoire
    return [etablissement, publication, territoire]
