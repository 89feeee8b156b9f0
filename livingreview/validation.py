"""The data-quality gate: the Great Expectations suites shipped in ``expectations/`` run over the
whole store (records, screening decisions, charting codes, the queue), the PRISMA identities of
every finished run, and the run's shape against the runs before it, before any summary is
recomputed. A failure names the suite, the rule and the failing rows (for records: id, DOI, PMID
and title), and changes nothing in the store.

Each suite's ``meta.table`` names the table it checks and ``meta.identify`` the columns that
name a failing row. Values the suites cannot hold as constants (next year, the review's reason
codes, the coding scheme's values) are suite parameters (``{"$PARAMETER": "reason_codes"}``),
filled in here from the one place that defines them.

Great Expectations is imported inside ``validate`` because importing it costs seconds.
"""

from __future__ import annotations

import html
import json
import logging
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import ConfigError, ValidationFailed
from livingreview.screening.eligibility import REASON_CODES
from livingreview.screening.scheme import FIELDS, REGIONS, CodeError, normalise_code
from livingreview.screening.status import merged_record_ids
from livingreview.store.models import (
    Candidate,
    ChartingCode,
    ScreeningDecision,
    StoredRecord,
    UpdateRun,
)

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
RECORD_NAMES = ["id", "doi", "pmid", "title"]  # the columns that name a failing record
MAX_NAMED = 25  # failing rows named per rule; the count says how many there are in all
# The runs a run's shape is compared with: finished monthly updates and report rewrites.
HISTORY_KINDS = ("update", "report")


@dataclass
class ValidationOutcome:
    success: bool
    report: str
    failures: list[dict[str, Any]]
    checked: dict[str, int]  # suite -> rows checked
    html: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def parameters(today: date | None = None) -> dict[str, Any]:
    """The suite parameters, from the modules that define them."""
    today = today or date.today()
    return {
        "next_year": today.year + 1,
        "reason_codes": sorted(REASON_CODES),
        "scheme_fields": sorted([*FIELDS, "region"]),  # a coder may write a region itself
        "scheme_values": sorted([f"{name}={value}" for name, spec in FIELDS.items()
                                 for value in spec.values or ()]
                                + [f"region={region}" for region in REGIONS]),
    }


def _record_frame(session: Session, run_id: int | None) -> pd.DataFrame:
    merged = merged_record_ids(session)
    updates = set(session.scalars(select(UpdateRun.id).where(UpdateRun.kind == "update")))
    return pd.DataFrame([
        {"id": r.id, "origin": r.origin, "title": r.title, "doi": r.doi, "pmid": r.pmid,
         "pmcid": r.pmcid, "year": r.year, "language": r.language,
         "in_baseline": bool(r.in_baseline), "merged": r.id in merged,
         "this_run": run_id is not None and r.added_run_id == run_id,
         "harvested": r.added_run_id in updates,
         "has_identifier": bool(r.doi or r.pmid or r.pmcid or r.openalex_id)}
        for r in session.scalars(select(StoredRecord).order_by(StoredRecord.id))
    ], columns=["id", "origin", "title", "doi", "pmid", "pmcid", "year", "language",
                "in_baseline", "merged", "this_run", "harvested", "has_identifier"])


def _named(frame: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with ``record_id``) joined to the record's DOI, PMID and title."""
    names = records[["id", "doi", "pmid", "title"]].rename(columns={"id": "record_id"})
    joined = frame.merge(names, on="record_id", how="left")
    joined["record_known"] = joined["record_id"].isin(set(records["id"]))
    return joined


