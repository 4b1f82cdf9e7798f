"""Compile parsed queries to SQL over the index table, with bound parameters only.

Field semantics follow CKAN's Solr schema: `text` and the analysed text fields (title, notes,
res_name, res_description, author, maintainer, extras_*…) match French words (unaccented,
stemmed); other fields (name, tags, organization, res_format, license_id, capacity, state,
permission_labels…) match exact values, whether the document holds a string or a list;
`*_ngram` fields match substrings (autocomplete); ranges compare dates or numbers.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ckan.lib.search.common import SearchQueryError

from ckanext.ecarto.search import parser as p
from ckanext.ecarto.search.model import COLUMN_FIELDS, DATE_COLUMNS, facet_value, has_facet_value

TEXT_FIELDS = {"text", "title", "notes", "res_name", "res_description", "author", "maintainer",
               "urls", "download_url", "res_url", "ckan_url"}
TSV_FIELDS = {"text"}
BBOX_FIELD = "ecarto_bbox"


@dataclass
class Compiled:
    """A SQL condition, its parameters and the text queries that rank results."""

    params: dict[str, Any] = field(default_factory=dict)
    rank_queries: list[str] = field(default_factory=list)   # SQL tsquery expressions
    _n: int = 0

    def bind(self, value: Any) -> str:
        self._n += 1
        name = f"p{self._n}"
        self.params[name] = value
        return f":{name}"


def escape_like(text: str) -> str:
    """`text` matched literally by LIKE (its default escape character, the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Compiler:
    def __init__(self, ts_config: str):
        self.ts_config = ts_config
        self.out = Compiled()

    # -- entry points

    def condition(self, node: p.Node, rank: bool = False) -> str:
        if isinstance(node, p.MatchAll):
            return "TRUE"
        if isinstance(node, p.Not):
            return f"NOT ({self.condition(node.node)})"
        if isinstance(node, p.And):
            return "(" + " AND ".join(self.condition(n, rank) for n in node.nodes) + ")"
        if isinstance(node, p.Or):
            grouped = self._grouped_or(node)
            if grouped is not None:
                return grouped
            return "(" + " OR ".join(self.condition(n, rank) for n in node.nodes) + ")"
        if isinstance(node, p.Range):
            return self._range(node)
        if isinstance(node, p.Term):
            return self._term(node, rank)
        raise SearchQueryError(f"Requête non prise en charge : {node!r}")

    def free_text(self, text: str) -> str:
        """Dismax `q` without field syntax: words and "phrases" in the weighted full text with
        CKAN's `mm`; `+word` is required, `-word` excluded."""
        if re.search(r"[~^]", text):
            raise SearchQueryError("Syntaxe de recherche non prise en charge : opérateur « ~ » ou « ^ » "
                                   "(recherche floue ou pondération)")
        optional, required, excluded = [], [], []
        for phrase, word in re.findall(r'([+-]?"[^"]*")|(\S+)', text):
            token = phrase or word
            sign = token[0] if token[0] in "+-" and len(token) > 1 else ""
            body = token[1:] if sign else token
            if body.startswith('"'):
                items = [body.strip('"')] if body.strip('"').strip() else []
            else:
                items = p.free_text_words(body)
            target = {"+": required, "-": excluded}.get(sign, optional)
            target.extend(items)
        parts = [self._tsv_match(word) for word in optional]
        for word in optional + required:
            self.out.rank_queries.append(self._tsquery(word))
        conditions = [self._tsv_match(word) for word in required]
        conditions += [f"NOT {self._tsv_match(word)}" for word in excluded]
        if parts:
            needed = p.minimum_should_match(len(parts))
            if needed >= len(parts):
                conditions += parts
            else:
                summed = " + ".join(f"CAST(({part}) AS int)" for part in parts)
                conditions.append(f"(({summed}) >= {int(needed)})")
        return "(" + " AND ".join(conditions) + ")" if conditions else "TRUE"

    # -- terms

    def _tsquery(self, word: str) -> str:
        """A tsquery for one word or phrase; a trailing `*` is a prefix match."""
        cfg = self.out.bind(self.ts_config)
        if word.endswith("*") and "*" not in word[:-1] and "?" not in word:
            stem = word[:-1].strip()
            if not stem:
                return "NULL"
            value = self.out.bind(stem)
            # lexemes of the word, each as a prefix (`ecol*` -> 'ecol':*)
            return (f"(SELECT CASE WHEN count(*) = 0 THEN NULL ELSE to_tsquery(CAST({cfg} AS regconfig), "
                    f"string_agg(quote_literal(lexeme) || ':*', ' & ')) END "
                    f"FROM unnest(to_tsvector(CAST({cfg} AS regconfig), {value})))")
        value = self.out.bind(word)
        return f"phraseto_tsquery(CAST({cfg} AS regconfig), {value})"

    def _tsv_match(self, word: str) -> str:
        if "?" in word or "*" in word[:-1]:
            return self._substring("text", word)
        return f"(tsv @@ {self._tsquery(word)})"

    def _term(self, node: p.Term, rank: bool) -> str:
        name, value = node.field, node.value
        if value == "*" and not node.phrase:
            if name in TSV_FIELDS:
                return "TRUE"
            return self._exists(name)
        if name == BBOX_FIELD:
            return self._bbox(value)
        if name.endswith("_ngram"):
            return self._substring(name[: -len("_ngram")], f"*{value}*")
        if name in TSV_FIELDS:
            if node.wildcard and not (value.endswith("*") and "*" not in value[:-1] and "?" not in value):
                return self._substring("text", value)
            self.out.rank_queries.append(self._tsquery(value))
            return f"(tsv @@ {self._tsquery(value)})"
        if name in TEXT_FIELDS or name.startswith("extras_") or name.startswith("res_extras_"):
            if node.wildcard:
                return self._substring(name, value)
            cfg = self.out.bind(self.ts_config)
            return f"(to_tsvector(CAST({cfg} AS regconfig), {self._text_of(name)}) @@ {self._tsquery(value)})"
        if node.wildcard:
            return self._like(name, value)
        return self._equals(name, value)

    def _grouped_or(self, node: p.Or) -> Optional[str]:
        """`permission_labels:("a" OR "b")` -> array overlap (fast, indexed)."""
        terms = node.nodes
        if all(isinstance(t, p.Term) and t.field == "permission_labels" and not t.wildcard for t in terms):
            return f"(permission_labels && CAST({self.out.bind([t.value for t in terms])} AS text[]))"
        return None

    # -- value helpers

    def _json(self, name: str) -> str:
        return f"(doc -> {self.out.bind(name)})"

    def _text_of(self, name: str) -> str:
        """The field as one text (lists joined by spaces)."""
        j = self._json(name)
        return (f"(CASE jsonb_typeof({j}) WHEN 'array' THEN "
                f"(SELECT string_agg(e, ' ') FROM jsonb_array_elements_text({j}) e) "
                f"ELSE doc ->> {self.out.bind(name)} END)")

    def _elements(self, name: str) -> str:
        j = self._json(name)
        return (f"jsonb_array_elements_text(CASE jsonb_typeof({j}) WHEN 'array' THEN {j} "
                f"WHEN 'null' THEN '[]'::jsonb ELSE jsonb_build_array({j}) END)")

    def _equals(self, name: str, value: str) -> str:
        if name in COLUMN_FIELDS:
            return f"({name} = {self.out.bind(value)})"
        if name == "permission_labels":
            return f"(permission_labels && CAST({self.out.bind([value])} AS text[]))"
        candidates: list[Any] = [value]
        if value in ("true", "false"):
            candidates.append(value == "true")
        elif len(value) <= 30 and re.fullmatch(r"-?\d+(\.\d+)?", value):
            candidates.append(float(value) if "." in value else int(value))
        parts = []
        if has_facet_value(name, value):
            # the string, alone or in a list, is in `facet_values` (GIN index): same rows
            parts.append(f"facet_values @> CAST({self.out.bind([facet_value(name, value)])} AS text[])")
            candidates.remove(value)
        for cand in candidates:
            parts.append(f"doc @> CAST({self.out.bind(json.dumps({name: cand}))} AS jsonb)")
            parts.append(f"doc @> CAST({self.out.bind(json.dumps({name: [cand]}))} AS jsonb)")
        return "(" + " OR ".join(parts) + ")"

    def _like_pattern(self, value: str) -> str:
        return escape_like(value).replace("*", "%").replace("?", "_")

    def _like(self, name: str, value: str) -> str:
        pattern = self.out.bind(self._like_pattern(value))
        if name in COLUMN_FIELDS:
            return f"({name} LIKE {pattern})"
        return f"EXISTS (SELECT 1 FROM {self._elements(name)} e WHERE e LIKE {pattern})"

    def _substring(self, name: str, value: str) -> str:
        """Case- and accent-insensitive match of a wildcard pattern anywhere in a field."""
        pattern = self.out.bind(self._like_pattern(value))
        if name == "text":
            target = "(coalesce(doc->>'title','') || ' ' || coalesce(doc->>'name','') || ' ' || coalesce(doc->>'notes',''))"
        elif name in COLUMN_FIELDS:
            target = name
        else:
            target = self._text_of(name)
        return f"(unaccent(lower({target})) LIKE unaccent(lower({pattern})))"

    def _exists(self, name: str) -> str:
        if name in COLUMN_FIELDS:
            return f"({name} IS NOT NULL AND {name} <> '')"
        return f"EXISTS (SELECT 1 FROM {self._elements(name)} e WHERE e <> '')"

    # -- ranges

    def _range(self, node: p.Range) -> str:
        low, high = node.low, node.high
        kind = _range_kind(node.field, low, high)
        if kind == "date":
            target = node.field if node.field in DATE_COLUMNS else \
                f"(CAST(NULLIF(doc ->> {self.out.bind(node.field)}, '') AS timestamptz))"
            convert = parse_date
        else:
            target = f"(CAST(NULLIF(doc ->> {self.out.bind(node.field)}, '') AS double precision))"
            convert = _number
        parts = []
        if low is not None:
            parts.append(f"{target} {'>=' if node.include_low else '>'} {self.out.bind(convert(low))}")
        if high is not None:
            parts.append(f"{target} {'<=' if node.include_high else '<'} {self.out.bind(convert(high))}")
        if not parts:
            return f"({target} IS NOT NULL)"
        return "(" + " AND ".join(parts) + ")"

    # -- spatial

    def _bbox(self, value: str) -> str:
        try:
            minx, miny, maxx, maxy = (float(v) for v in re.split(r"[,\s]+", value.strip()))
        except ValueError:
            raise SearchQueryError("Paramètre ext_bbox invalide : quatre nombres sont attendus (minx,miny,maxx,maxy)")
        if minx > maxx or miny > maxy:
            raise SearchQueryError("ext_bbox : minx doit être ≤ maxx et miny ≤ maxy")
        return (f"(bbox_minx <= {self.out.bind(maxx)} AND bbox_maxx >= {self.out.bind(minx)} "
                f"AND bbox_miny <= {self.out.bind(maxy)} AND bbox_maxy >= {self.out.bind(miny)})")


# --------------------------------------------------------------------------- dates

_DATE_MATH = re.compile(r"([+-])(\d+)(YEARS?|MONTHS?|DAYS?|HOURS?|MINUTES?|SECONDS?|MILLIS?|MILLISECONDS?)|/(YEAR|MONTH|DAY|HOUR|MINUTE|SECOND)")


def _range_kind(name: str, low: Optional[str], high: Optional[str]) -> str:
    if name in DATE_COLUMNS or name.endswith("_date"):
        return "date"
    for v in (low, high):
        if v and (v.startswith("NOW") or re.match(r"\d{4}-\d{2}-\d{2}", v)):
            return "date"
    return "number"


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise SearchQueryError(f"Borne d'intervalle non numérique : « {value} »")


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    month = when.month - 1 + months
    year = when.year + month // 12
    month = month % 12 + 1
    day = min(when.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                         31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return when.replace(year=year, month=month, day=day)


def parse_date(value: str, now: Optional[dt.datetime] = None) -> dt.datetime:
    """ISO dates (`2024-01-01T00:00:00Z`, `2024-01-01`) and Solr date math (`NOW-1DAY`, `NOW/DAY`).
    An impossible date (`2024-13-45`) or one outside years 1 to 9999 (`NOW-99999999999YEARS`)
    is refused with a SearchQueryError."""
    try:
        return _parse_date(value, now)
    except (ValueError, OverflowError):
        raise SearchQueryError(f"Date impossible ou hors des limites (années 1 à 9999) : « {value[:60]} »")


def _parse_date(value: str, now: Optional[dt.datetime]) -> dt.datetime:
    text = value.strip()
    if text.startswith("NOW"):
        when = now or dt.datetime.now(dt.timezone.utc)
        rest = text[3:]
    else:
        m = re.match(r"(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)(Z|[+-]\d{2}:?\d{2})?", text)
        if not m:
            raise SearchQueryError(f"Date non reconnue : « {value} »")
        when = dt.datetime.fromisoformat(m.group(1))
        tz = m.group(2)
        when = when.replace(tzinfo=dt.timezone.utc) if not tz or tz == "Z" else \
            dt.datetime.fromisoformat(m.group(1) + (tz if ":" in tz else tz[:3] + ":" + tz[3:]))
        rest = text[m.end():]
    pos = 0
    while pos < len(rest):
        m = _DATE_MATH.match(rest, pos)
        if not m:
            raise SearchQueryError(f"Calcul de date non reconnu : « {value} »")
        if m.group(4):
            unit = m.group(4)
            fields = ["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"]
            keep = fields.index(unit)
            reset = {"month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
            kwargs = {k: v for i, (k, v) in enumerate(reset.items()) if i >= keep}
            when = when.replace(microsecond=0, **kwargs)
        else:
            amount = int(m.group(2)) * (1 if m.group(1) == "+" else -1)
            unit = m.group(3).rstrip("S") if not m.group(3).startswith("MILLI") else "MILLI"
            if unit == "YEAR":
                when = _add_months(when, 12 * amount)
            elif unit == "MONTH":
                when = _add_months(when, amount)
            else:
                seconds = {"DAY": 86400, "HOUR": 3600, "MINUTE": 60, "SECOND": 1, "MILLI": 0.001}[unit]
                when = when + dt.timedelta(seconds=seconds * amount)
        pos = m.end()
    return when
