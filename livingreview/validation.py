"""The data-quality gate: Great Expectations suites (kept as JSON in ``expectations/``) run over
this run's records and the screening queue before any summary is recomputed.

Great Expectations is imported inside ``validate`` because importing it costs seconds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import ConfigError, ValidationFailed
from livingreview.store.models import Candidate, StoredRecord

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"


@dataclass
class ValidationOutcome:
    success: bool
    report: str
    failures: list[dict[str, Any]]
    checked: dict[str, int]  # suite -> rows checked


def frames(session: Session, run_id: int) -> dict[str, pd.DataFrame]:
    """The tables the suites check, named as the suites' ``meta.table``."""
    records = pd.DataFrame([
        {"id": r.id, "origin": r.origin, "title": r.title, "doi": r.doi, "pmid": r.pmid,
         "pmcid": r.pmcid, "year": r.year, "language": r.language,
         "has_identifier": bool(r.doi or r.pmid or r.pmcid or r.openalex_id)}
        for r in session.scalars(select(StoredRecord).where(StoredRecord.added_run_id == run_id))
    ], columns=["id", "origin", "title", "doi", "pmid", "pmcid", "year", "language",
                "has_identifier"])
    queue = pd.DataFrame([
        {"record_id": c.record_id, "run_id": c.run_id, "title": r.title,
         "flags": json.dumps(c.flags), "in_baseline": r.in_baseline}
        for c, r in session.execute(select(Candidate, StoredRecord)
                                    .join(StoredRecord, StoredRecord.id == Candidate.record_id))
    ], columns=["record_id", "run_id", "title", "flags", "in_baseline"])
    return {"records": records, "queue": queue}


def load_suites(directory: Path) -> list[dict[str, Any]]:
    suites = []
    for path in sorted(directory.glob("*.json")):
        try:
            suite = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: {exc.msg}. Fix: correct the JSON") from exc
        if "table" not in suite.get("meta", {}):
            raise ConfigError(f"{path}: the suite has no meta.table naming the table it checks. "
                              "Fix: add \"meta\": {\"table\": \"records\"} or \"queue\"")
        suites.append(suite)
    if not suites:
        raise ConfigError(f"{directory}: no expectation suites (*.json). Fix: restore expectations/")
    return suites


def validate(session: Session, run_id: int, directory: Path = EXPECTATIONS_DIR) -> ValidationOutcome:
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
    failures: list[dict[str, Any]] = []
    checked: dict[str, int] = {}
    for spec in load_suites(directory):
        table = spec["meta"]["table"]
        if table not in tables:
            raise ConfigError(f"suite {spec['name']!r} checks unknown table {table!r}. "
                              f"Fix: use one of {sorted(tables)}")
        frame = tables[table]
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
        result = batch.validate(context.suites.add(suite))
        for item in result.results:
            if not item.success:
                failures.append({
                    "suite": spec["name"], "table": table,
                    "expectation": item.expectation_config.type,
                    "kwargs": {k: v for k, v in item.expectation_config.kwargs.items()
                               if k != "batch_id"},
                    "why": item.expectation_config.meta.get("why", ""),
                    "unexpected_count": item.result.get("unexpected_count"),
                    "examples": [str(v) for v in (item.result.get("partial_unexpected_list")
                                                  or [])[:5]],
                    "observed": item.result.get("observed_value"),
                })
    return ValidationOutcome(success=not failures, report=render(failures, checked),
                             failures=failures, checked=checked)


def render(failures: list[dict[str, Any]], checked: dict[str, int]) -> str:
    """A self-contained Markdown account (GX Data Docs need CDN assets, unavailable offline)."""
    lines = ["## Data validation", ""]
    lines += [f"- suite `{name}`: {rows} rows checked" for name, rows in checked.items()]
    if not failures:
        lines += ["", "All expectations met."]
        return "\n".join(lines)
    lines += ["", f"**{len(failures)} expectation(s) failed.** Nothing was deleted; the "
              "watermarks were not advanced, so the next run covers this window again.", "",
              "| suite | expectation | column/arguments | unexpected | examples | why it matters |",
              "|---|---|---|---:|---|---|"]
    for f in failures:
        args = ", ".join(f"{k}={v}" for k, v in f["kwargs"].items())
        count = f["unexpected_count"] if f["unexpected_count"] is not None else f["observed"]
        lines.append(f"| {f['suite']} | {f['expectation']} | {args} | {count} | "
                     f"{'; '.join(f['examples'])} | {f['why']} |")
    return "\n".join(lines)


def require(outcome: ValidationOutcome) -> None:
    if not outcome.success:
        raise ValidationFailed(outcome.report, outcome.failures)
