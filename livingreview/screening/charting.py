"""Charting the included studies: a CSV round trip checked against the scheme.

``export_charting`` writes one row per included study: identifying columns a coder reads
(``record_id`` ... ``doi``), then one column per scheme field (``scheme.FIELDS``), multi-valued
cells joined with `` | ``, then the detector's suggestions (``SUGGESTION_COLUMNS``) for newly
included studies whose involvement or role type no coder has coded yet; the import ignores the
suggestions, so nothing is coded unless a coder writes it into the field's own column. ``import_charting`` reads such a file back: every cell is checked
first, every problem is reported with its line and column, and nothing is written unless the
whole file is clean. Only fields whose values changed are rewritten, by the importing coder, so
re-importing an unchanged export changes nothing and keeps the original coder and provenance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from livingreview.cocreation.detector import DetectorConfig
from livingreview.errors import InputError
from livingreview.screening.scheme import (
    FIELDS,
    CodeError,
    allowed_text,
    check_value,
    involvement_from_phases,
    split_cell,
)
from livingreview.screening.sheets import read_sheet, write_sheet
from livingreview.screening.status import included_record_ids
from livingreview.store.models import ChartingCode, StoredRecord

CONTEXT_COLUMNS = ("record_id", "study_id", "first_author", "year", "title", "doi")
SUGGESTION_COLUMNS = ("suggested_involvement", "suggested_role_type", "suggestion_evidence")
CELL_SEPARATOR = " | "


def chart_columns() -> list[str]:
    return list(CONTEXT_COLUMNS) + list(FIELDS) + list(SUGGESTION_COLUMNS)


def _suggestions(session: Session, records: list[StoredRecord],
                 codes: dict[int, dict[str, list[str]]],
                 detector: DetectorConfig | None) -> dict[int, dict[str, str]]:
    """Suggested involvement and role type of the newly included studies a coder has not
    coded (a coder's value always wins: then the suggestion cell stays empty)."""
    from livingreview.cocreation.decisions import detector_for, text_of
    from livingreview.cocreation.suggestions import suggest

    wanted = [r for r in records if not r.in_baseline
              and not (codes[r.id].get("involvement") and codes[r.id].get("role_type"))]
    if not wanted:
        return {}
    found = suggest([text_of(r) for r in wanted],
                    detector_for(session, detector or DetectorConfig()))
    out = {}
    for record in wanted:
        item = found[str(record.id)]
        out[record.id] = {
            "suggested_involvement": "" if codes[record.id].get("involvement")
            else item.involvement,
            "suggested_role_type": "" if codes[record.id].get("role_type") else item.role_type,
            "suggestion_evidence": item.evidence}
    return out


def current_codes(session: Session, record_ids: set[int] | None = None
                  ) -> dict[int, dict[str, list[str]]]:
    """Coded values per record and field, in the order they were coded."""
    codes: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in session.scalars(select(ChartingCode).order_by(ChartingCode.id)):
        if record_ids is None or row.record_id in record_ids:
            if row.value not in codes[row.record_id][row.field]:
                codes[row.record_id][row.field].append(row.value)
    return codes


def export_charting(session: Session, path: Path,
                    detector: DetectorConfig | None = None) -> int:
    """Write the charting sheet of every included study; returns the number of rows.

    ``detector`` is review.toml's co-creation detector configuration, for the suggestions.
    """
    ids = included_record_ids(session)
    records = list(session.scalars(select(StoredRecord).where(StoredRecord.id.in_(ids))
                                   .order_by(StoredRecord.year, StoredRecord.id))) if ids else []
    codes = current_codes(session, ids)
    suggested = _suggestions(session, records, codes, detector)
    empty = dict.fromkeys(SUGGESTION_COLUMNS, "")
    # A BOM, so that spreadsheet programs keep diacritics intact.
    return write_sheet(path, chart_columns(), (
        dict(zip(chart_columns(),
                 [record.id, record.study_id or "", (record.authors or [""])[0],
                  record.year or "", record.title or "", record.doi or ""]
                 + [CELL_SEPARATOR.join(codes[record.id].get(name, [])) for name in FIELDS]),
             **suggested.get(record.id, empty))
        for record in records), bom=True)


@dataclass(frozen=True)
class CellProblem:
    line: int
    column: str
    value: str
    problem: str

    def __str__(self) -> str:
        shown = f" {self.value!r}" if self.value else ""
        return f"line {self.line}, column {self.column}{shown}: {self.problem}"


class ChartImportError(InputError):
    """A charting file with bad cells; ``problems`` lists every one of them."""

    def __init__(self, source: str, problems: list[CellProblem]) -> None:
        self.problems = problems
        listing = "\n  ".join(str(p) for p in problems[:200])
        more = f"\n  ... and {len(problems) - 200} more" if len(problems) > 200 else ""
        fields = sorted({p.column for p in problems if p.column in FIELDS},
                        key=list(FIELDS).index)
        allowed = "".join(f"\n  {name}: {allowed_text(name)}" for name in fields)
        super().__init__(source, f"{len(problems)} bad cell(s)",
                         f"nothing was imported:\n  {listing}{more}\n"
                         + (f"Allowed values:{allowed}\n" if allowed else ""),
                         "correct these cells (allowed values: `livingreview chart scheme`) "
                         "and import the whole file again")


@dataclass
class ChartImport:
    rows: int = 0
    fields_changed: int = 0
    values_written: int = 0
    changed_records: list[int] = field(default_factory=list)


def parse_sheet(session: Session, path: Path) -> dict[int, dict[str, list[str]]]:
    """Every row's checked values ({record id: {field: values}}), or ChartImportError."""
    header, rows = read_sheet(path, "start from a sheet written by `livingreview chart export`")
    problems: list[CellProblem] = []
    if "record_id" not in header:
        raise InputError(str(path), "header", "no record_id column",
                         "start from a sheet written by `livingreview chart export`")
    unknown = [h for h in header if h not in CONTEXT_COLUMNS and h not in FIELDS
               and h not in SUGGESTION_COLUMNS]
    for name in unknown:
        problems.append(CellProblem(1, name or "(blank)", "", "not a field of the charting scheme;"
                                    f" fields are {', '.join(FIELDS)}"))
    duplicated = sorted({h for h in header if header.count(h) > 1})
    for name in duplicated:
        problems.append(CellProblem(1, name, "", "column appears more than once"))
    included = included_record_ids(session)
    seen: dict[int, int] = {}
    parsed: dict[int, dict[str, list[str]]] = {}
    for line, row in rows:
        if None in row:  # more cells than header columns
            problems.append(CellProblem(line, "(extra)", "", "more cells than header columns"))
        raw_id = (row.get("record_id") or "").strip()
        if not raw_id.isdigit():
            problems.append(CellProblem(line, "record_id", raw_id,
                                        "must be the number from the exported sheet"))
            continue
        record_id = int(raw_id)
        if record_id in seen:
            problems.append(CellProblem(line, "record_id", raw_id,
                                        f"record already on line {seen[record_id]}"))
            continue
        seen[record_id] = line
        if record_id not in included:
            problems.append(CellProblem(line, "record_id", raw_id,
                                        "not an included study (only included studies are charted)"))
            continue
        values: dict[str, list[str]] = {}
        for name in FIELDS:
            if name not in header:
                continue
            cell = row.get(name) or ""
            checked = []
            for part in split_cell(cell):
                try:
                    value = check_value(name, part)
                except CodeError as exc:
                    problems.append(CellProblem(line, name, part, str(exc)))
                    continue
                if value not in checked:
                    checked.append(value)
            if len(checked) > 1 and not FIELDS[name].multi:
                problems.append(CellProblem(line, name, cell, "takes one value only"))
            values[name] = checked
        problems += _cross_checks(line, values)
        parsed[record_id] = values
    if problems:
        raise ChartImportError(str(path), problems)
    return parsed


def _cross_checks(line: int, values: dict[str, list[str]]) -> list[CellProblem]:
    """Rules that tie fields together (coding-scheme.md §1 and §2)."""
    found = []
    focus = values.get("research_focus", [])
    if values.get("outcome_evidence") and focus and focus != ["outcomes"]:
        found.append(CellProblem(line, "outcome_evidence", values["outcome_evidence"][0],
                                 "only for studies whose research_focus is outcomes"))
    phases = values.get("service_cycle_phases", [])
    if phases:
        if "delivery" not in phases:
            found.append(CellProblem(line, "service_cycle_phases", " | ".join(phases),
                                     "must include delivery (every included study describes "
                                     "co-production at the point of delivery)"))
        involvement = values.get("involvement", [])
        expected = involvement_from_phases(phases)
        if involvement and involvement[0] != expected:
            found.append(CellProblem(line, "involvement", involvement[0],
                                     f"the phases {' | '.join(phases)} make it {expected!r}"))
    primary, secondary = values.get("role_type", []), values.get("role_type_secondary", [])
    if secondary and secondary == primary:
        found.append(CellProblem(line, "role_type_secondary", secondary[0],
                                 "same as role_type; leave it empty"))
    if secondary and not primary:
        found.append(CellProblem(line, "role_type_secondary", secondary[0],
                                 "a secondary role needs a primary role_type"))
    return found


def import_charting(session: Session, path: Path, coder: str,
                    provenance: str | None = None) -> ChartImport:
    """Check the whole sheet, then write the fields that changed (all or nothing)."""
    if not coder or not coder.strip():
        raise InputError(str(path), "command line", "no coder name",
                         "pass --coder NAME so every value says who coded it")
    parsed = parse_sheet(session, path)
    existing = current_codes(session, set(parsed))
    result = ChartImport(rows=len(parsed))
    now = datetime.now(timezone.utc)
    note = provenance or f"chart import {path.name}"
    for record_id, values in parsed.items():
        changed = False
        for name, new in values.items():
            old = existing.get(record_id, {}).get(name, [])
            if old == new:
                continue
            session.execute(delete(ChartingCode).where(ChartingCode.record_id == record_id,
                                                       ChartingCode.field == name))
            for value in new:
                session.add(ChartingCode(record_id=record_id, field=name, value=value,
                                         coder=coder.strip(), provenance=note, coded_at=now))
            result.fields_changed += 1
            result.values_written += len(new)
            changed = True
        if changed:
            result.changed_records.append(record_id)
    session.flush()
    return result
