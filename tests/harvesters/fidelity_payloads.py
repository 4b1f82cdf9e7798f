"""Recorded payloads of the fidelity tests (see data/README.md), put on the fake portal (a real
HTTP server on loopback, portal.py): Opendatasoft's own Explore v2.1 examples, and data.gouv.fr
dataset objects rebuilt field by field."""
from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import yaml

from ckanext.ecarto.harvesters import base

from .portal import DATA, MCI, FakePortal

ODS_EXAMPLE = DATA / "ods-openapi-v2.1-datasets-example.yaml"
UDATA_FIDELITE = DATA / "udata-datasets-fidelite.json"

GEONAMES = "geonames-all-cities-with-a-population-1000"
WORLD = "world-administrative-boundaries-countries-and-territories"
ODS_EXPORT = "/api/explore/v2.1/catalog/datasets/{id}/exports/csv"
GEONAMES_FILE = "/files/fidelite/geonames-extrait.csv"


def ods_example() -> dict[str, Any]:
    return yaml.safe_load(ODS_EXAMPLE.read_text(encoding="utf-8"))


def ods_export(dataset: dict[str, Any], records: list[dict[str, Any]]) -> bytes:
    """What ``exports/csv?use_labels=true&delimiter=;`` answers for these records: labels as
    header, lists joined by ``,`` (``list_separator``), geo points as « lat, lon », a BOM
    (``with_bom`` defaults to true in v2.1)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([f["label"] for f in dataset["fields"]])
    for record in records:
        row = []
        for field in dataset["fields"]:
            value = record.get(field["name"])
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, dict):
                value = f"{value['lat']}, {value['lon']}"
            row.append("" if value is None else value)
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def serve_ods_example(portal: FakePortal) -> dict[str, Any]:
    """The portal's catalogue becomes the `datasets-v2.1` example; the Geonames export is built
    from the `records-v2.1` example (its two real records); the example publishes no record of
    the world boundaries: its export is its header only."""
    example = ods_example()
    datasets = copy.deepcopy(example["datasets-v2.1"]["results"])
    portal.ods = datasets
    by_id = {d["dataset_id"]: d for d in datasets}
    portal.files[ODS_EXPORT.format(id=GEONAMES)] = ods_export(by_id[GEONAMES], example["records-v2.1"]["results"])
    portal.files[ODS_EXPORT.format(id=WORLD)] = ods_export(by_id[WORLD], [])
    return by_id


def serve_udata_fidelite(portal: FakePortal) -> list[dict[str, Any]]:
    """The data.gouv.fr datasets of organization `fidelite`; their files are real files of the
    repository (Arcep's « Ma connexion internet » samples, the Geonames records above)."""
    datasets = json.loads(UDATA_FIDELITE.read_text(encoding="utf-8"))
    portal.udata = datasets
    example = ods_example()
    geonames = next(d for d in example["datasets-v2.1"]["results"] if d["dataset_id"] == GEONAMES)
    portal.files[GEONAMES_FILE] = ods_export(geonames, example["records-v2.1"]["results"])
    for name in ("commune_techno_sample.csv", "commune_debit_filaire_sample.csv"):
        portal.files[f"/files/arcep/{name}"] = (MCI / name).read_bytes()
    return datasets


def warnings_of(summary) -> dict[str, list[str]]:
    """guid -> the remarks a harvest run recorded on it (base.job_warnings)."""
    found: dict[str, list[str]] = {}
    for guid, message in base.job_warnings(summary.job_id):
        found.setdefault(guid, []).append(message)
    return found
