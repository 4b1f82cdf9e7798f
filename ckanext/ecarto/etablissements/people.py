"""The establishment record as people read it: the page's view of ``record.build`` and the rows
of its « people » CSV (one row per indicator, French numbers).

``page_view`` returns a copy of the record with what the page prints beside the published
values (the JSON and the machine CSV keep those as they are):

- ``identite``: ``nature_lisible``, ``etat_lisible``, ``secteur_lisible``, ``latitude_lisible`` and
  ``longitude_lisible`` (5 decimals, French comma);
- every column item (« Autres données », commune measures): ``affichage`` — {"text", "code",
  "title"} when the value is a code or an all-capitals category the portal explains (Arcep
  operators, nature codes, sector), else None;
- every block with rows (``lignes``): ``tableau`` — the rows turned so that the columns of the
  file are the table's rows and its periods (or lines) its columns: a file with twelve columns
  and one row of a commune fits a phone's width.

``indicator_rows`` lists one row per indicator of the page (axes, commune context, other data,
and the identity's main facts) with: axe, libellé, valeur (French format, « n.c. » when none),
unité, période, source (the dataset's title), références (the comparison values the page
shows). Only what ``record.build`` put in the record (datasets the visitor may read) is used.
"""
from __future__ import annotations

import copy
from typing import Any, Optional

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import labels

NC = "n.c."


# --------------------------------------------------------------------------- the page

def _shown(header: str, role: Optional[str], value: Any) -> Optional[dict[str, Any]]:
    found = labels.explain(header, role, value)
    if found is None:
        return None
    return {"text": found.text, "code": found.code, "title": found.title}


def _annotate_item(item: dict[str, Any]) -> None:
    header = item.get("colonne") or item.get("label") or ""
    item["affichage"] = _shown(header, item.get("role"), item.get("valeur"))
    for old in item.get("historique") or []:
        old["affichage"] = _shown(header, item.get("role"), old.get("valeur"))


def _line_heading(line: dict[str, Any], index: int) -> str:
    return str(line.get("periode") or _("ligne {n}").format(n=index))


