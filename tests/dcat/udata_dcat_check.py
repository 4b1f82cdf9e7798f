"""Run by the python of .venv-udata (not by pytest): parses the pages of a served DCAT catalogue
the way data.gouv.fr's DCAT harvester does (udata.harvest.backends.dcat.DcatBackend, in dry-run
mode: ``process_one_datasets_page`` → ``process_item`` → ``dataset_from_rdf`` → ``validate()``,
the fields' validation; ``Dataset.clean()`` is left out: it looks up owners in MongoDB).

udata resolves licences against its MongoDB collection (``License.guess`` / ``License.default``);
there is no MongoDB here, so those two lookups are replaced by a table of the licence URLs udata
ships in its fixtures for the licences this portal serves. Every other step is udata's own code.

Input: paths of the pages (Turtle files), in order. Output (stdout): JSON
{"udata": version, "datasets": {identifier: {"title", "resources": [...], "license", "errors": [...]}},
 "errors": [page-level problems]} — a dataset with an empty "errors" list is harvested cleanly.
"""
from __future__ import annotations

import json
import sys
import traceback
from importlib.metadata import version

# Licence URLs → udata licence ids (udata/harvest/tests fixtures and data.gouv.fr's licence list).
KNOWN_LICENSES = {
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/": "lov2",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence": "lov2",
    "https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf": "lov2",
    "http://opendatacommons.org/licenses/odbl/1.0/": "odc-odbl",
    "https://opendatacommons.org/licenses/odbl/1-0/": "odc-odbl",
}


_GUESSED: list[str] = []


def _stub_licenses() -> None:
    """License.guess records the licence udata would pick and returns None (no document to
    reference without MongoDB); License.default has nothing to return either."""
    from udata.core.dataset.models import License

    def guess(*strings, default=None):
        for value in strings:
            text = str(value).strip()
            if text in KNOWN_LICENSES:
                _GUESSED.append(KNOWN_LICENSES[text])
                return None
        _GUESSED.append("notspecified")
        return None

    License.guess = staticmethod(guess)               # type: ignore[method-assign]
    License.default = staticmethod(lambda: None)      # type: ignore[method-assign]


def parse_pages(paths: list[str]) -> dict:
    from rdflib import Graph
    from rdflib.namespace import RDF
    from udata.core.dataset.models import Dataset
    from udata.core.dataset.rdf import dataset_from_rdf
    from udata.harvest.backends.dcat import DcatBackend
    from udata.rdf import DCAT, DCT, namespace_manager
    from udata.utils import uniquify

    datasets: dict[str, dict] = {}
    errors: list[str] = []
    for path in paths:
        graph = Graph(namespace_manager=namespace_manager)
        graph.parse(path, format="turtle")
        for node in uniquify(graph.subjects(RDF.type, [DCAT.Dataset, DCAT.DatasetSeries])):
            if DcatBackend.is_dataset_external_to_this_graph(None, node, graph):
                continue
            remote_id = str(v) if (v := graph.value(node, DCT.identifier)) else None
            if not remote_id:
                errors.append(f"{node}: missing identifier (skipped by the harvester)")
                continue
            entry = {"title": None, "resources": [], "license": None, "errors": []}
            datasets[remote_id] = entry
            try:
                _GUESSED.clear()
                dataset = dataset_from_rdf(graph, Dataset(), node=node, dryrun=True)
                license_id = _GUESSED[-1] if _GUESSED else None
                # the fields' own validation; Dataset.clean() needs MongoDB (owner lookups)
                dataset.validate(clean=False)
                entry["title"] = dataset.title
                entry["description"] = dataset.description
                entry["license"] = license_id
                entry["resources"] = [{"title": r.title, "url": r.url, "format": r.format, "mime": r.mime,
                                       "checksum": (r.checksum.type if r.checksum else None)}
                                      for r in dataset.resources]
            except Exception as exc:  # noqa: BLE001 - reported, as the harvester does per item
                entry["errors"].append(f"{type(exc).__name__}: {exc}")
                entry["errors"].append(traceback.format_exc(limit=3))
    return {"datasets": datasets, "errors": errors}


def main() -> int:
    from flask import Flask
    from udata import i18n
    app = Flask("udata")
    app.config.from_object("udata.settings.Defaults")
    i18n.init_app(app)                                  # URL validation reads Babel's settings
    # the test's remote portal (harvested resources) is on 127.0.0.1: udata's test settings
    # (udata.settings.Testing) allow local URLs too
    app.config["URLS_ALLOW_LOCAL"] = True
    _stub_licenses()
    with app.app_context():
        report = parse_pages(sys.argv[1:])
    json.dump({"udata": version("udata"), **report}, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
