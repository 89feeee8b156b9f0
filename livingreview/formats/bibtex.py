"""BibTeX / BibLaTeX (Zotero, JabRef, Google Scholar, publisher exports): read and write.

Parsing is bibtexparser 2's: its failed blocks (an unclosed brace, a duplicate key) become
InputErrors naming the line; its NormalizeFieldKeys middleware makes ``Author`` and ``author``
one field, and SeparateCoAuthors/SplitNameParts split the author field on top-level "and" (a
braced collective name stays whole). LaTeX is decoded with
pylatexenc, the decoder bibtexparser's own LatexDecodingMiddleware wraps, applied here only to
text fields: decoding a DOI or URL as LaTeX would cut it at a ``%`` or eat its underscores.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.library import Library
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)
from pylatexenc.latex2text import LatexNodes2Text

from livingreview.errors import InputError
from livingreview.formats.fields import (
    doi_in_text,
    doi_of,
    finish_record,
    import_source,
    labelled_pmcid,
    labelled_pmid,
    no_records,
    pages_of,
    pmcid_of,
    pmid_of,
    record_place,
    split_list,
    unique,
    year_of,
)
from livingreview.formats.text import read_text
from livingreview.records import Record

# Record field -> BibTeX/BibLaTeX field names, most trusted first.
BIBTEX_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "abstract": ("abstract",),
    "author": ("author",),
    "year": ("year", "date"),
    "journal": ("journal", "journaltitle", "booktitle"),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "pages": ("pages",),
    "doi": ("doi",),
    "pmid": ("pmid",),
    "pmcid": ("pmcid",),
    "keywords": ("keywords",),
    "language": ("language", "langid"),
    "url": ("url",),
    "notes": ("note", "annote", "annotation", "extra"),
}
TEXT_FIELDS = ("title", "abstract", "journal", "journaltitle", "booktitle", "keywords", "note",
               "annote", "annotation", "extra", "language")

TYPES: dict[str, str] = {
    "article": "Journal Article", "book": "Book", "inbook": "Book Chapter",
    "incollection": "Book Chapter", "inproceedings": "Conference Paper",
    "conference": "Conference Paper", "proceedings": "Conference Proceedings",
    "phdthesis": "Thesis", "mastersthesis": "Thesis", "thesis": "Thesis",
    "techreport": "Report", "report": "Report", "online": "Web Page", "dataset": "Dataset",
}
_ENTRY_TYPES = {"Journal Article": "article", "Book": "book", "Book Chapter": "incollection",
                "Conference Paper": "inproceedings", "Conference Proceedings": "proceedings",
                "Thesis": "phdthesis", "Report": "techreport", "Web Page": "online",
                "Dataset": "dataset"}
_CONTAINER = {"incollection": "booktitle", "inproceedings": "booktitle"}

# bibtexparser logs every failed block; we raise it as an InputError instead. A NullHandler keeps
# Python's last-resort handler from printing the log line before our message when the program
# has not configured logging (an application that has, still receives it).
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_DECODER = LatexNodes2Text(math_mode="verbatim", keep_braced_groups=False)
# What LaTeX decoding changes: commands, groups, math, ties, and the dash and quote ligatures.
_MARKUP = re.compile(r"[\\{}$~]|--|``|''|[!?]`")
# Written files stay UTF-8 (Zotero, JabRef, EndNote, biber and modern BibTeX read it); only the
# characters LaTeX reserves are escaped. Encoding accents as LaTeX would lose letters that have
# no LaTeX form.
_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
            "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}"}
# "^" stays bare: pylatexenc reads a bare ^ back as ^, but \textasciicircum as U+02C6.
_SPECIAL = re.compile("|".join(re.escape(c) for c in _ESCAPES))
_LIGATURE = re.compile(r"-(?=-)|`(?=`)|'(?=')|[!?](?=`)")
_STOPWORDS = {"a", "an", "the", "of", "on", "in", "and", "for", "to", "with", "from", "at", "by",
              "is", "are", "as", "its", "or", "how", "what", "why", "when", "do", "does"}


def read_data(path: str | Path) -> Library:
    """The parsed library, or InputError for the first block bibtexparser could not parse."""
    text = read_text(path).text
    library = bibtexparser.parse_string(
        text, append_middleware=[middlewares.NormalizeFieldKeys(), middlewares.SeparateCoAuthors(),
                                 middlewares.SplitNameParts()])
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1  # bibtexparser counts lines from 0
        if isinstance(block, DuplicateBlockKeyBlock):
            first = (block.previous_block.start_line or 0) + 1
            raise InputError(str(path), f"line {line}",
                             f"entry key {block.key!r} is used again (first at line {first})",
                             "give every entry its own key (e.g. add a, b to the second)")
        if isinstance(block, ParsingFailedBlock):
            reason = getattr(block.error, "abort_reason", None) or \
                getattr(block.error, "message", None) or str(block.error)
            detail = re.sub(r"\s+", " ", str(reason)).strip().rstrip(".")
            if isinstance(getattr(block.error, "end_index", None), int):
                detail += f" (parsing stopped at line {text[:block.error.end_index].count(chr(10)) + 1})"
            detail = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + 1}", detail)
            raise InputError(str(path), f"line {line}",
                             f"this BibTeX entry cannot be parsed: {detail}",
                             "check the entry's braces and quotes (every '{' needs its '}', "
                             "every field ends with a comma) and fix it in the reference manager")
        if isinstance(block, MiddlewareErrorBlock):
            raise InputError(str(path), f"line {line}",
                             f"the entry's author field cannot be split: {block.error}",
                             "separate authors with ' and ' and balance the braces")
    if not library.entries:
        raise no_records(path, "no @article{...} or other BibTeX entry",
                         "export the references as BibTeX, or give the right --format")
    return library


def _decode(value: str) -> str:
    if not _MARKUP.search(value):
        return value  # plain text comes back unchanged; decoding is the slow step of reading
    # A bare % or & in a field value is the character itself, as exports write it, not a LaTeX
    # comment (which would drop the rest of the title) or an alignment tab (a blank).
    return _DECODER.latex_to_text(re.sub(r"(?<!\\)([%&])", r"\\\1", value))


def _name(parts: Any) -> str:
    """A person as "von Last, Jr, First"; a braced collective name as printed."""
    if isinstance(parts, str):
        return _decode(parts).strip()
    last = " ".join(parts.von + parts.last)
    given = " ".join(parts.first)
    name = ", ".join(p for p in (last, " ".join(parts.jr), given) if p)
    return re.sub(r"\s+", " ", _decode(name)).strip()


def _field(entry: Entry, field: str) -> Any:
    for key in BIBTEX_ALIASES[field]:
        found = entry.fields_dict.get(key)  # keys are lower-cased by NormalizeFieldKeys
        if found is not None and found.value not in (None, "", []):
            value = found.value
            return _decode(value) if isinstance(value, str) and key in TEXT_FIELDS else value
    return None


def _text(entry: Entry, field: str) -> str | None:
    value = _field(entry, field)
    return str(value).strip() if value is not None else None


def to_records(library: Library, path: str | Path) -> list[Record]:
    source = import_source("bibtex", path)
    records = []
    for number, entry in enumerate(library.entries, start=1):
        place = record_place(number, entry.key, (entry.start_line or 0) + 1)
        authors = _field(entry, "author") or []
        notes = [_text(entry, "notes"), _text(entry, "url")]
        year_key = next((k for k in BIBTEX_ALIASES["year"] if k in entry.fields_dict), "year")
        keywords = _text(entry, "keywords")
        records.append(finish_record(dict(
            source=source,
            source_id=entry.key,
            title=_text(entry, "title"),
            abstract=_text(entry, "abstract"),
            authors=unique(_name(a) for a in (authors if isinstance(authors, list) else [authors])),
            year=year_of(_text(entry, "year"), path=path, place=place, field=year_key),
            journal=_text(entry, "journal"),
            volume=_text(entry, "volume"),
            issue=_text(entry, "issue"),
            pages=pages_of(_text(entry, "pages")),
            doi=doi_of(_text(entry, "doi"), path=path, place=place, field="doi")
            or doi_in_text([_text(entry, "url")]),
            pmid=pmid_of(_text(entry, "pmid"), path=path, place=place, field="pmid")
            or labelled_pmid(notes),
            pmcid=pmcid_of(_text(entry, "pmcid"), path=path, place=place, field="pmcid")
            or labelled_pmcid(notes[:1]),
            publication_types=[TYPES[entry.entry_type.lower()]]
            if entry.entry_type.lower() in TYPES else [],
            language=_text(entry, "language"),
            keywords=unique(split_list(keywords, ";" if keywords and ";" in keywords else ",")),
            url=_text(entry, "url"),
        ), path=path, place=place))
    return records


def read_bibtex(path: str | Path) -> list[Record]:
    """Records from a BibTeX/BibLaTeX file; a malformed entry raises InputError with its line."""
    return to_records(read_data(path), path)


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def citation_key(record: Record) -> str:
    """``surname2016word``: first author's surname, year, first significant title word."""
    first = record.authors[0] if record.authors else ""
    surname = first.split(",")[0] if "," in first else (first.split() or [""])[0]
    surname = _ascii_word(surname.split()[-1] if " " in surname.strip() else surname) or "anon"
    words = [_ascii_word(w) for w in re.split(r"[\s\-/:]+", record.title or "")]
    word = next((w for w in words if w and w not in _STOPWORDS), "")
    return f"{surname}{record.year if record.year is not None else 'nd'}{word}"


