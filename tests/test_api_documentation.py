"""`/documentation-api` cannot lie: every GET example the page shows is read back out of the
rendered HTML and requested from the running application over HTTP; each must answer 200 with
the format it announces (JSON envelope with success true, CSV, Turtle, RDF/XML, JSON-LD,
GeoJSON). The examples use the portal's own public data (real sample files), never a private
dataset."""
from __future__ import annotations

import html
import json
import re
import shlex

import pytest
import requests
from rdflib import Graph

import ckan.plugins as plugins
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

EXAMPLE = re.compile(r'<code data-method="(GET|POST)"(?: data-url="([^"]*)" data-kind="([^"]*)")?>(.*?)</code>', re.S)


def _examples(page_html: str) -> list[dict[str, str]]:
    return [{"method": m, "url": html.unescape(u or ""), "kind": k, "curl": html.unescape(c)}
            for m, u, k, c in EXAMPLE.findall(page_html)]


def _get_page(live_server: str, headers: dict[str, str] | None = None) -> str:
    response = requests.get(live_server + "/documentation-api", headers=headers or {}, timeout=60)
    assert response.status_code == 200
    return response.text


def _check_answer(example: dict[str, str], response: requests.Response) -> None:
    url, kind = example["url"], example["kind"]
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    ctype = response.headers["Content-Type"]
    if kind == "json" and "/api/3/action/" in url:
        body = response.json()
        assert body["success"] is True and "result" in body, url
    elif kind == "json":
        assert ctype.startswith("application/json"), url
        assert response.json(), url
    elif kind == "geojson":
        assert response.json()["type"] == "FeatureCollection", url
    elif kind == "csv":
        assert ctype.startswith("text/csv"), url
        assert ";" in response.content.decode("utf-8-sig").splitlines()[0], url
    else:
        rdf_format = {"turtle": "turtle", "rdfxml": "xml", "jsonld": "json-ld"}[kind]
        graph = Graph().parse(data=response.text, format=rdf_format)
        assert len(graph) > 10, url


@pytest.mark.usefixtures("with_plugins", "ecarto_db")
def test_an_empty_portal_documents_only_examples_that_answer(app, live_server):
    """No dataset, no directory: no example names a dataset, a resource or an establishment,
    and the remaining ones (catalogue, territories, DCAT) still answer. (Runs before the
    module's portal is built.)"""
    examples = _examples(_get_page(live_server))
    urls = [e["url"] for e in examples if e["method"] == "GET"]
    assert not [u for u in urls if "package_show" in u or "resource_show" in u or "/etablissement/" in u]
    assert any(u.endswith("/catalog.ttl") for u in urls) and any("ecarto_territoire_show" in u for u in urls)
    for example in examples:
        if example["method"] == "GET":
            _check_answer(example, requests.get(example["url"], timeout=60))


@pytest.mark.usefixtures("with_plugins")
def test_every_get_example_of_the_page_answers_with_its_format(portal, live_server):
    examples = _examples(_get_page(live_server))
    gets = [e for e in examples if e["method"] == "GET"]
    assert len(gets) >= 25
    for example in gets:
        assert example["url"].startswith(live_server + "/"), example["url"]
        assert example["curl"] == f"curl '{example['url']}'"        # what a reader copies is what runs
        _check_answer(example, requests.get(example["url"], timeout=60))


@pytest.mark.usefixtures("with_plugins")
def test_examples_use_the_portals_real_data(portal, live_server):
    """The establishment, dataset, resource and producer of the examples exist and are found."""
    examples = {e["url"].split(live_server, 1)[-1]: e for e in _examples(_get_page(live_server))}
    paths = list(examples)
    uai_paths = [p for p in paths if p.startswith("/etablissement/") and p.endswith(".json")]
    assert uai_paths
    uai = uai_paths[0][len("/etablissement/"):-len(".json")]
    record = requests.get(live_server + uai_paths[0], timeout=60).json()
    assert record["uai"] == uai and record["identite"]["nom"]
    assert any(r["Identifiant_de_l_etablissement"] == uai for r in portal.annuaire)
    search = next(p for p in paths if "ecarto_etablissement_search?q=" in p)
    assert requests.get(live_server + search, timeout=60).json()["result"]["count"] > 0
    dataset_names = set(portal.datasets)
    assert any(p == f"/api/3/action/package_show?id={name}" for p in paths for name in dataset_names)
    assert any(p.startswith("/dataset/") and p.endswith(".ttl") for p in paths)
    by_org = next(p for p in paths if "fq=organization" in p)
    assert requests.get(live_server + by_org, timeout=60).json()["result"]["count"] > 0
    facets = next(p for p in paths if "facet.field" in p)
    result = requests.get(live_server + facets, timeout=60).json()["result"]
    assert set(result["search_facets"]) == {"organization", "tags", "axe"}


