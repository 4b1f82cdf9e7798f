"""Build step: compose ``dataset.yaml`` (the scheming schema CKAN loads, via
``scheming.dataset_schemas = ckanext.ecarto:schemas/dataset.yaml``) from ``common.yaml`` and the
axis files ``axes/<axe>.yaml``.

    .venv/bin/python -m ckanext.ecarto.schemas.compose          # rewrite dataset.yaml
    .venv/bin/python -m ckanext.ecarto.schemas.compose --check  # exit 1 when out of date

Each axis field becomes ``<axe>_<field_name>`` (no clash between axes), tagged ``ecarto_axe``
(the form groups fields by axis) and validated behind ``ecarto_axe_only(<axe>)``: its value is
kept, and its ``required`` enforced, only when the dataset's ``axe`` is that axis. Every axis
also gets ``<axe>_indicateurs``, the indicators of its Table Schema the dataset carries.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from typing import Any

import yaml

from ckanext.ecarto.core.axes import AXIS_IDS, FREQUENCIES, FREQUENCY_BASE, FREQUENCY_ORDER
from ckanext.ecarto.schemas import SCHEMAS_DIR

HEADER = ("# GENERATED FILE — do not edit. Sources: common.yaml (common metadata) and axes/*.yaml\n"
          "# (one file per axis). Regenerate: .venv/bin/python -m ckanext.ecarto.schemas.compose\n")
KEY_COLUMNS = {"uai", "millesime"}

# Default validators of the presets an axis field may use (optional field first).
_PRESET_VALIDATORS = {
    "select": "ignore_missing scheming_choices",
    "radio": "ignore_missing scheming_choices",
    "multiple_checkbox": "scheming_multiple_choice",
    "multiple_select": "scheming_multiple_choice",
}


def load_yaml(name: str) -> dict[str, Any]:
    """A YAML file of the schemas directory (`common.yaml`, `axes/<axe>.yaml`)."""
    with open(SCHEMAS_DIR / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_axes() -> list[dict[str, Any]]:
    axes = []
    for axe in AXIS_IDS:
        spec = load_yaml(f"axes/{axe}.yaml")
        if spec.get("axe") != axe:
            raise ValueError(f"axes/{axe}.yaml: axe: {spec.get('axe')!r} au lieu de {axe!r}")
        axes.append(spec)
    return axes


def indicator_choices(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The axis's indicators: fields of its Table Schema, key columns excepted."""
    path = SCHEMAS_DIR / spec.get("tableschema", f"tableschema/{spec['axe']}.json")
    table = json.loads(path.read_text(encoding="utf-8"))
    keys = KEY_COLUMNS | set(table.get("primaryKey") or [])
    return [{"value": f["name"], "label": f.get("title") or f["name"]}
            for f in table["fields"] if f["name"] not in keys]


def axis_fields(spec: dict[str, Any]) -> list[dict[str, Any]]:
    axe = spec["axe"]
    fields = [copy.deepcopy(f) for f in spec.get("dataset_fields") or []]
    fields.append({"field_name": "indicateurs", "label": "Indicateurs publiés",
                   "preset": "multiple_checkbox", "choices": indicator_choices(spec),
                   "help_text": "Indicateurs de l'axe présents dans les ressources du jeu de données."})
    out = []
    for position, field in enumerate(fields):
        name = field["field_name"]
        if name.startswith(axe + "_"):
            raise ValueError(f"axes/{axe}.yaml: {name} ne doit pas répéter le préfixe de l'axe")
        required = bool(field.get("required"))
        own = field.get("validators") or _PRESET_VALIDATORS.get(field.get("preset", ""),
                                                                "ignore_missing unicode_safe")
        if required:
            own = "not_empty " + own.replace("ignore_missing ", "")
        field["field_name"] = f"{axe}_{name}"
        field["validators"] = f"ecarto_axe_only({axe}) {own}"
        field["ecarto_axe"] = axe
        field["ecarto_axe_label"] = spec["label"]
        if position == 0:
            field["ecarto_axe_description"] = " ".join(str(spec.get("description", "")).split())
        out.append(field)
    return out


def _frequency_choices() -> list[dict[str, str]]:
    return [{"value": FREQUENCY_BASE + code, "label": FREQUENCIES[code]} for code in FREQUENCY_ORDER]


def build() -> dict[str, Any]:
    schema = load_yaml("common.yaml")
    axes = load_axes()
    fields: list[dict[str, Any]] = []
    for field in schema["dataset_fields"]:
        if field == "__axes__":
            for spec in axes:
                fields.extend(axis_fields(spec))
            continue
        if field.get("choices") == "__axes_choices__":
            field["choices"] = [{"value": s["axe"], "label": s["label"]} for s in axes]
        if field.get("choices") == "__frequency_choices__":
            field["choices"] = _frequency_choices()
        fields.append(field)
    names = [f["field_name"] for f in fields]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"champs en double : {sorted(duplicates)}")
    schema["dataset_fields"] = fields
    return schema


def render() -> str:
    return HEADER + yaml.safe_dump(build(), allow_unicode=True, sort_keys=False, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when dataset.yaml is stale")
    args = parser.parse_args(argv)
    target = SCHEMAS_DIR / "dataset.yaml"
    text = render()
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    if args.check:
        if current != text:
            print(f"{target} n'est pas à jour : lancez python -m ckanext.ecarto.schemas.compose")
            return 1
        return 0
    if current != text:
        target.write_text(text, encoding="utf-8")
        print(f"{target} réécrit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
