"""``ecarto_udata``: data.gouv.fr (udata API v1), e.g. Arcep's datasets.

Listing (each paginated list is followed through ``next_page``):

- ``GET /api/1/organizations/{org}/datasets/`` for each of ``organizations``;
- ``GET /api/1/datasets/?tag=…&q=…`` for each of ``tags`` (with ``q`` when given), or ``q`` alone;
- ``GET /api/1/datasets/{id}/`` for each of ``datasets``.

Each dataset keeps its resources as links (their URLs); the resources in ``resource_formats``
(default CSV) are downloaded and go through the portal's ingestion: those with a UAI or commune
column are loaded into PostgreSQL, the others stay plain links.

Source URL: ``https://www.data.gouv.fr``. Config (JSON)::

    {
      "organizations": ["arcep"],
      "tags": ["education"], "q": "annuaire",
      "datasets": ["5889d03fa3a72974cbf0d5b1"],
      "axe": "connectivite",
      "rules": [
        {"tag": "education", "axe": "etablissements", "uai_column": "Identifiant_de_l_etablissement"},
        {"title": "mobile", "axe": "connectivite", "source": "arcep"}
      ],
      "resource_formats": ["csv"], "page_size": 50
    }

``rules`` are tried in order (``id``, ``organization``, ``tag`` or words of the ``title``; all keys
of a rule must match); a dataset no rule matches takes the top-level ``axe`` and options.
"""
from __future__ import annotations

import json
from typing import Any, Optional
from urllib.parse import quote, urljoin, urlparse

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.axes import AXIS_IDS
from ckanext.ecarto.harvesters import mapping
from ckanext.ecarto.harvesters.base import (DataFile, EcartoHarvester, Listing, RecordError, Remote, add_warning,
                                            apply_rule, mark_archived_at_source, unknown_keys_message,
                                            unknown_license_warning, unmatched_territory_warning)
from ckanext.ecarto.harvesters.http import FetchError, HttpClient

API_PATH = "/api/1"
MAX_PAGES = 500
SELECTORS = ("id", "organization", "tag", "title")
RULE_KEYS = set(SELECTORS) | {"axe", "millesime", "uai_column", "commune_column", "territoire_niveau",
                              "territoire_code", "source", "data_dictionary"}
FORMAT_SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "json": ".json", "tsv": ".tsv", "txt": ".csv"}


def api_base(url: str) -> str:
    url = url.strip().rstrip("/")
    return url if url.endswith(API_PATH) else url + API_PATH


def _list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _strip_metrics(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_metrics(v) for k, v in value.items() if k not in ("metrics", "quality")}
    if isinstance(value, list):
        return [_strip_metrics(v) for v in value]
    return value


