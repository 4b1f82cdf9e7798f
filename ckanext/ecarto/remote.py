"""The outbound-fetch guard: every download the server makes for a URL that somebody else chose
(the publication form's URL, a link resource being ingested, a harvest source, its pagination
links and the files it lists) goes through here.

Without a guard, ``http://127.0.0.1:5432/`` or ``http://169.254.169.254/`` would make the portal
probe its own network (server-side request forgery). Checking the URL is not enough when the
check and the HTTP client disagree, so this module owns the whole path from URL to socket:

- **Parsed strictly, once.** http(s) only; no user info (``user@host``), no backslash, no
  control character, no space in the host (spaces of a path are percent-encoded), no empty
  host, a numeric port in 1–65535 that is 80, 443 or above 1023 and not a known non-web
  service (databases, caches…), IPv4 only in canonical dotted form (``0x7f.1``,
  ``2130706433``, ``0177.0.0.1`` are refused). The request is sent to the URL rebuilt from what
  was checked, and urllib3's own parser must read the same scheme, host and port from it.
- **Resolved once, connected to the checked address.** ``resolve`` is the only name resolution
  of a fetch; every address it returns is checked (loopback, private, link-local such as
  169.254.169.254, multicast, reserved, unspecified, IPv4 embedded in IPv6…) and the TCP
  connection is made to one of those very addresses by a pinned urllib3 connection (the Host
  header, TLS SNI and certificate verification still use the name): a name whose answer
  changes after the check (DNS rebinding) cannot move the connection elsewhere.
- **Every redirect hop** is checked the same way (``check_url`` is called for each hop).
- **Bounded**: per-operation timeouts, a total time per download, and a limit on the bytes read
  after decompression.

``ckanext.ecarto.allow_private_urls`` (tests, intranet deployments) lets loopback and private
addresses through; never malformed URLs, other schemes, link-local, multicast or unspecified
addresses, nor the non-web ports. Proxies from the environment are not used (the connection must
go to the checked address).
"""
from __future__ import annotations

import ipaddress
import re
import socket
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Union
from urllib.parse import quote, urlencode, urljoin, urlsplit

import idna
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError
from urllib3.poolmanager import PoolManager
from urllib3.util import connection as urllib3_connection
from urllib3.util import parse_url

import ckan.plugins.toolkit as tk

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

MAX_REDIRECTS = 5
TIMEOUT = (10, 120)                 # seconds: to connect, then for each read
TOTAL_TIMEOUT = 600.0               # seconds: a whole download
MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}
# Not web servers: a URL must not make the portal talk to a database, a cache or a queue.
SERVICE_PORTS = frozenset({
    1433, 1521, 2049, 2375, 2376, 2379, 2380, 3306, 3389, 5432, 5672, 5984, 6379, 6443, 9042,
    9200, 9300, 11211, 15672, 27017, 27018,
})
_HOSTNAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})   # controls, invisible
_NUMERIC_LABEL = re.compile(r"\d+|0x[0-9a-f]*")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class RemoteError(Exception):
    """A URL that cannot or may not be fetched (French message for the user)."""


class LimitExceeded(RemoteError):
    """A download over the size or time limit (French message for the user)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: what is sent, and the only addresses the connection may go to."""
    url: str                        # scheme://host[:port]/path?query, host in ASCII
    scheme: str
    host: str                       # ASCII name, or the IP address (no brackets)
    port: int
    addresses: tuple[str, ...]      # checked, connected to in this order


@dataclass(frozen=True)
class _Parsed:
    url: str
    scheme: str
    host: str
    port: int
    literal: Optional[IPAddress]


def _private_allowed() -> bool:
    return tk.asbool(tk.config.get("ckanext.ecarto.allow_private_urls"))


# --------------------------------------------------------------------------- parsing

def _invalid(detail: Optional[str] = None) -> RemoteError:
    if detail:
        return RemoteError(tk._("Adresse invalide : {detail}").format(detail=detail))
    return RemoteError(tk._("Adresse invalide : elle doit commencer par http:// ou https:// suivi du nom "
                            "du serveur."))


