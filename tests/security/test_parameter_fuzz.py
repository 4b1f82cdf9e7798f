"""Parameter fuzz (issue 12, item 8): every action the extension registers, every page and
export it serves, and CKAN's own catalogue search, fed with the probe values of the security
campaign. Nothing may answer 5xx; invalid input gets a 4xx that says in French what is wrong.

Probes: a NUL byte and other control characters, integers that are not integers or are huge
(`abc`, `1e5`, `NaN`, `10^20`, empty), 300 nested parentheses, chains of `!`, `-` and `NOT`,
out-of-range date math, a 20,000-word query, numbers/lists/objects where text is expected,
deeply nested JSON bodies, and a 3,000-term wildcard query that must be answered or refused
within 2 seconds.

The portal: the real Occitanie annuaire of the ministry (cut to its first rows at test time) and
the real IPS file of the collèges (cut the same way), published through CKAN's actions.
"""
from __future__ import annotations

import gzip
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

pytestmark = pytest.mark.usefixtures("with_plugins")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"

# --------------------------------------------------------------------------- probes

NUL = "a\x00b"
WORDS_20000 = " ".join(f"ecole{i}" for i in range(20_000))
NESTED_300 = "(" * 300 + "ecole" + ")" * 300

#: text probes: (label, value, always invalid?)
TEXT_PROBES: list[tuple[str, str, bool]] = [
    ("nul", NUL, True),
    ("nul-seul", "\x00", True),
    ("controle", "a\x1bb\x07", True),
    ("parentheses-300", NESTED_300, False),
    ("points-exclamation-300", "!" * 300 + "ecole", False),
    ("moins-300", "-" * 300 + "ecole", False),
    ("not-300", "NOT " * 300 + "ecole", False),
    ("date-lointaine", "metadata_modified:[NOW-99999999999YEARS TO *]", False),
    ("date-impossible", "metadata_modified:[2024-13-45 TO *]", False),
    ("mots-20000", WORDS_20000, False),
    ("entier-enorme", str(10 ** 20), False),
    ("unicode", "école 😀 \u202e", False),
]
#: integer probes (as text in a query string)
INT_PROBES = ["abc", "1e5", "NaN", "10^20", "", str(10 ** 20), "-1", "1.5", "0x10", " 3 "]
#: values of other JSON types where a text is expected
TYPE_PROBES: list[tuple[str, Any]] = [
    ("entier", 31), ("decimal", 3.5), ("booleen", True), ("liste", ["a", "b"]),
    ("objet", {"a": 1}), ("liste-objets", [{"a": 1}]), ("null", None),
]