@pytest.mark.usefixtures("with_plugins")
def test_every_action_of_the_portal_is_documented_in_french(portal, live_server):
    page = _get_page(live_server)
    actions = [name for name in plugins.get_plugin("ecarto").get_actions() if name.startswith("ecarto_")]
    assert actions
    for name in actions:
        assert f"<code>{name}</code>" in page, name
    for text in ("Principes de l’API", "Authorization", "success", "Comment data.gouv.fr moissonne ce portail",
                 "/catalog.rdf", "hydra", "Licence Ouverte 2.0"):
        assert html.escape(text, quote=False) in page or text in page, text


def _run_curl(command: str, token: str) -> requests.Response:
    """A documented `curl -X POST -H … -d '…' URL` line, run as the shell would run it."""
    words = shlex.split(command.replace("$ECARTO_TOKEN", token))
    headers, body = {}, None
    i = 3
    while i < len(words) - 1:
        if words[i] == "-H":
            key, _, value = words[i + 1].partition(": ")
            headers[key] = value
        elif words[i] == "-d":
            body = words[i + 1]
        i += 2
    return requests.post(words[-1], data=body.encode("utf-8"), headers=headers, timeout=60)


@pytest.mark.usefixtures("with_plugins")
def test_write_examples_work_with_a_token(portal, live_server):
    """The POST examples, run once with a real editor's token, create then patch a dataset."""
    posts = [e for e in _examples(_get_page(live_server)) if e["method"] == "POST"]
    assert len(posts) == 3
    for example in posts:
        assert example["curl"].startswith('curl -X POST -H "Authorization: $ECARTO_TOKEN"'), example["curl"]
    token = factories.APIToken(user=portal.sysadmin["name"])["token"]
    create, patch = (next(e for e in posts if e["url"].endswith(f"/{name}")) for name in ("package_create", "package_patch"))
    created = _run_curl(create["curl"], token)
    try:
        assert created.status_code == 200, created.text[:500]
        assert created.json()["result"]["license_id"] == "etalab-2.0"
        assert requests.post(create["url"], json={}, timeout=60).status_code == 403     # no token, no write
        patched = _run_curl(patch["curl"], token)
        assert patched.status_code == 200 and patched.json()["result"]["notes"] == "Description mise à jour."
    finally:
        if created.status_code == 200:
            helpers.call_action("dataset_purge", {"user": portal.sysadmin["name"]}, id=created.json()["result"]["id"])


@pytest.mark.usefixtures("with_plugins")
def test_a_private_dataset_never_appears_in_the_examples(portal, live_server):
    """Even for a sysadmin reading the page, the examples are an anonymous visitor's."""
    ctx = {"user": portal.sysadmin["name"]}
    menj = helpers.call_action("organization_show", ctx, id="menj")
    private = helpers.call_action("package_create", ctx, name="prive-plus-recent", title="Jeu privé", private=True,
                                  owner_org=menj["id"], axe="etablissements", millesime="2025",
                                  license_id="etalab-2.0", notes="Jeu privé de test.")
    helpers.call_action("resource_create", ctx, package_id=private["id"], name="fichier", url="http://example.org/x.csv")
    token = factories.APIToken(user=portal.sysadmin["name"])["token"]
    try:
        page = _get_page(live_server, headers={"Authorization": token})
        assert "prive-plus-recent" not in page
        assert private["id"] not in page
    finally:
        helpers.call_action("dataset_purge", ctx, id=private["id"])
