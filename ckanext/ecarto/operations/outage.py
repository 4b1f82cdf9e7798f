"""While PostgreSQL cannot be reached — or Redis, for a request that must queue a job — the
portal answers **503 Service Unavailable** with ``Retry-After``, not an English 500 page, and
logs **one line** per failed request, not a traceback.

- API (``/api/…``) and JSON URLs (``….json``, ``….geojson``, ``….jsonld``): CKAN's error shape,
  ``{"success": false, "error": {"__type": "Service Unavailable", "message": "…"}}``;
- elsewhere: a small French HTML page, written without templates nor helpers (rendering CKAN's
  error template reads the database, which is what is missing).

Flask error handlers catch the errors the views let through (``install``). CKAN's action API
catches every exception itself (``ckan.views.api.action``: a JSON 500 and a traceback in the
log): a filter on its logger recognises a connection error, drops the traceback and marks the
request, and the wrapped view turns that 500 into the 503 (when that logger is disabled, the
wrapped view asks PostgreSQL — and Redis, for a POST — whether they answer). The pool of SQLAlchemy logs the
connections it cannot reset during an outage, with a traceback each: the same filter keeps one
line of them.

Nothing here keeps state between requests: the first request after PostgreSQL is back is served
normally (SQLAlchemy's ``pool_pre_ping`` replaces the dead connections).
"""
from __future__ import annotations

import html
import json
import logging
from typing import Any, Callable, Optional

import flask
import psycopg2
import redis
import sqlalchemy as sa
import sqlalchemy.exc
from ckan.lib.redis import connect_to_redis
from ckan.model import meta

import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
    psycopg2.OperationalError, psycopg2.InterfaceError)
QUEUE_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
JSON_SUFFIXES = (".json", ".geojson", ".jsonld")
# Loggers that log a traceback per failed request (or per dead connection) during an outage.
QUIETED_LOGGERS = ("ckan.views.api", "sqlalchemy.pool", "sqlalchemy.pool.impl.QueuePool")
_FLAG = "ecarto_outage"


def lost_database(exc: BaseException) -> bool:
    """A connection refused, closed or cut by a shutdown — not a deadlock nor a statement
    timeout, which are operational errors too: those keep PostgreSQL's SQLSTATE (a connection
    failure has none, or one of class 08 or 57P)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    origin = getattr(exc, "orig", None) or exc
    code = getattr(origin, "pgcode", None)
    return code is None or code.startswith(("08", "57P"))


def kind_of(exc: Optional[BaseException]) -> Optional[str]:
    """``database`` or ``queue`` for a connection error (or one caused by it), else None."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_ERRORS) and lost_database(exc):
            return "database"
        if isinstance(exc, QUEUE_ERRORS):
            return "queue"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def summary(exc: BaseException) -> str:
    """The first line of the driver's message (``connection to server … failed: Connection
    refused``), without SQL nor parameters."""
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip().splitlines()
    return f"{type(origin).__name__}: {text[0] if text else ''}"[:300]


def wants_json(path: str) -> bool:
    return path.startswith("/api/") or path.endswith(JSON_SUFFIXES)


def message(kind: str) -> str:
    if kind == "queue":
        return tk._("La file des tâches de fond est momentanément injoignable : cette opération ne peut pas "
                    "être programmée. Réessayez dans quelques instants.")
    return tk._("Le service est momentanément indisponible (base de données injoignable). Réessayez dans "
                "quelques instants.")


def _html_page(kind: str) -> str:
    title = html.escape(tk._("Service momentanément indisponible"))
    body = html.escape(message(kind))
    again = html.escape(tk._("Réessayer"))
    return (f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>\n<body><main><h1>{title}</h1><p>{body}</p>"
            f'<p><a href="">{again}</a></p></main></body></html>\n')