def deep_list(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def deep_object(depth: int) -> Any:
    value: Any = {"type": "Polygon"}
    for _ in range(depth):
        value = {"a": value}
    return value


_FRENCH = re.compile(r"[éèêàçùôî]|\b(le|la|les|des|du|une?|est|doit|pas|trop|paramètre|caractère|"
                     r"entier|requête|introuvable|inconnue?|invalide|autorisée?)\b", re.I)
_ENGLISH_ERRORS = re.compile(r"Internal Server Error|must be a positive integer|Must be a|Invalid search query|"
                             r"Traceback|not expected|Missing value", re.I)


def error_text(res: Any) -> str:
    """What the response tells the user: the JSON error, or the message of an HTML error page."""
    body = res.get_data(as_text=True)
    if res.content_type.startswith("application/json") or body.lstrip().startswith("{"):
        try:
            data = json.loads(body)
        except ValueError:
            return body
        return json.dumps(data.get("error", data), ensure_ascii=False)
    main = re.search(r"<main.*?</main>", body, re.S) or re.search(r"<body.*</body>", body, re.S)
    text = re.sub(r"<[^>]+>", " ", main.group(0) if main else body)
    return re.sub(r"\s+", " ", text)


def assert_handled(res: Any, what: str, *, invalid: bool) -> None:
    status = res.status_code
    assert status < 500, f"{what}: {status}\n{res.get_data(as_text=True)[:2000]}"
    if invalid:
        assert 400 <= status < 500, f"{what}: {status} (4xx attendu)\n{res.get_data(as_text=True)[:800]}"
    if status >= 400 and status not in (403, 404):
        message = error_text(res)
        assert _FRENCH.search(message), f"{what}: {status}, message non français : {message[:600]}"
        assert not _ENGLISH_ERRORS.search(message), f"{what}: {status}, message : {message[:600]}"


# --------------------------------------------------------------------------- portal


def _cut(path: Path, lines: int) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    text = data.decode("utf-8-sig")
    return ("\n".join(text.splitlines()[: lines + 1]) + "\n").encode("utf-8")


@dataclass
class Portal:
    sysadmin: dict[str, Any]
    editor: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)
    annuaire: dict[str, Any] = field(default_factory=dict)
    ips: dict[str, Any] = field(default_factory=dict)
    uai: str = ""

    def headers(self, who: Optional[str]) -> dict[str, str]:
        return {"Authorization": self.tokens[who]} if who else {}


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    sysadmin = factories.Sysadmin()
    ctx = {"user": sysadmin["name"]}
    menj = helpers.call_action("organization_create", ctx, name="menj", title="Ministère de l'Éducation nationale")
    editor = factories.User(name="editeur-fuzz")
    helpers.call_action("organization_member_create", ctx, id=menj["id"], username=editor["name"], role="editor")
    annuaire = helpers.call_action("package_create", ctx, name="annuaire-occitanie", owner_org=menj["id"],
                                   title="Annuaire de l'éducation — Occitanie", axe="etablissements",
                                   millesime="2024", license_id="etalab-2.0")
    helpers.call_action("resource_create", ctx, package_id=annuaire["id"], name="Annuaire", format="CSV",
                        upload=FileStorage(io.BytesIO(_cut(OCCITANIE, 400)), filename="annuaire.csv"))
    ips = helpers.call_action("package_create", ctx, name="ips-colleges", owner_org=menj["id"],
                              title="IPS des collèges", axe="etablissements", millesime="2023",
                              license_id="etalab-2.0")
    helpers.call_action("resource_create", ctx, package_id=ips["id"], name="IPS", format="CSV",
                        upload=FileStorage(io.BytesIO(_cut(IPS, 300)), filename="ips.csv"))
    portal = Portal(sysadmin=sysadmin, editor=editor,
                    annuaire=helpers.call_action("package_show", ctx, id=annuaire["id"]),
                    ips=helpers.call_action("package_show", ctx, id=ips["id"]))
    first = _cut(OCCITANIE, 1).decode().splitlines()
    header = first[0].split(";")
    portal.uai = first[1].split(";")[header.index("Identifiant_de_l_etablissement")]
    for who in ("sysadmin", "editor"):
        portal.tokens[who] = factories.APIToken(user=getattr(portal, who)["name"])["token"]
    model.Session.remove()
    return portal


# --------------------------------------------------------------------------- actions

#: every parameter of every action of the extension: name -> (kind, side-effect-free, caller)
ACTIONS: dict[str, dict[str, Any]] = {
    "ecarto_etablissement_show": {"get": True, "who": None,
                                  "params": {"uai": "text", "references": "bool"}},
    "ecarto_etablissement_search": {"get": True, "who": None,
                                    "params": {"q": "text", "type": "text", "secteur": "text",
                                               "departement": "text", "academie": "text",
                                               "commune": "text", "rows": "int", "start": "int"}},
    "ecarto_territoire_show": {"get": True, "who": None, "params": {"niveau": "text", "code": "text"}},
    "ecarto_ingest_status": {"get": True, "who": None, "params": {"id": "text", "rejects_limit": "int"}},
    "ecarto_ingest_resource": {"get": False, "who": "sysadmin",
                               "params": {"id": "text", "force": "bool", "background": "bool"}},
    "ecarto_validate_resource": {"get": False, "who": "editor",
                                 "params": {"axe": "text", "package_id": "text", "id": "text", "url": "text",
                                            "uai_column": "text", "commune_column": "text"}},
    "ecarto_publish_resource": {"get": False, "who": "editor",
                                "params": {"package_id": "text", "resource_id": "text", "url": "text",
                                           "name": "text", "description": "text", "uai_column": "text"}},
}


