"""Cache of the public pages and API answers served to anonymous visitors (Redis).

Every anonymous visitor of a page sees the same thing until the public data changes: the page is
rendered once, stored in Redis and served from there to the next anonymous visitors, until the
**public data version** changes. That version is a counter in Redis, shared by every web node,
bumped (`bump`) whenever public data can change:

* any commit of CKAN's ORM session that changed something a page shows (`listen_to_commits`:
  datasets, resources, views, organizations, groups, members, harvest imports…; not a user's last
  activity time nor an API token's last use), in any process (web, ``ckan jobs worker``, CLI)
  since the counter lives in Redis; and any CKAN write action that succeeded
  (`on_action_succeeded`, CKAN's ``action_succeeded`` signal: the datastore, actions writing
  outside the ORM);
* an ingestion or a removal committed (``ecarto_ingest_committed``, `on_ingest_committed`);
* anything else may call `bump` (code writing SQL directly).

With hot-standby replicas (``ckanext.ecarto.read_urls``), a page rendered less than
``ckanext.ecarto.page_cache.replica_settle_seconds`` after a bump (it may come from a replica
that has not replayed the change yet) is stored for that long only.

A view that knows its page shows stale data calls `skip_store` (the territory pages while the
aggregates are being refreshed in the background: ``aggregates.ensure_fresh(wait=False)`` false).

An entry's key is the version, a `fingerprint` of the configuration and code, the host, the path as asked (language prefix ``/en/…`` included),
the query string with its parameters sorted and the ``Accept`` header; it also expires after
``ckanext.ecarto.page_cache.ttl`` seconds, which bounds what no bump announces.

What is never served from nor stored in the cache (`Middleware`):

* any request other than GET/HEAD; any request carrying CKAN's session cookie or remember cookie
  (a logged-in visitor, or an anonymous one with a session: flash messages, a form's CSRF token),
  an ``Authorization`` / ``X-CKAN-API-Key`` / API-token header; the paths of
  ``ckanext.ecarto.page_cache.skip_paths`` (login, registration, forms, the user pages, downloads);
* a response other than 200, streamed, larger than ``ckanext.ecarto.page_cache.max_bytes``, that
  sets a cookie, rendered for a user Flask-Login identified, whose session holds anything but
  the CSRF token, or whose body holds that token anywhere but in the page's ``<meta>`` (a form posting with it). The ``<meta>`` token of the base template
  (CKAN's JavaScript reads it for logged-in API calls) is emptied in a stored page, and the
  session left empty: the page the first visitor gets is the one stored, no session cookie is set,
  and no visitor's token is ever shown to another.

Served entries carry ``ETag`` (a digest of the body) and ``Last-Modified`` (when it was rendered);
``If-None-Match`` / ``If-Modified-Since`` get a 304; ``Cache-Control: private, no-cache``
(browsers keep the page and ask again each time). ``X-Ecarto-Cache`` says ``hit``, ``miss``
(rendered and stored) or ``bypass`` (not cacheable). A Redis failure means no cache, never an
error (and no waiting on Redis for the next `RETRY_S` seconds). Static files (Flask's ``static`` endpoint: ``/base/…`` and the plugins' public folders)
get ``Cache-Control: public, max-age=ckanext.ecarto.page_cache.static_max_age``; webassets
(their file names hold a digest of their content) a year and ``immutable``.

Installed by plugin.py: `install` wraps the Flask application's ``wsgi_app`` (outside CKAN's
language middleware, so the language prefix is part of the key; test clients go through it too)
and `blueprint` adds the Flask side (what only the rendering knows: user, session, CSRF token).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

import redis
from sqlalchemy import event as sa_event
from flask import Blueprint, Response, g, has_request_context, request, session
from flask_login import current_user
from werkzeug.http import parse_cookie

import ckan
import ckan.plugins.toolkit as tk
from ckan.model import meta as model_meta

log = logging.getLogger(__name__)

blueprint = Blueprint("ecarto_pagecache", __name__)

HEADER = "X-Ecarto-Cache"
CANDIDATE = "ecarto.page_cache.candidate"   # environ: the middleware may store this request
STORE = "ecarto.page_cache.store"           # environ: the Flask side found the response storable
SKIP = "ecarto.page_cache.skip"             # environ: a view asked not to store (`skip_store`)
STATIC = "ecarto.page_cache.static"         # environ: Cache-Control of a static file
DROPPED_HEADERS = {"set-cookie", "date", "content-length", "etag", "last-modified", "cache-control", HEADER.lower()}
# a cached page: browsers keep it but ask again each time (a cheap 304 while the data is unchanged)
PAGE_CACHE_CONTROL = "private, no-cache"
NOT_MODIFIED_HEADERS = {"vary", "content-location", "expires"}
AUTH_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_X_CKAN_API_KEY")
YEAR = 365 * 24 * 3600
RETRY_S = 5.0                           # after a Redis failure, pages rendered without it this long
DEFAULT_SKIP_PATHS = "/user /dashboard /ckan-admin /login_generic"

PACKAGE = Path(__file__).resolve().parent

_pools: dict[str, redis.ConnectionPool] = {}


# --------------------------------------------------------------------------- options

def enabled() -> bool:
    return tk.asbool(tk.config.get("ckanext.ecarto.page_cache.enabled", True))


def ttl() -> int:
    return int(tk.config.get("ckanext.ecarto.page_cache.ttl") or 600)


def max_bytes() -> int:
    return int(tk.config.get("ckanext.ecarto.page_cache.max_bytes") or 5_000_000)


def static_max_age() -> int:
    value = tk.config.get("ckanext.ecarto.page_cache.static_max_age")
    return 3600 if value in (None, "") else int(value)


def skip_paths() -> list[str]:
    return tk.aslist(tk.config.get("ckanext.ecarto.page_cache.skip_paths", DEFAULT_SKIP_PATHS))


def _redis_url() -> str:
    return str(tk.config.get("ckanext.ecarto.page_cache.redis_url") or tk.config.get("ckan.redis.url")
               or "redis://localhost:6379/0")


def connection() -> redis.Redis:
    """A client of the cache's Redis (short timeouts: a slow Redis must not hold pages)."""
    url = _redis_url()
    pool = _pools.get(url)
    if pool is None:
        pool = _pools[url] = redis.ConnectionPool.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return redis.Redis(connection_pool=pool)


