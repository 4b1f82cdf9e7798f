"""The constants the quality score takes from data.gouv.fr are udata's own: read from the udata
17.18.0 of `.venv-udata` (scripts/udata-venv.sh), by its python, and compared with
ckanext/ecarto/quality/criteria.py — closed formats, description length, the delta of each
update frequency the portal offers."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ckanext.ecarto.quality import criteria

ROOT = Path(__file__).resolve().parents[2]
UDATA_PYTHON = Path(os.environ.get("ECARTO_UDATA_PYTHON", ROOT / ".venv-udata" / "bin" / "python"))
# the portal's EU frequency codes -> udata's UpdateFrequency ids
UDATA_IDS = {"CONT": "continuous", "DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly",
             "QUARTERLY": "quarterly", "ANNUAL": "annual", "BIENNIAL": "biennial", "TRIENNIAL": "triennial",
             "IRREG": "irregular", "NEVER": "never"}
SCRIPT = """
import json, sys
from importlib.metadata import version
from udata.core.dataset.constants import CLOSED_FORMATS, UpdateFrequency
from udata.settings import Defaults
ids = json.loads(sys.argv[1])
print(json.dumps({
    "version": version("udata"), "closed": list(CLOSED_FORMATS),
    "description": Defaults.QUALITY_DESCRIPTION_LENGTH,
    "deltas": {code: (UpdateFrequency(i).delta.total_seconds() if UpdateFrequency(i).delta else None)
               for code, i in ids.items()},
}))
"""


def test_constants_are_udatas():
    if not UDATA_PYTHON.exists():
        pytest.fail(f"{UDATA_PYTHON} absent : `make test` le construit (scripts/udata-venv.sh, udata depuis PyPI)")
    run = subprocess.run([str(UDATA_PYTHON), "-c", SCRIPT, json.dumps(UDATA_IDS)], capture_output=True,
                         text=True, timeout=120, check=True)
    udata = json.loads(run.stdout)
    assert udata["version"] == criteria.UDATA_VERSION
    assert set(udata["closed"]) == criteria.CLOSED_FORMATS
    assert udata["description"] == criteria.DESCRIPTION_LENGTH
    ours = {code: (delta.total_seconds() if delta else None) for code, delta in criteria.FREQUENCY_DELTAS.items()}
    assert ours == udata["deltas"]
