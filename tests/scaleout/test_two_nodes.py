"""Two portal nodes behind nginx, two job workers (issue 19): nothing a request needs lives in one
node's memory or disk, and no ingestion is processed twice.

Real processes on the test databases: two gunicorn nodes (`ckanext.ecarto.wsgi`) on two ports,
nginx (Debian's package) in front of them, two `ckan jobs worker` on the same Redis queue, all on
one configuration (test.ini with CSRF checks on and `ckan.site_url` = the proxy).

- a dataset and its file published through node A are found by the search of node B, and node
  B's establishment pages show them; through nginx both nodes answer, with the same page;
- a login made on node B holds on node A (signed cookie session, CSRF token of A accepted by B);
  a file deposited and validated on node A is published from node B (shared staging folder);
- two nodes asking for the same ingestions at once queue one job per resource, and the two
  workers load each resource exactly once (counted in both workers' logs).
"""
from __future__ import annotations

import concurrent.futures
import http.server
import os
import re
import socket
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from ckan.lib import jobs

from tests.publication import files
from tests.publication.conftest import Portal
from tests.scaleout.cluster import Nginx, Node, Worker, node_ini, nginx_skip_reason, start_all, stop_all

pytestmark = pytest.mark.usefixtures("with_plugins")

TIMEOUT = 60
CSRF = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, workdir: Path, base_ini: str):
        self.workdir = workdir
        proxy_port = _free_port()
        self.ini = node_ini(base_ini, workdir, site_url=f"http://127.0.0.1:{proxy_port}")
        self.a = Node(self.ini, _free_port(), workdir)
        self.b = Node(self.ini, _free_port(), workdir)
        self.proxy = Nginx([self.a.port, self.b.port], proxy_port, workdir)
        self.workers: list[Worker] = []

    def processes(self) -> list[Any]:
        return [self.a, self.b, self.proxy, *self.workers]


@pytest.fixture(scope="module")
def cluster(portal, pytestconfig, tmp_path_factory) -> Iterator[Cluster]:
    reason = nginx_skip_reason()
    if reason and os.environ.get("CI"):   # `make test` installs nginx: the CI must not skip silently
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    built = Cluster(tmp_path_factory.mktemp("scaleout"), pytestconfig.getoption("--ckan-ini"))
    start_all([built.a, built.b, built.proxy])
    yield built
    stop_all(built.processes())