def _parse(url: Any) -> _Parsed:
    """The URL as the HTTP client will read it, or RemoteError for any ambiguous form."""
    if not isinstance(url, str) or not url:
        raise _invalid()
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(tk._("elle est trop longue (plus de {n} caractères).").format(n=MAX_URL_LENGTH))
    if any(ch == "\\" or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in url):
        raise _invalid(tk._("elle contient une barre oblique inverse (\\) ou un caractère de contrôle."))
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _invalid() from exc
    if any(unicodedata.category(ch) == "Zs" for ch in parts.scheme + parts.netloc):
        raise _invalid(tk._("le nom du serveur contient une espace."))
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise RemoteError(tk._("Adresse invalide : elle doit commencer par http:// ou https:// (les autres "
                               "protocoles, comme file:// ou ftp://, sont refusés)."))
    netloc = parts.netloc
    if not netloc:
        raise _invalid()
    if "@" in netloc:
        raise RemoteError(tk._("Adresse refusée : elle contient un identifiant ou un mot de passe (partie "
                               "« …@ » avant le nom du serveur). Donnez l'adresse publique du fichier, sans "
                               "identifiants."))
    host, port_text = _split_netloc(netloc)
    port = _port(scheme, port_text)
    literal: Optional[IPAddress]
    if host.startswith("["):
        try:
            literal = ipaddress.IPv6Address(host[1:-1])
        except ValueError as exc:
            raise _invalid(tk._("adresse IPv6 mal écrite.")) from exc
        host = literal.compressed
        shown = f"[{host}]"
    else:
        host = _ascii_host(host)
        literal = _ipv4_literal(host)
        if literal is not None:
            host = str(literal)
        shown = host
    explicit = f":{port}" if port_text else ""
    path, query = _spaces_encoded(parts.path) or "/", _spaces_encoded(parts.query)
    rebuilt = f"{scheme}://{shown}{explicit}{path}" + (f"?{query}" if query else "")
    _same_reading(rebuilt, scheme, host, port)
    return _Parsed(url=rebuilt, scheme=scheme, host=host, port=port, literal=literal)


def _spaces_encoded(text: str) -> str:
    """Spaces of a path or query percent-encoded (as the HTTP client would send them)."""
    return "".join(quote(ch) if unicodedata.category(ch) == "Zs" else ch for ch in text)


def _split_netloc(netloc: str) -> tuple[str, Optional[str]]:
    if netloc.startswith("["):
        match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\])(?::(.*))?", netloc)
        if not match:
            raise _invalid(tk._("adresse IPv6 mal écrite."))
        return match.group(1), match.group(2)
    if netloc.count(":") > 1:
        raise _invalid(tk._("nom de serveur mal écrit."))
    host, sep, port = netloc.partition(":")
    return host, (port if sep else None)


def _port(scheme: str, text: Optional[str]) -> int:
    if not text:
        return DEFAULT_PORTS[scheme]
    if not re.fullmatch(r"\d{1,5}", text) or not 0 < int(text) <= 65535:
        raise _invalid(tk._("le port « {port} » n'est pas un nombre entre 1 et 65535.").format(port=text[:20]))
    return int(text)


def _check_port(port: int) -> None:
    if port in SERVICE_PORTS or (port < 1024 and port not in DEFAULT_PORTS.values()):
        raise RemoteError(tk._("Adresse refusée : le port {port} n'est pas celui d'un serveur web.").format(
            port=port))


def _ascii_host(host: str) -> str:
    if not host:
        raise _invalid()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise _invalid(tk._("nom de serveur mal écrit.")) from exc
    host = host.lower()
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        raise _invalid(tk._("nom de serveur mal écrit."))
    return host


