"""WSGI entry point for a production server (gunicorn): `CKAN_INI=/path/ckan.ini`."""
from __future__ import annotations

import logging
import os
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

_config_path = os.path.abspath(os.environ.get("CKAN_INI", "ckan.ini"))
# gunicorn's loggers (`gunicorn.access`, `gunicorn.error`) exist before this module is loaded;
# CKANConfigLoader applies the [loggers] of the configuration again with logging's default,
# which disables every logger it does not name: the access log stayed empty (issue 19).
_existing = [name for name, logger in logging.root.manager.loggerDict.items() if isinstance(logger, logging.Logger)]
fileConfig(_config_path, disable_existing_loggers=False)
_config = CKANConfigLoader(_config_path).get_config()
for _name in _existing:
    logging.getLogger(_name).disabled = False
application = make_app(_config)
