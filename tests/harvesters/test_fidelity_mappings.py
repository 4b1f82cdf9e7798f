"""Every update frequency data.gouv.fr (udata) or a DCAT source (the EU frequency authority table)
can publish maps to the portal's vocabulary — never to a fresher rhythm than the producer's, and
`punctual` (udata's "as needed") to "irregular", not "never". No network, no database."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ckanext.ecarto.harvesters import mapping

from .portal import DATA, ROOT

FREQ = "http://publications.europa.eu/resource/authority/frequency/"
UDATA = json.loads((DATA / "udata-update-frequencies.json").read_text(encoding="utf-8"))
UDATA_PYTHON = Path(os.environ.get("ECARTO_UDATA_PYTHON", ROOT / ".venv-udata" / "bin" / "python"))

# udata code -> the portal's code (the portal has 11: CONT … UNKNOWN)
EXPECTED = {
    "continuous": "CONT", "realtime": "CONT",
    "oneMinute": "DAILY", "fiveMinutes": "DAILY", "tenMinutes": "DAILY", "fifteenMinutes": "DAILY",
    "thirtyMinutes": "DAILY", "hourly": "DAILY", "bihourly": "DAILY", "trihourly": "DAILY",
    "twelveHours": "DAILY", "severalTimesADay": "DAILY", "fourTimesADay": "DAILY", "threeTimesADay": "DAILY",
    "semidaily": "DAILY", "daily": "DAILY",
    "fiveTimesAWeek": "WEEKLY", "fourTimesAWeek": "WEEKLY", "threeTimesAWeek": "WEEKLY", "semiweekly": "WEEKLY",
    "weekly": "WEEKLY",
    "biweekly": "MONTHLY", "fortnighly": "MONTHLY", "threeTimesAMonth": "MONTHLY", "semimonthly": "MONTHLY",
    "monthly": "MONTHLY",
    "bimonthly": "QUARTERLY", "quarterly": "QUARTERLY",
    "threeTimesAYear": "ANNUAL", "semiannual": "ANNUAL", "biannual": "ANNUAL", "annual": "ANNUAL",
    "biennial": "BIENNIAL", "triennial": "TRIENNIAL",
    "quadrennial": "IRREG", "quinquennial": "IRREG", "decennial": "IRREG", "bidecennial": "IRREG",
    "tridecennial": "IRREG", "irregular": "IRREG", "punctual": "IRREG",
    "never": "NEVER", "notPlanned": "NEVER",
    "other": "UNKNOWN", "unknown": "UNKNOWN",
}

# EU frequency authority table (what DCAT carries) -> the portal's code
EU_EXPECTED = {
    "UPDATE_CONT": "CONT", "CONT": "CONT", "1MIN": "DAILY", "5MIN": "DAILY", "10MIN": "DAILY", "15MIN": "DAILY",
    "30MIN": "DAILY", "HOURLY": "DAILY", "BIHOURLY": "DAILY", "TRIHOURLY": "DAILY", "12HRS": "DAILY",
    "DAILY_3": "DAILY", "DAILY_2": "DAILY", "DAILY": "DAILY", "WEEKLY_5": "WEEKLY", "WEEKLY_3": "WEEKLY",
    "WEEKLY_2": "WEEKLY", "WEEKLY": "WEEKLY", "BIWEEKLY": "MONTHLY", "MONTHLY_3": "MONTHLY",
    "MONTHLY_2": "MONTHLY", "MONTHLY": "MONTHLY", "BIMONTHLY": "QUARTERLY", "QUARTERLY": "QUARTERLY",
    "ANNUAL_3": "ANNUAL", "ANNUAL_2": "ANNUAL", "ANNUAL": "ANNUAL", "BIENNIAL": "BIENNIAL",
    "TRIENNIAL": "TRIENNIAL", "QUADRENNIAL": "IRREG", "QUINQUENNIAL": "IRREG", "DECENNIAL": "IRREG",
    "BIDECENNIAL": "IRREG", "TRIDECENNIAL": "IRREG", "AS_NEEDED": "IRREG", "IRREG": "IRREG",
    "NEVER": "NEVER", "NOT_PLANNED": "NEVER", "OTHER": "UNKNOWN", "UNKNOWN": "UNKNOWN",
}

def test_every_udata_code_is_mapped():
    codes = UDATA["codes"] + list(UDATA["legacy"])
    assert set(codes) == set(EXPECTED), "udata's list and the expectations differ"
    assert {code: mapping.frequency(code) for code in codes} == {c: FREQ + EXPECTED[c] for c in codes}


@pytest.mark.parametrize("code", ["severalTimesADay", "fiveTimesAWeek", "twelveHours", "quadrennial",
                                  "decennial", "notPlanned", "other"])
def test_the_codes_of_the_issue_map_to_something(code):
    assert mapping.frequency(code) is not None


def test_punctual_is_as_needed_not_never():
    assert mapping.frequency("punctual") == FREQ + "IRREG"
    assert mapping.frequency(FREQ + "AS_NEEDED") == FREQ + "IRREG"
    assert mapping.frequency("Ponctuelle") == FREQ + "IRREG"


def test_every_eu_code_is_mapped_from_its_uri():
    for code, expected in EU_EXPECTED.items():
        assert mapping.frequency(FREQ + code) == FREQ + expected, code
        assert mapping.frequency(f"https://publications.europa.eu/resource/authority/frequency/{code}/") \
            == FREQ + expected, code


def test_the_dcat_term_udata_gives_each_code_is_read_back_alike():
    """udata exports each code as a DCAT term (Dublin Core or EU table): read back here, it gives
    the same portal code as the udata code itself — except `severalTimesADay`, which udata writes
    as the EU table's CONT (the portal's CONT is that one, the code itself stays DAILY: never
    fresher than the producer)."""
    differing = {code: (mapping.frequency(code), mapping.frequency(term)) for code, term in UDATA["dcat"].items()
                 if mapping.frequency(code) != mapping.frequency(term)}
    assert differing == {"severalTimesADay": (FREQ + "DAILY", FREQ + "CONT")}


def test_the_recorded_list_is_udata_s_own():
    """data/udata-update-frequencies.json was written from udata's UpdateFrequency; when udata's
    virtualenv is there (scripts/udata-venv.sh), it is compared with it again."""
    assert UDATA["udata"] and len(UDATA["codes"]) >= 40
    if not UDATA_PYTHON.exists():
        return
    script = ("import json; from udata.core.dataset.constants import UpdateFrequency as F; "
              "print(json.dumps([f.id for f in F] + sorted(F._LEGACY_FREQUENCIES)))")
    found = json.loads(subprocess.run([str(UDATA_PYTHON), "-c", script], capture_output=True, text=True,
                                      check=True, timeout=120).stdout)
    assert set(found) == set(UDATA["codes"]) | set(UDATA["legacy"])


def test_mimetypes_give_formats():
    from ckanext.ecarto.harvesters.ods import attachment_format
    from ckanext.ecarto.harvesters.udata import resource_format
    assert attachment_format("application/zip", "odsfile://cities1000.zip") == "ZIP"
    assert attachment_format("application/zip", "https://example.org/download") == "ZIP"
    assert attachment_format(None, "odsfile://notice.pdf") == "PDF"
    assert resource_format({"format": "", "mime": "application/pdf"}) == "PDF"
    assert resource_format({"format": "csv", "mime": "text/plain"}) == "CSV"


def test_v21_annotations_are_written_as_text():
    assert mapping.annotation_text(["%"]) == "%"
    assert mapping.annotation_text([]) is None
    assert mapping.annotation_text("km") == "km"
    assert mapping.annotation_text(["-count", "alphanum"]) == "-count, alphanum"


def test_unknown_territories_are_listed():
    found, unmatched = mapping.zones_report([{"id": "country-group:world"}, {"id": "fr:departement:31"}])
    assert found == ("departement", "31") and unmatched == ["country-group:world"]
    assert mapping.zones_report([{"id": "country:de"}]) == (None, ["country:de"])