def _base(action: str, portal: Portal) -> dict[str, Any]:
    """Valid values of the other parameters, so that each probe reaches its own parameter."""
    resource = portal.ips["resources"][0]["id"]
    return {
        "ecarto_etablissement_show": {"uai": portal.uai},
        "ecarto_etablissement_search": {"q": "college"},
        "ecarto_territoire_show": {"niveau": "departement", "code": "31"},
        "ecarto_ingest_status": {"id": resource},
        "ecarto_ingest_resource": {"id": resource},
        "ecarto_validate_resource": {"id": resource, "axe": "etablissements"},
        "ecarto_publish_resource": {"package_id": portal.ips["id"]},
    }[action]


def test_every_action_of_the_plugin_is_fuzzed():
    from ckanext.ecarto.plugin import EcartoPlugin
    registered = {name for name in EcartoPlugin().get_actions() if name.startswith("ecarto_")}
    assert registered <= set(ACTIONS), f"actions sans fuzz : {sorted(registered - set(ACTIONS))}"


def _call(app: Any, action: str, data: dict[str, Any], headers: dict[str, str], *, get: bool) -> Any:
    url = f"/api/3/action/{action}"
    if get:
        return app.get(url, query_string=data, headers=headers)
    return app.post(url, json=data, headers=headers)


def _action_cases() -> list[tuple[str, str]]:
    return [(action, param) for action, spec in ACTIONS.items() for param in spec["params"]]


@pytest.mark.parametrize("action,param", _action_cases())
def test_action_parameter_fuzz(app, portal, action, param):
    spec = ACTIONS[action]
    kind = spec["params"][param]
    headers = portal.headers(spec["who"])
    base = _base(action, portal)
    for label, value, invalid in TEXT_PROBES:
        data = {**base, param: value}
        res = _call(app, action, data, headers, get=spec["get"])
        assert_handled(res, f"{action} {param}={label}", invalid=invalid or kind in ("int", "bool"))
    if kind == "int":
        for value in INT_PROBES:
            res = _call(app, action, {**base, param: value}, headers, get=spec["get"])
            assert_handled(res, f"{action} {param}={value!r}", invalid=value.strip() not in ("", "3"))
    for label, value in TYPE_PROBES + [("liste-profonde", deep_list(200)), ("objet-profond", deep_object(200))]:
        res = _call(app, action, {**base, param: value}, headers, get=False)
        invalid = isinstance(value, (list, dict)) or (kind == "int" and isinstance(value, float))
        assert_handled(res, f"{action} {param}={label} (JSON)", invalid=invalid)


def test_deeply_nested_request_bodies_are_refused(app, portal):
    for depth in (500, 5_000, 50_000):
        body = '{"q": ' + "[" * depth + "]" * depth + "}"
        for action in ("ecarto_etablissement_search", "package_search", "ecarto_publish_resource"):
            res = app.post(f"/api/3/action/{action}", data=body, content_type="application/json",
                           headers=portal.headers("editor"))
            assert_handled(res, f"{action} corps JSON profond de {depth}", invalid=True)


def test_establishment_search_gives_the_range_of_rows_and_start(app, portal):
    res = app.get("/api/3/action/ecarto_etablissement_search", query_string={"rows": "abc"})
    assert res.status_code == 409
    assert "rows" in res.json["error"] and "entier" in res.json["error"]["rows"][0]
    res = app.get("/api/3/action/ecarto_etablissement_search", query_string={"start": str(10 ** 20)})
    assert res.status_code == 409 and "start" in res.json["error"]
    res = app.get("/api/3/action/ecarto_etablissement_search", query_string={"departement": "31", "rows": "5"})
    assert res.status_code == 200 and len(res.json["result"]["results"]) <= 5
    res = app.post("/api/3/action/ecarto_etablissement_search", json={"departement": 31, "rows": 5})
    assert res.status_code == 200, res.json


# --------------------------------------------------------------------------- CKAN's catalogue search