class EcartoUdataHarvester(EcartoHarvester):
    NAME = "ecarto_udata"
    TITLE = "data.gouv.fr / udata (eCarto)"
    DESCRIPTION = ("data.gouv.fr (API udata v1) : jeux d'une organisation (Arcep…), d'un mot-clé ou d'une "
                   "recherche ; ressources gardées en liens, tables à UAI ou code commune chargées en base.")
    VOLATILE_KEYS = ("metrics", "quality")

    # ------------------------------------------------------------------ config

    def check_config(self, config: dict[str, Any]) -> None:
        if not any(_list(config.get(k)) for k in ("organizations", "organization", "tags", "q", "datasets")):
            raise ValueError(tk._("Précisez ce qu'il faut moissonner : « organizations » (par exemple "
                                  '["arcep"]), « tags », « q » ou « datasets » (identifiants).'))
        for n, rule in enumerate(_list(config.get("rules")), start=1):
            if not isinstance(rule, dict):
                raise ValueError(tk._("Règle {n} de « {key} » : un objet JSON est attendu.").format(n=n, key="rules"))
            unknown = set(rule) - RULE_KEYS
            if unknown:
                raise ValueError(unknown_keys_message(n, "rules", unknown, RULE_KEYS))
            if rule.get("axe") is not None and rule["axe"] not in AXIS_IDS:
                raise ValueError(tk._("Règle {n} de « rules » : axe inconnu « {axe} » ; axes possibles : "
                                      "{axes}.").format(n=n, axe=rule["axe"], axes=", ".join(AXIS_IDS)))
        if "page_size" in config and (not isinstance(config["page_size"], int) or not 1 <= config["page_size"] <= 1000):
            raise ValueError(tk._("« page_size » doit être un entier entre 1 et 1000 (data.gouv.fr échoue "
                                  "au-delà)."))

    def rule_for(self, config: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
        org = dataset.get("organization") or {}
        tags = {str(t).lower() for t in dataset.get("tags") or []}
        title = mapping.plain_text(dataset.get("title"))
        for rule in _list(config.get("rules")):
            if rule.get("id") and rule["id"] not in (dataset.get("id"), dataset.get("slug")):
                continue
            if rule.get("organization") and rule["organization"] not in (org.get("slug"), org.get("id"), org.get("name")):
                continue
            if rule.get("tag") and str(rule["tag"]).lower() not in tags:
                continue
            if rule.get("title") and mapping.plain_text(rule["title"]) not in title:
                continue
            if not any(rule.get(k) for k in SELECTORS):
                continue
            merged = {k: v for k, v in rule.items() if k not in SELECTORS}
            merged.setdefault("axe", config.get("axe"))
            return merged
        return {k: config.get(k) for k in ("axe", "millesime", "uai_column", "commune_column",
                                            "territoire_niveau", "territoire_code", "source", "data_dictionary")
                if config.get(k)}

    # ------------------------------------------------------------------ gather

    def list_remote(self, source: Any, config: dict[str, Any], http: HttpClient) -> Listing:
        api = api_base(source.url)
        size = int(config.get("page_size") or 50)
        listing = Listing()
        found: dict[str, dict[str, Any]] = {}
        queries: list[tuple[str, dict[str, Any]]] = []
        for org in _list(config.get("organizations")) + _list(config.get("organization")):
            queries.append((f"{api}/organizations/{quote(str(org))}/datasets/", {"page_size": size}))
        tags = _list(config.get("tags"))
        q = config.get("q")
        for tag in tags:
            params = {"tag": tag, "page_size": size}
            if q:
                params["q"] = q
            queries.append((f"{api}/datasets/", params))
        if q and not tags:
            queries.append((f"{api}/datasets/", {"q": q, "page_size": size}))
        any_ok = False
        failures: list[FetchError] = []
        for url, params in queries:
            try:
                for dataset in self._pages(http, url, params):
                    found.setdefault(str(dataset.get("id")), dataset)
                any_ok = True
            except FetchError as exc:
                failures.append(exc)
                listing.complete = False
                listing.errors.append(tk._("Liste {url} illisible : {error}").format(url=url, error=exc))
        for ident in _list(config.get("datasets")):
            url = f"{api}/datasets/{quote(str(ident))}/"
            try:
                dataset = http.get_json(url)
                any_ok = True
            except FetchError as exc:
                if exc.status == 404:
                    listing.errors.append(tk._(
                        "Jeu « {id} » demandé par la configuration mais introuvable ({url}, HTTP 404) : "
                        "identifiant erroné ou jeu supprimé. S'il avait déjà été moissonné, il sera archivé à "
                        "la fin du délai de grâce.").format(id=ident, url=url))
                    any_ok = True
                    listing.scanned += 1   # the source answered: this dataset is gone
                    continue
                failures.append(exc)
                listing.complete = False
                listing.errors.append(tk._("Jeu « {id} » illisible : {error}").format(id=ident, error=exc))
                continue
            if isinstance(dataset, dict) and dataset.get("id"):
                found.setdefault(str(dataset["id"]), dataset)
        if not any_ok and not found and failures:
            # the source answers nothing: one message (the first failure), not one per query
            first = failures[0]
            others = len(failures) - 1
            if others:
                raise FetchError(tk._("{error} ({n} autre(s) requête(s) de la source en échec de la même "
                                      "façon.)").format(error=first, n=others), url=first.url, status=first.status)
            raise first
        listing.scanned += len(found)
        for dataset in found.values():
            if dataset.get("deleted") or dataset.get("private"):
                continue
            rule = self.rule_for(config, dataset)
            listing.remotes.append(Remote(
                guid=str(dataset["id"]), title=str(dataset.get("title") or dataset["id"]),
                url=str(dataset.get("page") or f"{source.url.rstrip('/')}/fr/datasets/{dataset['id']}/"),
                record=_strip_metrics(dataset), rule=rule))
        return listing

    def _pages(self, http: HttpClient, url: str, params: Optional[dict[str, Any]]):
        seen: set[str] = set()
        next_url: Optional[str] = url
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            page = http.get_json(next_url, params)
            params = None   # next_page carries them
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise FetchError(tk._("Réponse inattendue de {url} : la liste « data » manque (est-ce bien "
                                      "l'API udata v1 ?).").format(url=next_url), url=next_url)
            yield from (d for d in page["data"] if isinstance(d, dict))
            seen.add(next_url)
            candidate = page.get("next_page")
            if not candidate or candidate in seen or not page["data"]:
                return
            next_url = _same_host(url, candidate)

    # ------------------------------------------------------------------ data

    def data_files(self, remote: Remote, config: dict[str, Any]) -> list[DataFile]:
        formats = {str(f).lower() for f in _list(config.get("resource_formats")) or ["csv"]}
        files = []
        for res in remote.record.get("resources") or []:
            fmt = str(res.get("format") or "").lower().strip(".")
            if fmt not in formats or res.get("type", "main") not in ("main", "update") or not res.get("url"):
                continue
            fingerprint = json.dumps({"url": res.get("url"), "checksum": res.get("checksum"),
                                      "last_modified": res.get("last_modified"),
                                      "filesize": res.get("filesize")}, sort_keys=True, default=str)
            files.append(DataFile(key=f"resource-{res.get('id')}", url=res["url"], fingerprint=fingerprint,
                                  name=str(res.get("title") or res.get("id")),
                                  suffix=FORMAT_SUFFIX.get(fmt, ".csv"), published=True))
        return files

    # ------------------------------------------------------------------ metadata

    def package_dict(self, remote: Remote, config: dict[str, Any], base_url: str) -> dict[str, Any]:
        record, rule = remote.record, remote.rule
        axe = rule.get("axe")
        if axe not in AXIS_IDS:
            raise RecordError(tk._("aucun axe pour ce jeu : ajoutez « axe » à la configuration de la source, ou "
                                   "une règle (« rules ») qui le sélectionne."))
        org = record.get("organization") or {}
        temporal = record.get("temporal_coverage") or {}
        start, end = mapping.iso_date(temporal.get("start")), mapping.iso_date(temporal.get("end"))
        contact = next((c for c in record.get("contact_points") or [] if isinstance(c, dict)), {})
        license_id = mapping.license_id(record.get("license"))
        pkg: dict[str, Any] = {
            "name": record.get("slug") or remote.guid,
            "title": remote.title,
            "axe": axe,
            "notes": str(record.get("description") or "").strip() or mapping.fallback_description(
                base_url, remote.guid, remote.url),
            "license_id": license_id or mapping.UNKNOWN_LICENSE,
            "url": remote.url,
            "author": org.get("name") or None,
            "maintainer": contact.get("name") or None,
            "maintainer_email": contact.get("email") or None,
            "tag_string": ",".join(mapping.tags(record.get("tags") or [])),
            "frequency": mapping.frequency(record.get("frequency")),
            "temporal_start": start,
            "temporal_end": end,
            "millesime": rule.get("millesime") or mapping.millesime_from_period(start, end),
        }
        if record.get("license") and not license_id:
            add_warning(pkg, unknown_license_warning(record["license"]))
        spatial = record.get("spatial") or {}
        found, unmatched = mapping.zones_report(spatial.get("zones") or [], spatial.get("granularity"))
        apply_rule(pkg, rule, axe, lambda: found)
        if unmatched and not rule.get("territoire_niveau"):
            add_warning(pkg, unmatched_territory_warning(unmatched, found is not None))
        if record.get("archived"):
            mark_archived_at_source(pkg, mapping.iso_date(record["archived"]) or str(record["archived"]), remote.url)
        data_keys = {d.key for d in self.data_files(remote, config)}
        resources = []
        for res in record.get("resources") or []:
            if not res.get("url"):
                continue
            key = f"resource-{res.get('id')}"
            entry: dict[str, Any] = {"key": key, "name": res.get("title") or res.get("id"), "url": res["url"],
                                     "format": resource_format(res),
                                     "description": res.get("description") or None}
            if key in data_keys:
                entry.update(uai_column=rule.get("uai_column"), commune_column=rule.get("commune_column"),
                             millesime=rule.get("millesime"))
                dictionary = mapping.rule_dictionary([], rule.get("data_dictionary"))
                if dictionary:
                    entry["data_dictionary"] = json.dumps(dictionary, ensure_ascii=False)
            resources.append(entry)
        pkg["resources"] = resources
        return {k: v for k, v in pkg.items() if v not in (None, "")}


def resource_format(res: dict[str, Any]) -> str:
    """A udata resource's format as published (``csv`` -> CSV), else from its MIME type."""
    fmt = str(res.get("format") or "").strip().strip(".").upper()
    if fmt:
        return fmt
    mime = str(res.get("mime") or "").split(";")[0].strip().lower()
    return mapping.MIMETYPE_FORMATS.get(mime, "")


def _same_host(first: str, candidate: str) -> str:
    """`next_page` as published; a relative one is resolved against the first URL. An absolute
    one must stay on the source's host (``www.`` and http→https aside): a listing never sends
    the harvester elsewhere (FetchError; the outbound-fetch guard checks the address anyway)."""
    if not isinstance(candidate, str):
        raise FetchError(tk._("Lien de page suivante illisible dans la réponse de {first} ; la liste s'arrête "
                              "là.").format(first=first), url=first)
    parsed = urlparse(candidate)
    if parsed.scheme or candidate.startswith("//"):
        if _host_key(parsed) != _host_key(urlparse(first)):
            raise FetchError(tk._("Lien de page suivante refusé : {url} n'est pas sur le serveur de la source "
                                  "({first}) ; la liste s'arrête là.").format(url=candidate, first=first),
                             url=candidate)
        return urljoin(first, candidate)
    base = urlparse(first)
    return f"{base.scheme}://{base.netloc}{candidate if candidate.startswith('/') else '/' + candidate}"


def _host_key(parsed: Any) -> tuple[str, Optional[int]]:
    try:
        port = parsed.port
    except ValueError:
        port = -1
    host = (parsed.hostname or "").lower()
    return (host[4:] if host.startswith("www.") else host), (None if port in (80, 443) else port)
