"""``ecarto_ods``: Opendatasoft portals (data.education.gouv.fr, data.arcep.fr…), Explore API v2.1.

- catalogue: ``GET {api}/catalog/datasets?limit=100&offset=…`` (``{"total_count", "results"}``),
  paged until ``total_count``; datasets are selected locally by the source config's rules;
- data: **one** ``GET {api}/catalog/datasets/{id}/exports/csv?use_labels=true`` per dataset whose
  data changed (``records`` is capped at 100 rows per call and 10 000 in all, and the ministry's
  portal allows 5 000 anonymous calls a day); attachments are kept as links.

Source URL: the portal (``https://data.education.gouv.fr``; an URL ending with
``/api/explore/v2.1`` works too). Config (JSON)::

    {
      "datasets": [
        {"id": "fr-en-annuaire-education", "axe": "etablissements",
         "uai_column": "Identifiant_de_l_etablissement", "where": "code_academie = \\"16\\""},
        {"keyword": "ETIC", "axe": "equipement", "millesime": "2018", "source": "etic"},
        {"publisher": "Arcep", "axe": "connectivite"}
      ],
      "timeout": 30, "retries": 3, "backoff": 2, "grace_days": 7, "private": false
    }

A rule selects by ``id``, ``keyword``, ``publisher`` or ``theme`` (several keys in one rule must
all match; the first matching rule wins) and says the ``axe``; optional: ``millesime``,
``uai_column`` / ``commune_column`` (else detected), ``territoire_niveau`` / ``territoire_code``
(else from the ``territory`` metadata), ``source`` (axis field ``<axe>_source``), ``where``
(ODSQL filter of the export).
"""
from __future__ import annotations

import json
from typing import Any, Optional
from urllib.parse import urlencode

import ckan.plugins.toolkit as tk

from ckanext.ecarto.core.axes import AXIS_IDS
from ckanext.ecarto.harvesters import etic, mapping
from ckanext.ecarto.harvesters.base import (DataFile, EcartoHarvester, Listing, RecordError, Remote, add_warning,
                                            apply_rule, unknown_keys_message, unknown_license_warning,
                                            unmatched_territory_warning)
from ckanext.ecarto.harvesters.http import FetchError, HttpClient

API_PATH = "/api/explore/v2.1"
PAGE = 100
MAX_PAGES = 200
SELECTORS = ("id", "keyword", "publisher", "theme")
RULE_KEYS = set(SELECTORS) | {"axe", "millesime", "uai_column", "commune_column", "territoire_niveau",
                              "territoire_code", "source", "where", "title", "data_dictionary"}


def api_base(url: str) -> str:
    url = url.strip().rstrip("/")
    for suffix in (API_PATH, "/api/explore/v2.1/catalog"):
        if url.endswith(suffix):
            return url[: -len(suffix)] + API_PATH
    return url + API_PATH


def portal_base(url: str) -> str:
    return api_base(url)[: -len(API_PATH)]


