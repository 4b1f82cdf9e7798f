"""The record of one territory: the page, its `.json`/`.csv` exports and the action
``ecarto_territoire_show`` all serve this dict.

    {"niveau", "code", "nom", "libelle", "parents": [...], "enfants": {...},
     "effectifs": {"ecoles_colleges_lycees", "autres", "par_type": [...], "education_prioritaire": {...}},
     "axes": [{"id", "label", "indicateurs": [{"serie", "libelle", "unite", "statistique", "source",
               "millesime", "valeur", "n_etablissements"|"n_communes", "n_valeurs", "taux_nc",
               "parent": {...}, "france": {...}, "ventilation": [...]}],
               "sans_donnees": [{"id", "label"}]}],
     "donnees_au": "…"}

Values of shares are in percent (``unite`` "%"); ``valeur`` None means n.c.: no establishment
(or commune) of the territory has a value. No ranking: each value comes with its parent's and
France's, never a position.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Optional

from sqlalchemy.engine import Connection

from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements.identity import TYPES
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates
from ckanext.ecarto.territoires import indicators as ind

AXES: tuple[tuple[str, str], ...] = axes_mod.AXES + (("etablissements", "Contexte des établissements"),)

# Children shown on a territory's map and list.
CHILD_LEVEL = {
    territories.FRANCE: territories.REGION,
    territories.REGION: territories.DEPARTEMENT,
    territories.ACADEMIE: territories.DEPARTEMENT,
    territories.DEPARTEMENT: territories.COMMUNE,
}


def child_levels(level: str) -> list[str]:
    """Levels offered for the choropleth of a territory's children."""
    if level == territories.FRANCE:
        return [territories.REGION, territories.ACADEMIE, territories.DEPARTEMENT]
    if level in (territories.REGION, territories.ACADEMIE):
        return [territories.DEPARTEMENT]
    return []


def children(territory: territories.Territory, child_level: Optional[str] = None) -> list[territories.Territory]:
    level = child_level or CHILD_LEVEL.get(territory.level)
    if not level:
        return []
    if territory.level == territories.FRANCE:
        return territories.all_of(level)
    return territories.descendants(territory.level, territory.code, level)


def link(territory: territories.Territory) -> dict[str, Any]:
    return {"niveau": territory.level, "code": territory.code, "nom": territory.name,
            "libelle": territory.label, "chemin": path(territory)}


def path(territory: territories.Territory) -> str:
    if territory.level == territories.FRANCE:
        return "/territoire/france"
    return f"/territoire/{territory.level}/{territory.code}"


def key(territory: territories.Territory) -> tuple[str, str]:
    return (territory.level, territory.code)


# --------------------------------------------------------------------------- counts

