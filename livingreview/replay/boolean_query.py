"""The Boolean query syntax Europe PMC's ``query`` and OpenAlex's ``search`` share, parsed and
evaluated for the replay server.

Syntax: ``AND``, ``OR``, ``NOT`` (upper case), parentheses, ``"quoted phrases"``, words with a
trailing ``*`` truncation, and (Europe PMC) fielded terms ``FIELD:word``, ``FIELD:"phrase"`` and
ranges ``FIELD:[a TO b]``. Precedence: ``NOT`` over ``AND`` over ``OR``; adjacent terms are
ANDed (both APIs' default operator). What a term means is the caller's: :func:`evaluate` asks a
``match(term)`` callback, so each API decides its own fields.

Text matching (:func:`phrase_pattern` over :func:`plain_text`): lower case, punctuation and
hyphens read as spaces (``"co-creat*"`` = ``"co creat*"``), a phrase matches its words in order.
OpenAlex's stemming and stop words are not modelled: a word matches itself or, with ``*``, its
continuations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])'
    r'|(?P<term>(?:[A-Za-z_][A-Za-z0-9_.]*:)?(?:"[^"]*"|\[[^\]]*\]|[^\s()"]+)))'
)
_FIELDED = re.compile(r'^(?P<field>[A-Za-z_][A-Za-z0-9_.]*):(?P<value>.+)$', re.DOTALL)
_RANGE = re.compile(r'^\[\s*(?P<low>\S+)\s+TO\s+(?P<high>\S+)\s*\]$')
_OPERATORS = ("AND", "OR", "NOT")


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; the message names the offending piece."""


@dataclass(frozen=True)
class Term:
    """One leaf of the query: ``field`` is None for an unfielded term (upper-cased otherwise)."""

    field: str | None
    value: str  # unquoted
    quoted: bool = False
    low: str | None = None  # a range's bounds
    high: str | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None


Node = tuple  # ("term", Term) | ("and"|"or", [Node, ...]) | ("not", Node)


def _term(raw: str) -> Term:
    field = None
    match = _FIELDED.match(raw)
    # "10.1/x:y" is a DOI, not a field: a field name has no digit before its first letter
    if match and not raw.startswith('"'):
        field, raw = match.group("field").upper(), match.group("value")
    ranged = _RANGE.match(raw)
    if ranged:
        return Term(field, raw, low=ranged.group("low"), high=ranged.group("high"))
    if raw.startswith("["):
        raise QuerySyntaxError(f"range {raw!r} must read [LOW TO HIGH]")
    if raw.startswith('"'):
        return Term(field, raw.strip('"'), quoted=True)
    return Term(field, raw)


def tokens(query: str) -> list[str]:
    out, position, text = [], 0, query.strip()
    if text.count('"') % 2:
        raise QuerySyntaxError(f"unbalanced quotes in {query!r}")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QuerySyntaxError(f"cannot read the query at {text[position:position + 30]!r}")
        out.append(match.group().strip())
        position = match.end()
    return [t for t in out if t]


def parse(query: str) -> Node:
    """The query's tree; raises :class:`QuerySyntaxError` for unbalanced brackets or quotes."""
    items = tokens(query)
    if not items:
        raise QuerySyntaxError("the query is empty")
    position = 0

    def peek() -> str | None:
        return items[position] if position < len(items) else None

    def take() -> str:
        nonlocal position
        position += 1
        return items[position - 1]

    def primary() -> Node:
        token = peek()
        if token is None:
            raise QuerySyntaxError(f"the query {query!r} ends where a term is expected")
        if token == "(":
            take()
            node = either()
            if peek() != ")":
                raise QuerySyntaxError(f"unbalanced parentheses in {query!r}")
            take()
            return node
        if token == ")" or token in _OPERATORS:
            raise QuerySyntaxError(f"{token!r} where a term is expected in {query!r}")
        return ("term", _term(take()))

    def unary() -> Node:
        if peek() == "NOT":
            take()
            return ("not", unary())
        return primary()

    def both() -> Node:
        parts = [unary()]
        while peek() not in (None, ")", "OR"):
            if peek() == "AND":
                take()
                parts.append(unary())
            elif peek() == "NOT":  # "a NOT b" is "a AND NOT b"
                take()
                parts.append(("not", unary()))
            else:
                parts.append(unary())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def either() -> Node:
        parts = [both()]
        while peek() == "OR":
            take()
            parts.append(both())
        return parts[0] if len(parts) == 1 else ("or", parts)

    tree = either()
    if position != len(items):
        raise QuerySyntaxError(f"unbalanced parentheses in {query!r}")
    return tree


def terms(node: Node) -> list[Term]:
    """Every leaf of a tree, in order."""
    kind = node[0]
    if kind == "term":
        return [node[1]]
    if kind == "not":
        return terms(node[1])
    return [t for child in node[1] for t in terms(child)]


def evaluate(node: Node, match: Callable[[Term], bool]) -> bool:
    kind = node[0]
    if kind == "term":
        return match(node[1])
    if kind == "not":
        return not evaluate(node[1], match)
    if kind == "and":
        return all(evaluate(child, match) for child in node[1])
    return any(evaluate(child, match) for child in node[1])


def plain_text(text: str) -> str:
    """Lower case, every run of punctuation one space, padded with spaces for phrase matching."""
    return " " + " ".join(re.sub(r"[^0-9a-z*]+", " ", text.lower()).split()) + " "


def phrase_pattern(words: str) -> re.Pattern[str]:
    """Matches ``words`` in order within :func:`plain_text`; a word ending in ``*`` is truncated."""
    parts = plain_text(words).split()
    body = r"\s".join(re.escape(p[:-1]) + r"\w*" if p.endswith("*") else re.escape(p) + r"\b"
                      for p in parts)
    return re.compile(r"\s" + body)