SEARCH_PARAMS = ["q", "fq", "facet.field", "sort", "fl", "rows", "start", "facet.limit", "facet.mincount",
                 "ext_bbox"]


@pytest.mark.parametrize("param", SEARCH_PARAMS)
def test_package_search_parameter_fuzz(app, portal, param):
    for label, value, invalid in TEXT_PROBES:
        if param in ("q", "fq") and label in ("parentheses-300", "not-300", "date-lointaine", "date-impossible",
                                               "mots-20000"):
            invalid = True
        if param == "fq" and label in ("points-exclamation-300", "moins-300"):
            invalid = True      # a filter is always parsed; in q, they are words of a free-text search
        res = app.get("/api/3/action/package_search", query_string={param: value})
        assert_handled(res, f"package_search {param}={label}", invalid=invalid)
    for value in INT_PROBES:
        res = app.get("/api/3/action/package_search", query_string={param: value})
        assert_handled(res, f"package_search {param}={value!r}", invalid=False)
    for label, value in TYPE_PROBES + [("objet-profond", deep_object(200))]:
        res = app.post("/api/3/action/package_search", json={param: value})
        assert_handled(res, f"package_search {param}={label} (JSON)", invalid=False)


REFUSED_QUERIES = {
    "parentheses-300": NESTED_300,
    "not-300": "NOT " * 300 + "ecole",
    "champ-not-300": "title:(" + "NOT " * 300 + "ecole)",
    "date-lointaine": "metadata_modified:[NOW-99999999999YEARS TO *]",
    "date-future": "metadata_modified:[NOW+99999999999DAYS TO *]",
    "date-impossible": "metadata_modified:[2024-13-45 TO *]",
    "mots-20000": WORDS_20000,
    "ou-20000": "title:(" + " OR ".join(["ecole"] * 20_000) + ")",
    "intervalle-sans-fin": "metadata_modified:[" + "a TO " * 5000,
}


@pytest.mark.parametrize("label", sorted(REFUSED_QUERIES))
def test_package_search_refuses_what_it_cannot_run_with_a_french_message(app, portal, label):
    query = REFUSED_QUERIES[label]
    for key in ("q", "fq"):
        began = time.monotonic()
        res = app.get("/api/3/action/package_search", query_string={key: query})
        assert time.monotonic() - began < 2
        assert res.status_code == 400, (key, res.status_code, res.get_data(as_text=True)[:500])
        assert _FRENCH.search(res.json["error"]["message"]), res.json["error"]
    res = app.get("/dataset/", query_string={"q": query})
    assert res.status_code == 400
    assert _FRENCH.search(error_text(res)) and not _ENGLISH_ERRORS.search(error_text(res)), error_text(res)[:500]


@pytest.mark.parametrize("label,query", [("points-exclamation-300", "!" * 300 + "ecole"),
                                         ("moins-300", "-" * 300 + "ecole"),
                                         ("grand-nombre", "num_resources:" + "9" * 5000)])
def test_package_search_answers_or_refuses_odd_queries(app, portal, label, query):
    for key in ("q", "fq"):
        res = app.get("/api/3/action/package_search", query_string={key: query})
        assert_handled(res, f"package_search {key}={label}", invalid=False)


def test_a_reasonable_query_still_works(app, portal):
    res = app.get("/api/3/action/package_search", query_string={
        "q": "(title:annuaire OR title:ips) AND NOT name:absent", "fq": "metadata_modified:[NOW-10YEARS TO *]"})
    assert res.status_code == 200 and res.json["result"]["count"] == 2


@pytest.mark.parametrize("form", ["q-ou", "q-libre", "fq"])
def test_a_3000_term_wildcard_query_is_answered_or_refused_within_2_seconds(app, portal, form):
    terms = [f"*ec{i}*" for i in range(3000)]
    data = {"q-ou": {"q": " OR ".join(f"title:{t}" for t in terms)},
            "q-libre": {"q": " ".join(terms)},
            "fq": {"fq": " OR ".join(f"name:{t}" for t in terms)}}[form]
    began = time.monotonic()
    res = app.get("/api/3/action/package_search", query_string=data)
    elapsed = time.monotonic() - began
    assert res.status_code in (200, 400), res.get_data(as_text=True)[:500]
    assert elapsed < 2, f"{elapsed:.1f} s"
    if res.status_code == 400:
        assert "trop" in res.json["error"]["message"]


