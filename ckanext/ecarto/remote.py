"""Fetching a file that a user pointed to by URL (a resource's link, the "URL" of the publication
form), without letting the portal be used to reach its own network.

A URL given by an editor is fetched by the server: without a guard, ``http://127.0.0.1:5432/`` or
``http://169.254.169.254/`` would make the portal probe its own services (server-side request
forgery). Every hop — the URL and each redirect — must be http(s) and resolve only to public
addresses, unless ``ckanext.ecarto.allow_private_urls`` is set (tests, intranet deployments).
Harvest sources are configured by sysadmins and use ``harvesters/http.py`` instead.
"""
from __future__ import annotations

import ipaddress
import socket
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import requests

import ckan.plugins.toolkit as tk

MAX_REDIRECTS = 5
TIMEOUT = (10, 120)


class RemoteError(Exception):
    """A URL that cannot or may not be fetched (French message for the user)."""


def _private_allowed() -> bool:
    return tk.asbool(tk.config.get("ckanext.ecarto.allow_private_urls"))


def check_url(url: str) -> None:
    """Raise RemoteError unless ``url`` is http(s) and its host resolves to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(tk._("Adresse invalide : elle doit commencer par http:// ou https://."))
    if _private_allowed():
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise RemoteError(tk._("Serveur introuvable : {host}.").format(host=parts.hostname)) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            raise RemoteError(tk._("Adresse refusée : {host} désigne le réseau interne du portail ; "
                                   "donnez l'adresse publique du fichier.").format(host=parts.hostname))


@contextmanager
def open_url(url: str) -> Iterator[requests.Response]:
    """A streamed GET of ``url``, following redirects one by one and checking each hop."""
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(current)
        try:
            response = requests.get(current, stream=True, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            raise RemoteError(tk._("Téléchargement impossible de {url} : {error}").format(url=current, error=exc)) from exc
        if response.is_redirect:
            response.close()
            current = urljoin(current, response.headers.get("Location", ""))
            continue
        try:
            response.raise_for_status()
        except requests.HTTPError as exc:
            response.close()
            raise RemoteError(tk._("Téléchargement impossible de {url} : {error}").format(url=current, error=exc)) from exc
        try:
            yield response
        finally:
            response.close()
        return
    raise RemoteError(tk._("Trop de redirections pour {url}.").format(url=url))
