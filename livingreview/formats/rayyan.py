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

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from livingreview.errors import InputError
from livingreview.records import Record, normalise_doi, normalise_pmid
from livingreview.screening.external import ExternalDecision

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
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for record_id, record, flags in rows:
            notes = f"{RECORD_MARK}: {record_id}"
            if flags:
                notes += f" | LR-FLAGS: {', '.join(flags)}"
            writer.writerow({
                "key": record_id, "title": record.title or "",
                "authors": " and ".join(record.authors), "journal": record.journal or "",
                "issn": "", "volume": record.volume or "", "issue": record.issue or "",
                "pages": record.pages or "", "year": record.year or "", "publisher": "",
                "url": record.url or (f"https://doi.org/{record.doi}" if record.doi else ""),
                "abstract": record.abstract or "", "notes": notes, "doi": record.doi or "",
                "keywords": "; ".join(record.keywords), "language": record.language or "",
                "pubmed_id": record.pmid or "",
            })
            count += 1
    return count


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
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            if "notes" not in header or "title" not in header:
                raise InputError(str(path), "header", "no notes/title column",
                                 "export the review from Rayyan as CSV (it has a notes column)")
            decisions = []
            for row in reader:
                line = reader.line_num
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
    except FileNotFoundError:
        raise InputError(str(path), "file", "not found", "give the path of Rayyan's CSV export") from None
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", "not UTF-8 text",
                         "export again from Rayyan, or save the file as CSV UTF-8") from None
    except csv.Error as exc:
        raise InputError(str(path), "CSV structure", str(exc),
                         "export again from Rayyan as CSV") from None
    return decisions