def citation_keys(records: list[Record]) -> list[str]:
    """Unique keys in record order: a repeated key gets b, c, ... (then numbers)."""
    used: set[str] = set()
    keys = []
    for record in records:
        base = citation_key(record)
        key, n = base, 1
        while key in used:
            n += 1
            key = base + (chr(ord("a") + n - 1) if n <= 26 else str(n))
        used.add(key)
        keys.append(key)
    return keys


def _latex(text: str) -> str:
    escaped = _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], text)
    # An empty group breaks TeX's ligatures, so "--", "``", "''", "!`" and "?`" read back as
    # typed instead of as dashes, curly quotes and inverted marks.
    return _LIGATURE.sub(lambda m: m.group(0) + "{}", escaped)


# A one-character escape in a name, braced: the co-author splitter (bibtexparser 2) drops an
# unbraced "\&" or "\%" that ends a name, which loses the name or merges it with the next.
_NAME_ESCAPE = re.compile(r"\\([&%$#_{}])")


def _author(name: str) -> str:
    # A name without a comma is a collective author ("World Health Organization"); braces stop
    # BibTeX from reading it as given names and a surname, or splitting it on an inner "and".
    escaped = _NAME_ESCAPE.sub(r"{\\\1}", _latex(name))
    return escaped if "," in name else "{" + escaped + "}"


