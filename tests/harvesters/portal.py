"""A real HTTP server on 127.0.0.1 playing an Opendatasoft portal (Explore API v2.1) and
data.gouv.fr (udata API v1), serving the real sample files (see data/README.md), with faults that
tests switch on: HTTP status, delay (timeout), malformed body, truncated transfer."""
from __future__ import annotations

import copy
import gzip
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs, urlencode, urlparse

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
DATA = Path(__file__).resolve().parent / "data"
SHARED = Path("/work/shared/data")

ANNUAIRE_CSV = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.csv"
ANNUAIRE_JSON = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_094-ecoles-publiques_2026-05-27.exports-json.json.gz"
IPS_CSV = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
ARCEP_COMMUNES = SAMPLE / "arcep-observatoire-thd-2018t1" / "communes.csv.gz"
MCI = SAMPLE / "arcep-maconnexioninternet-2026t1"
SITES_MOBILES = SHARED / "arcep-sites-mobiles-2018" / "2018_01_Sites_mobiles_2G_3G_4G_France_metropolitaine_L93.csv.gz"
ETIC_FIXTURE = DATA / "etic-1d_export-csv_fixture-ecrite-a-la-main.csv"


def raw(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def first_rows(data: bytes, rows: int, preamble: int = 0) -> bytes:
    """Header (after `preamble` lines) + the first `rows` data rows, line endings kept."""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[: preamble + 1 + rows])


def annuaire_fields() -> list[dict[str, Any]]:
    """ODS `fields` of the annuaire: labels = the real CSV header, names and types = the real
    `exports/json` records of the same extract."""
    header = raw(ANNUAIRE_CSV).decode("utf-8-sig").splitlines()[0].split(";")
    records = json.loads(raw(ANNUAIRE_JSON))
    sample: dict[str, Any] = {}
    for record in records:
        for key, value in record.items():
            if value is not None:
                sample.setdefault(key, value)
    fields = []
    for label in header:
        name = label.lower()
        value = sample.get(name)
        if isinstance(value, bool) or value is None or isinstance(value, str):
            kind = "date" if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value) else "text"
        elif isinstance(value, int):
            kind = "int"
        elif isinstance(value, float):
            kind = "double"
        elif isinstance(value, dict):
            kind = "geo_point_2d"
        else:
            kind = "text"
        fields.append({"name": name, "label": label, "type": kind, "description": None, "annotations": {}})
    return fields


@dataclass
class Fault:
    status: Optional[int] = None          # answer this HTTP status
    body: Optional[bytes] = None          # answer this body (e.g. malformed JSON)
    delay: float = 0.0                    # wait before answering (timeouts)
    truncate: Optional[int] = None        # announce the full length, send only this many bytes
    times: Optional[int] = None           # apply this many times, then behave normally
    after: int = 0                        # let this many requests through first