def _decision_frame(session: Session, records: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame([
        {"decision_id": d.id, "record_id": d.record_id, "stage": d.stage,
         "decision": d.decision, "reason_code": d.reason_code, "reviewer": d.reviewer}
        for d in session.scalars(select(ScreeningDecision).order_by(ScreeningDecision.id))
    ], columns=["decision_id", "record_id", "stage", "decision", "reason_code", "reviewer"])
    return _named(frame, records)


def _charting_frame(session: Session, records: pd.DataFrame) -> pd.DataFrame:
    """One row per value the coding scheme reads out of each ``charting_codes`` row.

    Stored values may be free text (an import's cells); the summaries read them through the
    scheme's rules (``normalise_code``), so the gate checks what those rules make of them.
    ``coded`` is ``field=value`` for the fields with a closed list of values and for regions.
    """
    rows = []
    for c in session.scalars(select(ChartingCode).order_by(ChartingCode.id)):
        row = {"code_id": c.id, "record_id": c.record_id, "field": c.field, "value": c.value,
               "coder": c.coder}
        if c.field == "region":
            rows.append({**row, "readable": True, "normalised": c.value,
                         "coded": f"region={c.value}"})
            continue
        try:
            values = normalise_code(c.field, c.value) if c.field in FIELDS else [c.value]
        except CodeError:
            rows.append({**row, "readable": False, "normalised": None, "coded": None})
            continue
        closed = c.field in FIELDS and FIELDS[c.field].values
        rows += [{**row, "readable": True, "normalised": v,
                  "coded": f"{c.field}={v}" if closed else None} for v in values]
    frame = pd.DataFrame(rows, columns=["code_id", "record_id", "field", "value", "coder",
                                        "readable", "normalised", "coded"])
    return _named(frame, records)


def _queue_frame(session: Session) -> pd.DataFrame:
    return pd.DataFrame([
        {"record_id": c.record_id, "run_id": c.run_id, "title": r.title, "doi": r.doi,
         "pmid": r.pmid, "flags": json.dumps(c.flags), "in_baseline": r.in_baseline}
        for c, r in session.execute(select(Candidate, StoredRecord)
                                    .join(StoredRecord, StoredRecord.id == Candidate.record_id))
    ], columns=["record_id", "run_id", "title", "doi", "pmid", "flags", "in_baseline"])


def _prisma_frame(session: Session, run_id: int | None) -> pd.DataFrame:
    """One row per PRISMA identity of every finished update run (and of this one)."""
    from livingreview.summaries.prisma import PrismaMismatch, run_counts

    runs = list(session.scalars(
        select(UpdateRun.id).where(UpdateRun.kind == "update",
                                   (UpdateRun.status == "succeeded") | (UpdateRun.id == run_id))
        .order_by(UpdateRun.id)))
    rows: list[dict[str, Any]] = []
    for rid in runs:
        scope = f"run {rid}"
        try:
            counts = run_counts(session, rid)
        except PrismaMismatch as exc:
            # The stored facts themselves contradict each other (a hit without its record...)
            for problem in exc.failures:
                rows.append({"scope": scope, "identity": "stored facts agree",
                             "left": 1, "right": 0, "detail": problem["problem"]})
            continue
        rows += [{"scope": scope, **row} for row in counts.identities()]
    return pd.DataFrame(rows, columns=["scope", "identity", "left", "right", "detail"])


def _history(session: Session, run_id: int | None) -> list[UpdateRun]:
    query = (select(UpdateRun).where(UpdateRun.kind.in_(HISTORY_KINDS),
                                     UpdateRun.status == "succeeded"))
    if run_id is not None:
        query = query.where(UpdateRun.id < run_id)
    return list(session.scalars(query.order_by(UpdateRun.id)))


def _run_source_frame(session: Session, run_id: int | None) -> pd.DataFrame:
    """What each source identified in this run beside the median of the earlier runs."""
    columns = ["run_id", "source", "identified", "history_median", "history_runs",
               "identified_ratio"]
    run = session.get(UpdateRun, run_id) if run_id is not None else None
    if run is None or run.kind != "update":
        return pd.DataFrame([], columns=columns)
    earlier: dict[str, list[int]] = {}
    for past in _history(session, run_id):
        for source, n in ((past.counts or {}).get("identified") or {}).items():
            earlier.setdefault(source, []).append(int(n))
    rows = []
    for source, n in ((run.counts or {}).get("identified") or {}).items():
        past = earlier.get(source, [])
        median = statistics.median(past) if past else None
        rows.append({"run_id": run_id, "source": source, "identified": int(n),
                     "history_median": median, "history_runs": len(past),
                     "identified_ratio": (int(n) / median) if median else None})
    return pd.DataFrame(rows, columns=columns)


def _duplicate_rate(counts: dict[str, Any]) -> float | None:
    """Of the records new to the store this run, the share found to be duplicates."""
    intake = counts.get("intake") or {}
    new = int(intake.get("received", 0)) - int(intake.get("already_known", 0))
    return int(intake.get("duplicates_total", 0)) / new if new > 0 else None


def _run_corpus_frame(session: Session, run_id: int | None, records: int) -> pd.DataFrame:
    """The store's size against the largest an earlier run saw, and the duplicate rate."""
    history = _history(session, run_id)
    before = [int(r.counts["validation"]["records"]) for r in history
              if isinstance((r.counts or {}).get("validation"), dict)
              and "records" in r.counts["validation"]]
    run = session.get(UpdateRun, run_id) if run_id is not None else None
    rate = _duplicate_rate(run.counts or {}) if run is not None and run.kind == "update" else None
    rates = [x for x in (_duplicate_rate(r.counts or {}) for r in history if r.kind == "update")
             if x is not None]
    median = statistics.median(rates) if rates else None
    return pd.DataFrame([{
        "run_id": run_id, "records": records, "records_before": max(before) if before else None,
        "duplicate_rate": rate, "duplicate_rate_median": median, "history_runs": len(rates),
        "duplicate_rate_shift": (rate - median) if rate is not None and median is not None
        else None}])


def frames(session: Session, run_id: int | None) -> dict[str, pd.DataFrame]:
    """The tables the suites check, named as the suites' ``meta.table``."""
    records = _record_frame(session, run_id)
    return {"records": records, "queue": _queue_frame(session),
            "decisions": _decision_frame(session, records),
            "charting": _charting_frame(session, records),
            "prisma": _prisma_frame(session, run_id),
            "run_sources": _run_source_frame(session, run_id),
            "run_corpus": _run_corpus_frame(session, run_id, len(records))}


def load_suites(directory: Path) -> list[dict[str, Any]]:
    suites = []
    for path in sorted(directory.glob("*.json")):
        try:
            suite = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: {exc.msg}. Fix: correct the JSON") from exc
        if "table" not in suite.get("meta", {}):
            raise ConfigError(f"{path}: the suite has no meta.table naming the table it checks. "
                              "Fix: add \"meta\": {\"table\": \"records\"} (or another table)")
        suites.append(suite)
    if not suites:
        raise ConfigError(f"{directory}: no expectation suites (*.json). Fix: restore expectations/")
    return suites


def _plain(value: Any) -> Any:
    """A JSON- and HTML-friendly value (numpy scalars and NaN become Python ones)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _rule(config: Any) -> str:
    kwargs = config.kwargs
    what = kwargs.get("column") or " vs ".join(
        str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)
    rule = f"{config.type}({what})"
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict):  # GX keeps a pandas condition as a pass-through filter
        condition = condition.get("pass_through_filter")
    if condition:
        rule += f" where {condition}"
    return rule


def validate(session: Session, run_id: int | None, directory: Path = EXPECTATIONS_DIR,
             today: date | None = None) -> ValidationOutcome:
    """Run every suite; never raises on failing data (see ``require``)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("livingreview")
    tables = frames(session, run_id)
    values = parameters(today)
    failures: list[dict[str, Any]] = []
    checked: dict[str, int] = {}
    for spec in load_suites(directory):
        table = spec["meta"]["table"]
        if table not in tables:
            raise ConfigError(f"suite {spec['name']!r} checks unknown table {table!r}. "
                              f"Fix: use one of {sorted(tables)}")
        frame = tables[table]
        identify = [c for c in spec["meta"].get("identify", []) if c in frame.columns]
        checked[spec["name"]] = len(frame)
        if frame.empty:
            continue
        asset = source.add_dataframe_asset(spec["name"])
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
            batch_parameters={"dataframe": frame})
        suite = ExpectationSuite(name=spec["name"])
        for item in spec["expectations"]:
            suite.add_expectation_configuration(
                ExpectationConfiguration(type=item["type"], kwargs=item["kwargs"],
                                         meta=item.get("meta", {})))
        result_format: dict[str, Any] = {"result_format": "COMPLETE"}
        if identify:
            result_format["unexpected_index_column_names"] = identify
        result = batch.validate(context.suites.add(suite), result_format=result_format,
                                expectation_parameters=values)
        for item in result.results:
            if item.success:
                continue
            config = item.expectation_config
            # Without meta.identify GX names a failing row by its position only.
            failing = [{k: _plain(v) for k, v in row.items()} if isinstance(row, dict)
                       else {"row": _plain(row)}
                       for row in (item.result.get("unexpected_index_list") or [])]
            failures.append({
                "suite": spec["name"], "table": table, "rule": _rule(config),
                "expectation": config.type,
                "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
                "why": config.meta.get("why", ""),
                "unexpected_count": item.result.get("unexpected_count", len(failing)),
                "rows": failing[:MAX_NAMED], "identify": identify,
                "observed": _plain(item.result.get("observed_value")),
                "error": (item.exception_info or {}).get("exception_message")
                if isinstance(item.exception_info, dict) else None,
            })
    facts = {"records": len(tables["records"])}
    return ValidationOutcome(success=not failures, report=render(failures, checked),
                             failures=failures, checked={**checked, **facts},
                             html=render_html(failures, checked, run_id), facts=facts)


