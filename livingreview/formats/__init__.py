"""Bibliographic files: RIS, BibTeX, PubMed MEDLINE (.nbib) and CSV readers and writers.

Public API::

    read_file(path, format=None) -> list[Record]     choose the reader by extension or format
    read_ris / read_bibtex / read_nbib / read_csv (path) -> list[Record]
    write_ris / write_bibtex / write_csv (records, path)
    FORMATS                                           format name -> reader
    FileDecodingWarning                               a file was read as cp1252/Latin-1

Every reader returns Records whose ``source`` is ``import:<format>:<file name>`` and whose
``source_id`` is the record's own id in the file (RIS ID, BibTeX key, PMID, CSV id column) or
its position; a malformed file raises ``InputError`` naming the line or record and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from livingreview.errors import InputError
from livingreview.formats.bibtex import read_bibtex, write_bibtex
from livingreview.formats.nbib import looks_like_medline, read_nbib
from livingreview.formats.ris import read_ris, write_ris
from livingreview.formats.tabular import read_csv, write_csv
from livingreview.formats.text import FileDecodingWarning, read_text
from livingreview.records import Record

FORMATS: dict[str, Callable[[str | Path], list[Record]]] = {
    "ris": read_ris,
    "bibtex": read_bibtex,
    "nbib": read_nbib,
    "csv": read_csv,
}
EXTENSIONS = {".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex", ".nbib": "nbib",
              ".medline": "nbib", ".csv": "csv", ".tsv": "csv"}
_FORMAT_ALIASES = {"bib": "bibtex", "medline": "nbib", "pubmed": "nbib", "tsv": "csv"}
_SUPPORTED = ".ris, .bib, .nbib, .txt (PubMed MEDLINE format or RIS), .csv"

__all__ = ["EXTENSIONS", "FORMATS", "FileDecodingWarning", "detect_format", "read_bibtex",
           "read_csv", "read_file", "read_nbib", "read_ris", "write_bibtex", "write_csv",
           "write_ris"]


def detect_format(path: str | Path, format: str | None = None) -> str:
    """The format name for ``path``: ``format`` if given, else from the extension.

    A ``.txt`` file is looked into: PubMed's "PubMed format" export starts with ``PMID-``,
    a RIS export with ``TY  -``.
    """
    path = Path(path)
    if format:
        name = _FORMAT_ALIASES.get(format.strip().lower(), format.strip().lower())
        if name not in FORMATS:
            raise InputError(str(path), "--format", f"unknown format {format!r}",
                             f"use one of: {', '.join(FORMATS)}")
        return name
    suffix = path.suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix == ".txt":
        text = read_text(path).text
        if looks_like_medline(text):
            return "nbib"
        if any(line.startswith("TY  -") for line in text.split("\n")[:50]):
            return "ris"
        raise InputError(str(path), "line 1", "this .txt file is neither PubMed MEDLINE format "
                         "(first line 'PMID- ...') nor RIS (a line 'TY  - ...')",
                         "export it again as one of those, or give --format ris|bibtex|nbib|csv")
    raise InputError(str(path), "file name",
                     f"unknown file type {suffix or '(no extension)'!r}",
                     f"use a file ending in {_SUPPORTED}, or give --format "
                     f"{'|'.join(FORMATS)}")


def read_file(path: str | Path, format: str | None = None) -> list[Record]:
    """Records from a bibliographic file, choosing the reader by ``format`` or the extension."""
    return FORMATS[detect_format(path, format)](path)
