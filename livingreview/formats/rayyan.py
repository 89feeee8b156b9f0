"""Rayyan: the screening queue as a Rayyan CSV upload, and decisions read from Rayyan's export.

Upload file: Rayyan's CSV columns (``key, title, authors, journal, issn, volume, issue, pages,
year, publisher, url, abstract, notes, doi, keywords, language, pubmed_id``), authors joined
with `` and ``. Rayyan does not promise to keep ``key``, so every row's ``notes`` also carries
``LR-RECORD-ID: <id>``; Rayyan keeps a record's notes in its export.

Export file (Rayyan: Export > CSV): the ``notes`` column holds Rayyan's metadata,
``RAYYAN-INCLUSION: {"Ann"=>"Included", "Bob"=>"Excluded"} | RAYYAN-LABELS: ... |
RAYYAN-EXCLUSION-REASONS: reason a,reason b | USER-NOTES: {"Ann"=>["..."]}``. Each reviewer in
RAYYAN-INCLUSION becomes one decision; the exclusion reasons (record-level in Rayyan) go with
every exclusion of that row. Name the review's exclusion reasons in Rayyan by their codes
(EX_SETTING ...) so that they come back as codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from livingreview.errors import InputError
from livingreview.records import Record, normalise_doi, normalise_pmid
from livingreview.screening.external import ExternalDecision
from livingreview.screening.sheets import read_sheet, write_sheet

COLUMNS = ("key", "title", "authors", "journal", "issn", "volume", "issue", "pages", "year",
           "publisher", "url", "abstract", "notes", "doi", "keywords", "language", "pubmed_id")
RECORD_MARK = "LR-RECORD-ID"

_INCLUSION = re.compile(r"RAYYAN-INCLUSION:\s*\{(.*?)\}")
_VOTE = re.compile(r'"((?:[^"\\]|\\.)+)"\s*=>\s*"(Included|Excluded|Maybe)"', re.IGNORECASE)
_REASONS = re.compile(r"RAYYAN-EXCLUSION-REASONS:\s*(.*?)(?:\s+\|\s+[A-Z-]+:|$)", re.DOTALL)
_USER_NOTES = re.compile(r"USER-NOTES:\s*\{(.*)\}", re.DOTALL)
_RECORD_ID = re.compile(RECORD_MARK + r":\s*(\d+)")
_DECISIONS = {"included": "include", "excluded": "exclude", "maybe": "maybe"}


def write_queue(rows: Iterable[tuple[int, Record, list[str]]], path: Path) -> int:
    """Write (record id, record, flags) rows as a Rayyan CSV upload; returns the row count."""
    return write_sheet(path, COLUMNS, (_upload_row(*row) for row in rows))


def _upload_row(record_id: int, record: Record, flags: list[str]) -> dict[str, object]:
    notes = f"{RECORD_MARK}: {record_id}"
    if flags:
        notes += f" | LR-FLAGS: {', '.join(flags)}"
    return {
        "key": record_id, "title": record.title or "",
        "authors": " and ".join(record.authors), "journal": record.journal or "",
        "issn": "", "volume": record.volume or "", "issue": record.issue or "",
        "pages": record.pages or "", "year": record.year or "", "publisher": "",
        "url": record.url or (f"https://doi.org/{record.doi}" if record.doi else ""),
        "abstract": record.abstract or "", "notes": notes, "doi": record.doi or "",
        "keywords": "; ".join(record.keywords), "language": record.language or "",
        "pubmed_id": record.pmid or "",
    }


def parse_notes(notes: str) -> tuple[dict[str, str], list[str], str | None]:
    """(reviewer -> include|exclude|maybe, exclusion reasons, user notes text) from Rayyan notes."""
    votes: dict[str, str] = {}
    found = _INCLUSION.search(notes)
    if found:
        for name, decision in _VOTE.findall(found.group(1)):
            votes[name.replace('\\"', '"')] = _DECISIONS[decision.lower()]
    reasons: list[str] = []
    found = _REASONS.search(notes)
    if found:
        reasons = [r.strip() for r in found.group(1).split(",") if r.strip()]
    found = _USER_NOTES.search(notes)
    user_notes = found.group(1).strip() if found else None
    return votes, reasons, user_notes


def read_decisions(path: Path) -> list[ExternalDecision]:
    """Every reviewer's decision in a Rayyan CSV export (rows nobody decided are skipped)."""
    header, rows = read_sheet(path, "export the review from Rayyan as CSV")
    folded = [h.lower() for h in header]
    if "notes" not in folded or "title" not in folded:
        raise InputError(str(path), "header", "no notes/title column",
                         "export the review from Rayyan as CSV (it has a notes column)")
    decisions = []
    for line, raw in rows:
        row = {k.lower(): v for k, v in raw.items() if k is not None}
        notes = row.get("notes") or ""
        votes, reasons, user_notes = parse_notes(notes)
        marker = _RECORD_ID.search(notes)
        key = (row.get("key") or "").strip()
        record_id = int(marker.group(1)) if marker else (int(key) if key.isdigit() else None)
        for reviewer, decision in votes.items():
            decisions.append(ExternalDecision(
                line=line, decision=decision, record_id=record_id,
                doi=normalise_doi(row.get("doi") or row.get("url")),
                pmid=normalise_pmid(row.get("pubmed_id")), title=row.get("title"),
                reviewer=reviewer, reasons=tuple(reasons) if decision == "exclude" else (),
                note=user_notes,
                # Rayyan may number rows itself: an id from "key" alone is checked
                # against the title before it is trusted.
                extra={"id_from": "marker" if marker else "key"}))
    return decisions