def _row_text(row: dict[str, Any], identify: list[str]) -> str:
    named = [f"{k} {row[k]}" for k in identify if row.get(k) not in (None, "")]
    extra = [f"{k}={row[k]!r}" for k in row if k not in identify]
    return "; ".join(named + extra)


def render(failures: list[dict[str, Any]], checked: dict[str, int]) -> str:
    """A self-contained Markdown account naming every failing row (up to ``MAX_NAMED``)."""
    lines = ["## Data validation", ""]
    lines += [f"- suite `{name}`: {rows} rows checked" for name, rows in checked.items()]
    if not failures:
        lines += ["", "All expectations met."]
        return "\n".join(lines)
    lines += ["", f"**{len(failures)} rule(s) failed.** Nothing was changed or deleted; the "
              "watermarks were not advanced, so the next run covers this window again.", ""]
    for f in failures:
        count = f["unexpected_count"] if f["unexpected_count"] is not None else f["observed"]
        lines += [f"### suite `{f['suite']}`: {f['rule']}", "",
                  f"{count} failing row(s). Why it matters: {f['why']}", ""]
        lines += [f"- {_row_text(row, f['identify'])}".replace("\n", " ") for row in f["rows"]]
        if f.get("error"):
            lines.append(f"- the rule could not be evaluated: {f['error']}")
        lines.append("")
    return "\n".join(lines)


