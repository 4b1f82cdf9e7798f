"""WSGI entry point for a production server (gunicorn): `CKAN_INI=/path/ckan.ini`."""
from __future__ import annotations

import os
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

_config_path = os.path.abspath(os.environ.get("CKAN_INI", "ckan.ini"))
fileConfig(_config_path, disable_existing_loggers=False)
application = make_app(CKANConfigLoader(_config_path).get_config())
