"""ASReview LAB: the screening queue as an ASReview dataset, and labels read from its export.

Dataset file: CSV with ASReview's column names (``record_id, title, abstract, keywords,
authors, year, journal, doi, url``) and, for records already decided at the stage, an
``included`` column (1 / 0, empty for unscreened) that ASReview LAB takes as prior knowledge.
``record_id`` is this store's record id.

Export file (ASReview LAB: Export > dataset, CSV or TSV): the same rows with ``asreview_label``
(1 relevant, 0 irrelevant, empty not seen), ``asreview_time`` and ``asreview_note``. ASReview
records no reviewer and no exclusion reason: the importer names the reviewer, and an exclusion
takes its reason code from the note (write the code, e.g. ``EX_SETTING``, in the note) or from a
default the importer gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from livingreview.errors import InputError
from livingreview.records import Record, normalise_doi
from livingreview.screening.external import ExternalDecision
from livingreview.screening.sheets import read_sheet, write_sheet

COLUMNS = ("record_id", "title", "abstract", "keywords", "authors", "year", "journal", "doi",
           "url", "included")
# ASReview's own names for the label column, most specific first (asreview/data/base.py).
LABEL_COLUMNS = ("asreview_label", "included", "label_included", "final_included", "label",
                 "included_label", "included_final", "include")


def write_queue(rows: Iterable[tuple[int, Record, int | None]], path: Path) -> int:
    """Write (record id, record, label or None) rows as an ASReview dataset; returns the count."""
    return write_sheet(path, COLUMNS, ({
        "record_id": record_id, "title": record.title or "",
        "abstract": record.abstract or "", "keywords": "; ".join(record.keywords),
        "authors": "; ".join(record.authors), "year": record.year or "",
        "journal": record.journal or "", "doi": record.doi or "",
        "url": record.url or (f"https://doi.org/{record.doi}" if record.doi else ""),
        "included": "" if label is None else int(label),
    } for record_id, record, label in rows))


def _label(value: str | None) -> int | None:
    text = (value or "").strip()
    if text in ("", "-1", "-1.0", "nan", "NaN"):
        return None
    try:
        number = float(text)
    except ValueError:
        return -99
    return int(number) if number in (0.0, 1.0) else -99


def _time(value: str | None) -> datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.fromtimestamp(float(text), tz=timezone.utc)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_decisions(path: Path) -> list[ExternalDecision]:
    """Labelled rows of an ASReview export (unlabelled rows are skipped)."""
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    header, rows = read_sheet(path, "export the dataset from ASReview LAB as CSV or TSV",
                              delimiter)
    folded = [h.lower() for h in header]
    label_column = next((c for c in LABEL_COLUMNS if c in folded), None)
    if label_column is None:
        raise InputError(str(path), "header", "no label column "
                         f"(looked for {', '.join(LABEL_COLUMNS)})",
                         "export the dataset from ASReview LAB (it adds asreview_label)")
    decisions = []
    for line, raw in rows:
        row = {k.lower(): v for k, v in raw.items() if k is not None}
        label = _label(row.get(label_column))
        if label is None:
            continue
        if label == -99:
            raise InputError(str(path), f"line {line}, column {label_column}",
                             f"label {row.get(label_column)!r} is not 1, 0 or empty",
                             "use 1 for relevant, 0 for irrelevant, empty for not seen")
        raw_id = (row.get("record_id") or "").strip()
        note = (row.get("asreview_note") or "").strip() or None
        decisions.append(ExternalDecision(
            line=line, decision="include" if label == 1 else "exclude",
            record_id=int(float(raw_id)) if raw_id.replace(".0", "").isdigit() else None,
            doi=normalise_doi(row.get("doi")), title=row.get("title"),
            reasons=(note,) if note and label == 0 else (), note=note,
            decided_at=_time(row.get("asreview_time")), extra={"id_from": "marker"}))
    return decisions