_STYLE = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
          "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;"
          "text-align:left;vertical-align:top}.fail{color:#a00}")


def render_html(failures: list[dict[str, Any]], checked: dict[str, int],
                run_id: int | None) -> str:
    """The same account as one HTML page with no external assets; every value is escaped."""
    esc = html.escape
    about = f"update run {run_id}" if run_id is not None else "the store"
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>Data validation of {esc(about)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Data validation of {esc(about)}</h1>",
             "<ul>" + "".join(f"<li>suite <code>{esc(n)}</code>: {r} rows checked</li>"
                              for n, r in checked.items()) + "</ul>"]
    if not failures:
        parts.append("<p>All expectations met.</p>")
    else:
        parts.append(f"<p class='fail'><strong>{len(failures)} rule(s) failed.</strong> Nothing "
                     "was changed or deleted; the watermarks were not advanced.</p>")
    for f in failures:
        columns = list(dict.fromkeys(f["identify"] + [k for row in f["rows"] for k in row]))
        parts += [f"<h2>suite <code>{esc(f['suite'])}</code>: {esc(f['rule'])}</h2>",
                  f"<p>{esc(str(f['unexpected_count']))} failing row(s). Why it matters: "
                  f"{esc(f['why'])}</p>"]
        if f["rows"]:
            parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr>"
                         + "".join("<tr>" + "".join(
                             f"<td>{esc('' if row.get(c) is None else str(row.get(c)))}</td>"
                             for c in columns) + "</tr>" for row in f["rows"]) + "</table>")
        if f.get("error"):
            parts.append(f"<p>The rule could not be evaluated: {esc(f['error'])}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(outcome: ValidationOutcome, report_dir: Path, name: str) -> Path:
    """Write the HTML account to ``report_dir/validation/NAME.html`` and return its path."""
    path = report_dir / "validation" / f"{name}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(outcome.html, encoding="utf-8")
    return path


def require(outcome: ValidationOutcome) -> None:
    if not outcome.success:
        raise ValidationFailed(outcome.report, outcome.failures)