@pytest.fixture(scope="module")
def ips_server(tmp_path_factory) -> Iterator[str]:
    """A collectivité's open data site serving the IPS of the Haute-Garonne collèges."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "ips-31.csv").write_bytes(files.ips_haute_garonne())
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/ips-31.csv"
    server.shutdown()


def _action(base: str, action: str, token: str, **data: Any) -> dict[str, Any]:
    response = requests.post(f"{base}/api/3/action/{action}", json=data, headers={"Authorization": token},
                             timeout=TIMEOUT)
    assert response.status_code == 200, (action, response.status_code, response.text[:2000])
    return response.json()["result"]


def _new_dataset(cluster: Cluster, portal: Portal, name: str) -> dict[str, Any]:
    """A dataset of the département created by its editor through node A."""
    return _action(cluster.a.url, "package_create", portal.tokens["editor"], name=name,
                   title=f"IPS des collèges ({name})", owner_org=portal.org["id"], axe="etablissements",
                   millesime="2023", notes="Indice de position sociale des collèges de la Haute-Garonne.")


def _get(url: str, session: Any = requests, **kwargs: Any) -> requests.Response:
    return session.get(url, timeout=TIMEOUT, **kwargs)


def _uai() -> str:
    return next(iter(files.ips_values()))


def test_a_dataset_published_on_node_a_is_searchable_and_shown_on_node_b(cluster, portal):
    package = _new_dataset(cluster, portal, "ips-noeud-a")
    response = requests.post(f"{cluster.a.url}/api/3/action/ecarto_publish_resource",
                             headers={"Authorization": portal.tokens["editor"]}, timeout=TIMEOUT,
                             data={"package_id": package["id"]},
                             files={"upload": ("ips-31.csv", files.ips_haute_garonne(), "text/csv")})
    assert response.status_code == 200, response.text[:2000]
    assert response.json()["result"]["ingest"]["status"] == "ok"

    found = _get(f"{cluster.b.url}/api/3/action/package_search", params={"q": "ips-noeud-a"}).json()["result"]
    assert [d["name"] for d in found["results"]] == ["ips-noeud-a"]
    assert package["title"] in _get(f"{cluster.b.url}/dataset/", params={"q": "noeud"}).text
    assert package["title"] in _get(f"{cluster.b.url}/etablissement/{_uai()}").text

    served_by = set()
    for _ in range(6):
        page = _get(f"{cluster.proxy.url}/etablissement/{_uai()}")
        assert page.status_code == 200 and package["title"] in page.text
        served_by.add(page.headers["X-Ecarto-Node"])
    assert served_by == {f"127.0.0.1:{cluster.a.port}", f"127.0.0.1:{cluster.b.port}"}


def _csrf(page: requests.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def test_a_session_and_a_staged_publication_cross_nodes(cluster, portal):
    package = _new_dataset(cluster, portal, "ips-depot-a-publication-b")
    browser = requests.Session()
    login_form = _get(f"{cluster.a.url}/user/login", browser)
    login = browser.post(f"{cluster.b.url}/user/login", timeout=TIMEOUT, allow_redirects=False, data={
        "login": portal.editor["name"], "password": portal.password, "_csrf_token": _csrf(login_form)})
    assert login.status_code == 302 and "/user/login" not in login.headers["Location"], login.text[:2000]
    form = _get(f"{cluster.a.url}/dataset/{package['name']}/publier", browser, allow_redirects=False)
    assert form.status_code == 200, form.headers.get("Location")          # logged in on A by B's login

    deposit = browser.post(f"{cluster.a.url}/dataset/{package['name']}/publier", timeout=TIMEOUT,
                           allow_redirects=False, data={"_csrf_token": _csrf(form), "name": "IPS 2023"},
                           files={"upload": ("ips-31.csv", files.ips_haute_garonne(), "text/csv")})
    assert deposit.status_code == 302, deposit.text[:2000]
    report_path = deposit.headers["Location"].split("127.0.0.1", 1)[-1].split("/", 1)[-1]
    report = _get(f"{cluster.b.url}/{report_path}", browser)                 # the report, on node B
    assert report.status_code == 200 and "Publier ces données" in report.text
    published = browser.post(f"{cluster.b.url}/{report_path}/publier", timeout=TIMEOUT, allow_redirects=False,
                             data={"_csrf_token": _csrf(report), "name": "IPS 2023"})
    assert published.status_code == 302 and "/publication/" in published.headers["Location"], \
        published.text[:2000]

    resources = _action(cluster.a.url, "package_show", portal.tokens["editor"], id=package["id"])["resources"]
    assert [r["name"] for r in resources] == ["IPS 2023"]
    status = _action(cluster.a.url, "ecarto_ingest_status", portal.tokens["editor"], id=resources[0]["id"])
    assert status["status"] == "ok", status
    assert package["title"] in _get(f"{cluster.a.url}/etablissement/{_uai()}").text


def _ingestion_lines(workers: list[Worker], resource_id: str) -> int:
    return sum(w.log_text().count(f"Ingestion de {resource_id} ") for w in workers)


def _queued_jobs(resource_ids: set[str]) -> list[Any]:
    return [job for job in jobs.get_queue().jobs if job.args and job.args[0] in resource_ids]


def test_two_workers_load_each_ingestion_once(cluster, portal, ips_server):
    """Links are loaded in the background: the resource hook queues the job on node A, then both
    nodes are asked again for the same ingestions, at once; the workers start afterwards."""
    token = portal.tokens["editor"]
    resources = []
    for i in range(3):
        package = _new_dataset(cluster, portal, f"ips-lien-{i}")
        resources.append(_action(cluster.a.url, "resource_create", token, package_id=package["id"],
                                 name="IPS (lien)", format="CSV", url=ips_server))
    ids = {r["id"] for r in resources}
    assert len(_queued_jobs(ids)) == 3                       # one job per resource, from node A's hook

    asks = [(node.url, r["id"]) for r in resources for node in (cluster.a, cluster.b, cluster.a, cluster.b)]
    with concurrent.futures.ThreadPoolExecutor(len(asks)) as pool:
        answers = list(pool.map(lambda ask: (ask[1], _action(ask[0], "ecarto_ingest_resource", token, id=ask[1],
                                                              background=True)), asks))
    for resource_id in ids:
        assert len({answer["job_id"] for rid, answer in answers if rid == resource_id}) == 1
    assert len(_queued_jobs(ids)) == 3                       # still one job per resource

    cluster.workers = [Worker(cluster.ini, cluster.workdir, "1"), Worker(cluster.ini, cluster.workdir, "2")]
    start_all(cluster.workers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        statuses = [_status(cluster, token, rid) for rid in ids]
        if all(s and s["status"] == "ok" for s in statuses) and not _queued_jobs(ids):
            break
        time.sleep(1)
    time.sleep(2)        # a second run of a job would have started by now
    for resource_id in ids:
        assert _status(cluster, token, resource_id)["status"] == "ok"
        assert _ingestion_lines(cluster.workers, resource_id) == 1, [w.log_text()[-3000:] for w in cluster.workers]


def _status(cluster: Cluster, token: str, resource_id: str) -> Any:
    response = requests.post(f"{cluster.a.url}/api/3/action/ecarto_ingest_status", json={"id": resource_id},
                             headers={"Authorization": token}, timeout=TIMEOUT)
    return response.json()["result"] if response.status_code == 200 else None
