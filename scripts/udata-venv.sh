#!/usr/bin/env bash
# A separate virtualenv with data.gouv.fr's udata, used only by tests/schemas/test_udata_ckan_harvester.py
# to validate our package_show output with udata's own CKAN harvester schema
# (udata.harvest.backends.ckan.schemas.ckan.schema). Separate because udata's dependencies
# (mongoengine, Flask, rdflib, ...) clash with CKAN's pins in .venv.
#   scripts/udata-venv.sh           create/refresh .venv-udata (idempotent)
#   UDATA_VENV=/path scripts/udata-venv.sh
# Its whole dependency set is pinned in constraints-udata.txt (pip freeze of that venv).
set -euo pipefail
cd "$(dirname "$0")/.."
UDATA_VERSION="${UDATA_VERSION:-17.18.0}"
VENV="${UDATA_VENV:-.venv-udata}"
PYTHON="${PYTHON:-python3.11}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<PY 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if m.version("udata") == "$UDATA_VERSION" else 1)
PY
then
  echo "udata $UDATA_VERSION already in $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "udata==$UDATA_VERSION" -c constraints-udata.txt
"$VENV/bin/python" -c "from udata.harvest.backends.ckan.schemas.ckan import schema; print('udata', '$UDATA_VERSION', 'CKAN harvester schema importable')"