class FakePortal:
    def __init__(self) -> None:
        self.ods: list[dict[str, Any]] = json.loads((DATA / "ods-datasets.json").read_text(encoding="utf-8"))
        for dataset in self.ods:
            if dataset["fields"] == "@annuaire":
                dataset["fields"] = annuaire_fields()
        self.udata: list[dict[str, Any]] = json.loads((DATA / "udata-datasets.json").read_text(encoding="utf-8"))
        self.files: dict[str, bytes] = {
            "/api/explore/v2.1/catalog/datasets/fr-en-annuaire-education/exports/csv": raw(ANNUAIRE_CSV),
            "/api/explore/v2.1/catalog/datasets/fr-en-ips-colleges-ap2022/exports/csv": first_rows(raw(IPS_CSV), 300),
            "/api/explore/v2.1/catalog/datasets/fr-en-etic_1d-fixture/exports/csv": ETIC_FIXTURE.read_bytes(),
            "/api/explore/v2.1/catalog/datasets/fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre/exports/csv": b"",
            "/files/arcep/communes-2018t1.extrait-300-lignes.csv": first_rows(raw(ARCEP_COMMUNES), 300, preamble=4),
            "/files/arcep/commune_techno_sample.csv": raw(MCI / "commune_techno_sample.csv"),
            "/files/arcep/commune_debit_filaire_sample.csv": raw(MCI / "commune_debit_filaire_sample.csv"),
            "/files/arcep/commune_meilleure_techno_thd_sample.csv": raw(MCI / "commune_meilleure_techno_thd_sample.csv"),
            "/files/arcep/sites-mobiles-2018-01.extrait-100-lignes.csv": first_rows(raw(SITES_MOBILES), 100),
        }
        self.faults: dict[str, Fault] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.portal = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "FakePortal":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ changes made by tests

    def ods_dataset(self, ident: str) -> dict[str, Any]:
        return next(d for d in self.ods if d["dataset_id"] == ident)

    def remove_ods(self, ident: str) -> dict[str, Any]:
        dataset = self.ods_dataset(ident)
        self.ods.remove(dataset)
        return dataset

    def republish_ods(self, ident: str, data: Optional[bytes] = None, **metas: Any) -> None:
        """The producer publishes again: new dates (and new data when given)."""
        dataset = self.ods_dataset(ident)
        default = dataset["metas"]["default"]
        default.update({"modified": "2026-06-15T06:00:00+00:00", "data_processed": "2026-06-15T06:00:00+00:00",
                        "metadata_processed": "2026-06-15T06:05:00+00:00"})
        default.update(metas)
        if data is not None:
            self.files[f"/api/explore/v2.1/catalog/datasets/{ident}/exports/csv"] = data

    def udata_dataset(self, ident: str) -> dict[str, Any]:
        return next(d for d in self.udata if d["id"] == ident)

    def count(self, fragment: str) -> int:
        return sum(1 for r in self.requests if fragment in r)

    # ------------------------------------------------------------------ API answers

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{base}", self.url)
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, dict):
            out = {k: self._resolve(v) for k, v in value.items()}
            if out.get("checksum", {}) and isinstance(out["checksum"], dict) and out["checksum"].get("value") == "@sha1":
                body = self.files.get(urlparse(out["url"]).path, b"")
                out["checksum"] = {"type": "sha1", "value": hashlib.sha1(body).hexdigest()}
            if out.get("filesize") == "@size":
                out["filesize"] = len(self.files.get(urlparse(out["url"]).path, b""))
            return out
        return value

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        q = {k: v[0] for k, v in query.items()}
        if path in self.files:
            return 200, "text/csv; charset=utf-8", self.files[path]
        if path == "/api/explore/v2.1/catalog/datasets":
            limit, offset = int(q.get("limit", 10)), int(q.get("offset", 0))
            results = copy.deepcopy(self.ods[offset: offset + limit])
            return _json({"total_count": len(self.ods), "results": results})
        match = re.match(r"^/api/1/organizations/([^/]+)/datasets/$", path)
        if match:
            found = [d for d in self.udata if (d.get("organization") or {}).get("slug") == match.group(1)]
            return _json(self._page(path, q, found))
        if path == "/api/1/datasets/":
            found = [d for d in self.udata
                     if (not q.get("tag") or q["tag"] in d.get("tags", []))
                     and (not q.get("q") or q["q"].lower() in d["title"].lower())]
            return _json(self._page(path, q, found))
        match = re.match(r"^/api/1/datasets/([^/]+)/$", path)
        if match:
            found = [d for d in self.udata if match.group(1) in (d["id"], d.get("slug"))]
            if not found:
                return 404, "application/json", b'{"message": "Not found", "status": 404}'
            return _json(self._resolve(found[0]))
        return 404, "text/plain", b"not found"

    def _page(self, path: str, q: dict[str, str], found: list[dict[str, Any]]) -> dict[str, Any]:
        page, size = int(q.get("page", 1)), int(q.get("page_size", 20))
        data = [self._resolve(d) for d in found[(page - 1) * size: page * size]]

        def link(n: int) -> str:
            return f"{self.url}{path}?{urlencode({**q, 'page': n})}"
        return {"data": data, "page": page, "page_size": size, "total": len(found),
                "next_page": link(page + 1) if page * size < len(found) else None,
                "previous_page": link(page - 1) if page > 1 else None}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on a delayed or truncated answer is what the faults are for


def _json(payload: Any) -> tuple[int, str, bytes]:
    return 200, "application/json; charset=utf-8", json.dumps(payload, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        portal: FakePortal = self.server.portal  # type: ignore[attr-defined]
        parsed = urlparse(self.path)
        with portal.lock:
            portal.requests.append(self.path)
            fault = portal.faults.get(parsed.path)
            if fault is not None and fault.after > 0:
                fault.after -= 1
                fault = None
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times < 0:
                    fault = None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            status, kind, body = fault.status, "text/plain", b"Internal Server Error"
        else:
            status, kind, body = portal.answer(parsed.path, parse_qs(parsed.query))
        if fault is not None and fault.body is not None:
            body = fault.body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if fault is not None and fault.truncate is not None:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: fault.truncate])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
