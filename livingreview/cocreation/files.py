"""The detector's file interface: RECORDS.csv in (``record_id``, ``title``, ``abstract``,
optional ``keywords``), FLAGS.csv out (``record_id,flagged,score,evidence``).

The whole input is checked before anything is written; the output is written to a temporary
file beside the target and moved into place, so a failed run leaves no half-written FLAGS.csv.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from livingreview.cocreation.detector import Flag, Text
from livingreview.errors import InputError
from livingreview.screening.sheets import read_sheet

REQUIRED = ("record_id", "title", "abstract")
OUTPUT_COLUMNS = ("record_id", "flagged", "score", "evidence")
_FIX = "give a UTF-8 CSV whose header names record_id,title,abstract (keywords optional)"


def read_texts(path: Path) -> list[Text]:
    header, rows = read_sheet(path, _FIX)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(str(path), "line 1 (header)", f"missing column(s) {', '.join(missing)}"
                         f" (found: {', '.join(header) or 'none'})", _FIX)
    texts: list[Text] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if None in row:
            raise InputError(str(path), f"line {line}", "more cells than the header has columns",
                             "put quotes around cells that contain commas")
        record_id = (row.get("record_id") or "").strip()
        if not record_id:
            raise InputError(str(path), f"line {line}", "empty record_id",
                             "give every row a record_id")
        if record_id in seen:
            raise InputError(str(path), f"line {line}",
                             f"record_id {record_id!r} already on line {seen[record_id]}",
                             "give every row its own record_id")
        seen[record_id] = line
        if not (row.get("title") or "").strip() and not (row.get("abstract") or "").strip():
            raise InputError(str(path), f"line {line}", f"record {record_id!r} has neither title "
                             "nor abstract", "give the record's title and/or abstract, or drop "
                             "the row")
        texts.append(Text(record_id, row.get("title"), row.get("abstract"), row.get("keywords")))
    return texts


def write_flags(path: Path, flags: list[Flag]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(OUTPUT_COLUMNS)
            for flag in flags:
                writer.writerow([flag.record_id, "true" if flag.flagged else "false",
                                 f"{flag.score:g}", flag.evidence_text()])
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
