"""Keep CKAN's CSRF exemption for API-token requests scoped to the request that earns it.

CKAN 2.12 (`ckan.config.middleware.flask_app.ckan_before_request`) calls
``csrf.exempt("<module>.<view>")`` on Flask-WTF's process-wide ``CSRFProtect`` whenever a request
is identified by an API token (or is anonymous: CKAN sets ``g.login_via_auth_header`` for both).
``exempt`` adds the view to ``CSRFProtect._exempt_views``, a plain set that lives as long as the
worker: after one API-token request to an HTML view (``/dataset/<id>/publier``, the dataset edit
form…), that view no longer checks the CSRF token of anybody, cookie sessions included, until the
worker restarts.

`install` swaps that set for a `RequestScopedExemptions`: views exempted when the application is
built (``@csrf.exempt`` decorators) stay exempt for everyone; views exempted later, from inside a
request, count as exempt only while the current request is itself flagged
``g.login_via_auth_header``. API-token clients keep working exactly as CKAN intends (the flag is
set before Flask-WTF's check runs, in the same request), and a cookie-session POST is always
checked.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Iterable

import flask

log = logging.getLogger(__name__)


def _request_via_auth_header() -> bool:
    """True while the current request was identified by an API token (or is anonymous)."""
    return flask.has_request_context() and bool(flask.g.get("login_via_auth_header"))


class RequestScopedExemptions(set):
    """A set of exempt view locations whose request-time additions hold for API-token requests only.

    The underlying set holds the permanent exemptions; `_per_request` the views CKAN exempted while
    serving a request. Membership of the latter depends on the request asking.
    """

    def __init__(self, permanent: Iterable[str] = ()) -> None:
        super().__init__(permanent)
        self._per_request: set[str] = set()
        self._lock = threading.Lock()

    def add(self, item: Any) -> None:
        if flask.has_request_context():
            with self._lock:
                self._per_request.add(item)
        else:
            super().add(item)

    def __contains__(self, item: object) -> bool:
        if super().__contains__(item):
            return True
        return item in self._per_request and _request_via_auth_header()


def install(protect: Any = None) -> None:
    """Replace the exempt-view set of CKAN's `CSRFProtect` (idempotent: the test suite builds
    several applications on the same module-level `CSRFProtect`)."""
    if protect is None:
        # optional dependency: CKAN's app module, imported late (it loads the plugins, this one included)
        from ckan.config.middleware.flask_app import csrf as protect
    current = protect._exempt_views
    if isinstance(current, RequestScopedExemptions):
        return
    protect._exempt_views = RequestScopedExemptions(current)
    log.debug("CSRF exemptions scoped to API-token requests (%d permanent)", len(current))
