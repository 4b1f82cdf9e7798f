"""Dataset schema of the portal: common metadata (``common.yaml``) + one file per axis
(``axes/<axe>.yaml``), composed by ``compose.py`` into the scheming schema ``dataset.yaml``;
per-axis Table Schemas in ``tableschema/<axe>.json``.

The CKAN dataset type stays ``dataset`` (data.gouv.fr's CKAN harvester rejects any other type);
the required ``axe`` field selects the axis, whose own fields are kept only for datasets of
that axis (validator ``ecarto_axe_only``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parent

# Fields also exposed as `extras` by package_show, in the shape data.gouv.fr's CKAN harvester
# reads (it only looks at extras), and stripped again from what package_create/update receive.
MIRRORED_AS_EXTRAS: tuple[str, ...] = ("temporal_start", "temporal_end", "frequency", "spatial")


# Keys data.gouv.fr's CKAN harvester requires in every package_show (voluptuous, required=True)
# that scheming leaves out when they are empty.
HARVESTER_DATASET_KEYS = ("notes", "author", "author_email", "maintainer", "maintainer_email",
                          "license_id", "license_title", "url")
HARVESTER_RESOURCE_KEYS = ("name", "description", "format", "mimetype", "size", "hash", "created",
                           "last_modified", "resource_type")


def after_dataset_show(context: dict[str, Any], pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """package_show: add the mirrored fields to `extras` (once, non-empty values only), and the
    keys data.gouv.fr's harvester requires as null when empty (None round-trips as "missing";
    not for the dataset page, whose display snippets expect absent keys)."""
    if not context.get("for_view"):
        for key in HARVESTER_DATASET_KEYS:
            pkg_dict.setdefault(key, None)
        for resource in pkg_dict.get("resources") or []:
            for key in HARVESTER_RESOURCE_KEYS:
                resource.setdefault(key, None)
    return expose_as_extras(pkg_dict)


def expose_as_extras(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The mirrored fields also in `extras` (once, non-empty values only)."""
    extras = [e for e in pkg_dict.get("extras") or [] if e.get("key") not in MIRRORED_AS_EXTRAS]
    for key in MIRRORED_AS_EXTRAS:
        value = pkg_dict.get(key)
        if value not in (None, ""):
            extras.append({"key": key, "value": value})
    pkg_dict["extras"] = extras
    return pkg_dict


def strip_mirrored_extras(data_dict: dict[str, Any]) -> dict[str, Any]:
    """package_create/update input: drop the mirrored `extras` (a package_show → package_update
    round trip would otherwise fail with "There is a schema field with the same name"). A client
    that only sends the extra (classic CKAN style) gets it moved to the field."""
    extras = data_dict.get("extras")
    if not isinstance(extras, list):
        return data_dict
    kept = []
    for extra in extras:
        key = extra.get("key") if isinstance(extra, dict) else None
        if key in MIRRORED_AS_EXTRAS:
            if data_dict.get(key) in (None, "") and extra.get("value") not in (None, ""):
                data_dict[key] = extra["value"]
            continue
        kept.append(extra)
    data_dict["extras"] = kept
    return data_dict
