"""Where each column of a resource appears on the portal, decided in one place.

The establishment page (``record``), the territory aggregates (``territoires/aggregates``) and
the validation report (``validation/report``) all ask ``column_destination`` (or
``destinations`` for a whole resource), so that what the report announces before publishing is
what the pages show afterwards:

- ``indicateur``: the column feeds an axis indicator (``axe``, ``indicateur``, ``label``,
  ``unit`` of the indicator) — the axis table of the establishment page; numbers and yes/no
  also make territory figures;
- ``autres_donnees``: the « Autres données » block of the establishment page, under the
  column's own label (measures and flags with reference values, and territory figures);
- ``contexte_commune``: a commune-keyed file: the commune context of the establishment pages
  (in the axis, « niveau commune », for the measures of a resource with an axis), and territory
  figures for its measures and flags;
- ``identite``: a directory's name, address, position…: the identity block of the page;
- ``cle`` and ``periode``: how rows join and when they hold, not shown as values;
- ``ignoree``: not shown (``raison`` says why).

``resource`` is the registry's view of a resource (``ingest/registry.py``: ``columns`` — the
column model —, ``axe``, ``key_column``, ``key_kind``, ``layout``, ``organization_title``,
``package_name``); the report builds the same dict for a file not yet published.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ckanext.ecarto.core import roles
from ckanext.ecarto.core.axes import AXIS_LABELS
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements import axes as axes_mod
from ckanext.ecarto.etablissements import directory, identity, labels
from ckanext.ecarto.ingest import columns as colmodel

INDICATEUR, AUTRES, CONTEXTE, IDENTITE, CLE, PERIODE, IGNOREE = (
    "indicateur", "autres_donnees", "contexte_commune", "identite", "cle", "periode", "ignoree")
MEASURES = (roles.MEASURE, roles.FLAG)


@dataclass(frozen=True)
class Destination:
    """Where one column of a resource appears (see the module docstring)."""

    column: str                         # the file's header
    kind: str
    label: str                          # what the page calls it (the indicator's label for an indicator)
    axe: Optional[str] = None           # indicateur / contexte_commune shown in an axis
    axe_label: Optional[str] = None
    indicateur: Optional[str] = None    # the indicator's id
    unit: Optional[str] = None
    role: Optional[str] = None
    references: bool = False            # reference values beside it on the establishment page
    territoire: bool = False            # a figure of the territory pages (public data only)
    raison: Optional[str] = None        # why it is ignored, or a note

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind_label": kind_label(self.kind)}


def kind_label(kind: str) -> str:
    return {
        INDICATEUR: _("indicateur de l'axe"), AUTRES: _("Autres données"), CONTEXTE: _("contexte de la commune"),
        IDENTITE: _("identité de l'établissement"), CLE: _("clé de jointure"), PERIODE: _("période"),
        IGNOREE: _("non affichée"),
    }.get(kind, kind)


def source_of(col: dict[str, Any]) -> str:
    return col.get("source") or col["name"]


def indicator_of(resource: dict[str, Any], col: dict[str, Any]) -> Optional[axes_mod.Indicator]:
    """The axis indicator a column feeds (declared in the data dictionary, or named like an
    indicator of any axis, the resource's own axis first)."""
    return axes_mod.indicator_for_column(resource.get("axe"), source_of(col), col.get("indicator"))


def commune_axis(resource: dict[str, Any]) -> Optional[str]:
    """The axis a commune-keyed resource informs: its dataset's; Arcep's data are connectivity."""
    axe = resource.get("axe")
    if axe in dict(axes_mod.AXES):
        return axe
    producer = f"{resource.get('organization_title') or ''} {resource.get('package_name') or ''}".lower()
    return "connectivite" if "arcep" in producer else None


def is_directory(resource: dict[str, Any]) -> bool:
    """Whether a UAI-keyed resource makes establishment identities (``directory``)."""
    cols = [c for c in resource.get("columns") or [] if c.get("name") not in colmodel.INTERNAL[1:]]
    return identity.is_directory({source_of(c): c["name"] for c in cols})


def shown_columns(resource: dict[str, Any], makes_identity: bool) -> list[dict[str, Any]]:
    """The columns of a UAI-keyed resource the establishment page shows as values: all of them,
    except for a resource that makes the identity, whose measures and flags only are shown (its
    names and addresses are the identity block)."""
    cols = colmodel.value_columns(resource)
    if not makes_identity:
        return cols
    used = directory.identity_column_names(resource.get("columns") or [])
    return [c for c in cols if c["name"] not in used and colmodel.role_of(c) in MEASURES]


def aggregated(resource: dict[str, Any], col: dict[str, Any]) -> bool:
    """Whether a column makes a territory figure (``territoires/aggregates``, which also leaves
    out the code-like columns of tables loaded before the column model): the measures and flags
    of a resource that is not a directory."""
    if colmodel.role_of(col) not in MEASURES or source_of(col) == resource.get("key_column"):
        return False
    return not (resource.get("key_kind") == "uai" and is_directory(resource))


def column_destination(resource: dict[str, Any], col: dict[str, Any], *,
                       makes_identity: Optional[bool] = None) -> Destination:
    """Where one column of the column model appears (see the module docstring).
    ``makes_identity``: whether the resource is one of the establishment's identity sources
    (default: whether it is a directory)."""
    source = source_of(col)
    role = colmodel.role_of(col)
    if col.get("role") == roles.KEY or source == resource.get("key_column"):
        return Destination(source, CLE, col.get("label") or source, role=roles.KEY,
                           raison=_("relie chaque ligne à son établissement (UAI)") if resource.get("key_kind") != "commune"
                           else _("relie chaque ligne à sa commune (code INSEE)"))
    period = colmodel.period_of(resource) or {}
    if role == roles.PERIOD or (period.get("source") and period.get("source") == source):
        return Destination(source, PERIODE, col.get("label") or source, role=roles.PERIOD,
                           raison=_("période des valeurs : la plus récente est la valeur actuelle, les autres l'historique"))
    if str(col.get("name", "")).startswith("_") and col.get("name") != source:
        return Destination(source, IGNOREE, source, role=role, raison=_("colonne technique"))
    if resource.get("key_kind") == "commune":
        return _commune_destination(resource, col, source, role)
    if makes_identity is None:
        makes_identity = is_directory(resource)
    shown = {c["name"] for c in shown_columns(resource, makes_identity)}
    if col["name"] not in shown:
        if makes_identity and col["name"] in directory.identity_column_names(resource.get("columns") or []):
            return Destination(source, IDENTITE, col.get("label") or source, role=role,
                               raison=_("nom, adresse, position ou nature de l'établissement"))
        return Destination(source, IGNOREE, col.get("label") or source, role=role,
                           raison=_("annuaire : seules ses mesures et ses colonnes oui/non sont affichées"))
    return value_destination(resource, col)


def value_destination(resource: dict[str, Any], col: dict[str, Any]) -> Destination:
    """Where a column the establishment page shows as a value goes (one of ``shown_columns``):
    the axis indicator it feeds, else « Autres données »."""
    source, role = source_of(col), colmodel.role_of(col)
    ind = indicator_of(resource, col)
    territory = aggregated(resource, col)
    if ind is not None:
        return Destination(source, INDICATEUR, ind.label, axe=ind.axe, axe_label=_(AXIS_LABELS.get(ind.axe, ind.axe)),
                           indicateur=ind.id, unit=ind.unit, role=role, references=role in MEASURES,
                           territoire=territory)
    return Destination(source, AUTRES, labels.column_label(col), unit=col.get("unit"), role=role,
                       references=role in MEASURES, territoire=territory)


def _commune_destination(resource: dict[str, Any], col: dict[str, Any], source: str, role: str) -> Destination:
    axe = commune_axis(resource) if role in MEASURES else None
    return Destination(source, CONTEXTE, labels.column_label(col), axe=axe,
                       axe_label=_(AXIS_LABELS[axe]) if axe else None, unit=col.get("unit"), role=role,
                       territoire=aggregated(resource, col))


def destinations(resource: dict[str, Any], *, makes_identity: Optional[bool] = None) -> list[Destination]:
    """Every column of a resource (key and period included), in the column model's order."""
    return [column_destination(resource, col, makes_identity=makes_identity)
            for col in resource.get("columns") or []
            if col.get("name") not in colmodel.INTERNAL or col.get("role") == roles.KEY]
