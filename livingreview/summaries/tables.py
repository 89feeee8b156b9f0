"""The review's summary tables, recomputed from the store (coding-scheme.md §4).

Every table counts included studies (``screening.status.included_record_ids``) and reports
baseline and new studies separately: *baseline* = ``records.in_baseline`` (the published corpus,
search to 2021-12-14), *new* = included since by the living review, *all* = both.

Each table says how many studies are coded for its field (``coded``) out of how many are included
(``included``), because the baseline is only partly coded (the reference list names 102 of the 172
studies and the article states codes for few of them). Percentages are of the studies coded, to
one decimal, rounded half-up.

Choices the article leaves open:

- **Year** is ``records.year`` (the publication year the source gives: the year cited in the
  article for the baseline, the journal issue year for PubMed); the year of ``created_date`` when
  no year is stored.
- **Period** (Fig. 3): the published split ``2010–2016`` / ``2017–2021``, then one bin per
  calendar year from 2022 on. Fixed bins, not a rolling "last 5 years", so the baseline's published
  split (56 / 116) stays comparable in every version. Baseline studies whose stored year is 2022
  (issue year after online-first in 2021) stay in ``2017–2021``, the period the article counted
  them in.
- **Multi-valued fields** (region, group activities, service context, design): a study counts
  once in each of its values ("studies with at least one"), so a column can add up to more than
  the studies coded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.screening.scheme import REGIONS
from livingreview.screening.status import included_record_ids
from livingreview.store.models import (
    ChartingCode,
    ScreeningDecision,
    StoredRecord,
    UpdateRun,
)
from livingreview.summaries.coding import CodeRow, categories, study_codes

GROUPS = ("baseline", "new", "all")
FIRST_YEAR = 2010
BASELINE_PERIODS = ("2010–2016", "2017–2021")
BEFORE_FIRST_YEAR = "before 2010"
DEFAULT_CUTOFF = date(2021, 12, 14)
BASELINE_REVIEWER = "baseline"
_CHUNK = 500  # ids per IN (...) clause, well under SQLite's variable limit


def percent(count: int, total: int, places: int = 1) -> float | None:
    """``count / total`` as a percentage, rounded half-up (exact arithmetic, no float ties)."""
    if not total:
        return None
    scaled = Fraction(count * 100, total) * 10**places
    return float(Decimal(math.floor(scaled + Fraction(1, 2))) / Decimal(10**places))


def period_of(year: int | None, in_baseline: bool) -> str | None:
    """The Fig. 3 period of a study (see the module docstring for the bins)."""
    if year is None:
        return None
    if year < FIRST_YEAR:
        return BEFORE_FIRST_YEAR
    if year <= 2016:
        return BASELINE_PERIODS[0]
    if year <= 2021 or in_baseline:
        return BASELINE_PERIODS[1]
    return str(year)


@dataclass(frozen=True)
class FieldTable:
    """One summary table and how much of the corpus it rests on.

    ``coded`` and ``included`` map each group (baseline, new, all) to the number of studies coded
    for the table's field(s) and the number included.
    """

    key: str
    title: str
    frame: pd.DataFrame
    coded: dict[str, int]
    included: dict[str, int]
    multi_valued: bool = False
    note: str = ""

    def coverage(self) -> str:
        """How many studies the table rests on, in words."""
        return (f"{self.coded['all']} of {self.included['all']} included studies coded "
                f"(baseline {self.coded['baseline']} of {self.included['baseline']}, "
                f"new {self.coded['new']} of {self.included['new']})")

    def rows(self) -> list[dict[str, Any]]:
        """The table as JSON-ready rows (missing percentages become None)."""
        return json_rows(self.frame)

    def counts(self, group: str = "all", row: str = "category") -> dict[str, int]:
        """Category -> count for one group; ``row="total"`` gives the total rows instead."""
        frame = self.frame[self.frame["row"] == row] if "row" in self.frame else self.frame
        label = frame.columns[0]
        return {str(r[label]): int(r[f"{group}_n"]) for r in frame.to_dict("records")}


def json_ready(value: Any) -> Any:
    """A cell as plain JSON: numpy numbers to Python ones, missing values (NaN, NA) to None."""
    if isinstance(value, (tuple, list)):
        return [json_ready(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: json_ready(v) for k, v in row.items()}
            for row in frame.astype(object).to_dict(orient="records")]


@dataclass
class Summaries:
    """Everything recomputed for one version of the review.

    ``studies`` has one row per included study with its group (baseline/new), year, period and
    coded values (multi-valued fields as tuples); ``problems`` lists coding problems found on the
    way (conflicting or unknown values), each naming the study and the fix.
    """

    cutoff: date
    included: dict[str, int]
    studies: pd.DataFrame
    tables: dict[str, FieldTable]
    problems: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return (f"{self.included['baseline']} studies to {self.cutoff.isoformat()} "
                f"+ {self.included['new']} new = {self.included['all']} included")

    def artifact_tables(self) -> dict[str, list[dict[str, Any]]]:
        return {key: table.rows() for key, table in self.tables.items()}

    def as_dict(self) -> dict[str, Any]:
        """Machine-readable form (summary.json); the next version diffs against it."""
        studies = self.studies[["record_id", "study_id", "title", "doi", "year", "group"]]
        return {
            "cutoff": self.cutoff.isoformat(),
            "headline": self.headline,
            "included": dict(self.included),
            "included_studies": json_rows(studies),
            "tables": {key: {"title": t.title, "coded": t.coded, "included": t.included,
                             "multi_valued": t.multi_valued, "note": t.note, "rows": t.rows()}
                       for key, t in self.tables.items()},
            "problems": list(self.problems),
        }


def compute(session: Session, *, included_ids: Iterable[int] | None = None,
            cutoff: date | None = None) -> Summaries:
    """Recompute every summary table from the store.

    ``included_ids`` defaults to ``screening.status.included_record_ids(session)``; pass a set to
    summarise another selection (e.g. the corpus as it was at an earlier version).
    """
    if included_ids is None:
        included_ids = included_record_ids(session)
    ids = sorted(set(included_ids))
    studies, problems = _studies(session, ids)
    cutoff = cutoff or baseline_cutoff(session)
    included = {g: int(_group(studies, g).sum()) for g in GROUPS}
    tables = _tables(studies)
    return Summaries(cutoff=cutoff, included=included, studies=studies, tables=tables,
                     problems=problems)


def baseline_cutoff(session: Session) -> date:
    """The published search's cut-off as the store records it (the baseline run's window end)."""
    end = session.scalar(select(UpdateRun.window_end).where(UpdateRun.kind == "baseline")
                         .order_by(UpdateRun.id))
    if end is None:
        decided = session.scalar(select(ScreeningDecision.decided_at)
                                 .where(ScreeningDecision.reviewer == BASELINE_REVIEWER)
                                 .order_by(ScreeningDecision.decided_at.desc()))
        end = decided.date() if decided else None
    return end or DEFAULT_CUTOFF


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


_STUDY_COLUMNS = ["record_id", "study_id", "title", "doi", "year", "baseline", "group", "period",
                  "charted", "research_focus", "role_type", "role_type_secondary", "involvement",
                  "boundary_spanner", "multidisciplinary", "identified_via", "region",
                  "group_activities", "service_context", "design"]


def _studies(session: Session, ids: list[int]) -> tuple[pd.DataFrame, list[str]]:
    """One row per included study with its year, period and coded values."""
    records: list[StoredRecord] = []
    codes: dict[int, list[CodeRow]] = {}
    for chunk in _chunks(ids):
        records += session.scalars(select(StoredRecord).where(StoredRecord.id.in_(chunk)))
        for row in session.execute(
                select(ChartingCode.id, ChartingCode.record_id, ChartingCode.field,
                       ChartingCode.value, ChartingCode.coded_at)
                .where(ChartingCode.record_id.in_(chunk))):
            codes.setdefault(row.record_id, []).append(CodeRow(*row))
    problems: list[str] = []
    missing = set(ids) - {r.id for r in records}
    if missing:
        problems.append(f"included record ids {sorted(missing)} are not in the records table; "
                        "they are left out. Fix: check the screening decisions that include them")
    rows = []
    for record in sorted(records, key=lambda r: r.id):
        label = f"study {record.study_id or record.id} (record {record.id})"
        values, found = study_codes(codes.get(record.id, []), label)
        problems += found
        year = record.year if record.year is not None else _year_of(record.created_date)
        rows.append({"record_id": record.id, "study_id": record.study_id, "title": record.title,
                     "doi": record.doi, "year": year, "baseline": bool(record.in_baseline),
                     "group": "baseline" if record.in_baseline else "new",
                     "period": period_of(year, bool(record.in_baseline)), **values})
    frame = pd.DataFrame(rows, columns=_STUDY_COLUMNS)
    frame["year"] = frame["year"].astype("Int64")
    return frame, problems


def _year_of(created_date: str | None) -> int | None:
    match = re.match(r"(\d{4})", created_date or "")
    return int(match.group(1)) if match else None


def _group(studies: pd.DataFrame, group: str) -> pd.Series:
    """Boolean mask of the studies in a group (baseline, new or all)."""
    if group == "all":
        return pd.Series(True, index=studies.index)
    return studies["baseline"] == (group == "baseline")


def _sizes(studies: pd.DataFrame, mask: pd.Series) -> dict[str, int]:
    return {g: int((mask & _group(studies, g)).sum()) for g in GROUPS}


def _is_coded(series: pd.Series) -> pd.Series:
    return series.map(lambda v: bool(v) if isinstance(v, tuple) else v is not None and v == v,
                      ).astype(bool)


def _has(series: pd.Series, values: set[str]) -> pd.Series:
    def test(v: object) -> bool:
        return bool(values & set(v)) if isinstance(v, tuple) else v in values
    return series.map(test).astype(bool)


def count_table(key: str, title: str, studies: pd.DataFrame, column: str,
                categories: Iterable[str], *, label: str | None = None, multi: bool = False,
                totals: Iterable[tuple[str, set[str]]] = (), note: str = "",
                coded_mask: pd.Series | None = None) -> FieldTable:
    """Counts per category for baseline, new and all studies, with percentages of those coded.

    ``totals`` adds rows counting the studies with any of several categories (row = "total").
    """
    coded_mask = _is_coded(studies[column]) if coded_mask is None else coded_mask
    groups = {g: _group(studies, g) & coded_mask for g in GROUPS}
    coded = {g: int(mask.sum()) for g, mask in groups.items()}
    included = _sizes(studies, pd.Series(True, index=studies.index))
    rows = []
    wanted = [(c, {c}, "category") for c in categories] + [(n, s, "total") for n, s in totals]
    for name, values, kind in wanted:
        has = _has(studies[column], values)
        row: dict[str, Any] = {label or column: name}
        for group, mask in groups.items():
            n = int((has & mask).sum())
            row[f"{group}_n"] = n
            row[f"{group}_pct"] = percent(n, coded[group])
        row["row"] = kind
        rows.append(row)
    frame = pd.DataFrame(rows)
    for group in GROUPS:
        frame[f"{group}_pct"] = frame[f"{group}_pct"].astype("Float64")
    return FieldTable(key, title, frame, coded, included, multi, note)


_MULTI_NOTE = ("A study with several {what} counts once in each, so the counts can add up to more "
               "than the studies coded; percentages are of the studies coded.")


def _tables(studies: pd.DataFrame) -> dict[str, FieldTable]:
    tables: list[FieldTable] = []
    years = [int(y) for y in studies["year"].dropna()]
    last = max([*years, DEFAULT_CUTOFF.year])
    year_labels = ([BEFORE_FIRST_YEAR] if any(y < FIRST_YEAR for y in years) else []) + \
        [str(y) for y in range(FIRST_YEAR, last + 1)]
    year_column = studies["year"].map(
        lambda y: None if pd.isna(y) else (BEFORE_FIRST_YEAR if y < FIRST_YEAR else str(int(y))))
    tables.append(count_table(
        "studies_per_year", "Included studies per year of publication (Fig. 2)",
        studies.assign(year_label=year_column), "year_label", year_labels, label="year",
        note="Year = the publication year stored for the record (the cited year for the "
             "baseline); the year of the record's creation date when none is stored."))
    periods = list(BASELINE_PERIODS) + [p for p in sorted(set(studies["period"].dropna()))
                                        if p not in BASELINE_PERIODS and p != BEFORE_FIRST_YEAR]
    if (studies["period"] == BEFORE_FIRST_YEAR).any():
        periods.insert(0, BEFORE_FIRST_YEAR)
    tables.append(count_table(
        "period", "Included studies per period", studies, "period", periods,
        note="2010–2016 and 2017–2021 as published (the article's \"last 5 year period\"), then "
             "one bin per year; baseline studies with a stored year of 2022 stay in 2017–2021."))
    tables.append(count_table(
        "region", "Included studies per region", studies, "region", REGIONS, multi=True,
        note=_MULTI_NOTE.format(what="regions") + " Regions come from the coded countries "
             "(mapping in livingreview/screening/scheme.py); Africa and Middle East are not in "
             "the published categories."))
    tables.append(_region_by_period(studies, periods))
    tables.append(count_table("research_focus", "Main research focus (Fig. 4)", studies,
                              "research_focus", categories("research_focus")))
    tables.append(count_table(
        "role_type", "Peer worker role (primary role)", studies, "role_type",
        categories("role_type"),
        note="One primary role per study (its first role_type code); secondary roles are in the "
             "next table and are not added here."))
    tables.append(count_table(
        "role_type_secondary", "Peer worker role (secondary roles)", studies,
        "role_type_secondary", categories("role_type"), multi=True,
        coded_mask=_is_coded(studies["role_type"]),
        note="Studies also described in another role; percentages are of the studies with a "
             "primary role coded."))
    tables.append(count_table(
        "involvement", "Involvement across the service cycle (co-production / co-creation)",
        studies, "involvement", categories("involvement"),
        note="One value per study: co-production = delivery only; delivery+assessment; "
             "co-creation = commissioning and/or design, plus delivery."))
    tables.append(count_table("boundary_spanner", "Boundary-spanner (intermediary) position",
                              studies, "boundary_spanner", categories("boundary_spanner")))
    tables.append(count_table(
        "multidisciplinary", "Multidisciplinary environment or team", studies,
        "multidisciplinary", categories("multidisciplinary"),
        totals=[("team or environment", {"team", "environment"})]))
    tables.append(count_table(
        "group_activities", "Group activities", studies, "group_activities",
        categories("group_activities"), multi=True,
        totals=[("any group activity", {"service users", "professionals"})],
        coded_mask=studies["charted"].astype(bool),
        note=_MULTI_NOTE.format(what="target groups") + " Studies coded = studies charted at "
             "all: a charted study with no group activity works one-to-one or does not say."))
    tables.append(count_table(
        "service_context", "Service context", studies, "service_context",
        categories("service_context"), multi=True,
        note=_MULTI_NOTE.format(what="contexts") + " Free-text contexts are mapped onto the "
             "scheme's categories by its rules (livingreview/screening/scheme.py)."))
    tables.append(count_table(
        "design", "Study design", studies, "design", categories("design"), multi=True,
        note=_MULTI_NOTE.format(what="designs") + " Free-text designs are mapped onto the "
             "scheme's categories by its rules (livingreview/screening/scheme.py)."))
    tables.append(count_table(
        "identified_via", "How the study was identified", studies, "identified_via",
        categories("identified_via"),
        note="Baseline studies found in the databases are mostly not coded (the article names "
             "only the 11 found otherwise)."))
    tables.append(_role_by_focus(studies))
    return {t.key: t for t in tables}


def _region_by_period(studies: pd.DataFrame, periods: list[str]) -> FieldTable:
    """Fig. 3: studies per region and period (a study counts once in each of its regions)."""
    coded_mask = _is_coded(studies["region"]) & _is_coded(studies["period"])
    groups = {g: _group(studies, g) for g in GROUPS}
    rows = []
    for region in REGIONS:
        in_region = _has(studies["region"], {region}) & coded_mask
        row: dict[str, Any] = {"region": region}
        for period in periods:
            row[period] = int((in_region & (studies["period"] == period)).sum())
        for group, mask in groups.items():
            row[f"{group}_n"] = int((in_region & mask).sum())
        rows.append(row)
    return FieldTable("region_by_period", "Included studies per region and period (Fig. 3)",
                      pd.DataFrame(rows), _sizes(studies, coded_mask),
                      _sizes(studies, pd.Series(True, index=studies.index)), True,
                      _MULTI_NOTE.format(what="regions"))


def _role_by_focus(studies: pd.DataFrame) -> FieldTable:
    """Primary role x research focus, per group; percentages are of the role's studies."""
    focus = categories("research_focus")
    coded_mask = _is_coded(studies["role_type"]) & _is_coded(studies["research_focus"])
    rows = []
    for group in GROUPS:
        members = studies[_group(studies, group) & coded_mask]
        for role in categories("role_type"):
            of_role = members[members["role_type"] == role]
            row: dict[str, Any] = {"role_type": role, "group": group, "studies": len(of_role)}
            for value in focus:
                row[value] = int((of_role["research_focus"] == value).sum())
            for value in focus:
                row[f"{value}_pct"] = percent(row[value], len(of_role))
            rows.append(row)
    frame = pd.DataFrame(rows)
    for value in focus:
        frame[f"{value}_pct"] = frame[f"{value}_pct"].astype("Float64")
    return FieldTable("role_by_focus", "Research focus by primary role", frame,
                      _sizes(studies, coded_mask),
                      _sizes(studies, pd.Series(True, index=studies.index)),
                      note="Studies coded for both role and focus; percentages are of the role's "
                           "studies (the article's peer-support sub-focus uses 145).")