def counts_block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The establishment counts of a territory (by type, sector, lycée kind, REP) from the
    rows of ``aggregates.counts``."""
    by_type: dict[str, dict[str, int]] = {k: {"total": 0, "public": 0, "prive": 0, "non_renseigne": 0} for k in TYPES}
    lycees = {"LGT": 0, "LP": 0}
    ep = {"REP+": 0, "REP": 0}
    for row in rows:
        kind = row["type"] or "autre"
        slot = by_type.setdefault(kind, {"total": 0, "public": 0, "prive": 0, "non_renseigne": 0})
        slot["total"] += row["n"]
        slot[row["secteur"] if row["secteur"] in ("public", "prive") else "non_renseigne"] += row["n"]
        if kind == "lycee" and row["lycee_kind"] in lycees:
            lycees[row["lycee_kind"]] += row["n"]
        if kind != "autre" and row["ep"] in ep:
            ep[row["ep"]] += row["n"]
    return {
        "ecoles_colleges_lycees": sum(by_type[k]["total"] for k in ("ecole", "college", "lycee")),
        "autres": by_type["autre"]["total"],
        "par_type": [{"type": k, "libelle": TYPES[k], **by_type[k]} for k in ("ecole", "college", "lycee", "autre")],
        "lycees": lycees,
        "education_prioritaire": ep,
    }


# --------------------------------------------------------------------------- indicators

def figure(series: ind.Series, row: Optional[dict[str, Any]]) -> dict[str, Any]:
    """The displayed figure of one aggregate row (None row: nothing known in that territory)."""
    n = row["n"] if row else 0
    k = row["k"] if row else 0
    value = ind.display_value(series.statistique, row["valeur"], series.unit) if row else None
    result: dict[str, Any] = {
        "valeur": value,
        "nc": value is None,
        ("n_communes" if series.key_kind == "commune" else "n_etablissements"): n,
        "n_valeurs": k,
        "taux_nc": round(1 - k / n, 4) if n else None,
    }
    if row and series.key_kind == "uai":
        if row.get("n_positif") is not None and k:
            result["part_positive"] = round(row["n_positif"] / k * 100, 1)
        if row.get("n_seuil") is not None and k:
            result["part_au_dessus_seuil"] = round(row["n_seuil"] / k * 100, 1)
        if row.get("eleves") and row.get("somme_e"):
            result["eleves_par_unite"] = round(row["eleves"] / row["somme_e"], 1)
    return result


def indicator_block(series: ind.Series, rows: dict[tuple[str, str, str], dict[str, Any]],
                    territory: territories.Territory, parent: Optional[territories.Territory]) -> dict[str, Any]:
    own = key(territory)
    block = series.as_public()
    block["unite"] = ind.display_unit(series.statistique, series.unit)
    block.update(figure(series, rows.get((series.serie, own[0], own[1], "ensemble"))))
    if parent is not None and parent.level != territories.FRANCE:
        block["parent"] = {**link(parent), **figure(series, rows.get((series.serie, parent.level, parent.code, "ensemble")))}
    if territory.level != territories.FRANCE:
        block["france"] = figure(series, rows.get((series.serie, territories.FRANCE, "", "ensemble")))
    dims = [d for d, _ in ind.DIMENSIONS[1:]] if series.key_kind == "uai" else []
    block["ventilation"] = []
    for dim in dims:
        row = rows.get((series.serie, own[0], own[1], dim))
        if row is None:
            continue
        block["ventilation"].append({"dim": dim, "libelle": ind.DIMENSION_LABELS[dim], **figure(series, row)})
    return block


def build(conn: Connection, territory: territories.Territory) -> dict[str, Any]:
    """The record of a territory (see the module docstring)."""
    chain = territories.ancestors(territory.level, territory.code)
    parent = chain[0] if chain else None
    keys = [key(territory)] + [key(t) for t in chain[:1]] + [(territories.FRANCE, "")]
    keys = list(dict.fromkeys(keys))
    all_series = aggregates.series(conn)
    rows = {(r["serie"], r["niveau"], r["code"], r["dim"]): r for r in aggregates.values(conn, keys)}
    count_rows = [r for r in aggregates.counts(conn, [key(territory)])]

    kids = children(territory)
    kid_counts = aggregates.children_counts(conn, kids[0].level, [c.code for c in kids]) if kids else {}

    by_axe: dict[str, list[dict[str, Any]]] = defaultdict(list)
    fed: set[str] = set()
    for series in all_series:
        block = indicator_block(series, rows, territory, parent)
        by_axe[series.axe if series.axe in dict(AXES) else "etablissements"].append(block)
        if series.indicateur:
            fed.add(series.indicateur)
    axes = []
    for axe_id, label in AXES:
        missing = [{"id": i.id, "label": i.label} for i in axes_mod.indicators().get(axe_id, ()) if i.id not in fed]
        axes.append({"id": axe_id, "label": label, "indicateurs": by_axe.get(axe_id, []), "sans_donnees": missing})

    return {
        **link(territory),
        "niveau_libelle": territories.LEVEL_LABELS[territory.level],
        "parents": [link(t) for t in chain],
        "enfants": {
            "niveau": kids[0].level if kids else None,
            "niveau_libelle": territories.LEVEL_LABELS[kids[0].level] if kids else None,
            "territoires": [{**link(c), "n_etablissements": kid_counts.get(c.code, 0)} for c in kids],
        },
        "effectifs": counts_block(count_rows),
        "axes": axes,
        "donnees_au": iso_date(aggregates.refreshed_at(conn)),
        "perimetre": ("Données publiques chargées sur le portail ; établissements ouverts des annuaires publiés. "
                      "Taux n.c. : part des établissements (ou des communes) du périmètre de la source sans valeur."),
    }


def iso_date(value: Any) -> Optional[str]:
    """A timestamp as ISO 8601 to the second (None stays None)."""
    return value.isoformat(timespec="seconds") if value is not None else None


# --------------------------------------------------------------------------- choropleth

def choropleth(conn: Connection, territory: territories.Territory, child_level: str, serie: str,
               dim: str = "ensemble") -> Optional[dict[str, Any]]:
    """Values of the children territories for one series (the map's data), or None when the
    series is unknown."""
    series = next((s for s in aggregates.series(conn) if s.serie == serie), None)
    if series is None:
        return None
    kids = children(territory, child_level)
    rows = {r["code"]: r for r in aggregates.children_values(conn, serie, child_level, [c.code for c in kids], dim)}
    items = []
    for child in kids:
        fig = figure(series, rows.get(child.code))
        items.append({"code": child.code, "nom": child.name, "chemin": path(child), **fig})
    values = [i["valeur"] for i in items if i["valeur"] is not None]
    meta = series.as_public()
    meta["unite"] = ind.display_unit(series.statistique, series.unit)
    return {"niveau": child_level, "dim": dim, "dim_libelle": ind.DIMENSION_LABELS.get(dim, dim),
            "serie": meta, "classes": ind.classes(values), "territoires": items}


def series_options(conn: Connection) -> list[dict[str, Any]]:
    """Series offered in the map's selector, grouped by axis."""
    labels = dict(AXES)
    return [{"serie": s.serie, "libelle": s.label, "axe": s.axe, "axe_libelle": labels.get(s.axe, s.axe),
             "millesime": s.millesime, "source": s.package_title,
             "unite": ind.display_unit(s.statistique, s.unit)}
            for s in aggregates.series(conn)]


def series_groups(conn: Connection) -> list[tuple[str, list[dict[str, Any]]]]:
    """`series_options` grouped by axis, in the axes' order."""
    options = series_options(conn)
    return [(label, [o for o in options if o["axe"] == axe]) for axe, label in AXES
            if any(o["axe"] == axe for o in options)]


def default_serie(conn: Connection) -> Optional[str]:
    """The series a map opens on: an establishment-level one with the best national coverage
    (fewest n.c.), else the best-covered commune-level one."""
    best: Optional[tuple[Any, ...]] = None
    rows = {r["serie"]: r for r in aggregates.values(conn, [(territories.FRANCE, "")]) if r["dim"] == "ensemble"}
    for series in aggregates.series(conn):          # in the series' order: first wins a tie
        row = rows.get(series.serie)
        if not row or not row["n"]:
            continue
        rank = (series.key_kind == "uai", row["k"] / row["n"], row["k"])
        if best is None or rank > best[0]:
            best = (rank, series.serie)
    return best[1] if best else None
