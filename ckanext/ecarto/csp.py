"""Content-Security-Policy of the portal's HTML pages (defence in depth against stored XSS).

Names, labels and values of the files any publisher uploads are shown to every visitor; the
templates escape them and the scripts insert them as text (assets/dom.js). Should one slip
through anyway, the browser refuses to run it: the policy allows scripts from the portal's own
origin only (CKAN's webassets, Leaflet, the portal's bundles), so an injected `<script>`, an
`onerror=` attribute or a `javascript:` link does nothing. It also forbids plugins
(`object-src 'none'`), a `<base>` pointing elsewhere, framing by other sites and forms posting
to other sites.

Exceptions, by Flask endpoint (option ``ckanext.ecarto.csp.inline_script_endpoints``): a few
pages of CKAN core and its plugins are built with inline code (the resource form's Upload /
Link buttons use ``onclick``, the DataTables view an inline ``<script>``, the API token page
``onchange``). Their ``script-src`` also holds ``'unsafe-inline'``; they are editors' forms and
the data view, whose cells CKAN escapes on the server. Every other page, the portal's own
(establishment, territory, publication, the map view of a resource) and CKAN's catalogue, is
strict.

Images: the portal, ``data:`` URIs, the host of the map tiles (``ckanext.ecarto.map_tiles_url``),
Gravatar unless ``ckan.gravatar_default`` is ``disabled``, and ``ckanext.ecarto.csp.image_sources``
(default ``https:``: CKAN lets organizations and users give their picture as a URL, and an image
runs no script; set it empty to allow only the sources above). Other sources (an embedded
video…) go in ``ckanext.ecarto.csp.extra``.

Installed by `blueprint` (registered from plugin.py): Flask runs ``after_app_request`` handlers of
a blueprint for every request of the application.
"""
from __future__ import annotations

import fnmatch
from typing import Optional
from urllib.parse import urlsplit

from flask import Blueprint, Response, request

import ckan.plugins.toolkit as tk

blueprint = Blueprint("ecarto_csp", __name__)

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"

BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],   # CKAN's templates use style attributes
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'self'"],
}


def tiles_source(template: Optional[str]) -> Optional[str]:
    """The CSP source of a Leaflet tile URL template: scheme and host; a placeholder in the
    first label of the host (`{s}.tile.openstreetmap.org`) becomes a wildcard (`*.…`)."""
    if not template:
        return None
    parts = urlsplit(template.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    labels = host.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels[1:]):
        return f"{parts.scheme}:"           # placeholder deeper in the host: scheme only
    return f"{parts.scheme}://{'.'.join(labels)}"


def parse(text: str) -> dict[str, list[str]]:
    """`"img-src https://a.example; frame-src 'self'"` → {directive: [sources]}."""
    policy: dict[str, list[str]] = {}
    for part in (text or "").split(";"):
        tokens = part.split()
        if tokens:
            policy.setdefault(tokens[0].lower(), []).extend(tokens[1:])
    return policy


def _list(key: str) -> list[str]:
    """A list option (declared `type: list`; a plain string, as tests set it, is split)."""
    value = tk.config.get(key) or []
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def policy_for(endpoint: Optional[str]) -> str:
    """The policy of a page served by the given Flask endpoint."""
    policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
    tiles = tiles_source(tk.config.get("ckanext.ecarto.map_tiles_url"))
    if tiles:
        policy["img-src"].append(tiles)
    if str(tk.config.get("ckan.gravatar_default") or "").lower() != "disabled":
        policy["img-src"] += ["gravatar.com", "*.gravatar.com"]
    policy["img-src"] += [s for s in _list("ckanext.ecarto.csp.image_sources") if s not in policy["img-src"]]
    if endpoint and any(fnmatch.fnmatchcase(endpoint, pattern)
                        for pattern in _list("ckanext.ecarto.csp.inline_script_endpoints")):
        policy["script-src"].append("'unsafe-inline'")
    for name, sources in parse(tk.config.get("ckanext.ecarto.csp.extra") or "").items():
        current = policy.setdefault(name, [])
        current += [s for s in sources if s not in current]
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


@blueprint.after_app_request
def add_header(response: Response) -> Response:
    """The policy on every HTML response (pages and HTML error pages), unless disabled."""
    if not tk.asbool(tk.config.get("ckanext.ecarto.csp.enabled", True)):
        return response
    if response.mimetype != "text/html":
        return response
    header = REPORT_ONLY_HEADER if tk.asbool(tk.config.get("ckanext.ecarto.csp.report_only")) else HEADER
    if header not in response.headers:
        response.headers[header] = policy_for(request.endpoint)
    return response
