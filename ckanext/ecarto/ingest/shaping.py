"""Shaping the rows of a file into the table the pages read (the loader's middle steps).

- ``LoadState`` follows one load chunk by chunk: invalid keys rejected with their row, the
  layout melted (``layout``), each column profiled (``coltypes``) and its values observed
  (``columns.ColumnFacts``);
- ``describe_load`` decides the column model once the whole file has been seen (``columns``);
- ``build_table`` turns the all-text rows (a temporary table) into the typed table: measures as numbers
  (declared measures' text cells reported and left empty), flags as booleans, the period as
  ``_periode``/``_periode_ordre``, a reshaped file's rows of one key and period brought together;
- ``ModelPreview`` gives the validation report the model a file would get, loading nothing.

``loader`` runs these steps inside its transaction (COPY, swap, registry).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ckanext.ecarto.core import roles
from ckanext.ecarto.core.translation import _, ungettext
from ckanext.ecarto.ingest import coltypes, columns, keys, layout, limits, messages
from ckanext.ecarto.ingest.reader import Chunk, Table

MAX_STORED_REJECTS = 10_000
# the all-text rows of a load, before their types are applied: a temporary table of the load's
# transaction (see loader.ingest_file)
RAW_TABLE = "_ecarto_raw"


def qualified(schema: str, name: str) -> str:
    return f'"{schema}"."{name}"'


def fmt_count(n: int) -> str:
    """`70032` -> `70 032` (non-breaking space), as the reports write counts."""
    return f"{n:,}".replace(",", "\u00a0")


class IngestError(Exception):
    """A version refused for a reason the publisher can fix (French message)."""

    def __init__(self, message: str, code: str = "unreadable"):
        super().__init__(message)
        self.code = code



def _present(values: np.ndarray) -> list[str]:
    """The values of a column that are not missing (None), in order."""
    missing = pd.isna(values)
    return values[~missing].tolist() if missing.any() else values.tolist()


class LoadState:
    """State of one load: profiles and facts of the columns, rejects, counters, the reshape."""

    def __init__(self, table: Table, key: keys.KeySpec, reshape: Optional[layout.Reshape] = None):
        self.table = table
        self.key = key
        self.reshape = reshape
        self.sources = table.columns
        self.sql_of = dict(zip(self.sources, coltypes.sql_names(self.sources)))
        kept = reshape.id_columns if reshape is not None else self.sources
        # source -> SQL name of the columns of the table (a reshape adds one per field value)
        self.out: dict[str, str] = {s: self.sql_of[s] for s in kept}
        # source -> column of the prepared frame holding its values
        self.frame_col: dict[str, str] = {s: s for s in kept}
        self.fields: list[str] = []
        self.profiles = {s: coltypes.ColumnProfile(s, n) for s, n in self.out.items()}
        self.facts = {s: columns.new_facts() for s in self.out}
        self.new_columns: list[str] = []  # SQL names to add to the staging table
        self.rejects: list[dict[str, Any]] = []
        self.n_rejected = 0
        self.n_rows = 0
        self.n_seen = 0
        if key.kind == keys.UAI:
            self.normalise, self.valid, self.reason = keys.normalise_uai, keys.valid_uai, keys.uai_reason
        else:
            self.normalise, self.valid, self.reason = keys.normalise_commune, keys.valid_commune, keys.commune_reason

    def staging_columns(self) -> list[str]:
        """The text columns of the staging table when it is created."""
        extra = [layout.PERIOD_SOURCE] if self.reshape is not None else []
        return extra + list(self.out.values())

    def reject(self, row: Optional[int], value: Optional[str], reason: str) -> None:
        self.n_rejected += 1
        if len(self.rejects) < MAX_STORED_REJECTS:
            self.rejects.append({"row": row, "value": value, "reason": reason})

    def prepare(self, chunk: Chunk) -> Optional[pd.DataFrame]:
        """The rows of a chunk to COPY (``_key``, ``_row``, columns), invalid keys rejected,
        melted when the file's layout is reshaped."""
        for bad in chunk.bad_lines:
            self.reject(None if bad.line is None else bad.line - self.table.format.header_line,
                        None, bad.reason)
        frame = chunk.frame
        if frame.empty:
            return None
        self.n_seen += len(frame)
        raw = frame[self.key.column]
        normalised = self.normalise(raw)
        valid = self.valid(normalised)
        rows = np.asarray(chunk.rows, dtype=np.int64)
        if not valid.all():
            for i in np.flatnonzero(~valid):
                value = raw.iat[i]
                self.reject(int(rows[i]), value, self.reason(normalised.iat[i]))
            frame = frame.loc[valid]
            normalised = normalised.loc[valid]
            rows = rows[valid]
        if frame.empty:
            return None
        self._check_width(frame, rows)
        self.n_rows += len(frame)
        keys_out = normalised.to_numpy(dtype=object)
        if self.reshape is not None:
            frame, new = layout.melt(self.reshape, frame, rows)
            self._add_fields(new)
            rows = frame["_row"].to_numpy(dtype=np.int64)
            keys_out = np.tile(keys_out, len(frame) // max(len(keys_out), 1))
        # the text columns in one block of objects (cheaper than a frame built from a dict)
        names = ["_key"] + ([layout.PERIOD_SOURCE] if self.reshape is not None else []) + list(self.out.values())
        block = np.empty((len(frame), len(names)), dtype=object)
        block[:, 0] = keys_out
        if self.reshape is not None:
            block[:, 1] = frame[layout.PERIOD_SOURCE].to_numpy(dtype=object)
        for i, (source, column) in enumerate(self.frame_col.items(), start=len(names) - len(self.out)):
            values = frame[column].to_numpy(dtype=object)
            present = _present(values)
            self.profiles[source].update_values(present)
            self.facts[source].update(present)
            block[:, i] = values
        out = pd.DataFrame(block, columns=names, dtype=object, copy=False)
        out.insert(1, "_row", rows)
        return out

    def _add_fields(self, names: list[str]) -> None:
        by_name = {n: v for v, n in self.reshape.fields.items()}
        for name in names:
            source = by_name[name]
            if source in self.out:
                source = f"{source} ({self.reshape.field_column})"
            self.out[source] = name
            self.frame_col[source] = name
            self.fields.append(source)
            self.profiles[source] = coltypes.ColumnProfile(source, name)
            self.facts[source] = columns.new_facts()
            self.new_columns.append(name)

    def _check_width(self, frame: pd.DataFrame, rows: np.ndarray) -> None:
        """Refuse a row PostgreSQL cannot store (only wide files can have one)."""
        if len(self.sources) < limits.WIDE_ROW_COLUMNS:
            return
        widths = limits.row_bytes_lower_bound(frame[self.sources])
        too_wide = np.flatnonzero(widths > limits.PG_MAX_ROW_BYTES)
        if len(too_wide):
            first = int(too_wide[0])
            raise IngestError(_("ligne {line} : {reason}").format(
                line=int(rows[first]) + self.table.format.header_line,
                reason=limits.row_too_wide_message(int(widths[first]), typed=False)), code="row-too-wide")


class ModelPreview:
    """The column model a file would get, computed on its chunks without loading anything (the
    validation report shows it to the publisher before publishing, see ``validation/report``).
    Feed every chunk to ``chunk``, then read ``result``."""

    def __init__(self, table: Table, key: keys.KeySpec, data_dictionary: Any = None, axe: Optional[str] = None):
        _entries, options = columns.dictionary_parts(data_dictionary)
        self.data_dictionary = data_dictionary
        self.axe = axe
        self.error: Optional[str] = None
        self.skipped = False
        try:
            reshape = layout.plan(list(table.columns), key.column, options,
                                  dict(zip(table.columns, coltypes.sql_names(table.columns))))
        except columns.ModelError as exc:
            self.error, reshape = str(exc), None
        self.load = LoadState(table, key, reshape)

    def chunk(self, chunk: Chunk) -> None:
        if self.error is None and not self.skipped:
            try:
                self.load.prepare(chunk)
            except IngestError:
                self.skipped = True  # a limit the validation report states itself (row too wide…)
            except columns.ModelError as exc:
                self.error = str(exc)
            self.load.new_columns.clear()

    def result(self) -> dict[str, Any]:
        """{"columns": [{source, role, type, aggregation, label, origin}], "period": {source,
        values} | None, "reshape": {...} | None, "error": French message | None}."""
        if self.error is not None or self.skipped:
            return {"columns": [], "period": None, "reshape": None, "error": self.error}
        try:
            description, warnings = describe_load(self.load, self.data_dictionary, self.axe)
        except columns.ModelError as exc:
            return {"columns": [], "period": None, "reshape": None, "error": str(exc)}
        period = None
        reshape = self.load.reshape
        if reshape is not None and reshape.period_columns:
            period = {"source": _("(colonnes de périodes)"),
                      "values": [reshape.periods[h].label for h in reshape.period_columns]}
        elif description.period_source is not None:
            facts = self.load.facts[description.period_source]
            school_year = columns.school_year_header(description.period_source)
            distinct = facts.distinct_values() or set()
            parsed = {v: columns.parse_period(v, school_year=school_year) for v in distinct}
            unreadable = sorted(v for v, p in parsed.items() if p is None)
            if unreadable and len(unreadable) < len(parsed):
                return {"columns": [], "period": None, "reshape": None, "error": _(
                    "la colonne de période « {column} » a des valeurs qui ne se lisent pas comme des périodes "
                    "(par exemple {examples})").format(column=description.period_source,
                                                       examples=columns.examples(unreadable))}
            found = sorted({p for p in parsed.values() if p is not None}, key=lambda p: p.order)
            period = {"source": description.period_source, "values": [p.label for p in found]}
        model = [{"source": load_col["source"], "role": load_col["role"], "type": load_col["type"],
                  "aggregation": load_col["aggregation"], "label": load_col["label"], "origin": load_col["origin"]}
                 for load_col in description.columns]
        if description.period_source is not None:
            model.insert(0, {"source": description.period_source, "role": roles.PERIOD, "type": "string",
                             "aggregation": None, "label": description.period_source,
                             "origin": "dictionary" if description.period_declared else "inferred"})
        return {"columns": model, "period": period, "reshape": reshape.record() if reshape is not None else None,
                "error": None, "warnings": warnings + description.warnings}


def key_entry(load: LoadState) -> dict[str, Any]:
    return {"name": "_key", "source": load.key.column,
            "label": "UAI" if load.key.kind == keys.UAI else "Code commune", "type": "string", "unit": None,
            "indicator": None, "description": None, "role": roles.KEY, "aggregation": None, "origin": "inferred"}


def describe_load(load: LoadState, data_dictionary: Any, axe: Optional[str] = None) -> tuple[columns.Description, list[str]]:
    """The column model of the loaded rows (roles, types, period), and the publisher's
    warnings (a declared type the values do not allow…)."""
    entries_list, _options = columns.dictionary_parts(data_dictionary)
    entries = coltypes.dictionary_entries(entries_list)
    description = columns.describe(
        load.out, load.profiles, load.facts, key_column=load.key.column, key_kind=load.key.kind,
        entries=entries, reshaped=load.reshape is not None, field_sources=load.fields, axe=axe)
    warnings = list(description.warnings)
    for col in description.columns:
        entry = columns.entry_for(entries, col["source"])
        declared = entry.get("type")
        if declared and declared != col["type"] and col["role"] != roles.KEY:
            _kind, warning = coltypes.column_type(load.profiles[col["source"]], entry, key=False)
            if warning:
                warnings.append(warning)
    return description, warnings


def _check_typed_width(columns_meta: list[dict[str, Any]]) -> None:
    kinds = [c["type"] for c in columns_meta if not c["name"].startswith("_")]
    if len(kinds) < limits.WIDE_ROW_COLUMNS:
        return
    width = limits.typed_row_bytes(kinds)
    if width > limits.PG_MAX_ROW_BYTES:
        raise IngestError(limits.row_too_wide_message(width, typed=True), code="row-too-wide")


# a number once its spaces are removed: decimal point or comma, a bounded exponent (no overflow)
NUMBER_CELL = r"^[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]{1,2})?$"


def _squeezed(ref: str) -> str:
    return f"translate({ref}, ' ' || chr(160) || chr(8239), '')"


def _guarded_number(ref: str) -> str:
    """A declared measure's cell as a number, NULL when it is not one (reported beforehand)."""
    squeeze = _squeezed(ref)
    return (f"CASE WHEN {squeeze} ~ '{NUMBER_CELL}' "
            f"THEN CAST(replace({squeeze}, ',', '.') AS double precision) END")


def _check_guarded_measures(conn: Connection, staging: str, load: LoadState, description: columns.Description) -> list[dict[str, Any]]:
    """Declared measures holding text: refused when text is most of the column, otherwise each
    text cell is reported with its line and left empty. Returns the cell rejects."""
    cell_rejects: list[dict[str, Any]] = []
    for source in description.guarded_measures:
        ref = f's."{load.out[source]}"'
        number = _guarded_number(ref)
        bad, total = conn.execute(sa.text(
            f"SELECT count(*) FILTER (WHERE {ref} IS NOT NULL AND {number} IS NULL), count({ref}) "
            f"FROM {staging} s")).one()
        if not bad:
            continue
        found = conn.execute(sa.text(
            f"SELECT s._row, {ref} FROM {staging} s WHERE {ref} IS NOT NULL AND {number} IS NULL "
            f"ORDER BY s._row LIMIT 100")).all()
        if bad * 2 > total and source in description.schema_measures:
            _fall_back_to_text(description, source)
            continue
        if bad * 2 > total:
            raise columns.ModelError(_(
                "la colonne « {column} » est déclarée mesure (nombre) mais {bad} valeurs sur {total} ne sont pas "
                "des nombres (par exemple {examples}) : rien n'a été chargé ni remplacé").format(
                    column=source, bad=fmt_count(bad), total=fmt_count(total),
                    examples=columns.examples(sorted({v for _r, v in found}))))
        for row, value in found:
            cell_rejects.append({"row": int(row), "value": value, "column": source, "reason": _(
                "colonne « {column} » : « {value} » n'est pas un nombre ; cellule laissée vide").format(
                    column=source, value=messages.clean_text(value, 80))})
        description.warnings.append(ungettext(
            "{n} cellule de la colonne « {column} » n'est pas un nombre (laissée vide, voir les rejets)",
            "{n} cellules de la colonne « {column} » ne sont pas des nombres (laissées vides, voir les rejets)",
            bad).format(n=fmt_count(bad), column=source))
    return cell_rejects


def _fall_back_to_text(description: columns.Description, source: str) -> None:
    """A column the axis Table Schema calls a measure but whose values are mostly text: kept as
    text (a label), said in the warnings, instead of refusing the publisher's file."""
    for col in description.columns:
        if col["source"] == source:
            col.update(role=roles.LABEL, type="string", aggregation=None, origin="inferred")
    description.warnings.append(_("la colonne « {column} » porte le nom d'un indicateur numérique mais contient "
                                  "surtout du texte : elle est gardée comme texte").format(column=source))


def _period_map(conn: Connection, staging: str, load: LoadState, description: columns.Description
                ) -> tuple[Optional[str], Optional[dict[str, Any]]]:
    """The temporary table mapping each raw period value of the file to its label and order
    (``_pmap``), and the ``layout.period`` record. (None, None) when the file has no period."""
    if load.reshape is not None and load.reshape.period_columns:
        ref, source = f's."{layout.PERIOD_SOURCE}"', _("(colonnes de périodes)")
        parsed = {h: load.reshape.periods[h] for h in load.reshape.period_columns}
    elif description.period_source is not None:
        source = description.period_source
        ref = f's."{load.out[source]}"'
        raw = [r[0] for r in conn.execute(sa.text(f"SELECT DISTINCT {ref} FROM {staging} s WHERE {ref} IS NOT NULL"))]
        school_year = columns.school_year_header(source)
        parsed = {v: columns.parse_period(v, school_year=school_year) for v in raw}
    else:
        return None, None
    unreadable = sorted(v for v, p in parsed.items() if p is None)
    orderable, reason = True, None
    if unreadable and len(unreadable) < len(parsed):
        raise columns.ModelError(_(
            "la colonne de période « {column} » a des valeurs qui ne se lisent pas comme des périodes (par exemple "
            "{examples} ; attendu : 2019-2020, 2023, T1 2018, 2021-03, 26/11/2024) : rien n'a été chargé ni "
            "remplacé").format(column=source, examples=columns.examples(unreadable)))
    if unreadable:
        orderable = False
        reason = _("Les périodes de la colonne « {column} » ({examples}) ne peuvent pas être ordonnées : aucune "
                   "valeur n'est présentée comme la plus récente.").format(
            column=source, examples=columns.examples(unreadable))
    conn.execute(sa.text("CREATE TEMP TABLE _pmap (value text PRIMARY KEY, label text, ordre integer) ON COMMIT DROP"))
    rows = [{"v": v, "l": p.label if p else v, "o": p.order if p else None} for v, p in parsed.items()]
    if rows:
        conn.execute(sa.text("INSERT INTO _pmap VALUES (:v, :l, :o)"), rows)
    ordered = sorted({(p.order, p.label) for p in parsed.values() if p is not None})
    labels = [label for _o, label in ordered] if orderable else sorted({r["l"] for r in rows})
    kinds = sorted({p.kind for p in parsed.values() if p is not None})
    record = {"source": source, "label": source, "kind": kinds[0] if len(kinds) == 1 else (kinds and "mixte") or
              columns.AUTRE, "values": labels, "latest": labels[-1] if orderable and labels else None,
              "orderable": orderable, "reason": reason}
    return ref, record


def _cell_sql(ref: str, col: dict[str, Any], load: LoadState, description: columns.Description) -> str:
    source = col["source"]
    if col["role"] == roles.FLAG:
        return columns.flag_sql(ref, source in description.missing_means_no)
    if col["role"] == roles.MEASURE and source in description.guarded_measures:
        return _guarded_number(ref)
    if col["type"] == "string":
        return ref
    return coltypes.cast_sql(ref, col["type"], load.profiles[source], quoted=True)


def build_table(conn: Connection, schema: str, staging_name: str, load: LoadState,
                 description: columns.Description) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]], int]:
    """The typed table (``_key``, ``_row``, ``_periode``, ``_periode_ordre``, the columns), built
    as ``staging_name`` by one ``INSERT … SELECT`` of the casts from the all-text rows
    (``RAW_TABLE``, dropped once read); a reshaped file's rows of one key and period are brought together (``GROUP BY``). (One
    ALTER TABLE … TYPE per column costs PostgreSQL time growing much faster than the number of
    columns: a minute for 400 numeric columns.) Returns (column model, layout, cell rejects, rows)."""
    staging = RAW_TABLE
    typed = qualified(schema, staging_name)
    cell_rejects = _check_guarded_measures(conn, staging, load, description)
    period_ref, period = _period_map(conn, staging, load, description)
    model = [col for col in description.columns]
    _check_typed_width(model)
    defs = ["_key text NOT NULL", "_row integer NOT NULL", f"{columns.PERIOD_COLUMN} text",
            f"{columns.PERIOD_ORDER_COLUMN} integer"]
    cells = [(f'"{col["name"]}"', _cell_sql(f's."{col["name"]}"', col, load, description)) for col in model]
    for col in model:
        defs.append(f'"{col["name"]}" {coltypes.SQL_TYPES[col["type"]]}')
    join = f"LEFT JOIN _pmap pm ON pm.value = {period_ref}" if period_ref else ""
    label, order = ("pm.label", "pm.ordre") if period_ref else ("NULL", "NULL")
    if load.reshape is not None:
        picked = [f"(array_agg({expr} ORDER BY s._row) FILTER (WHERE {expr} IS NOT NULL))[1]" for _n, expr in cells]
        select = (f"SELECT s._key, min(s._row), {label}, min({order}){''.join(', ' + p for p in picked)} "
                  f"FROM {staging} s {join} GROUP BY s._key, {label}")
    else:
        select = (f"SELECT s._key, s._row, {label}, {order}{''.join(', ' + e for _n, e in cells)} "
                  f"FROM {staging} s {join}")
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {typed}"))
    conn.execute(sa.text(f"CREATE TABLE {typed} ({', '.join(defs)})"))
    n_rows = conn.execute(sa.text(f"INSERT INTO {typed} {select}")).rowcount
    if n_rows == 0:
        raise columns.ModelError(_("la mise en forme du fichier ne donne aucune ligne : rien n'a été chargé ni "
                                   "remplacé"), code="reshape")
    conn.execute(sa.text(f"DROP TABLE {staging}"))
    per_key = conn.execute(sa.text(
        f"SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM {typed} "
        f"GROUP BY _key, {columns.PERIOD_COLUMN}) c")).scalar()
    table_layout = {"period": period, "reshape": load.reshape.record() if load.reshape is not None else None,
                    "rows_per_key_period": int(per_key or 0), "table_rows": n_rows}
    if period is not None:
        model.insert(0, {"name": columns.PERIOD_COLUMN, "source": period["source"], "label": period["label"],
                         "type": "string", "unit": None, "indicator": None, "description": None,
                         "role": roles.PERIOD, "aggregation": None,
                         "origin": "dictionary" if description.period_declared else (
                             "reshape" if load.reshape is not None else "inferred"),
                         "period_kind": period["kind"]})
    return [key_entry(load)] + model, table_layout, cell_rejects, n_rows