def bibtex_entry(record: Record, key: str) -> Entry:
    kind = next((_ENTRY_TYPES[t] for t in record.publication_types if t in _ENTRY_TYPES),
                "article" if record.journal or not record.publication_types else "misc")
    values: list[tuple[str, str | None]] = [
        ("author", " and ".join(_author(a) for a in record.authors) or None),
        # Double braces keep the title's capitals as written (BibTeX styles lower-case titles).
        ("title", "{" + _latex(record.title) + "}" if record.title else None),
        (_CONTAINER.get(kind, "journal"), _latex(record.journal) if record.journal else None),
        ("year", str(record.year) if record.year is not None else None),
        ("volume", record.volume), ("number", record.issue),
        ("pages", record.pages.replace("-", "--") if record.pages else None),
        ("doi", record.doi), ("pmid", record.pmid), ("pmcid", record.pmcid),
        ("abstract", _latex(record.abstract) if record.abstract else None),
        ("keywords", _latex("; ".join(record.keywords)) if record.keywords else None),
        ("language", record.language), ("url", record.url),
    ]
    return Entry(kind, key, [Field(k, v) for k, v in values if v])


def write_bibtex(records: list[Record], path: str | Path) -> None:
    """Write records as BibTeX with unique ``surname2016word`` keys; ``read_bibtex`` reads it back.

    The file is UTF-8 with LaTeX's reserved characters escaped; DOI, PMID and PMCID go in
    ``doi``, ``pmid`` and ``pmcid`` fields, which Zotero and JabRef keep.
    """
    library = Library()
    for record, key in zip(records, citation_keys(records)):
        library.add(bibtex_entry(record, key))
    Path(path).write_text(bibtexparser.write_string(library), encoding="utf-8")
