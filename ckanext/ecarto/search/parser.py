"""A parser for the subset of the Solr/Lucene query syntax that CKAN and its clients send.

Supported: `*:*`; bare terms (default field); `field:value`, `field:"quoted value"`,
`field: "x"` (space after the colon); wildcards `*` and `?` in terms; groups `( … )` and
`field:(a OR b)`; `AND`/`OR`/`NOT`, `&&`/`||`/`!`, prefix `+`/`-`; ranges
`field:[a TO b]` / `{a TO b}` with `*`, ISO dates and `NOW` date math (`NOW-1DAY`,
`NOW/DAY`). Implicit conjunction is AND (CKAN sends `q.op=AND`).

Anything else (local params `{!…}`, boosts `^`, fuzzy `~`, regexes `/…/`, functions…) raises
`SearchQueryError` naming what is not supported: never a guessed result.

Limits, so that no query can exhaust Python's stack or PostgreSQL's (each refused with a French
`SearchQueryError`, which CKAN answers 400): nesting of groups and `NOT`/`!`/`-` at most
`MAX_DEPTH` deep; at most `MAX_TERMS` terms and `MAX_WILDCARDS` terms with `*`/`?` (each of
those is a scan of the index) in one search (q and fq together, `check_limits`; the
permission filter CKAN adds does not count); ranges of at most `MAX_RANGE_LENGTH` characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Union

from ckan.lib.search.common import SearchQueryError

DEFAULT_FIELD = "text"
MAX_DEPTH = 20
MAX_TERMS = 200
MAX_WILDCARDS = 20
MAX_TOKENS = 10_000
MAX_RANGE_LENGTH = 200
#: the filter CKAN adds for the caller's permissions: one term per organization, not counted
UNCOUNTED_FIELDS = {"permission_labels"}


# --------------------------------------------------------------------------- AST

@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    phrase: bool = False          # came from a quoted string

    @property
    def wildcard(self) -> bool:
        return not self.phrase and ("*" in self.value or "?" in self.value)


@dataclass(frozen=True)
class Range:
    field: str
    low: Optional[str]            # None = open (`*`)
    high: Optional[str]
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class Not:
    node: "Node"


@dataclass(frozen=True)
class And:
    nodes: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple["Node", ...]


Node = Union[MatchAll, Term, Range, Not, And, Or]


# --------------------------------------------------------------------------- tokens

@dataclass
class Token:
    kind: str                     # LPAREN RPAREN AND OR NOT PLUS MINUS FIELD PHRASE TERM RANGE
    value: str = ""
    extra: dict = field(default_factory=dict)


_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)\s*:\s*")
_RANGE_RE = re.compile(r"([\[{])\s*(.*?)\s+TO\s+(.*?)\s*([\]}])\Z", re.S)
_RANGE_END = re.compile(r"[\]}]")
_TERM_STOP = set(' \t\r\n()"')


def _unsupported(what: str) -> SearchQueryError:
    return SearchQueryError(f"Syntaxe de recherche non prise en charge : {what}")


def _too_complex(what: str) -> SearchQueryError:
    return SearchQueryError(f"Requête de recherche trop complexe : {what}. Simplifiez-la.")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("{!", i):
            raise _unsupported("paramètres locaux « {!…} »")
        if c == "(":
            tokens.append(Token("LPAREN")); i += 1; continue
        if c == ")":
            tokens.append(Token("RPAREN")); i += 1; continue
        if text.startswith("&&", i):
            tokens.append(Token("AND")); i += 2; continue
        if text.startswith("||", i):
            tokens.append(Token("OR")); i += 2; continue
        if c == "!" :
            tokens.append(Token("NOT")); i += 1; continue
        if c in "+-" and (not tokens or tokens[-1].kind != "FIELD") and i + 1 < n and not text[i + 1].isspace():
            tokens.append(Token("PLUS" if c == "+" else "MINUS")); i += 1; continue
        if c == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise _unsupported("guillemet non fermé")
            tokens.append(Token("PHRASE", "".join(buf)))
            i = j + 1
            _check_suffix(text, i)
            continue
        if c in "[{":
            # the closing bracket first: the range's regex then runs on a short text only
            end = _RANGE_END.search(text, i, i + MAX_RANGE_LENGTH + 1)
            m = _RANGE_RE.match(text, i, end.end()) if end else None
            if not m:
                raise _unsupported("intervalle mal formé (attendu [a TO b], "
                                   f"{MAX_RANGE_LENGTH} caractères au plus)")
            tokens.append(Token("RANGE", extra={
                "low": m.group(2), "high": m.group(3),
                "include_low": m.group(1) == "[", "include_high": m.group(4) == "]"}))
            i = m.end()
            continue
        if c == "/":
            raise _unsupported("expressions régulières « /…/ »")
        m = _FIELD_RE.match(text, i)
        if m and not text[i:].startswith("*:*"):
            tokens.append(Token("FIELD", m.group(1)))
            i = m.end()
            continue
        # a bare term (with backslash escapes)
        j = i
        buf = []
        while j < n and text[j] not in _TERM_STOP:
            if text[j] == "\\" and j + 1 < n:
                buf.append(text[j + 1]); j += 2; continue
            if text[j] in "^~":
                raise _unsupported(f"opérateur « {text[j]} » (pondération ou recherche floue)")
            if text[j] in "{}[]":
                raise _unsupported(f"caractère « {text[j]} »")
            buf.append(text[j])
            j += 1
        word = "".join(buf)
        if word == "*:*":
            tokens.append(Token("MATCHALL"))
        elif word in ("AND", "OR", "NOT"):
            tokens.append(Token(word))
        elif word:
            if ":" in word:
                raise _unsupported(f"« {word} »")
            tokens.append(Token("TERM", word))
        i = j
    return tokens


def _check_suffix(text: str, i: int) -> None:
    if i < len(text) and text[i] in "^~":
        raise _unsupported(f"opérateur « {text[i]} » (pondération ou recherche floue)")


# --------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, tokens: list[Token], default_field: str):
        self.tokens = tokens
        self.pos = 0
        self.default_field = default_field
        self.depth = 0

    def enter(self) -> None:
        """One level deeper (a group or a negation): refused past MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_complex(f"plus de {MAX_DEPTH} niveaux de parenthèses ou de négations (NOT, !, -) imbriqués")

    def peek(self) -> Optional[Token]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            return MatchAll()
        node = self.or_expr(self.default_field)
        if self.peek() is not None:
            raise _unsupported("parenthèse fermante en trop")
        return node

    def or_expr(self, default: str) -> Node:
        nodes = [self.and_expr(default)]
        while self.peek() and self.peek().kind == "OR":
            self.take()
            nodes.append(self.and_expr(default))
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self, default: str) -> Node:
        nodes = [self.unary(default)]
        while True:
            tok = self.peek()
            if tok is None or tok.kind in ("OR", "RPAREN"):
                break
            if tok.kind == "AND":
                self.take()
            nodes.append(self.unary(default))
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self, default: str) -> Node:
        tok = self.peek()
        if tok is None:
            raise _unsupported("requête incomplète")
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            self.enter()
            node = Not(self.unary(default))
            self.depth -= 1
            return node
        if tok.kind == "PLUS":
            self.take()
            return self.unary(default)
        return self.primary(default)

    def primary(self, default: str) -> Node:
        tok = self.take()
        if tok.kind == "MATCHALL":
            return MatchAll()
        if tok.kind == "LPAREN":
            return self.group(default)
        if tok.kind == "FIELD":
            return self.value(tok.value)
        if tok.kind in ("TERM", "PHRASE", "RANGE"):
            self.pos -= 1
            return self.value(default)
        raise _unsupported(f"« {tok.kind} » inattendu")

    def value(self, field_name: str) -> Node:
        tok = self.peek()
        if tok is None:
            raise _unsupported(f"valeur manquante après « {field_name}: »")
        self.take()
        if tok.kind == "LPAREN":
            return self.group(field_name)
        if tok.kind == "TERM":
            if tok.value == "*":
                return Term(field_name, "*")
            return Term(field_name, tok.value)
        if tok.kind == "PHRASE":
            return Term(field_name, tok.value, phrase=True)
        if tok.kind == "RANGE":
            low, high = tok.extra["low"], tok.extra["high"]
            return Range(field_name, None if low == "*" else low.strip('"'),
                         None if high == "*" else high.strip('"'),
                         tok.extra["include_low"], tok.extra["include_high"])
        if tok.kind == "MATCHALL":
            return MatchAll()
        raise _unsupported(f"valeur inattendue après « {field_name}: »")

    def group(self, default: str) -> Node:
        self.enter()
        node = self.or_expr(default)
        self._expect_rparen()
        self.depth -= 1
        return node

    def _expect_rparen(self) -> None:
        tok = self.peek()
        if tok is None or tok.kind != "RPAREN":
            raise _unsupported("parenthèse non fermée")
        self.take()


