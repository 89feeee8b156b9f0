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
from livingreview.strategy import read_records_csv

OUTPUT_COLUMNS = ("record_id", "flagged", "score", "evidence")


def read_texts(path: Path) -> list[Text]:
    """The records of RECORDS.csv (the same file format ``livingreview strategy`` reads)."""
    return [Text(r.source_id, r.title, r.abstract, "; ".join(r.keywords))
            for r in read_records_csv(path)]


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
