"""The record of one territory: the page, its `.json`/`.csv` exports and the action
``ecarto_territoire_show`` all serve this dict.

    {"niveau", "code", "nom", "libelle", "parents": [...], "enfants": {...},
     "effectifs": {"ecoles_colleges_lycees", "autres", "par_type": [...], "education_prioritaire": {...}},
     "axes": [{"id", "label", "indicateurs": [{"serie", "libelle", "unite", "statistique", "source",
               "sources": [{dataset…, "n_etablissements"|"n_communes"}], "millesime", "periode",
               "valeur", "statut", "n_etablissements"|"n_communes", "n_valeurs", "taux_nc",
               "parent": {...}, "france": {...}, "ventilation": [...],
               "evolution": [{"periode", "ordre", "valeur", "statut", "n_valeurs", …}], "graphique"}],
               "sans_donnees": [{"id", "label"}]}],
     "donnees_au": "…"}

Values of shares are in percent (``unite`` "%"). The headline is the series' latest period
(``periode``); the parent's and France's figures are on the same period; ``evolution`` has every
period. ``valeur`` None means n.c.: ``statut`` "nc" (no value), "couverture_insuffisante" (the
values cover less than ``columns.coverage_threshold()`` of the establishments or communes
concerned: « n.c. — couverture insuffisante (k sur n) », ``libelle_nc``) or
"sans_periode_courante" (periods that cannot be ordered, ``raison``). No ranking: each value
comes with its parent's and France's, never a position.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Optional

from sqlalchemy.engine import Connection

from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements.identity import TYPES
from ckanext.ecarto.ingest import columns
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates, chart
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

Rows = dict[tuple[str, str, str, str, str], dict[str, Any]]   # (serie, niveau, code, dim, periode) -> row


def coverage_label(k: int, n: int) -> str:
    """« n.c. — couverture insuffisante (k sur n) »."""
    return _("n.c. — couverture insuffisante ({k} sur {n})").format(
        k=_format_int(k), n=_format_int(n))


def _format_int(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def figure(series: ind.Series, row: Optional[dict[str, Any]], threshold: Optional[float] = None) -> dict[str, Any]:
    """The displayed figure of one aggregate row (None row: nothing known in that territory).
    A figure covering less than the coverage threshold of the establishments (or communes)
    concerned is no number: ``valeur`` None, ``statut`` "couverture_insuffisante"."""
    threshold = columns.coverage_threshold() if threshold is None else threshold
    n = row["n"] if row else 0
    k = row["k"] if row else 0
    value = ind.display_value(series.statistique, row["valeur"], series.unit) if row else None
    status = "ok"
    if n and k / n < threshold:
        value, status = None, "couverture_insuffisante"
    elif value is None:
        status = "nc"
    result: dict[str, Any] = {
        "valeur": value,
        "nc": value is None,
        "statut": status,
        ("n_communes" if series.key_kind == "commune" else "n_etablissements"): n,
        "n_valeurs": k,
        "taux_nc": round(1 - k / n, 4) if n else None,
        "periode": (row.get("periode") or None) if row else None,
    }
    if status == "couverture_insuffisante":
        result["libelle_nc"] = coverage_label(k, n)
    if row and series.key_kind == "uai" and status == "ok":
        if row.get("n_positif") is not None and k:
            result["part_positive"] = round(row["n_positif"] / k * 100, 1)
        if row.get("n_seuil") is not None and k:
            result["part_au_dessus_seuil"] = round(row["n_seuil"] / k * 100, 1)
        if row.get("eleves") and row.get("somme_e"):
            result["eleves_par_unite"] = round(row["eleves"] / row["somme_e"], 1)
    return result


def _row(rows: Rows, series: ind.Series, level: str, code: str, dim: str = "ensemble",
         periode: Optional[str] = None) -> Optional[dict[str, Any]]:
    wanted = series.periode_courante if periode is None else periode
    if wanted is None:
        return None
    return rows.get((series.serie, level, code, dim, wanted))


def evolution(series: ind.Series, rows: Rows, territory: territories.Territory,
              threshold: float) -> list[dict[str, Any]]:
    """The figure of every period of the series in the territory, oldest first."""
    result = []
    for period in series.periodes:
        label = period.get("periode") or ""
        fig = figure(series, rows.get((series.serie, territory.level, territory.code, "ensemble", label)), threshold)
        result.append({**fig, "periode": label or None, "ordre": period.get("ordre"),
                       "courante": label == series.periode_courante})
    return result


def indicator_block(series: ind.Series, rows: Rows, territory: territories.Territory,
                    parent: Optional[territories.Territory], threshold: Optional[float] = None) -> dict[str, Any]:
    """One series in a territory: the headline (latest period), its parent's and France's on the
    same period, the breakdowns, and every period (``evolution``)."""
    threshold = columns.coverage_threshold() if threshold is None else threshold
    own = key(territory)
    block = series.as_public()
    block["unite"] = ind.display_unit(series.statistique, series.unit)
    block.update(figure(series, _row(rows, series, *own), threshold))
    block["periode"] = series.periode_courante or None
    if series.periode_courante is None:
        block["statut"], block["raison"] = "sans_periode_courante", series.periode_raison
    if parent is not None and parent.level != territories.FRANCE:
        block["parent"] = {**link(parent), **figure(series, _row(rows, series, parent.level, parent.code), threshold)}
    if territory.level != territories.FRANCE:
        block["france"] = figure(series, _row(rows, series, territories.FRANCE, ""), threshold)
    dims = [d for d, _label in ind.DIMENSIONS[1:]] if series.key_kind == "uai" else []
    block["ventilation"] = []
    for dim in dims:
        row = _row(rows, series, own[0], own[1], dim)
        if row is None:
            continue
        block["ventilation"].append({"dim": dim, "libelle": ind.DIMENSION_LABELS[dim], **figure(series, row, threshold)})
    block["evolution"] = evolution(series, rows, territory, threshold)
    block["graphique"] = chart.evolution_chart(block["evolution"], block["unite"])
    return block


def build(conn: Connection, territory: territories.Territory) -> dict[str, Any]:
    """The record of a territory (see the module docstring)."""
    chain = territories.ancestors(territory.level, territory.code)
    parent = chain[0] if chain else None
    keys = [key(territory)] + [key(t) for t in chain[:1]] + [(territories.FRANCE, "")]
    keys = list(dict.fromkeys(keys))
    all_series = aggregates.series(conn)
    rows: Rows = {(r["serie"], r["niveau"], r["code"], r["dim"], r["periode"]): r for r in aggregates.values(conn, keys)}
    count_rows = [r for r in aggregates.counts(conn, [key(territory)])]
    threshold = columns.coverage_threshold()

    kids = children(territory)
    kid_counts = aggregates.children_counts(conn, kids[0].level, [c.code for c in kids]) if kids else {}

    by_axe: dict[str, list[dict[str, Any]]] = defaultdict(list)
    fed: set[str] = set()
    for series in all_series:
        block = indicator_block(series, rows, territory, parent, threshold)
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
        "seuil_couverture": threshold,
        "perimetre": _("Données publiques chargées sur le portail ; établissements ouverts des annuaires publiés. "
                       "Taux n.c. : part sans valeur des établissements ouverts des types et secteurs que couvre la source "
                       "(les fiches d'établissement comptent les mêmes), ou des communes. "
                       "Chaque chiffre porte sur la dernière période publiée ; un chiffre qui couvre moins de "
                       "{seuil} des établissements (ou des communes) concernés est « n.c. — couverture "
                       "insuffisante ».").format(seuil=f"{round(threshold * 100):d} %"),
    }


def iso_date(value: Any) -> Optional[str]:
    """A timestamp as ISO 8601 to the second (None stays None)."""
    return value.isoformat(timespec="seconds") if value is not None else None


# --------------------------------------------------------------------------- choropleth

def choropleth(conn: Connection, territory: territories.Territory, child_level: str, serie: str,
               dim: str = "ensemble") -> Optional[dict[str, Any]]:
    """Values of the children territories for one series, on its latest period (the map's
    data), or None when the series is unknown. A child whose coverage is too low has no value."""
    series = next((s for s in aggregates.series(conn) if s.serie == serie), None)
    if series is None:
        return None
    kids = children(territory, child_level)
    rows = {}
    if series.periode_courante is not None:
        rows = {r["code"]: r for r in aggregates.children_values(
            conn, serie, child_level, [c.code for c in kids], dim, series.periode_courante)}
    threshold = columns.coverage_threshold()
    items = []
    for child in kids:
        fig = figure(series, rows.get(child.code), threshold)
        items.append({"code": child.code, "nom": child.name, "chemin": path(child), **fig})
    values = [i["valeur"] for i in items if i["valeur"] is not None]
    meta = series.as_public()
    meta["unite"] = ind.display_unit(series.statistique, series.unit)
    return {"niveau": child_level, "dim": dim, "dim_libelle": ind.DIMENSION_LABELS.get(dim, dim),
            "periode": series.periode_courante or None, "seuil_couverture": threshold,
            "serie": meta, "classes": ind.classes(values), "territoires": items}


def series_options(conn: Connection) -> list[dict[str, Any]]:
    """Series offered in the map's selector, grouped by axis: each measure once (a series
    gathers every resource that publishes it), with its latest period."""
    labels = dict(AXES)
    seen: set[str] = set()
    options = []
    for s in aggregates.series(conn):
        if s.serie in seen:
            continue
        seen.add(s.serie)
        options.append({"serie": s.serie, "libelle": s.label, "axe": s.axe, "axe_libelle": labels.get(s.axe, s.axe),
                        "millesime": s.periode_courante or s.millesime, "periode": s.periode_courante or None,
                        "source": s.package_title, "unite": ind.display_unit(s.statistique, s.unit)})
    return options


def series_groups(conn: Connection) -> list[tuple[str, list[dict[str, Any]]]]:
    """`series_options` grouped by axis, in the axes' order."""
    options = series_options(conn)
    return [(label, [o for o in options if o["axe"] == axe]) for axe, label in AXES
            if any(o["axe"] == axe for o in options)]


def default_serie(conn: Connection) -> Optional[str]:
    """The series a map opens on: an establishment-level one with the best national coverage
    (fewest n.c.) on its latest period, else the best-covered commune-level one."""
    best: Optional[tuple[Any, ...]] = None
    rows = {(r["serie"], r["periode"]): r for r in aggregates.values(conn, [(territories.FRANCE, "")])
            if r["dim"] == "ensemble"}
    for series in aggregates.series(conn):          # in the series' order: first wins a tie
        if series.periode_courante is None:
            continue
        row = rows.get((series.serie, series.periode_courante))
        if not row or not row["n"]:
            continue
        rank = (series.key_kind == "uai", row["k"] / row["n"], row["k"])
        if best is None or rank > best[0]:
            best = (rank, series.serie)
    return best[1] if best else None