def table_of(colonnes: list[dict[str, Any]], lignes: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows of a block turned: one table row per column of the file (period excluded), one
    table column per line of the file, latest first."""
    ordered = list(enumerate(lignes, start=1))[::-1]
    if len(ordered) == 1 and not ordered[0][1].get("periode"):
        heads = [_("Valeur")]
    else:
        heads = [_line_heading(line, i) for i, line in ordered]
    rows = []
    for col in colonnes:
        name = col.get("colonne")
        if name == "periode" or col.get("role") == "period":
            continue
        cells = [{"valeur": line.get(name), "affichage": _shown(name, col.get("role"), line.get(name))}
                 for _i, line in ordered]
        rows.append({"colonne": name, "label": col.get("label") or labels.humanize(name),
                     "unit": col.get("unit"), "cellules": cells})
    return {"entetes": heads, "lignes": rows}


def _line_columns(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The columns of a block's `lignes` (« Autres données »: the file's names as keys)."""
    known = {c.get("colonne"): c for c in block.get("colonnes") or []}
    names: list[str] = []
    for line in block.get("lignes") or []:
        for key in line:
            if key not in names:
                names.append(key)
    cols = []
    for name in names:
        col = known.get(name) or {"colonne": name, "label": labels.humanize(name), "role": None}
        cols.append(col)
    return cols


def page_view(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of the record with what the page prints beside the published values (see the
    module docstring)."""
    view = copy.deepcopy(record)
    ident = view["identite"]
    ident["nature_lisible"] = labels.nature_label(ident.get("code_nature"),
                                                  ident.get("libelle_nature") or ident.get("type_libelle")) \
        or ident.get("type_label")
    ident["etat_lisible"] = labels.normal_case(ident.get("etat")) if ident.get("etat") else ""
    ident["secteur_lisible"] = labels.sector_label(ident.get("secteur"))
    ident["latitude_lisible"] = labels.coordinate(ident.get("latitude"))
    ident["longitude_lisible"] = labels.coordinate(ident.get("longitude"))
    for axe in view["axes"]:
        for item in axe.get("niveau_commune") or []:
            _annotate_item(item)
    for block in view["autres_donnees"]:
        for item in block.get("colonnes") or []:
            _annotate_item(item)
        block["tableau"] = table_of(_line_columns(block), block["lignes"]) if block.get("lignes") else None
    for block in view["contexte_commune"]:
        for item in block.get("mesures") or []:
            _annotate_item(item)
        block["tableau"] = table_of(block.get("colonnes") or [], block.get("lignes") or [])
    return view


# --------------------------------------------------------------------------- the people CSV

HEADER = ("axe", "libellé", "valeur", "unité", "période", "source", "références")


def value_text(value: Any, header: str = "", role: Optional[str] = None) -> str:
    """A value as the page prints it: French number, « Oui »/« Non », an explained code, or
    « n.c. »."""
    if value is None or value == "":
        return NC
    if isinstance(value, (bool, int, float)):
        return labels.french_number(value)
    shown = labels.explain(header, role, value)
    if shown is not None:
        return f"{shown.text} ({shown.code})" if shown.code else shown.text
    return str(value)


def _status_text(item: dict[str, Any]) -> Optional[str]:
    statut = item.get("statut")
    if statut == "non_applicable":
        return _("non applicable")
    if statut == "periodes_non_ordonnables":
        return _("pas de valeur actuelle")
    if statut == "par_dimension":
        parts = []
        for d in item.get("detail") or []:
            dims = ", ".join(f"{k} {v}" for k, v in (d.get("dimensions") or {}).items())
            parts.append(f"{dims} : {value_text(d.get('valeur'))}")
        return " ; ".join(parts)
    return None


def references_text(refs: Optional[dict[str, Any]]) -> str:
    """« Commune 30350 : moyenne 104 (1/1 étab., 0 % n.c.) ; Département 30 : … »."""
    if not refs:
        return ""
    parts = []
    for ref in refs.values():
        where = f"{ref.get('label')} {ref.get('code')}" if ref.get("code") else str(ref.get("label"))
        mean = ref.get("moyenne")
        if mean is None:
            figure = NC
        elif ref.get("statistique") == "part_oui":
            figure = _("{share} de « Oui »").format(share=f"{round(float(mean) * 100)} %")
        else:
            figure = _("moyenne {value}").format(value=labels.french_number(mean))
        nc_share = ref.get("taux_nc")
        counts = _("{k}/{n} étab., {nc} n.c.").format(
            k=ref.get("n_valeurs"), n=ref.get("n_etablissements"),
            nc=f"{round(float(nc_share) * 100)} %" if nc_share is not None else NC)
        parts.append(f"{where} : {figure} ({counts})")
    return " ; ".join(parts)


def _row(axe: str, item: dict[str, Any], label: str, source: Optional[dict[str, Any]],
         header: str = "", level: Optional[str] = None) -> list[str]:
    status = _status_text(item)
    value = status if status is not None else value_text(item.get("valeur"), header, item.get("role"))
    src = item.get("source") or source or {}
    if level:
        label = f"{label} ({level})"
    return [axe, label, value, item.get("unit") or "", item.get("periode") or src.get("millesime") or "",
            src.get("dataset_title") or "", references_text(item.get("references"))]


def _identity_rows(ident: dict[str, Any]) -> list[list[str]]:
    axe = _("Identité")
    facts = [
        (_("Nom"), ident.get("nom")),
        (_("Nature"), labels.nature_label(ident.get("code_nature"), ident.get("libelle_nature")) or ident.get("type_label")),
        (_("Secteur"), labels.sector_label(ident.get("secteur"))),
        (_("Commune"), " ".join(str(x) for x in (ident.get("commune_nom"), f"({ident['commune_code']})"
                                                 if ident.get("commune_code") else None) if x)),
        (_("Département"), ident.get("departement_nom")),
        (_("Académie"), ident.get("academie_nom")),
        (_("Éducation prioritaire"), ident.get("education_prioritaire") or _("hors éducation prioritaire ou non renseigné")),
        (_("Élèves"), labels.french_number(ident["eleves"]) if ident.get("eleves") is not None else NC),
        (_("Latitude"), labels.coordinate(ident.get("latitude")) or NC),
        (_("Longitude"), labels.coordinate(ident.get("longitude")) or NC),
    ]
    sources = ", ".join(s.get("dataset_title") or "" for s in ident.get("sources") or [])
    return [[axe, label, str(value) if value not in (None, "") else NC, "", "", sources, ""] for label, value in facts]


def indicator_rows(record: dict[str, Any]) -> list[list[str]]:
    """The rows of the people CSV (header ``HEADER`` first)."""
    rows: list[list[str]] = [list(HEADER)]
    rows.extend(_identity_rows(record["identite"]))
    commune = _("niveau commune")
    for axe in record["axes"]:
        for ind in axe["indicateurs"]:
            rows.append(_row(axe["label"], ind, ind["label"], None))
        for item in axe.get("niveau_commune") or []:
            rows.append(_row(axe["label"], item, item["label"], None, item.get("colonne") or "", commune))
    other = _("Autres données")
    for block in record["autres_donnees"]:
        for col in block.get("colonnes") or []:
            rows.append(_row(other, col, col["label"], block.get("source"), col.get("colonne") or ""))
    context = _("Contexte de la commune")
    for block in record["contexte_commune"]:
        for item in block.get("mesures") or []:
            rows.append(_row(context, item, item["label"], block.get("source"), item.get("colonne") or "", commune))
    return rows