def test_wildcard_terms_are_limited_with_a_french_message(app, portal):
    few = " OR ".join(f"title:*nn{i}*" for i in range(20))
    res = app.get("/api/3/action/package_search", query_string={"q": few})
    assert res.status_code == 200
    many = " OR ".join(f"title:*nn{i}*" for i in range(21))
    res = app.get("/api/3/action/package_search", query_string={"q": many})
    assert res.status_code == 400
    assert "21 termes avec joker (* ou ?), 20 au plus" in res.json["error"]["message"]


# --------------------------------------------------------------------------- pages of the extension

def _pages(portal: Portal) -> dict[str, list[str]]:
    """Every page and export of the extension (and CKAN's catalogue), with the query parameters
    each one reads; every page also gets a NUL byte in parameters it does not read."""
    uai, name = portal.uai, portal.ips["name"]
    resource = portal.ips["resources"][0]["id"]
    filters = ["q", "type", "secteur", "departement", "academie", "commune", "page"]
    return {
        "/etablissement": filters,
        "/etablissement/autocomplete": ["q"],
        f"/etablissement/{uai}": [], f"/etablissement/{uai}.json": [], f"/etablissement/{uai}.csv": [],
        f"/etablissement/{uai}-indicateurs.csv": [],
        "/territoire": ["q"], "/territoire/autocomplete": ["q"],
        "/territoire/france": [], "/territoire/france.json": [],
        "/territoire/departement/31": [], "/territoire/departement/31.json": [],
        "/territoire/departement/31.csv": [], "/territoire/departement/31.geojson": [],
        "/territoire/carte.json": ["niveau", "code", "enfants", "serie", "dim"],
        "/territoire/contours.geojson": ["niveau", "code", "enfants"],
        "/territoire/etablissements.json": ["niveau", "code"],
        f"/territoire/carte-uai/{resource}.json": ["colonne"],
        f"/apercu/{resource}.json": ["page", "lignes", "tri", "ordre"],
        "/accessibilite": [], "/documentation-api": [],
        "/etat-des-lieux": ["format"],
        "/schemas/etablissements.csv": [], "/schemas/etablissements.json": [],
        "/schemas": [], "/schemas/etablissements": [], "/schemas/etablissements.xlsx": [],
        "/schemas/etablissements.ods": [], "/schemas/etablissements-exemple.csv": [],
        f"/dataset/{name}/publier": ["resource_id"],
        f"/dataset/{name}/publication/{resource}": [],
        f"/dataset/{name}/resource/{resource}/roles": [],
        "/tableau-de-bord/qualite": ["tri"],
        "/dataset/": ["q", "sort", "page", "ext_bbox", "tags", "organization", "res_format", "qualite",
                      "qualite_manque"],
        "/organization/": ["q", "sort", "page"],
    }


def test_every_page_of_the_extension_is_fuzzed(app, portal):
    """The page list covers every route of the extension's blueprints."""
    urls = list(_pages(portal))
    rules = [r for r in app.flask_app.url_map.iter_rules()
             if r.endpoint.split(".")[0].startswith("ecarto_")]
    assert rules
    for rule in rules:
        pattern = re.sub(r"<[^>]+>", "[^/]+", rule.rule)
        if "token" in rule.rule:
            continue    # staged-file steps: test_publication_pages_refuse_control_characters
        assert any(re.fullmatch(pattern, u) for u in urls), f"route sans fuzz : {rule.rule}"


@pytest.mark.parametrize("who", [None, "editor"])
def test_page_parameter_fuzz(app, portal, who):
    headers = portal.headers(who)
    for url, params in _pages(portal).items():
        for param in params:
            for label, value, invalid in TEXT_PROBES:
                res = app.get(url, query_string={param: value}, headers=headers)
                assert_handled(res, f"{url}?{param}={label}", invalid=invalid)
        for param in params + ["id", "inconnu"]:
            res = app.get(url, query_string={param: NUL}, headers=headers)
            assert_handled(res, f"{url}?{param}=NUL", invalid=True)
        for value in INT_PROBES:
            res = app.get(url, query_string={"page": value}, headers=headers)
            assert_handled(res, f"{url}?page={value!r}", invalid=value.strip() != "3")


