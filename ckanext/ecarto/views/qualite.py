"""The editors' metadata quality dashboard, ``/tableau-de-bord/qualite`` (linked from the user
dashboard's tabs): the datasets the user may edit, worst score first, each with what is missing
and how to fix it (``quality/dashboard.py``). Logged-in users only."""
from __future__ import annotations

from flask import Blueprint, request

import ckan.plugins.toolkit as tk

from ckanext.ecarto.quality import dashboard

qualite = Blueprint("ecarto_qualite", __name__)


@qualite.route("/tableau-de-bord/qualite")
def tableau_de_bord() -> str:
    if not tk.current_user or not tk.current_user.is_authenticated:
        return tk.abort(403, tk._("Connectez-vous pour voir la qualité des métadonnées de vos jeux de données."))
    choice = request.args.get("tri") or dashboard.DEFAULT_SORT
    if choice not in dashboard.SORTS:
        choice = dashboard.DEFAULT_SORT
    rows = dashboard.rows_for(tk.current_user.name, choice)
    return tk.render("ecarto/qualite/dashboard.html", {"rows": rows, "tri": choice, "user_dict": None})