def _ipv4_literal(host: str) -> Optional[ipaddress.IPv4Address]:
    """A host whose last label is a number is an IPv4 address for resolvers and browsers alike:
    only the canonical dotted form is accepted (no hexadecimal, octal or single-number forms)."""
    bare = host.rstrip(".")
    if not _NUMERIC_LABEL.fullmatch(bare.rsplit(".", 1)[-1]):
        return None
    try:
        return ipaddress.IPv4Address(bare)
    except ValueError as exc:
        raise _invalid(tk._("adresse IP mal écrite ({host}) : écrivez-la sous la forme 203.0.113.10.").format(
            host=host)) from exc


def _same_reading(url: str, scheme: str, host: str, port: int) -> None:
    """urllib3 (what requests sends with) must read the same scheme, host and port."""
    try:
        parsed = parse_url(url)
    except LocationParseError as exc:
        raise _invalid() from exc
    seen = (parsed.host or "").strip("[]").lower()
    try:
        seen = ipaddress.ip_address(seen).compressed
    except ValueError:
        pass
    if (parsed.scheme, seen, parsed.port or DEFAULT_PORTS.get(parsed.scheme or ""), parsed.auth) != \
            (scheme, host, port, None):
        raise _invalid()


# --------------------------------------------------------------------------- addresses