@pytest.mark.parametrize("path", ["/etablissement/0311131L\x00", "/territoire/departement/3\x001",
                                  "/territoire/a%00b", "/schemas/eta%00.csv", "/dataset/a%00b/publier"])
def test_control_characters_in_paths(app, portal, path):
    res = app.get(path)
    assert res.status_code < 500


def test_nul_in_core_pages_is_a_french_400(app, portal):
    for url, args in [("/dataset/", {"q": NUL}), ("/dataset/", {"type": "dataset\x00"}),
                      ("/dataset/", {"tags": NUL}), ("/organization/", {"q": NUL}), ("/user/login", {"came_from": NUL}),
                      ("/api/3/action/package_search", {"q": NUL}), ("/api/3/action/package_show", {"id": NUL}),
                      ("/etablissement", {"q": NUL}), ("/etablissement/autocomplete", {"q": NUL})]:
        res = app.get(url, query_string=args)
        assert res.status_code == 400, (url, args, res.status_code)
        assert "caractère de contrôle" in error_text(res), error_text(res)[:400]


def test_nul_in_form_fields_is_a_french_400(app, portal):
    res = app.post(f"/dataset/{portal.ips['name']}/publier", data={"url": "http://exemple.fr/a\x00b.csv"},
                   headers=portal.headers("editor"))
    assert res.status_code == 400 and "caractère de contrôle" in error_text(res)


def test_establishment_search_page_explains_bad_parameters(app, portal):
    res = app.get("/etablissement", query_string={"page": str(10 ** 20)})
    assert res.status_code == 400 and "page" in error_text(res)
    res = app.get("/etablissement", query_string={"q": "x" * 5000})
    assert res.status_code == 400
    res = app.get("/etablissement", query_string={"q": "college", "departement": "31"})
    assert res.status_code == 200


def test_publication_pages_refuse_control_characters(app, portal):
    headers = portal.headers("editor")
    name = portal.ips["name"]
    for path in (f"/dataset/{name}/publier/{'a' * 40}", f"/dataset/{name}/publier/x%00y"):
        assert_handled(app.get(path, headers=headers), path, invalid=True)
    for suffix in ("colonne", "abandonner", "publier"):
        res = app.post(f"/dataset/{name}/publier/{'b' * 40}/{suffix}", data={"uai_column": NUL}, headers=headers)
        assert_handled(res, suffix, invalid=True)


# --------------------------------------------------------------------------- dataset metadata

def test_deep_json_in_spatial_and_data_dictionary_is_refused_in_french(app, portal):
    headers = portal.headers("sysadmin")
    for depth in (30, 500, 5000):
        deep = "[" * depth + "]" * depth
        res = app.post("/api/3/action/package_patch", json={"id": portal.ips["id"], "spatial": deep}, headers=headers)
        assert res.status_code == 409, res.get_data(as_text=True)[:500]
        assert "spatial" in res.json["error"] and _FRENCH.search(str(res.json["error"]["spatial"]))
        res = app.post("/api/3/action/resource_patch", json={"id": portal.ips["resources"][0]["id"],
                                                             "data_dictionary": deep}, headers=headers)
        assert res.status_code == 409, res.get_data(as_text=True)[:500]
        assert _FRENCH.search(str(res.json["error"]))
    body = '{"id": "%s", "spatial": %s}' % (portal.ips["id"], '{"a": ' * 3000 + "1" + "}" * 3000)
    res = app.post("/api/3/action/package_patch", data=body, content_type="application/json", headers=headers)
    assert res.status_code == 400 and "trop imbriquées" in res.json["error"]["message"]
    after = helpers.call_action("package_show", id=portal.ips["id"])
    assert after["metadata_modified"] == portal.ips["metadata_modified"]
