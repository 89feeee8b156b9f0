"""Reading CSV sheets that people exported, edited and bring back (charting sheets, Rayyan and
ASReview exports): one place for the errors that name the file, the place and the fix."""

from __future__ import annotations

import csv
from pathlib import Path

from livingreview.errors import InputError


def read_sheet(path: Path, fix: str, delimiter: str = ",",
               ) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header with names stripped, [(line number, row)]) of a UTF-8 CSV file.

    ``fix`` tells the user how to get a readable file (e.g. "export again from Rayyan as CSV").
    Header names are stripped but keep their case; callers fold them if they want to.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise InputError(str(path), "file", "not found", fix) from None
    except IsADirectoryError:
        raise InputError(str(path), "file", "this is a folder, not a file", fix) from None
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", "not UTF-8 text",
                         f"save the file as CSV UTF-8, or {fix}") from None
    except csv.Error as exc:
        raise InputError(str(path), "CSV structure", str(exc), fix) from None
    return header, rows


def write_sheet(path: Path, columns: tuple[str, ...] | list[str], rows, *,
                bom: bool = False) -> int:
    """Write dict rows under ``columns`` as CSV (folders created); returns the row count.

    ``bom`` writes a UTF-8 byte-order mark, which spreadsheet programs need to show
    diacritics correctly; upload files for other tools go without.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