def resolve(host: str, port: int) -> list[str]:
    """The one name resolution of a fetch (a module function so that tests can observe it)."""
    addresses: list[str] = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> Optional[ipaddress.IPv4Address]:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(address: Union[str, IPAddress], *, allow_private: bool) -> bool:
    """May the portal connect to ``address``? Public unicast only, unless ``allow_private``
    (then loopback and private networks too; never link-local, multicast or unspecified)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_allowed(embedded, allow_private=allow_private)
        if ip.is_loopback:
            return allow_private
    if ip.is_unspecified or ip.is_multicast or ip.is_link_local:
        return False
    if isinstance(ip, ipaddress.IPv4Address) and (ip in _THIS_NETWORK or ip.is_reserved):
        return False
    if ip.is_global and not ip.is_private and not ip.is_loopback:
        return True
    return allow_private


def _refused(host: str) -> RemoteError:
    return RemoteError(tk._("Adresse refusée : {host} désigne le réseau interne du portail ; donnez l'adresse "
                            "publique du fichier.").format(host=host))


def check_url(url: str, *, allow_private: Optional[bool] = None, unresolved_ok: bool = False) -> Target:
    """Parse ``url``, resolve its host once and check every address; RemoteError (French) when
    the URL may not be fetched. The returned Target holds the addresses to connect to.

    ``allow_private``: default ``ckanext.ecarto.allow_private_urls``. ``unresolved_ok``: a name
    that does not resolve now is accepted with no address (when a harvest source is saved: DNS
    may be down; every fetch checks again)."""
    return _check(url, allow_private=allow_private, unresolved_ok=unresolved_ok)


def _check(url: str, *, allow_private: Optional[bool] = None, unresolved_ok: bool = False) -> Target:
    parsed = _parse(url)
    allow = _private_allowed() if allow_private is None else allow_private
    if parsed.literal is not None:
        addresses = [str(parsed.literal)]
    else:
        try:
            addresses = resolve(parsed.host, parsed.port)
        except (OSError, UnicodeError) as exc:
            if unresolved_ok:
                addresses = []
            else:
                raise RemoteError(tk._("Serveur introuvable : {host}.").format(host=parsed.host)) from exc
        if not addresses and not unresolved_ok:
            raise RemoteError(tk._("Serveur introuvable : {host}.").format(host=parsed.host))
    for address in addresses:
        if not address_allowed(address, allow_private=allow):
            raise _refused(parsed.host)
    _check_port(parsed.port)
    return Target(url=parsed.url, scheme=parsed.scheme, host=parsed.host, port=parsed.port,
                  addresses=tuple(addresses))


# --------------------------------------------------------------------------- pinned connections

def open_socket(address: str, port: int, timeout: Any, source_address: Any = None,
                socket_options: Any = None) -> socket.socket:
    """The TCP connection of a fetch, to an address already checked (a module function so that
    tests can observe which address is connected to)."""
    return urllib3_connection.create_connection((address, port), timeout, source_address=source_address,
                                                socket_options=socket_options)


def _pinned_socket(conn: Any) -> socket.socket:
    last: Optional[Exception] = None
    for address in conn.ecarto_addresses:
        try:
            return open_socket(address, conn.port, conn.timeout, conn.source_address, conn.socket_options)
        except socket.timeout as exc:
            last = ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. "
                                             f"(connect timeout={conn.timeout})")
            last.__cause__ = exc
        except OSError as exc:
            last = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
            last.__cause__ = exc
    raise last or NewConnectionError(conn, "No checked address to connect to")


class _PinnedHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, ecarto_addresses: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ecarto_addresses = ecarto_addresses

    def _new_conn(self) -> socket.socket:
        return _pinned_socket(self)


class _PinnedHTTPSConnection(HTTPSConnection):
    """TLS on top of the pinned socket: SNI and certificate checks use the host name."""

    def __init__(self, *args: Any, ecarto_addresses: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ecarto_addresses = ecarto_addresses

    def _new_conn(self) -> socket.socket:
        return _pinned_socket(self)


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection  # type: ignore[assignment]


class _PinnedPoolManager(PoolManager):
    """Pools of one checked target only: its connections go to its checked addresses."""

    def __init__(self, target: Target, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ecarto_target = target
        self.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}

    def _new_pool(self, scheme: str, host: str, port: int,
                  request_context: Optional[dict[str, Any]] = None) -> HTTPConnectionPool:
        target = self.ecarto_target
        seen = host.strip("[]").lower()
        try:
            seen = ipaddress.ip_address(seen).compressed
        except ValueError:
            pass
        if (scheme, seen, port) != (target.scheme, target.host, target.port):
            raise RemoteError(tk._("Adresse refusée : {host} n'est pas l'adresse vérifiée.").format(host=host))
        context = dict(request_context if request_context is not None else self.connection_pool_kw)
        context["ecarto_addresses"] = target.addresses
        return super()._new_pool(scheme, host, port, context)


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, target: Target) -> None:
        self.ecarto_target = target
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = _PinnedPoolManager(self.ecarto_target, num_pools=connections, maxsize=maxsize,
                                              block=block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise RemoteError(tk._("Adresse refusée : le portail ne télécharge pas au travers d'un proxy."))


def _send(target: Target, headers: Optional[Mapping[str, str]], timeout: Any,
          method: str = "GET") -> requests.Response:
    session = requests.Session()
    session.trust_env = False          # no proxy nor .netrc credentials from the environment
    adapter = _PinnedAdapter(target)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    try:
        response = session.request(method, target.url, headers={"Connection": "close", **(headers or {})},
                                   stream=True, timeout=timeout, allow_redirects=False)
    except BaseException:
        session.close()
        raise
    close = response.close

    def close_all() -> None:
        try:
            close()
        finally:
            session.close()
    response.close = close_all  # type: ignore[method-assign]
    return response


# --------------------------------------------------------------------------- limited body

class _GuardedBody:
    """``response.raw`` with a limit on the bytes read (after decompression) and a deadline."""

    def __init__(self, raw: Any, *, url: str, max_bytes: Optional[int], deadline: Optional[float]) -> None:
        self._raw = raw
        self._url = url
        self._max = max_bytes
        self._deadline = deadline
        self.bytes_read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    @property
    def decode_content(self) -> bool:
        return self._raw.decode_content

    @decode_content.setter
    def decode_content(self, value: bool) -> None:
        self._raw.decode_content = value

    def _check_time(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise LimitExceeded(tk._("Téléchargement trop long de {url} : abandonné.").format(url=self._url))

    def _account(self, data: bytes) -> bytes:
        self.bytes_read += len(data)
        if self._max is not None and self.bytes_read > self._max:
            raise LimitExceeded(tk._("Fichier distant trop volumineux : {url} dépasse {size} Mo.").format(
                url=self._url, size=max(1, self._max // (1024 * 1024))))
        return data

    def read(self, amt: Optional[int] = None, decode_content: Optional[bool] = None, **kwargs: Any) -> bytes:
        if amt is None:
            return b"".join(iter(lambda: self.read(1 << 16, decode_content, **kwargs), b""))
        self._check_time()
        return self._account(self._raw.read(amt, decode_content=decode_content, **kwargs))

    def stream(self, amt: Optional[int] = 1 << 16, decode_content: Optional[bool] = None) -> Iterator[bytes]:
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            self._check_time()
            yield self._account(chunk)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()

    def readable(self) -> bool:
        return True


# --------------------------------------------------------------------------- fetching

def _with_params(url: str, params: Optional[Mapping[str, Any]]) -> str:
    if not params:
        return url
    url = url.split("#", 1)[0]
    query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


def _location(response: requests.Response) -> str:
    location = response.headers.get("Location", "")
    try:
        return location.encode("latin1").decode("utf-8")
    except UnicodeError:
        return location


def fetch(url: str, *, params: Optional[Mapping[str, Any]] = None, headers: Optional[Mapping[str, str]] = None,
          timeout: Any = TIMEOUT, max_bytes: Optional[int] = None, total_timeout: Optional[float] = TOTAL_TIMEOUT,
          max_redirects: int = MAX_REDIRECTS, method: str = "GET") -> requests.Response:
    """A streamed GET (or ``method``: HEAD for an availability check) of ``url`` through the
    guard, following redirects hop by hop (each checked by ``check_url``). Returns the final
    response whatever its status (the caller closes it); its ``raw`` enforces ``max_bytes`` and
    ``total_timeout``. Raises RemoteError for a refused URL or hop, requests' exceptions for
    network failures (the caller may retry)."""
    deadline = time.monotonic() + total_timeout if total_timeout else None
    current = _with_params(url, params)
    for _hop in range(max_redirects + 1):
        target = check_url(current)
        if target is None:
            # check_url replaced by a hook that only vets the URL (tests): the URL is still parsed
            # strictly, resolved once and the connection pinned.
            target = _check(current, allow_private=True)
        response = _send(target, headers, timeout, method)
        if response.is_redirect:
            location = _location(response)
            response.close()
            current = urljoin(target.url, location)
            if deadline is not None and time.monotonic() > deadline:
                raise LimitExceeded(tk._("Téléchargement trop long de {url} : abandonné.").format(url=url))
            continue
        response.raw = _GuardedBody(response.raw, url=target.url, max_bytes=max_bytes, deadline=deadline)
        return response
    raise RemoteError(tk._("Trop de redirections pour {url}.").format(url=url))


def default_max_bytes() -> int:
    """Backstop for open_url's callers, which apply their own (smaller) limits and messages."""
    publication = int(tk.config.get("ckanext.ecarto.publication_max_bytes") or 0)
    resource = int(tk.config.get("ckan.max_resource_size") or 10) * 1024 * 1024
    return max(publication, resource) + 2 * 1024 * 1024


@contextmanager
def open_url(url: str, *, max_bytes: Optional[int] = None, timeout: Any = TIMEOUT,
             total_timeout: Optional[float] = TOTAL_TIMEOUT) -> Iterator[requests.Response]:
    """A streamed GET of ``url`` through the guard; RemoteError (French) for anything that
    prevents getting the file: refused URL or hop, network failure, HTTP error, size or time."""
    try:
        response = fetch(url, timeout=timeout, total_timeout=total_timeout,
                         max_bytes=default_max_bytes() if max_bytes is None else max_bytes)
    except requests.RequestException as exc:
        raise RemoteError(tk._("Téléchargement impossible de {url} : {error}").format(url=url, error=exc)) from exc
    try:
        if response.status_code >= 400:
            raise RemoteError(tk._("Téléchargement impossible de {url} : le serveur a répondu HTTP "
                                   "{status}.").format(url=response.url or url, status=response.status_code))
        yield response
    except requests.RequestException as exc:
        raise RemoteError(tk._("Téléchargement impossible de {url} : {error}").format(url=url, error=exc)) from exc
    finally:
        response.close()