def parse(text: Optional[str], default_field: str = DEFAULT_FIELD) -> Node:
    """Parse a Solr query string into an AST."""
    text = (text or "").strip()
    if text in ("", '""', "''"):
        return MatchAll()
    tokens = tokenize(text)
    if len(tokens) > MAX_TOKENS:
        raise _too_complex(f"plus de {MAX_TOKENS} éléments")
    return _Parser(tokens, default_field).parse()


# --------------------------------------------------------------------------- limits

def count_terms(node: Node) -> tuple[int, int]:
    """(terms, wildcard terms) of a parsed query, without the permission filter's terms."""
    terms = wildcards = 0
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (And, Or)):
            stack.extend(item.nodes)
        elif isinstance(item, Not):
            stack.append(item.node)
        elif isinstance(item, Term):
            if item.field in UNCOUNTED_FIELDS:
                continue
            terms += 1
            wildcards += item.wildcard and item.value != "*"
        elif isinstance(item, Range):
            terms += 1
    return terms, wildcards


def check_limits(terms: int, wildcards: int) -> None:
    """Refuse a search with too many terms or wildcard terms (counted over q and every fq)."""
    if wildcards > MAX_WILDCARDS:
        raise _too_complex(f"{wildcards} termes avec joker (* ou ?), {MAX_WILDCARDS} au plus")
    if terms > MAX_TERMS:
        raise _too_complex(f"{terms} termes, {MAX_TERMS} au plus")


# --------------------------------------------------------------------------- free text (dismax)

_WORD_RE = re.compile(r"[\w*?'’-]+", re.U)


def free_text_words(text: str) -> list[str]:
    """Words of a dismax `q` (no field syntax): Solr special characters are ignored."""
    return [w.strip("-'’") for w in _WORD_RE.findall(text or "") if w.strip("-'’*?")]


def minimum_should_match(n: int) -> int:
    """CKAN's dismax `mm = 2<-1 5<80%`: all of 1-2 words, all but one of 3-5, 80 % from 6."""
    if n <= 2:
        return n
    if n <= 5:
        return n - 1
    return int(n * 0.8)
