"""The criteria on hand-made dataset dicts (no database): udata 17.18.0's thresholds and
deltas, the 100 % case, and the numeric sort of the score in the search backend."""
from __future__ import annotations

import datetime as dt

from ckanext.ecarto.quality.criteria import Facts, evaluate
from ckanext.ecarto.search.query import order_by

NOW = dt.datetime(2026, 12, 1, 12, 0)
ANNUAL = "http://publications.europa.eu/resource/authority/frequency/ANNUAL"


def _complete(**changes) -> dict:
    pkg = {
        "id": "p", "type": "dataset", "notes": "x" * 101, "license_id": "etalab-2.0", "frequency": ANNUAL,
        "temporal_start": "2025-01-01", "territoire_niveau": "france", "metadata_modified": "2026-11-01T00:00:00",
        "resources": [{"id": "r1", "url": "http://exemple.fr/a.csv", "format": "CSV", "description": "Colonnes…",
                       "last_modified": "2026-06-01T00:00:00"}],
    }
    pkg.update(changes)
    return pkg


def _missing(pkg: dict, facts: Facts | None = None, now: dt.datetime = NOW) -> set[str]:
    return {c.code for c in evaluate(pkg, facts or Facts(), now).missing}


def test_a_complete_dataset_scores_100():
    quality = evaluate(_complete(), Facts(), NOW)
    assert quality.score == 1.0 and quality.score_datagouv == 1.0 and quality.missing == []
    assert {c.code for c in quality.criteria if not c.applicable} == {"uai", "dictionnaire", "periode_recente"}


def test_description_must_exceed_100_characters_like_udata():
    assert "description" in _missing(_complete(notes="x" * 100))
    assert "description" not in _missing(_complete(notes="x" * 101))


def test_update_in_time_with_one_day_of_tolerance():
    # annual: last update 2025-12-01 + 365 days = 2026-12-01, one day of tolerance
    assert "a_jour" not in _missing(_complete(resources=[{"id": "r", "format": "CSV", "description": "d",
                                                          "last_modified": "2025-11-30T12:00:00"}]))
    assert "a_jour" in _missing(_complete(resources=[{"id": "r", "format": "CSV", "description": "d",
                                                      "last_modified": "2025-11-29T00:00:00"}]))
    irregular = _complete(frequency="http://publications.europa.eu/resource/authority/frequency/IRREG",
                          resources=[{"id": "r", "format": "CSV", "description": "d", "last_modified": "2001-01-01"}])
    assert "a_jour" not in _missing(irregular)
    unknown = _complete(frequency="http://publications.europa.eu/resource/authority/frequency/UNKNOWN")
    assert {"frequence", "a_jour"} <= _missing(unknown)


def test_closed_formats_only_are_not_open():
    pdf = _complete(resources=[{"id": "r", "format": "PDF", "description": "d"},
                               {"id": "s", "format": "XLSX", "description": "d"}])
    assert "format_ouvert" in _missing(pdf)
    assert "format_ouvert" not in _missing(_complete(resources=[{"id": "r", "format": "PDF"},
                                                                {"id": "s", "format": "csv", "description": "d"}]))


def test_an_unavailable_remote_resource_fails_an_unchecked_one_does_not():
    pkg = _complete()
    assert "disponibles" not in _missing(pkg)
    failed = Facts(availability={"r1": {"available": False, "http_status": 404, "checked_at": NOW, "detail": None}})
    assert "disponibles" in _missing(pkg, failed)
    upload = _complete(resources=[{"id": "r1", "url": "a.csv", "url_type": "upload", "format": "CSV",
                                   "description": "d", "last_modified": "2026-06-01T00:00:00"}])
    assert "disponibles" not in _missing(upload, failed)   # the portal's own files are not checked


def test_without_resources_the_resource_criteria_fail_like_udata():
    quality = evaluate(_complete(resources=[]), Facts(), NOW)
    assert {"ressources", "documentation", "format_ouvert", "disponibles"} <= {c.code for c in quality.missing}
    # udata: description, licence, frequency, on time (the dataset's own date), temporal, spatial
    assert round(quality.score_datagouv * 9) == 6


def test_uai_rate_and_declaration():
    row = {"status": "ok", "key_kind": "uai", "key_column": "UAI", "n_rows": 94, "n_rejected": 6, "columns": []}
    pkg = _complete(axe="etablissements", resources=[{"id": "r1", "format": "CSV", "description": "d",
                                                      "last_modified": "2026-06-01", "uai_column": "UAI"}])
    facts = Facts(registry={"r1": row})
    quality = {c.code: c for c in evaluate(pkg, facts, NOW).criteria}
    assert not quality["uai"].ok
    assert "94 % de lignes valides (minimum 95 %)" in quality["uai"].explanation
    facts.registry["r1"] = {**row, "n_rows": 95, "n_rejected": 5}
    assert "uai" not in _missing(pkg, facts)


def test_the_score_sorts_as_a_number():
    clause = order_by("qualite_score asc", False)
    assert clause.startswith("(CAST(NULLIF(doc ->> 'qualite_score', '') AS double precision)) ASC NULLS LAST")