def _norm(text: Any) -> str:
    return mapping.plain_text(text)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class EcartoOdsHarvester(EcartoHarvester):
    NAME = "ecarto_ods"
    TITLE = "Opendatasoft (eCarto)"
    DESCRIPTION = ("Portails Opendatasoft (data.education.gouv.fr…) : catalogue par l'API Explore v2.1, "
                   "données par un export CSV par jeu, rangées dans les axes d'eCarto.")
    # metas that change with every visit or API call, not with the data
    VOLATILE_KEYS = ("_links",)

    # ------------------------------------------------------------------ config

    def check_config(self, config: dict[str, Any]) -> None:
        rules = config.get("datasets")
        if not isinstance(rules, list) or not rules:
            raise ValueError(tk._("« datasets » doit être une liste non vide de règles de sélection, par "
                                  'exemple [{"id": "fr-en-annuaire-education", "axe": "etablissements"}].'))
        for n, rule in enumerate(rules, start=1):
            if isinstance(rule, str):
                rule = {"id": rule}
            if not isinstance(rule, dict):
                raise ValueError(tk._("Règle {n} de « {key} » : un objet JSON est attendu.").format(
                    n=n, key="datasets"))
            unknown = set(rule) - RULE_KEYS
            if unknown:
                raise ValueError(unknown_keys_message(n, "datasets", unknown, RULE_KEYS))
            if not any(rule.get(k) for k in SELECTORS):
                raise ValueError(tk._("Règle {n} de « datasets » : précisez « id », « keyword », « publisher » "
                                      "ou « theme ».").format(n=n))
            axe = rule.get("axe") or config.get("axe")
            if axe not in AXIS_IDS:
                raise ValueError(tk._("Règle {n} de « datasets » : axe manquant ou inconnu (« {axe} ») ; axes "
                                      "possibles : {axes}.").format(n=n, axe=axe, axes=", ".join(AXIS_IDS)))

    @staticmethod
    def rules(config: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for rule in config.get("datasets") or []:
            rule = {"id": rule} if isinstance(rule, str) else dict(rule)
            rule.setdefault("axe", config.get("axe"))
            out.append(rule)
        return out

    @staticmethod
    def matches(rule: dict[str, Any], dataset: dict[str, Any]) -> bool:
        metas = (dataset.get("metas") or {}).get("default") or {}
        if rule.get("id") and rule["id"] != dataset.get("dataset_id"):
            return False
        if rule.get("keyword"):
            wanted = {_norm(k) for k in _as_list(rule["keyword"])}
            if not wanted & {_norm(k) for k in _as_list(metas.get("keyword"))}:
                return False
        if rule.get("theme"):
            wanted = {_norm(k) for k in _as_list(rule["theme"])}
            if not wanted & {_norm(k) for k in _as_list(metas.get("theme"))}:
                return False
        if rule.get("publisher"):
            if _norm(rule["publisher"]) not in _norm(metas.get("publisher")):
                return False
        return True

    # ------------------------------------------------------------------ gather

    def list_remote(self, source: Any, config: dict[str, Any], http: HttpClient) -> Listing:
        api = api_base(source.url)
        rules = self.rules(config)
        listing = Listing()
        offset = 0
        for _page in range(MAX_PAGES):
            url = f"{api}/catalog/datasets"
            try:
                page = http.get_json(url, {"limit": PAGE, "offset": offset})
            except FetchError:
                if offset == 0:
                    raise
                listing.complete = False
                listing.errors.append(tk._(
                    "Catalogue lu en partie seulement (jusqu'au jeu n° {offset}) : la page suivante de {url} a "
                    "échoué. Les jeux déjà listés sont traités ; réessayez plus tard pour les autres."
                ).format(offset=offset, url=url))
                break
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise FetchError(tk._("Réponse inattendue de {url} : la liste « results » manque (est-ce bien "
                                      "un portail Opendatasoft, API Explore v2.1 ?).").format(url=url), url=url)
            listing.scanned += len(results)
            for dataset in results:
                rule = next((r for r in rules if self.matches(r, dataset)), None)
                if rule is None or not dataset.get("dataset_id"):
                    continue
                listing.remotes.append(self._remote(source.url, dataset, rule))
            offset += len(results)
            total = page.get("total_count")
            if not results or (isinstance(total, int) and offset >= total):
                break
        found = {r.guid for r in listing.remotes}
        for rule in rules:
            if rule.get("id") and rule["id"] not in found and listing.complete:
                listing.errors.append(tk._(
                    "Jeu « {id} » demandé par la configuration mais absent du catalogue de {portal} : "
                    "identifiant erroné, ou jeu retiré ou rendu privé à la source. S'il avait déjà été "
                    "moissonné, il sera archivé à la fin du délai de grâce."
                ).format(id=rule["id"], portal=portal_base(source.url)))
        return listing

    def _remote(self, url: str, dataset: dict[str, Any], rule: dict[str, Any]) -> Remote:
        metas = (dataset.get("metas") or {}).get("default") or {}
        ident = dataset["dataset_id"]
        return Remote(guid=ident, title=str(metas.get("title") or ident),
                      url=f"{portal_base(url)}/explore/dataset/{ident}/", record=dataset, rule=rule)

    # ------------------------------------------------------------------ data

    def export_url(self, base_url: str, remote: Remote) -> str:
        params = {"use_labels": "true", "delimiter": ";"}
        if remote.rule.get("where"):
            params["where"] = remote.rule["where"]
        return f"{api_base(base_url)}/catalog/datasets/{remote.guid}/exports/csv?{urlencode(params)}"

    def data_files(self, remote: Remote, config: dict[str, Any]) -> list[DataFile]:
        record = remote.record
        if record.get("has_records") is False:
            return []
        metas = (record.get("metas") or {}).get("default") or {}
        fingerprint = json.dumps({"data_processed": metas.get("data_processed"),
                                  "records_count": metas.get("records_count"),
                                  "fields": [f.get("name") for f in record.get("fields") or []],
                                  "where": remote.rule.get("where")}, sort_keys=True)
        base = remote.url.split("/explore/dataset/")[0]
        return [DataFile(key="export-csv", url=self.export_url(base, remote), fingerprint=fingerprint,
                         name=f"{remote.title} (export CSV)", suffix=".csv")]

    # ------------------------------------------------------------------ metadata

    def package_dict(self, remote: Remote, config: dict[str, Any], base_url: str) -> dict[str, Any]:
        record, rule = remote.record, remote.rule
        metas = (record.get("metas") or {}).get("default") or {}
        dcat = (record.get("metas") or {}).get("dcat") or {}
        axe = rule.get("axe")
        if axe not in AXIS_IDS:
            raise RecordError(tk._("aucun axe pour ce jeu : ajoutez « axe » à sa règle dans la configuration."))
        license_id = mapping.license_id(metas.get("license"), metas.get("license_url"))
        pkg: dict[str, Any] = {
            "name": remote.guid,
            "title": rule.get("title") or remote.title,
            "axe": axe,
            "notes": mapping.html_to_text(metas.get("description")) or mapping.fallback_description(
                base_url, remote.guid, remote.url),
            # no licence at the source: "non spécifiée", never a licence the producer did not give
            "license_id": license_id or mapping.UNKNOWN_LICENSE,
            "url": remote.url,
            "author": metas.get("publisher") or None,
            "maintainer": dcat.get("contact_name") or None,
            "maintainer_email": dcat.get("contact_email") or None,
            "tag_string": ",".join(mapping.tags(_as_list(metas.get("keyword")))),
            "frequency": mapping.frequency(dcat.get("accrualperiodicity")),
            "millesime": rule.get("millesime"),
        }
        if metas.get("license") and not license_id:
            add_warning(pkg, unknown_license_warning(metas["license"]))
        names = _as_list(metas.get("territory"))
        found, unmatched = mapping.names_report(names)
        apply_rule(pkg, rule, axe, lambda: found)
        if unmatched and not rule.get("territoire_niveau"):
            add_warning(pkg, unmatched_territory_warning(unmatched, found is not None))
        pkg["resources"] = self._resources(remote, axe, base_url)
        return {k: v for k, v in pkg.items() if v not in (None, "")}

    def _resources(self, remote: Remote, axe: str, base_url: str) -> list[dict[str, Any]]:
        record, rule = remote.record, remote.rule
        resources: list[dict[str, Any]] = []
        for data in self.data_files(remote, {}):
            dictionary = mapping.rule_dictionary(etic.data_dictionary(record.get("fields") or [], axe, header="label"),
                                                 rule.get("data_dictionary"))
            resources.append({
                "key": data.key, "name": data.name, "url": data.url, "format": "CSV",
                "description": "Export CSV complet du jeu (une requête, séparateur « ; », en-têtes = libellés).",
                "uai_column": rule.get("uai_column"), "commune_column": rule.get("commune_column"),
                "millesime": rule.get("millesime"),
                "data_dictionary": json.dumps(dictionary, ensure_ascii=False) if dictionary else None,
            })
        for attachment in record.get("attachments") or []:
            url = attachment.get("url") or ""
            published = url
            if url.startswith("odsfile://"):
                url = f"{api_base(base_url)}/catalog/datasets/{remote.guid}/attachments/{attachment.get('id')}"
            if not url:
                continue
            resources.append({"key": f"attachment-{attachment.get('id') or url}",
                              "name": attachment.get("title") or attachment.get("id") or "Pièce jointe",
                              "url": url, "format": attachment_format(attachment.get("mimetype"), published)})
        return resources


def attachment_format(mimetype: Optional[str], url: str) -> str:
    """The format of an attachment: from its MIME type (``application/zip`` -> ZIP), else from the
    extension of its file name (``odsfile://cities1000.zip`` -> ZIP)."""
    kind = str(mimetype or "").split(";")[0].strip().lower()
    if kind in mapping.MIMETYPE_FORMATS:
        return mapping.MIMETYPE_FORMATS[kind]
    name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].upper() if "." in name else ""
    if ext.isalnum() and 1 < len(ext) <= 5:
        return ext
    subtype = kind.rsplit("/", 1)[-1].split("+")[0]
    return subtype.upper() if subtype.isalnum() and 1 < len(subtype) <= 5 else ""