def _prefix() -> str:
    return f"ecarto:pagecache:{tk.config.get('ckan.site_id') or 'default'}:"


def version_key() -> str:
    return _prefix() + "version"


def bumped_at_key() -> str:
    return _prefix() + "bumped_at"


def settle_seconds() -> int:
    """With hot-standby replicas (``ckanext.ecarto.read_urls``), how long after a bump a page may
    have been read from a replica that has not replayed the change yet: stored only that long."""
    if not tk.aslist(tk.config.get("ckanext.ecarto.read_urls")):
        return 0
    value = tk.config.get("ckanext.ecarto.page_cache.replica_settle_seconds")
    if value in (None, ""):                 # the lag beyond which replicas are skipped (replicas.py)
        value = tk.config.get("ckanext.ecarto.read_max_lag_seconds") or 10
    return int(value)


# --------------------------------------------------------------------------- the data version

def current_version(client: redis.Redis) -> str:
    """The counter; created from the clock when missing (evicted or flushed), so that a counter
    starting over never meets the entries of its previous life."""
    value = client.get(version_key())
    if value is None:
        client.set(version_key(), time.time_ns() // 1000, nx=True)
        value = client.get(version_key()) or b"0"
    return value.decode()


def bump(reason: str = "") -> None:
    """The public data changed: every cached page is stale from now on. Never raises."""
    try:
        client = connection()
        if client.incr(version_key()) == 1:         # the counter was missing: see current_version
            client.set(version_key(), time.time_ns() // 1000)
        client.set(bumped_at_key(), repr(time.time()), ex=3600)
        log.debug("Cache des pages invalidé (%s)", reason)
    except redis.RedisError:
        log.warning("Cache des pages : version non incrémentée (%s), Redis injoignable", reason, exc_info=True)


READ_SUFFIXES = ("_show", "_list", "_search", "_autocomplete", "_count", "_info")


def on_action_succeeded(action_name: str, **_payload: Any) -> None:
    """Subscriber of CKAN's ``action_succeeded``: a write action changes what pages show (reads:
    side-effect free, or named like one, since plugins do not always mark their reads)."""
    if action_name.endswith(READ_SUFFIXES):
        return
    try:
        side_effect_free = getattr(tk.get_action(action_name), "side_effect_free", False)
    except Exception:  # noqa: BLE001 - an unknown name: count it as a write
        side_effect_free = False
    if not side_effect_free:
        bump(action_name)


# ORM objects whose changes no anonymous page shows: the last activity time of a user, the last
# use of an API token (written on reads)
UNSHOWN_CLASSES = {"User", "ApiToken", "TaskStatus"}
FLAG = "ecarto_pagecache_changed"


def _after_flush(session: Any, _flush_context: Any) -> None:
    if session.info.get(FLAG):
        return
    objects = [*session.new, *session.deleted,
               *(o for o in session.dirty if session.is_modified(o, include_collections=False))]
    if any(type(o).__name__ not in UNSHOWN_CLASSES for o in objects):
        session.info[FLAG] = True


def _after_commit(session: Any) -> None:
    if session.info.pop(FLAG, False):
        bump("commit")


def _after_rollback(session: Any) -> None:
    session.info.pop(FLAG, None)


def listen_to_commits() -> None:
    """Bump after any commit of CKAN's ORM session that changed shown objects (idempotent): this
    covers writes outside actions and actions whose commit comes later (``defer_commit``), where
    the bump of `on_action_succeeded` would come before the data is visible."""
    for target in (model_meta.Session, model_meta.create_local_session):
        for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                               ("after_rollback", _after_rollback)):
            if not sa_event.contains(target, name, listener):
                sa_event.listen(target, name, listener)


def on_ingest_committed(sender: str, **_payload: Any) -> None:
    """Subscriber of ``ecarto_ingest_committed`` (ingest/events.py): tables, directory, aggregates."""
    bump(f"ingestion {sender}")


def skip_store() -> None:
    """For a view: do not store the page being rendered (it shows data known to be stale)."""
    if has_request_context():
        request.environ[SKIP] = True


# --------------------------------------------------------------------------- requests

def _has_session_cookie(environ: dict[str, Any]) -> bool:
    raw = environ.get("HTTP_COOKIE")
    if not raw:
        return False
    names = {str(tk.config.get("SESSION_COOKIE_NAME") or "ckan"),
             str(tk.config.get("REMEMBER_COOKIE_NAME") or "remember_token")}
    cookies = parse_cookie(raw)         # as Flask reads them
    return any(name in cookies for name in names)


def _has_credentials(environ: dict[str, Any]) -> bool:
    token_header = str(tk.config.get("apitoken_header_name") or "Authorization")
    names = {*AUTH_HEADERS, "HTTP_" + token_header.upper().replace("-", "_")}
    return any(environ.get(name) for name in names) or _has_session_cookie(environ)


def _skipped(path: str) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") or (p.endswith("*") and path.startswith(p[:-1]))
               for p in skip_paths())


