"""The outbound-fetch guard (ckanext/ecarto/remote.py) through the real entry points: the
validation and publication of a file given by URL (`ecarto_validate_resource`,
`ecarto_publish_resource`) and a link resource loaded by `ecarto_ingest_resource`.

The "internal service" is a real HTTP server on 127.0.0.1 that records every request: a refused
URL must leave it untouched. "Public" sites are played by the same kind of server behind a fake
name: the guard's single resolver (`remote.resolve`) answers a public address for it, and the
guard's socket opener (`remote.open_socket`) — which only ever receives checked addresses — is
observed, and sends that public address to the local server. Guard-on cases set
`ckanext.ecarto.allow_private_urls = false` (test.ini turns it on for the fixtures)."""
from __future__ import annotations

import gzip
import http.server
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

import ckan.logic as logic
import ckan.tests.helpers as helpers

from ckanext.ecarto import remote
from tests.publication import files
from tests.publication.conftest import new_dataset, portal  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("with_plugins")

GUARD_ON = pytest.mark.ckan_config("ckanext.ecarto.allow_private_urls", "false")
PUBLIC_IP = "93.184.216.34"          # a public address: the checks accept it
OTHER_PUBLIC_IP = "93.184.216.35"


# --------------------------------------------------------------------------- servers

@dataclass
class Site:
    """A real HTTP server on 127.0.0.1: serves `files`, answers `redirects`, records requests."""
    files: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    gzip_paths: set[str] = field(default_factory=set)
    trickle: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)   # (path, Host header)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [path for path, _host in self.requests]


