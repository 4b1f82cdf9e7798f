"""The description `ckan ecarto load` gives a dataset it creates without `--description`.

Every dataset needs one (DCAT-AP: `dct:description` is mandatory; data.gouv.fr rates datasets on
it): a factual French text built from what the command knows — the file, the axis, the
producer, the period, and once the file is loaded, its rows and key column. Never empty, never
invented.
"""
from __future__ import annotations

import os
from typing import Optional

from ckanext.ecarto.core.axes import AXIS_LABELS
from ckanext.ecarto.core.translation import _, ungettext
from ckanext.ecarto.ingest.report import IngestReport

KEY_LABELS = {"uai": "UAI", "commune": "code commune INSEE"}


def _thousands(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def describe_load(path: str, *, axe: str, organization: Optional[str] = None,
                  millesime: Optional[str] = None, report: Optional[IngestReport] = None) -> str:
    """E.g. « Données du fichier ips-colleges-2023.csv, axe « Annuaire et référentiels des
    établissements » du numérique éducatif, produites par Arcep, millésime 2023. 7 537 lignes,
    clé UAI (colonne « UAI »). »"""
    name = os.path.basename(path)
    name = name[:-3] if name.endswith(".gz") else name
    text = _("Données du fichier {file}, axe « {axis} » du numérique éducatif").format(
        file=name, axis=_(AXIS_LABELS.get(axe, axe)))
    if organization:
        text += ", " + _("produites par {organization}").format(organization=organization)
    if millesime:
        text += ", " + _("millésime {period}").format(period=millesime)
    text += "."
    if report is not None and report.status == "ok" and report.n_rows:
        text += " " + ungettext("{n} ligne", "{n} lignes", report.n_rows).format(n=_thousands(report.n_rows))
        if report.key_column and report.key_kind:
            text += ", " + _("clé {kind} (colonne « {column} »)").format(
                kind=KEY_LABELS.get(report.key_kind, report.key_kind), column=report.key_column)
        text += "."
    return text