def _bare_path(environ: dict[str, Any]) -> str:
    """The path without its language prefix (`/en/dataset` → `/dataset`)."""
    path = environ.get("PATH_INFO") or "/"
    parts = path.split("/")
    if len(parts) > 1 and parts[1] in tk.aslist(tk.config.get("ckan.locales_offered")):
        return "/" + "/".join(parts[2:])
    return path


def cacheable_request(environ: dict[str, Any]) -> bool:
    return (environ.get("REQUEST_METHOD") in ("GET", "HEAD") and not _has_credentials(environ)
            and not _skipped(_bare_path(environ)))


def fingerprint() -> str:
    """What the pages are rendered with besides the data: the configuration, CKAN's version and
    the extension's code, templates and translations (a restart after a change of any of them
    starts a new cache space; nodes configured alike share theirs)."""
    digest = hashlib.sha256()
    digest.update(repr(sorted((str(k), str(v)) for k, v in tk.config.items())).encode())
    digest.update(ckan.__version__.encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".html", ".mo", ".yaml", ".json") and path.is_file():
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(environ: dict[str, Any], version: str, space: str = "") -> str:
    """Version + fingerprint + host + path as asked (language prefix included) + sorted query + Accept."""
    query = urlencode(sorted(parse_qsl(environ.get("QUERY_STRING") or "", keep_blank_values=True)))
    parts = [space, environ.get("HTTP_HOST") or "", environ.get("SCRIPT_NAME") or "", environ.get("PATH_INFO") or "/",
             query, environ.get("HTTP_ACCEPT") or ""]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{_prefix()}{version}:{digest}"


# --------------------------------------------------------------------------- entries