def response(kind: str, path: str) -> flask.Response:
    """The 503 for `path`: JSON or a small French page, with ``Retry-After``."""
    if wants_json(path):
        payload = {"success": False, "error": {"__type": "Service Unavailable", "message": message(kind)}}
        resp = flask.Response(json.dumps(payload, ensure_ascii=False), status=503,
                              mimetype="application/json")
    else:
        resp = flask.Response(_html_page(kind), status=503, mimetype="text/html")
    resp.headers["Retry-After"] = str(RETRY_AFTER_S)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _log_once(kind: str, exc: BaseException) -> None:
    what = "base de données" if kind == "database" else "file des tâches (Redis)"
    req = flask.request if flask.has_request_context() else None
    method, path = (req.method, req.full_path.rstrip("?")) if req else ("-", "-")
    log.warning("503 %s %s — %s injoignable : %s", method, path, what, summary(exc))


def handle(exc: BaseException) -> Any:
    """Flask error handler of the connection errors."""
    kind = kind_of(exc)
    if kind is None:      # an error of the same class that is not a lost connection
        raise exc
    _log_once(kind, exc)
    return response(kind, flask.request.path)


class OutageFilter(logging.Filter):
    """On the loggers that log a traceback per failure: a connection error inside a request marks
    the request (see ``wrap_view``) and is dropped — ``handle`` or ``wrap_view`` log its one
    line; outside a request (the pool resetting a dead connection) it is kept without its
    traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        kind = kind_of(exc)
        if kind is None:
            return True
        if flask.has_request_context() and record.name == "ckan.views.api":
            setattr(flask.g, _FLAG, (kind, exc))
            return False
        record.msg = f"{record.getMessage()} — {summary(exc)}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def probe(write: bool) -> Optional[tuple[str, BaseException]]:
    """Why an action failed, when its logger could not say (a disabled logger never reaches the
    filter): PostgreSQL unreachable, or — for a write, which may need to queue a job — Redis."""
    try:
        with meta.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - whatever it is, it is the answer
        if kind_of(exc):
            return "database", exc
    if write:
        try:
            connect_to_redis().ping()
        except Exception as exc:  # noqa: BLE001
            if kind_of(exc):
                return "queue", exc
    return None


def wrap_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """CKAN's action view: its 500 caused by a lost connection becomes our 503."""

    def outage_aware(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)
        marked = flask.g.pop(_FLAG, None)
        if marked is None and getattr(result, "status_code", None) == 500:
            marked = probe(write=flask.request.method == "POST")
        if marked is None:
            return result
        kind, exc = marked
        _log_once(kind, exc)
        return response(kind, flask.request.path)

    outage_aware.__name__ = getattr(view, "__name__", "action")
    outage_aware.__wrapped__ = view  # type: ignore[attr-defined]
    return outage_aware


_FILTER = OutageFilter()


def wrap_handle_exception(original: Callable[[BaseException], Any]) -> Callable[[BaseException], Any]:
    """Flask's last resort (an error in a ``before_request`` or ``after_request`` function, such
    as CKAN closing its session on a connection PostgreSQL has just cut): a 503 too, without
    Flask's traceback."""

    def handle_exception(exc: BaseException) -> Any:
        kind = kind_of(exc)
        if kind is None or not flask.has_request_context():
            return original(exc)
        _log_once(kind, exc)
        return response(kind, flask.request.path)

    handle_exception.__wrapped__ = original  # type: ignore[attr-defined]
    return handle_exception


def install(app: Any) -> None:
    """Register the handlers on CKAN's Flask application (``IMiddleware.make_middleware``) and
    the filter on the noisy loggers and on the handlers of the root logger (a traceback of a
    lost connection becomes one line, whichever module logs it). Idempotent."""
    if not isinstance(app, flask.Flask):
        log.warning("Réponses 503 non installées : %r n'est pas l'application Flask de CKAN", app)
        return
    for error in DATABASE_ERRORS + QUEUE_ERRORS:
        app.register_error_handler(error, handle)
    if not hasattr(app.handle_exception, "__wrapped__"):
        app.handle_exception = wrap_handle_exception(app.handle_exception)  # type: ignore[method-assign]
    view = app.view_functions.get("api.action")
    if view is not None and not hasattr(view, "__wrapped__"):
        app.view_functions["api.action"] = wrap_view(view)
    filtered = [logging.getLogger(name) for name in QUIETED_LOGGERS] + list(logging.getLogger().handlers)
    for target in filtered:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
