"""Run by the python of .venv-udata (not by pytest): checks package_show results the way
data.gouv.fr's CKAN harvester does (udata.harvest.backends.ckan.harvesters.CkanBackend.process_dataset),
with udata's own code: the voluptuous schema, then the reading of the extras it maps.

Input: path of a JSON list of package_show results. Output (stdout): JSON
{"udata": version, "results": {name: [problems]}} — an empty list means harvested cleanly.
"""
from __future__ import annotations

import json
import sys
from importlib.metadata import version


def check(result: dict) -> list[str]:
    from voluptuous import Invalid
    from udata.core.dataset.rdf import frequency_from_rdf
    from udata.harvest.backends.ckan.harvesters import ALLOWED_RESOURCE_TYPES
    from udata.harvest.backends.ckan.schemas.ckan import schema
    from udata.utils import daterange_end, daterange_start

    problems: list[str] = []
    try:
        data = schema(result)
    except Invalid as exc:  # MultipleInvalid is an Invalid
        errors = getattr(exc, "errors", [exc])
        return [f"schema: {e}" for e in errors]
    if not data.get("resources"):
        problems.append("no resource: the harvester skips the dataset")
    kept = [r for r in data["resources"] if not r.get("resource_type") or r["resource_type"] in ALLOWED_RESOURCE_TYPES]
    if data.get("resources") and not kept:
        problems.append("every resource dropped (resource_type)")
    extras = {e["key"]: e["value"] for e in data.get("extras", []) if e.get("value")}
    if "spatial" in extras:
        geom = extras["spatial"]
        geom = json.loads(geom) if isinstance(geom, str) else geom
        if geom.get("type") not in ("Polygon", "MultiPolygon"):
            problems.append(f"spatial {geom.get('type')} refused (HarvestException)")
    if "frequency" in extras and not frequency_from_rdf(extras["frequency"]):
        problems.append(f"frequency {extras['frequency']} not understood")
    for key, parse in (("temporal_start", daterange_start), ("temporal_end", daterange_end)):
        if key in extras:
            try:
                parse(extras[key])
            except Exception as exc:  # noqa: BLE001 - udata logs and ignores
                problems.append(f"{key} {extras[key]!r} unparseable: {exc}")
    return problems


def main() -> int:
    from flask import Flask
    with open(sys.argv[1], encoding="utf-8") as f:
        results = json.load(f)
    # udata's validators read its settings (TAG_MIN_LENGTH…) from the Flask app: its defaults,
    # without the Mongo-backed extensions the harvester's storage needs.
    app = Flask("udata")
    app.config.from_object("udata.settings.Defaults")
    with app.app_context():
        report = {r.get("name", "?"): check(r) for r in results}
    json.dump({"udata": version("udata"), "results": report}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