def _http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def encode_entry(status: str, headers: list[tuple[str, str]], body: bytes, stored_at: float) -> bytes:
    meta = {"status": status, "headers": headers, "etag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            "stored_at": stored_at}
    return json.dumps(meta).encode("utf-8") + b"\n" + body


def decode_entry(blob: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, body = blob.partition(b"\n")
    return json.loads(head), body


def _not_modified(environ: dict[str, Any], meta: dict[str, Any]) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or meta["etag"] in tags
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return int(meta["stored_at"]) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def respond(environ: dict[str, Any], start_response: Callable[..., Any], meta: dict[str, Any], body: bytes,
            state: str) -> Iterable[bytes]:
    """An entry as a response (200, or 304 when the client holds it)."""
    common = [("ETag", meta["etag"]), ("Last-Modified", _http_date(meta["stored_at"])),
              ("Cache-Control", PAGE_CACHE_CONTROL), (HEADER, state)]
    if _not_modified(environ, meta):
        kept = [(k, v) for k, v in meta["headers"] if k.lower() in NOT_MODIFIED_HEADERS]
        start_response("304 Not Modified", kept + common)
        return [b""]
    start_response(meta["status"], [(k, v) for k, v in meta["headers"]] + common
                   + [("Content-Length", str(len(body)))])
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


# --------------------------------------------------------------------------- WSGI side

class Middleware:
    """Serves the cached entries and stores what the Flask side marked storable."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.fingerprint = fingerprint()
        self.down_until = 0.0           # Redis failed: no cache (and no waiting on it) until then

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not enabled() or not cacheable_request(environ):
            return self._bypass(environ, start_response)
        if time.monotonic() < self.down_until:
            return self._bypass(environ, start_response)
        try:
            client = connection()
            version = current_version(client)
            key = cache_key(environ, version, self.fingerprint)
            blob = client.get(key)
        except redis.RedisError:
            log.warning("Cache des pages indisponible (Redis) : pages rendues pendant %s s", RETRY_S, exc_info=True)
            self.down_until = time.monotonic() + RETRY_S
            return self._bypass(environ, start_response)
        if blob is not None:
            meta, body = decode_entry(blob)
            return respond(environ, start_response, meta, body, "hit")
        if environ.get("REQUEST_METHOD") != "GET":
            return self._bypass(environ, start_response)
        return self._render(environ, start_response, client, key)

    def _bypass(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, _static_headers(environ, headers) + [(HEADER, "bypass")], exc_info)
        return self.app(environ, start)

    def _render(self, environ: dict[str, Any], start_response: Callable[..., Any], client: redis.Redis,
                key: str) -> Iterable[bytes]:
        environ[CANDIDATE] = True
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: None    # Flask never calls write()

        result = self.app(environ, capture)
        storable = (environ.get(STORE) and not environ.get(SKIP) and captured.get("status", "").startswith("200")
                    and not any(k.lower() == "set-cookie" for k, _ in captured.get("headers", [])))
        if not storable:
            start_response(captured["status"], _static_headers(environ, captured["headers"]) + [(HEADER, "bypass")],
                           captured.get("exc_info"))
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in DROPPED_HEADERS]
        blob = encode_entry(captured["status"], headers, body, time.time())
        try:
            client.set(key, blob, ex=entry_ttl(client))
        except redis.RedisError:
            log.warning("Cache des pages : page non stockée (Redis)", exc_info=True)
        meta, _ = decode_entry(blob)
        return respond(environ, start_response, meta, body, "miss")


def entry_ttl(client: redis.Redis) -> int:
    """`ttl`, or the replicas' settling time when the last bump is more recent than that."""
    settle = settle_seconds()
    if settle > 0:
        bumped_at = client.get(bumped_at_key())
        if bumped_at is not None and time.time() - float(bumped_at) < settle:
            return settle
    return ttl()


def _static_headers(environ: dict[str, Any], headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Cache-Control of a static file (CKAN's after_request sets its own after ours: replaced here)."""
    max_age = environ.get(STATIC)
    if max_age is None:
        return list(headers)
    value = f"public, max-age={max_age}" + (", immutable" if max_age >= YEAR else "")
    return [(k, v) for k, v in headers if k.lower() != "cache-control"] + [("Cache-Control", value)]


def install(flask_app: Any) -> Any:
    """Wrap the Flask application's WSGI callable and listen to the ORM's commits (idempotent)."""
    listen_to_commits()
    if not isinstance(flask_app.wsgi_app, Middleware):
        flask_app.wsgi_app = Middleware(flask_app.wsgi_app)
    return flask_app


# --------------------------------------------------------------------------- Flask side

_ASSET_DIGEST = re.compile(r"/[0-9a-f]{8}_[^/]+$")


@blueprint.after_app_request
def mark(response: Response) -> Response:
    """Tell the middleware whether the page just rendered may be stored (see the module docstring)."""
    environ = request.environ
    if request.endpoint == "static" and response.status_code in (200, 304):
        environ[STATIC] = static_max_age()
    elif request.endpoint == "webassets.index" and response.status_code in (200, 304):
        environ[STATIC] = YEAR if _ASSET_DIGEST.search(request.path) else static_max_age()
    if environ.get(CANDIDATE) and _storable(response):
        environ[STORE] = True
    return response


def _storable(response: Response) -> bool:
    if (response.status_code != 200 or response.is_streamed or response.direct_passthrough
            or not current_user.is_anonymous or response.headers.getlist("Set-Cookie")):
        return False
    field = str(tk.config.get("WTF_CSRF_FIELD_NAME") or "_csrf_token")
    if set(session.keys()) - {field, "_permanent"}:
        return False
    body = response.get_data()
    if len(body) > max_bytes():
        return False
    token = g.get(field)
    if token:
        needle = str(token).encode("utf-8")
        if body.count(needle) > 1:
            return False            # a form posts with the visitor's token: never shared
        response.set_data(body.replace(needle, b""))
    if field in session:
        session.pop(field)
        session.modified = False    # nothing to save: no session cookie for this visitor
    return True
