"""Several portal nodes on this machine, as a deployment runs them (issue 19): gunicorn nodes on
their own ports behind nginx (Debian's package), `ckan jobs worker` processes, all on the same
PostgreSQL, Redis and file storage (the configuration's `ckan.storage_path`).

    ini = node_ini("test.ini", workdir, site_url="http://127.0.0.1:8601")
    nodes = [Node(ini, 5601, workdir), Node(ini, 5602, workdir)]
    proxy = Nginx([n.port for n in nodes], 8601, workdir)
    start_all([*nodes, proxy])          # returns once every one answers
    Worker(ini, workdir, "w1").start()
    stop_all([...])

Every process gets the environment of the caller (CKAN_SQLALCHEMY_URL, CKAN_REDIS_URL…: the
configuration's values are overridden by CKAN's environment variables) and writes its log in
`workdir`. nginx adds `X-Ecarto-Node: <upstream address>` to each answer, so a client sees
which node served it. Used by tests/scaleout and bench/nodes.py.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Optional, Protocol

import redis
import requests
import rq

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NGINX = os.environ.get("ECARTO_NGINX", "/usr/sbin/nginx")
NODE_HEADER = "X-Ecarto-Node"
START_TIMEOUT_S = 240.0

NGINX_CONF = """
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {access_log};
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    client_max_body_size 100m;
    upstream ecarto {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://ecarto;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
            proxy_next_upstream error timeout http_502 http_503;
            add_header {header} $upstream_addr always;
        }}
    }}
}}
"""


def nginx_skip_reason() -> Optional[str]:
    if not os.path.exists(NGINX):
        return (f"nginx introuvable ({NGINX}) : installez le paquet Debian `nginx` "
                "(apt-get install nginx) pour les tests à plusieurs nœuds.")
    return None


def node_ini(base_ini: str, workdir: Path, *, site_url: str, csrf: bool = True, log_level: str = "INFO",
             extra: Optional[dict[str, str]] = None, name: str = "node.ini") -> Path:
    """The configuration every node and worker shares: `base_ini` (test.ini) with `testing =
    false` (a view's error is then logged), `ckan.site_url` = the proxy's address, CSRF checks on
    (a token made on one node must pass on another), the extension's log at `log_level` and the
    `extra` options (`[app:main]`)."""
    source = Path(base_ini).resolve()
    text = source.read_text(encoding="utf-8").replace("%(here)s", str(source.parent))
    text = re.sub(r"(?m)^testing\s*=.*$", "testing = false", text)
    text = re.sub(r"(?m)^ckan\.site_url\s*=.*$", f"ckan.site_url = {site_url}", text)
    text = re.sub(r"(?m)^WTF_CSRF_ENABLED\s*=.*$", f"WTF_CSRF_ENABLED = {'true' if csrf else 'false'}", text)
    text = re.sub(r"(?ms)^(\[logger_ckanext\].*?^level\s*=\s*)\w+", rf"\g<1>{log_level}", text)
    if extra:
        text = text.replace("[app:main]\n", "[app:main]\n" + "".join(f"{k} = {v}\n" for k, v in extra.items()), 1)
    path = workdir / name
    path.write_text(text, encoding="utf-8")
    return path


class Process(Protocol):
    name: str

    def start(self) -> None: ...

    def ready(self) -> bool: ...

    def stop(self) -> None: ...

    def log_text(self) -> str: ...


class _Managed:
    """A child process started by this module, stopped by its own PID only."""
    name = "?"

    def __init__(self, workdir: Path, name: str):
        self.name = name
        self.log = workdir / f"{name}.log"
        self.process: Optional[subprocess.Popen[bytes]] = None

    def _spawn(self, command: list[str], env: Optional[dict[str, str]] = None) -> None:
        self.process = subprocess.Popen(command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                        env={**os.environ, **(env or {})}, cwd=ROOT)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


class Node(_Managed):
    """One web node: gunicorn serving `ckanext.ecarto.wsgi:application` on its port."""

    def __init__(self, ini: Path, port: int, workdir: Path, workers: int = 1):
        super().__init__(workdir, f"node-{port}")
        self.ini, self.port, self.workers = ini, port, workers
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self._spawn([str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                     "--timeout", "120", "--graceful-timeout", "5", "ckanext.ecarto.wsgi:application"],
                    {"CKAN_INI": str(self.ini)})

    def ready(self) -> bool:
        return _answers(f"{self.url}/api/3/action/status_show")


class Nginx(_Managed):
    """nginx in front of `ports` (round robin), with its own configuration and prefix folder."""

    def __init__(self, ports: Iterable[int], port: int, workdir: Path, access_log: bool = False):
        super().__init__(workdir, f"nginx-{port}")
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.prefix = workdir / f"nginx-{port}"
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(self.prefix / sub, 0o777)   # nginx's workers drop root for `nobody`
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(
            prefix=self.prefix, port=port, servers=servers, header=NODE_HEADER,
            access_log=f"{self.prefix}/access.log" if access_log else "off"), encoding="utf-8")

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.prefix), "-c", str(self.conf), *extra]

    def start(self) -> None:
        checked = subprocess.run(self.command("-t"), capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"configuration nginx refusée :\n{checked.stderr}")
        self._spawn(self.command("-g", "daemon off;"))

    def ready(self) -> bool:
        return self.alive() and _answers(f"{self.url}/api/3/action/status_show")

    def log_text(self) -> str:
        error_log = self.prefix / "error.log"
        return super().log_text() + (error_log.read_text(errors="replace") if error_log.exists() else "")


class Worker(_Managed):
    """One `ckan jobs worker` on the default queue."""

    def __init__(self, ini: Path, workdir: Path, name: str):
        super().__init__(workdir, f"worker-{name}")
        self.ini = ini

    def start(self) -> None:
        self._spawn([str(BIN / "ckan"), "-c", str(self.ini), "jobs", "worker"])

    def ready(self) -> bool:
        """Registered in Redis as an RQ worker (it then takes jobs)."""
        if not self.alive():
            return False
        assert self.process is not None
        connection = redis.Redis.from_url(redis_url(self.ini))
        return any(worker.pid == self.process.pid for worker in rq.Worker.all(connection=connection))


def redis_url(ini: Path) -> str:
    """The Redis the processes use: $CKAN_REDIS_URL, else the configuration's."""
    found = re.search(r"(?m)^ckan\.redis\.url\s*=\s*(\S+)", Path(ini).read_text(encoding="utf-8"))
    return os.environ.get("CKAN_REDIS_URL") or (found.group(1) if found else "redis://127.0.0.1:6379/0")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:
        return False


def start_all(processes: list, timeout: float = START_TIMEOUT_S) -> None:
    """Start every process, return once each answers; on failure stop them all and raise with
    the end of the logs."""
    for process in processes:
        process.start()
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    while waiting and time.monotonic() < deadline:
        waiting = [p for p in waiting if not p.ready()]
        dead = [p for p in waiting if isinstance(p, _Managed) and not p.alive()]
        if dead:
            break
        if waiting:
            time.sleep(0.5)
    if waiting:
        logs = "\n".join(f"--- {p.name}\n{p.log_text()[-3000:]}" for p in waiting)
        stop_all(processes)
        raise RuntimeError(f"ne répondent pas : {[p.name for p in waiting]}\n{logs}")


def stop_all(processes: list) -> None:
    for process in reversed(processes):
        process.stop()


def remove(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