def _handler(site: Site) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            site.requests.append((self.path, self.headers.get("Host", "")))
            path = self.path.split("?", 1)[0]
            if path in site.redirects:
                self.send_response(302)
                self.send_header("Location", site.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path not in site.files:
                self.send_error(404)
                return
            body = site.files[path]
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            if path in site.gzip_paths:
                self.send_header("Content-Encoding", "gzip")
            if path in site.trickle:
                self.end_headers()
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.2)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site(files={"/data.csv": files.ips_haute_garonne()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


@dataclass
class FakeDns:
    """Names of "public" sites: what the guard's resolver answers, and where it connected."""
    answers: dict[str, list[Callable[[], list[str]]]] = field(default_factory=dict)
    resolved: list[str] = field(default_factory=list)
    connected: list[tuple[str, int]] = field(default_factory=list)
    os_lookups: list[str] = field(default_factory=list)

    def add(self, name: str, *answers: list[str]) -> None:
        """`name` resolves to answers[0], then answers[1]… (the last one stays)."""
        self.answers[name] = [lambda a=a: a for a in answers]


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    fake = FakeDns()
    real_resolve, real_open, real_getaddrinfo = remote.resolve, remote.open_socket, remote.socket.getaddrinfo

    def resolve(host: str, port: int) -> list[str]:
        fake.resolved.append(host)
        if host in fake.answers:
            queue = fake.answers[host]
            return (queue.pop(0) if len(queue) > 1 else queue[0])()
        return real_resolve(host, port)

    def open_socket(address: str, port: int, *args: Any, **kwargs: Any):
        fake.connected.append((address, port))
        local = "127.0.0.1" if address in (PUBLIC_IP, OTHER_PUBLIC_IP) else address
        return real_open(local, port, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any):
        # any resolution outside the guard's resolver would see the rebinding answer: loopback
        if isinstance(host, str) and host in fake.answers:
            fake.os_lookups.append(host)
            return real_getaddrinfo("127.0.0.1", *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(remote, "resolve", resolve)
    monkeypatch.setattr(remote, "open_socket", open_socket)
    monkeypatch.setattr(remote.socket, "getaddrinfo", getaddrinfo)
    return fake


# --------------------------------------------------------------------------- entry points

def _ctx(portal_: Any) -> dict[str, Any]:
    return {"user": portal_.editor["name"], "ignore_auth": False}


def _validate(portal_: Any, url: str) -> dict[str, Any]:
    return helpers.call_action("ecarto_validate_resource", _ctx(portal_), axe="etablissements", url=url)


def _refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(logic.ValidationError) as exc:
        call()
    return exc.value.error_dict["url"][0]


def _through_every_entry_point(portal_: Any, make_dataset: Callable[..., dict[str, Any]], url: str,
                               name: str) -> list[str]:
    """The refusal message of each entry point for `url` (each must refuse it)."""
    messages = [_refusal(lambda: _validate(portal_, url))]
    package = make_dataset(name)
    messages.append(_refusal(lambda: helpers.call_action(
        "ecarto_publish_resource", _ctx(portal_), package_id=package["id"], url=url)))
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []   # nothing published
    if "\x00" in url:
        return messages      # PostgreSQL cannot store it as a resource's URL: no link resource
    link = helpers.call_action("resource_create", _ctx(portal_), package_id=package["id"], name="Lien",
                               url=url, format="CSV")
    report = helpers.call_action("ecarto_ingest_resource", _ctx(portal_), id=link["id"])
    assert report["status"] == "error", report
    if url.lower().startswith(("http://", "https://")):
        messages.append(report["message"])
    else:   # the ingestion does not even try other schemes
        assert "ni URL téléchargeable" in report["message"], report
    return messages


MALFORMED = {
    # the probe: urlsplit read 1.1.1.1, the HTTP client connected to 127.0.0.1
    "backslash": ("http://127.0.0.1:{port}\\@1.1.1.1/data.csv", "barre oblique inverse"),
    "userinfo": ("http://1.1.1.1@127.0.0.1:{port}/data.csv", "identifiant ou un mot de passe"),
    "password": ("http://a:b@127.0.0.1:{port}/data.csv", "identifiant ou un mot de passe"),
    "hexadecimal IPv4": ("http://0x7f.1:{port}/data.csv", "adresse IP mal écrite"),
    "decimal IPv4": ("http://2130706433:{port}/data.csv", "adresse IP mal écrite"),
    "octal IPv4": ("http://0177.0.0.1:{port}/data.csv", "adresse IP mal écrite"),
    "file": ("file:///etc/passwd", "http:// ou https://"),
    "gopher": ("gopher://127.0.0.1:{port}/_GET%20/data.csv", "http:// ou https://"),
    "NUL byte": ("http://127.0.0.1:{port}/data.csv\x00.txt", "caractère de contrôle"),
    "newline": ("http://127.0.0.1:{port}/data.csv\r\nX-Injected: 1", "caractère de contrôle"),
    "space in host": ("http://127.0.0.1 :{port}/data.csv", "espace"),
    "port not a number": ("http://127.0.0.1:8o80/data.csv", "port"),
    "port out of range": ("http://127.0.0.1:99999/data.csv", "port"),
    "empty host": ("http:///data.csv", "http:// ou https://"),
    "postgres port": ("http://127.0.0.1:5432/", "port 5432"),
    "redis port": ("http://127.0.0.1:6379/", "port 6379"),
    "metadata service": ("http://169.254.169.254/latest/meta-data/", "réseau interne du portail"),
}


def test_malformed_urls_are_refused_even_where_private_addresses_are_allowed(portal, new_dataset, site):
    """test.ini allows private addresses (its fixtures are on 127.0.0.1): the ambiguous forms,
    other schemes, database ports and the metadata service stay refused, at every entry point,
    and the loopback server never sees a request."""
    for n, (label, (template, expected)) in enumerate(MALFORMED.items()):
        url = template.format(port=site.port)
        for message in _through_every_entry_point(portal, new_dataset, url, f"malforme-{n}"):
            assert expected in message, (label, message)
    assert site.requests == []


@GUARD_ON
def test_internal_addresses_are_refused_with_the_guard_on(portal, new_dataset, site):
    """Production setting: loopback (every spelling), private, link-local, unspecified and
    IPv4-mapped IPv6 addresses are refused at every entry point; the local server is untouched."""
    urls = [f"{site.url}/data.csv", f"http://localhost:{site.port}/data.csv",
            f"http://[::ffff:127.0.0.1]:{site.port}/data.csv", f"http://[::1]:{site.port}/data.csv",
            f"http://0.0.0.0:{site.port}/data.csv", "http://10.0.0.8/export.csv", "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/", f"http://127.0.0.1:{site.port}\\@1.1.1.1/data.csv"]
    for n, url in enumerate(urls):
        for message in _through_every_entry_point(portal, new_dataset, url, f"interne-{n}"):
            assert message.startswith(("Adresse refusée", "Adresse invalide")), (url, message)
    assert site.requests == []


@GUARD_ON
def test_a_public_file_is_fetched_from_the_checked_address_with_its_name(portal, site, dns):
    """The connection goes to the address that was checked; the Host header keeps the name."""
    dns.add("donnees.example", [PUBLIC_IP])
    report = _validate(portal, f"http://donnees.example:{site.port}/data.csv")
    assert report["valid"] and report["file"]["n_rows"] == len(files.ips_lines()) - 1
    assert dns.connected == [(PUBLIC_IP, site.port)]
    assert site.requests == [("/data.csv", f"donnees.example:{site.port}")]


@GUARD_ON
def test_every_resolved_address_is_checked(portal, site, dns):
    dns.add("double.example", [PUBLIC_IP, "10.1.2.3"])
    message = _refusal(lambda: _validate(portal, f"http://double.example:{site.port}/data.csv"))
    assert "double.example désigne le réseau interne du portail" in message
    assert dns.connected == [] and site.requests == []


@GUARD_ON
def test_a_redirect_chain_into_the_portals_network_is_stopped(portal, site, dns):
    """public → public → loopback: the public hops are followed (each checked), the loopback
    hop is refused before any connection; a redirect to a malformed URL too."""
    dns.add("collectivite.example", [PUBLIC_IP])
    site.redirects.update({"/publie.csv": "/etape-2",
                           "/etape-2": f"http://127.0.0.1:{site.port}/data.csv",
                           "/oblique.csv": f"http://127.0.0.1:{site.port}\\@1.1.1.1/data.csv",
                           "/decimal.csv": f"http://2130706433:{site.port}/data.csv"})
    message = _refusal(lambda: _validate(portal, f"http://collectivite.example:{site.port}/publie.csv"))
    assert "réseau interne du portail" in message
    assert site.paths() == ["/publie.csv", "/etape-2"]            # data.csv never asked for
    for path, expected in (("/oblique.csv", "barre oblique inverse"), ("/decimal.csv", "adresse IP mal écrite")):
        assert expected in _refusal(lambda: _validate(portal, f"http://collectivite.example:{site.port}{path}"))
    assert "/data.csv" not in site.paths()
    assert {address for address, _port in dns.connected} == {PUBLIC_IP}

    # the same chain ending on a public site is followed to the file
    dns.add("autre.example", [OTHER_PUBLIC_IP])
    site.redirects["/etape-2"] = f"http://autre.example:{site.port}/data.csv"
    assert _validate(portal, f"http://collectivite.example:{site.port}/publie.csv")["valid"]
    assert site.requests[-1] == ("/data.csv", f"autre.example:{site.port}")


@GUARD_ON
def test_dns_rebinding_cannot_reach_the_portals_network(portal, new_dataset, site, dns):
    """The name answers a public address to the check, loopback afterwards (and to any other
    resolver): the guard resolves it once per fetch and connects to the address it checked."""
    dns.add("rebind.example", [PUBLIC_IP], ["127.0.0.1"])
    package = new_dataset("rebinding")
    outcome = helpers.call_action("ecarto_publish_resource", _ctx(portal), package_id=package["id"],
                                  url=f"http://rebind.example:{site.port}/data.csv")
    assert outcome["ingest"]["status"] == "ok"
    assert dns.resolved.count("rebind.example") == 1               # resolved once…
    assert dns.connected == [(PUBLIC_IP, site.port)]                # …connected to what was checked
    assert dns.os_lookups == []                                     # nobody resolved it again
    # the next fetch resolves again, gets loopback, and is refused without connecting
    link = outcome["resource"]
    report = helpers.call_action("ecarto_ingest_resource", _ctx(portal), id=link["id"], force=True)
    assert report["status"] == "error" and "réseau interne du portail" in report["message"]
    assert dns.connected == [(PUBLIC_IP, site.port)] and len(site.requests) == 1


def test_size_and_time_limits(site):
    """Bytes are counted after decompression (a gzip bomb stops at the limit) and a download
    that trickles is abandoned after the total time."""
    data = files.ips_haute_garonne()
    site.files["/bombe.csv"] = gzip.compress(data * 20_000)         # ~0.3 MB of gzip, 61 MB once inflated
    site.gzip_paths.add("/bombe.csv")
    started = time.monotonic()
    with pytest.raises(remote.LimitExceeded, match="trop volumineux"):
        with remote.open_url(f"{site.url}/bombe.csv", max_bytes=1 << 20) as response:
            for _block in response.iter_content(1 << 16):
                pass
    assert response.raw.bytes_read <= (1 << 20) + (1 << 16)      # stopped at the limit, inflated bytes
    assert time.monotonic() - started < 10

    site.files["/lent.csv"] = data[:100]
    site.trickle.add("/lent.csv")
    started = time.monotonic()
    with pytest.raises(remote.LimitExceeded, match="trop long"):
        with remote.open_url(f"{site.url}/lent.csv", total_timeout=1.0) as response:
            for _block in response.iter_content(1):
                pass
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("address, allowed, allowed_private", [
    ("8.8.8.8", True, True),
    ("2606:4700:4700::1111", True, True),
    ("127.0.0.1", False, True),
    ("10.0.0.8", False, True),
    ("100.64.0.1", False, True),
    ("::1", False, True),
    ("fc00::1", False, True),
    ("::ffff:127.0.0.1", False, True),
    ("::ffff:8.8.8.8", True, True),
    ("64:ff9b::7f00:1", False, True),                # NAT64 of loopback
    ("2002:7f00:1::1", False, True),                 # 6to4 of loopback
    ("169.254.169.254", False, False),               # link-local: never
    ("fe80::1", False, False),
    ("::ffff:169.254.169.254", False, False),
    ("0.0.0.0", False, False),
    ("::", False, False),
    ("224.0.0.1", False, False),                     # multicast: never
    ("ff02::1", False, False),
    ("255.255.255.255", False, False),
    ("240.0.0.1", False, False),
])
def test_address_classes(address: str, allowed: bool, allowed_private: bool):
    assert remote.address_allowed(address, allow_private=False) is allowed
    assert remote.address_allowed(address, allow_private=True) is allowed_private


# --------------------------------------------------------------------------- https

def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> Path:
    """A test CA and two server certificates signed by it: secure.example and autre.example."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=eCarto test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    for name in ("secure.example", "autre.example"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=folder)
        (folder / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n"
                                            "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=folder)
    return folder / "ca.pem"


@pytest.fixture
def tls_site(tmp_path, monkeypatch):
    """An https server on 127.0.0.1 (certificate chosen per test) recording the SNI it receives;
    the test CA is the CA bundle requests verifies against (instead of certifi's)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl introuvable")
    import requests.adapters
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(_certificates(tmp_path)))
    served = Site(files={"/data.csv": files.ips_haute_garonne()})
    names: list[Optional[str]] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    served.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve_certificate(name: str) -> None:
        context.load_cert_chain(tmp_path / f"{name}.pem", tmp_path / f"{name}.key")
    yield served, names, serve_certificate
    server.shutdown()
    server.server_close()


@GUARD_ON
def test_https_keeps_the_name_for_sni_and_certificate_checks(portal, tls_site, dns):
    """Connected to the checked address, TLS still sends the name (SNI) and checks the
    certificate against it: the right certificate passes, another site's certificate fails."""
    site_, names, serve_certificate = tls_site
    dns.add("secure.example", [PUBLIC_IP])
    serve_certificate("secure.example")
    report = _validate(portal, f"https://secure.example:{site_.port}/data.csv")
    assert report["valid"]
    assert names == ["secure.example"] and dns.connected == [(PUBLIC_IP, site_.port)]
    assert site_.requests == [("/data.csv", f"secure.example:{site_.port}")]

    serve_certificate("autre.example")
    message = _refusal(lambda: _validate(portal, f"https://secure.example:{site_.port}/data.csv"))
    assert "Téléchargement impossible" in message and "certificate" in message.lower()
    assert len(site_.requests) == 1                                 # nothing sent to the wrong server
