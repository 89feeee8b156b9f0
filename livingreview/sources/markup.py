"""Inline markup in titles and abstracts, reduced to plain text.

Crossref abstracts are JATS XML fragments (``<jats:sec><jats:title>Background</jats:title>
<jats:p>...``), Crossref titles carry HTML inline tags (``<i>``, ``<scp>``), Europe PMC abstracts
use ``<h4>Label</h4>`` section heads, and all of them may hold entities. These fragments are not
well-formed documents (undeclared prefixes, HTML entities, stray ``p <.05``), so they are handled
with tag-shaped patterns rather than an XML parser: only ``<name ...>`` where the name starts with
a letter counts as a tag, so a literal ``<.05`` survives.

Section heads become ``"Label: "`` so a structured abstract reads like PubMed's
(``"BACKGROUND: ... METHODS: ..."``); a bare "Abstract" head is dropped.
"""

from __future__ import annotations

import html
import re

_TAG_NAME = r"(?:[A-Za-z][\w.-]*:)?([A-Za-z][\w.-]*)"
_PREFIX = r"(?:[A-Za-z][\w.-]*:)?"
_HEADING = re.compile(rf"<{_PREFIX}(title|h[1-6])(?:\s[^<>]*)?>(.*?)</{_PREFIX}\1\s*>", re.S | re.I)
_TAG = re.compile(rf"</?{_TAG_NAME}(?:\s[^<>]*)?/?>")
_HEADING_NAMES = {"title", "h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_NAMES = {"p", "sec", "list", "list-item", "div", "br", "li", "ul", "ol", "table", "tr",
                "td", "caption", "disp-quote", "abstract", "trans-abstract"} | _HEADING_NAMES
_UNLABELLED_HEADS = {"abstract", "summary", "graphical abstract", "abstract.", ""}


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _strip_tags(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return " " if match.group(1).lower() in _BLOCK_NAMES else ""

    return _TAG.sub(replace, text)


def markup_to_text(value: str | None, *, labels: bool = True) -> str | None:
    """Plain text from a title or abstract that may contain JATS/HTML/MathML markup.

    With ``labels`` (abstracts), section heads become ``"Label: "``; without (titles), heads are
    kept as ordinary text. Entities are decoded; whitespace is collapsed. None for blanks.
    """
    if value is None:
        return None
    text = str(value)
    if labels:
        def heading(match: re.Match[str]) -> str:
            label = _collapse(html.unescape(_strip_tags(match.group(2))))
            label = label.rstrip(":").strip()
            if label.casefold() in _UNLABELLED_HEADS:
                return " "
            return f" {label}: "

        # Headings never nest, so one non-greedy pass per heading element is enough.
        text = _HEADING.sub(heading, text)
    text = _strip_tags(text)
    text = _collapse(html.unescape(text))
    return text or None
