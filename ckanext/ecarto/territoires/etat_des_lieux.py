"""The "État des lieux" page: the national figures of the 2018 eCarto report, recomputed from
the data loaded on the portal, each with its source, period and n.c. share — and "n.c." when no
loaded dataset supports a figure. Each figure is read on the latest period whose national
coverage reaches ``columns.coverage_threshold()``; when none does, it is « n.c. — couverture
insuffisante (k sur n) »."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy.engine import Connection

from ckanext.ecarto.etablissements import directory
from ckanext.ecarto.ingest import columns
from ckanext.ecarto.referentiel import territories
from ckanext.ecarto.territoires import aggregates, record
from ckanext.ecarto.territoires import indicators as ind

_STATISTIC_FOR = {
    "part": ("part",), "part_no": ("part",), "part_positive": ("moyenne", "part"),
    "part_above": ("moyenne",), "moyenne": ("moyenne",), "ratio": ("ratio",),
    "eleves_par_unite": ("moyenne",), "count": ("part", "moyenne"),
}


def _find(all_series: list[ind.Series], fig: ind.Figure) -> Optional[ind.Series]:
    """The loaded series able to give a figure (one series per measure, whatever the number of
    resources publishing it; establishment-level series first)."""
    wanted = _STATISTIC_FOR[fig.measure]
    for series in all_series:
        if series.key_kind == "commune" and fig.measure != "ratio":
            continue
        if series.indicateur == fig.indicator and series.statistique in wanted:
            if fig.measure == "ratio" and fig.denominator and not series.serie.endswith("/" + fig.denominator) \
                    and fig.denominator not in series.colonne.lower():
                continue
            return series
    return None


def _measure(fig: ind.Figure, series: ind.Series, row: Optional[dict[str, Any]]) -> Optional[float]:
    if not row or not row["k"]:
        return None
    k = row["k"]
    if fig.measure == "part":
        return round(row["valeur"] * 100, 1) if row["valeur"] is not None else None
    if fig.measure == "part_no":
        return round(100 - row["valeur"] * 100, 1) if row["valeur"] is not None else None
    if fig.measure == "part_positive":
        return round(row["n_positif"] / k * 100, 1)
    if fig.measure == "part_above":
        return round(row["n_seuil"] / k * 100, 1) if row["n_seuil"] is not None else None
    if fig.measure == "moyenne":
        return round(row["valeur"], 2) if row["valeur"] is not None else None
    if fig.measure == "ratio":
        return ind.display_value("ratio", row["valeur"], series.unit)
    if fig.measure == "eleves_par_unite":
        return round(row["eleves"] / row["somme_e"], 1) if row.get("eleves") and row.get("somme_e") else None
    if fig.measure == "count":
        return float(row["n_positif"])
    return None


def _unit(fig: ind.Figure) -> str:
    if fig.measure in {"part", "part_no", "part_positive", "part_above", "ratio"}:
        return "%"
    if fig.measure == "count":
        return "établissements"
    if fig.measure == "eleves_par_unite":
        return "élèves par terminal"
    return ""


def _covered(row: Optional[dict[str, Any]], threshold: float) -> bool:
    return bool(row and row["n"] and row["k"] and row["k"] / row["n"] >= threshold)


def _period(series: ind.Series, rows: dict[tuple[str, str, str], dict[str, Any]], threshold: float) -> Optional[str]:
    """The latest period of the series whose national figure is covered enough; else its
    current period (then shown as n.c. — couverture insuffisante)."""
    if series.periode_courante is None:
        return None
    ordered = [p.get("periode") or "" for p in series.periodes if p.get("ordre") is not None]
    for label in reversed(ordered):
        if _covered(rows.get((series.serie, "ensemble", label)), threshold):
            return label
    return series.periode_courante


def _coverage(fig: ind.Figure, series: ind.Series, row: Optional[dict[str, Any]],
              threshold: float) -> tuple[Optional[float], Optional[str]]:
    """The figure's value, or None with the reason when its coverage is too low."""
    if row and row["n"] and row["k"] / row["n"] < threshold:
        return None, record.coverage_label(row["k"], row["n"])
    return _measure(fig, series, row), None


def figures(conn: Connection) -> list[dict[str, Any]]:
    all_series = aggregates.series(conn)
    rows = {(r["serie"], r["dim"], r["periode"]): r for r in aggregates.values(conn, [(territories.FRANCE, "")])}
    threshold = columns.coverage_threshold()
    result = []
    for fig in ind.FIGURES_2018:
        item: dict[str, Any] = {
            "id": fig.id, "theme": fig.theme, "libelle": fig.label, "rapport_2018": fig.report_2018,
            "note": fig.note, "unite": _unit(fig), "valeur": None, "nc": True, "statut": "nc", "par_type": [],
            "taux_nc": None, "source": None, "millesime": None, "periode": None,
        }
        series = _find(all_series, fig)
        if series is None:
            item["raison"] = "Aucun jeu de données chargé ne fournit cet indicateur."
            result.append(item)
            continue
        period = _period(series, rows, threshold)
        row = rows.get((series.serie, "ensemble", period)) if period is not None else None
        value, reason = _coverage(fig, series, row, threshold)
        item.update(
            valeur=value, nc=value is None, source=series.as_public()["source"], millesime=series.millesime,
            periode=period or None, n=row["n"] if row else 0, n_valeurs=row["k"] if row else 0,
            taux_nc=round(1 - row["k"] / row["n"], 4) if row and row["n"] else None,
            base="communes" if series.key_kind == "commune" else "etablissements",
            statut="ok" if value is not None else ("couverture_insuffisante" if reason else "nc"),
        )
        if reason:
            item["raison"] = item["libelle_nc"] = reason
        elif series.periode_courante is None:
            item["raison"] = series.periode_raison
        elif value is None:
            item["raison"] = "Aucune valeur dans les données chargées."
        if fig.by_type and series.key_kind == "uai" and period is not None:
            for dim in ind.TYPE_DIMENSIONS[1:]:
                sub = rows.get((series.serie, dim, period))
                sub_value, sub_reason = _coverage(fig, series, sub, threshold)
                item["par_type"].append({
                    "dim": dim, "libelle": ind.DIMENSION_LABELS[dim], "valeur": sub_value,
                    "statut": "ok" if sub_value is not None else ("couverture_insuffisante" if sub_reason else "nc"),
                    "libelle_nc": sub_reason,
                    "taux_nc": round(1 - sub["k"] / sub["n"], 4) if sub and sub["n"] else None})
        result.append(item)
    return result


def directory_sources(conn: Connection) -> list[dict[str, Any]]:
    """The public directories the counts come from."""
    return directory.public_directories(conn)


def build(conn: Connection) -> dict[str, Any]:
    france = territories.get(territories.FRANCE, "")
    counts = record.counts_block(aggregates.counts(conn, [(territories.FRANCE, "")]))
    return {
        "effectifs": counts,
        "annuaires": directory_sources(conn),
        "figures": figures(conn),
        "donnees_au": record.iso_date(aggregates.refreshed_at(conn)),
        "france": record.link(france) if france else None,
    }
