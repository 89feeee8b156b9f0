"""One version of the living review's report: ``<out_root>/v0007/``.

The folder holds ``report.md`` (self-contained, readable without the tables), ``summary.json``
(machine-readable; the next version diffs against it), one CSV per table in ``tables/`` and the
PNG figures in ``figures/``. It is written into a temporary folder first and moved into place
whole, so a failure never leaves half a version behind.

``write_report`` also returns the Markdown and the tables as rows, for the flow to publish as
Prefect artifacts (the core never imports Prefect).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.alerts import alerts_of_run
from livingreview.cocreation.decisions import detector_status, status_sentence
from livingreview.cocreation.detector import DetectorConfig
from livingreview.errors import InputError
from livingreview.screening.status import included_record_ids
from livingreview.store.models import Candidate, StoredRecord, UpdateRun
from livingreview.summaries import figures
from livingreview.summaries.page import report_page
from livingreview.summaries.prisma import PrismaCounts, cumulative_counts, run_counts
from livingreview.summaries.published import compare_with_published, load_published
from livingreview.summaries.tables import FieldTable, Summaries, compute

SCHEMA_VERSION = 1
SEARCH_NOTE = ("The living search queries PubMed and Crossref only; the published review searched "
               "10 databases (Medline, PsycINFO, Embase, Oria, WorldCat, Google Scholar, Scopus, "
               "Academic Search Elite, Cinahl and Web of Science), so new studies indexed only "
               "elsewhere are not caught automatically.")
LISTED = 30  # new studies/candidates listed by title before "and N more"


@dataclass
class ReportPaths:
    """What one report version wrote, and its content for publishing elsewhere."""

    version: int
    directory: Path
    report_md: Path
    summary_json: Path
    csv: dict[str, Path]
    figures: dict[str, Path]
    markdown: str = field(repr=False)
    tables: dict[str, list[dict[str, Any]]] = field(repr=False)
    summary: dict[str, Any] = field(repr=False, default_factory=dict)
    report_html: Path | None = None


def version_dir(out_root: Path, version: int) -> Path:
    return Path(out_root) / f"v{version:04d}"


def write_report(session: Session, out_root: Path, version: int, run_id: int | None = None,
                 previous_dir: Path | None = None, *, search_note: str | None = None,
                 published: dict[str, Any] | None = None, note: str | None = None,
                 detector: DetectorConfig | None = None,
                 demo: bool = False) -> ReportPaths:
    """Recompute everything and write version ``version`` of the report under ``out_root``.

    ``previous_dir`` is the folder of the version to compare with; by default the folder of
    version ``version - 1`` under ``out_root`` when it exists. ``search_note`` replaces the
    standard sentence on the narrower living search (review.toml ``narrower_search_note``).
    ``note`` is said after what the version is (e.g. that it was rewritten between runs).
    ``detector`` is review.toml's co-creation detector configuration (default: its defaults).
    ``demo`` marks a report of the demo store (`make demo`): its title and first line say so.
    """
    if version < 1:
        raise InputError("write_report", "version", f"version {version} is not positive",
                         "number report versions from 1")
    out_root = Path(out_root)
    previous = _previous_summary(out_root, version, previous_dir)
    run = session.get(UpdateRun, run_id) if run_id is not None else None
    if run_id is not None and run is None:
        raise InputError("write_report", "run_id", f"no update run with id {run_id}",
                         "pass the id of the run being summarised, or None")
    included = included_record_ids(session)
    summaries = compute(session, included_ids=included)
    prisma_run = run_counts(session, run_id, included_ids=included) if run_id is not None \
        else None
    prisma_all = cumulative_counts(session, included_ids=included)
    comparisons = compare_with_published(summaries, published or load_published())
    candidates = sorted(session.scalars(select(Candidate.record_id)))
    generated = datetime.now(timezone.utc).replace(microsecond=0)

    summary = {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "demo": demo,
        "generated_at": generated.isoformat(),
        "run": _run_info(run),
        "note": note,
        "search_note": search_note or SEARCH_NOTE,
        **summaries.as_dict(),
        "candidates": candidates,
        "prisma": {"run": prisma_run.as_dict() if prisma_run else None,
                   "cumulative": prisma_all.as_dict()},
        "published_comparison": [c.as_dict() for c in comparisons],
    }
    summary["search_log"] = search_log(prisma_run, previous)
    summary["co_creation_detector"] = detector_status(session, detector or DetectorConfig())
    summary["co_creation_alerts"] = alerts_of_run(session, run_id)
    changes = _changes(session, summary, previous)
    summary["changes"] = {k: v for k, v in changes.items() if k != "new_candidate_titles"}

    tables = summaries.artifact_tables()
    if prisma_run is not None:
        tables["prisma_run"] = prisma_run.rows()
    tables["prisma_cumulative"] = prisma_all.rows()
    tables["published_comparison"] = [
        {k: v for k, v in c.as_dict().items() if k != "label"} for c in comparisons]

    final = version_dir(out_root, version)
    partial = out_root / f".{final.name}.partial-{os.getpid()}"
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "tables").mkdir(parents=True)
    try:
        csv = {}
        for key, table in summaries.tables.items():
            csv[key] = Path("tables") / f"{key}.csv"
            table.frame.to_csv(partial / csv[key], index=False)
        for key in ("prisma_run", "prisma_cumulative", "published_comparison"):
            if key in tables:
                csv[key] = Path("tables") / f"{key}.csv"
                pd.DataFrame(tables[key]).to_csv(partial / csv[key], index=False)
        pngs = figures.write_figures(
            summaries, prisma_run or prisma_all, partial / "figures",
            prisma_title=_prisma_title(run, prisma_run or prisma_all),
            new_included_total=summaries.included["new"],
            cumulative=prisma_all if prisma_run is not None else None,
            cumulative_title=_prisma_title(None, prisma_all))
        pngs = {name: Path("figures") / name for name in pngs}
        markdown = _markdown(summaries, summary, run, prisma_run, prisma_all, comparisons,
                             changes, previous, csv, pngs)
        (partial / "report.md").write_text(markdown, encoding="utf-8")
        (partial / "report.html").write_text(
            report_page(markdown, partial, summary, f"Living review, version {version}"),
            encoding="utf-8")
        summary["files"] = {"report": "report.md", "html": "report.html",
                            "tables": {k: str(v) for k, v in csv.items()},
                            "figures": {k: str(v) for k, v in pngs.items()}}
        (partial / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
        _move_into_place(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ReportPaths(version=version, directory=final, report_md=final / "report.md",
                       report_html=final / "report.html",
                       summary_json=final / "summary.json",
                       csv={k: final / v for k, v in csv.items()},
                       figures={k: final / v for k, v in pngs.items()},
                       markdown=markdown, tables=tables, summary=summary)


def _move_into_place(partial: Path, final: Path) -> None:
    # Re-writing a version replaces it whole: the old folder moves aside until the new one is in.
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
    partial.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _previous_summary(out_root: Path, version: int,
                      previous_dir: Path | None) -> dict[str, Any] | None:
    if previous_dir is None:
        candidate = version_dir(out_root, version - 1) / "summary.json"
        if version == 1 or not candidate.exists():
            return None
        path = candidate
    else:
        path = Path(previous_dir) / "summary.json"
        if not path.exists():
            raise InputError(str(path), "summary.json", "the previous version has no summary.json",
                             "pass the folder of an earlier report version (e.g. reports/v0003), "
                             "or no previous folder for a first version")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"line {exc.lineno} column {exc.colno}", exc.msg,
                         "restore the file from that version, or pass another previous "
                         "version") from exc


def _run_info(run: UpdateRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"id": run.id, "kind": run.kind, "status": run.status,
            "window_start": run.window_start.isoformat() if run.window_start else None,
            "window_end": run.window_end.isoformat() if run.window_end else None,
            "started_at": run.started_at.isoformat() if run.started_at else None}


def _run_state(run: UpdateRun) -> str:
    # The monthly flow writes its report before it closes the run: a report exists only once
    # the run's data passed the gate, so "running" would tell the reader nothing true.
    if run.status == "running":
        return "written by the run itself, after its data passed the data-quality gate"
    return f"the run {run.status.replace('_', ' ')}"


def _prisma_title(run: UpdateRun | None, counts: PrismaCounts) -> str:
    if run is None:
        runs = len(counts.run_ids)
        return f"PRISMA flow of the living review ({runs} update run{'s' if runs != 1 else ''})"
    return f"PRISMA flow of update run {run.id} ({_window(run.window_start, run.window_end)})"


def _window(start: Any, end: Any) -> str:
    return f"{start or 'start'} to {end or 'now'}"


def flat_counts(tables: dict[str, Any]) -> dict[str, int]:
    """Every count of the summary.json tables as "table / row [x column]" -> n (all studies)."""
    flat: dict[str, int] = {}
    for key, table in tables.items():
        for row in table.get("rows", []):
            if row.get("group", "all") != "all":
                continue
            name = str(next(iter(row.values())))
            for column, value in row.items():
                if not isinstance(value, int) or isinstance(value, bool) \
                        or column in ("baseline_n", "new_n", "studies"):
                    continue
                label = f"{key} / {name}" + ("" if column == "all_n" else f" × {column}")
                flat[label] = value
    return flat


def _changes(session: Session, summary: dict[str, Any],
             previous: dict[str, Any] | None) -> dict[str, Any]:
    if previous is None:
        return {"previous_version": None}
    before = {s["record_id"] for s in previous.get("included_studies", [])}
    new_studies = [s for s in summary["included_studies"] if s["record_id"] not in before]
    dropped = sorted(before - {s["record_id"] for s in summary["included_studies"]})
    old_counts = flat_counts(previous.get("tables", {}))
    new_counts = flat_counts(summary["tables"])
    changed = [{"count": label, "before": old_counts.get(label, 0), "now": value}
               for label, value in new_counts.items() if old_counts.get(label, 0) != value]
    changed += [{"count": label, "before": value, "now": 0}
                for label, value in old_counts.items() if label not in new_counts and value]
    new_candidates = sorted(set(summary["candidates"]) - set(previous.get("candidates", [])))
    titles = dict(session.execute(select(StoredRecord.id, StoredRecord.title)
                                  .where(StoredRecord.id.in_(new_candidates[:LISTED]))).all())
    return {"previous_version": previous.get("version"),
            "included_before": previous.get("included", {}),
            "new_included_studies": new_studies,
            "no_longer_included": dropped,
            "changed_counts": changed,
            "new_candidates": new_candidates,
            "new_candidate_titles": titles}


def _cell(n: Any, pct: Any) -> str:
    if pct is None or (isinstance(pct, float) and pct != pct):
        return f"{n}"
    return f"{n} ({pct:.1f}%)"


def markdown_table(columns: list[str], rows: list[list[Any]]) -> str:
    def text(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(text(c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(text(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _field_table_markdown(table: FieldTable) -> str:
    rows = table.rows()
    label = table.frame.columns[0]
    if table.key == "region_by_period":
        columns = [c for c in table.frame.columns if c not in ("baseline_n", "new_n", "all_n")]
        return markdown_table(columns + ["all periods"],
                              [[r[c] for c in columns] + [r["all_n"]] for r in rows])
    if table.key == "role_by_focus":
        focus = [c for c in table.frame.columns
                 if c not in ("role_type", "group", "studies") and not c.endswith("_pct")]
        return markdown_table(
            ["role (primary)", "studies", "group"] + focus,
            [[r["role_type"], r["studies"], r["group"]] + [_cell(r[f], r[f"{f}_pct"])
                                                           for f in focus] for r in rows])
    body = []
    for r in rows:
        name = r[label] if r.get("row") != "total" else f"*{r[label]}*"
        body.append([name] + [_cell(r[f"{g}_n"], r[f"{g}_pct"])
                              for g in ("baseline", "new", "all")])
    return markdown_table([label.replace("_", " "), "baseline n (%)", "new n (%)", "all n (%)"],
                          body)


def _sources_markdown(counts: PrismaCounts) -> list[str]:
    parts = [f"{source}: {counts.ranked_returned[source]} returned by the ranked search, "
             f"{counts.strategy_matched[source]} matched the review's search strategy"
             if source in counts.ranked_returned else f"{source}: {n} identified"
             for source, n in counts.identified.items()]
    if not parts:
        return []
    out = ["Sources searched: " + "; ".join(parts) + "."]
    if counts.filtered_out_total:
        out[0] += (f" The {counts.filtered_out_total} that did not match stay in the raw-response "
                   "archive but are not stored as records: they are outside the identified "
                   "count, so the flow below starts from the records that matched (and its "
                   "identities still add up).")
    return out + [""]


_DATES = re.compile(r"\d{4}/\d{1,2}/\d{1,2}")


def _translation_key(translation: str | None) -> str | None:
    """A query translation without its window's dates, which differ on every run."""
    return None if translation is None else " ".join(_DATES.sub("<date>", translation).split())


def search_log(counts: PrismaCounts | None, previous: dict[str, Any] | None) -> dict[str, Any]:
    """What the run's searches did: each source's window and yield, and how PubMed read the
    query (``querytranslation``, errors, warnings), compared with the previous version's."""
    harvest = counts.harvest_counts if counts is not None else {}
    if not harvest.get("windows"):
        return {"run_id": counts.run_ids[0] if counts else None, "sources": {}, "pubmed": None,
                "querytranslation_changed": None, "compared_with_version": None}
    sources = {}
    for source, window in harvest["windows"].items():
        entry = {"window": list(window), "identified": counts.identified.get(source, 0),
                 "reason": (harvest.get("window_reasons") or {}).get(source),
                 "query_sha256": ((harvest.get("queries") or {}).get(source) or {}).get("sha256")}
        if source in counts.ranked_returned:
            entry.update(returned=counts.ranked_returned[source],
                         filtered_out=counts.filtered_out.get(source, 0),
                         matched=counts.strategy_matched[source])
        sources[source] = entry
    found = (harvest.get("sources") or {}).get("pubmed")
    pubmed = None if found is None else {
        "querytranslation": found.get("querytranslation"), "errors": found.get("errors") or {},
        "warnings": found.get("warnings") or {}, "count": found.get("count"),
        "passes": {name: {"count": one.get("count"), "new": one.get("new")}
                   for name, one in (found.get("passes") or {}).items()}}
    before = ((previous or {}).get("search_log") or {}).get("pubmed")
    changed = None
    if pubmed is not None and before is not None:
        changed = (_translation_key(pubmed["querytranslation"])
                   != _translation_key(before.get("querytranslation")))
    return {"run_id": counts.run_ids[0], "sources": sources, "pubmed": pubmed,
            "variants": _variants(harvest.get("sources") or {}),
            "recall": harvest.get("recall"),
            "previous_version": (previous or {}).get("version"),
            "querytranslation_changed": changed,
            "compared_with_version": (previous or {}).get("version") if changed is not None
            else None,
            "previous_querytranslation": before.get("querytranslation") if changed else None}


_VARIANT_COUNTS = ("variant", "count_variant", "count_faithful", "received", "kept_variant",
                   "kept_faithful", "needs_abstract", "abstracts")


def _variants(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Which named search variant each source ran, with its yield with and without it."""
    return {source: {k: summary[k] for k in _VARIANT_COUNTS if k in summary}
            for source, summary in found.items() if summary.get("variant")}


def _variant_lines(variants: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for source, v in variants.items():
        line = f"- {source}: the {v['variant']} variant"
        if "count_variant" in v:
            line += (f"; {v['count_variant']} records match it, {v['count_faithful']} the faithful "
                     "query")
        elif "kept_variant" in v:
            line += (f"; of {v['received']} records received, its local strategy kept "
                     f"{v['kept_variant']} (the faithful one {v['kept_faithful']}), "
                     f"{v['needs_abstract']} of them kept without an abstract; "
                     f"{_filled(v.get('abstracts'))} abstracts filled in by DOI from another "
                     "source")
        lines.append(line + ".")
    return lines


def _filled(abstracts: dict[str, Any] | None) -> int:
    return sum(((abstracts or {}).get("filled") or {}).values())


def _recall_lines(recall: dict[str, Any] | None) -> list[str]:
    if recall is None:
        return []
    out = ["### Search recall on the known included studies", ""]
    if recall.get("error"):
        return out + [f"Not measured this run: {recall['error']}.", ""]
    if not recall.get("sources"):
        return out + [f"Not measured: {recall.get('note', 'no source measured')}.", ""]
    out += ["Does each source's search, as configured, still find the review's included studies "
            "that carry an identifier (PubMed: the query with their PMIDs; Crossref: their works "
            "by DOI through the local strategy)?", ""]
    for one in recall["sources"]:
        share = f" ({one['recall']:.1%})" if one["recall"] is not None else ""
        missed = "; ".join(f"{m['study']} (failed {', '.join(m['failed_blocks'])})"
                           for m in one["missed"] if m["status"] == "missed") or "none"
        absent = [m["study"] for m in one["missed"] if m["status"] == "absent"]
        line = (f"- {one['source']} ({one['variant']}): {one['found']} of {one['studies']}"
                f"{share}. Missed by the search: {missed}.")
        if absent:
            line += (f" Not held by the source under the study's identifier ({len(absent)}): "
                     f"{', '.join(absent)}.")
        out.append(line)
    return out + [""]


def _issues(found: dict[str, list[str]]) -> str:
    return "; ".join(f"{kind}: {', '.join(items)}" for kind, items in found.items()) or "none"


def _search_log_markdown(log: dict[str, Any]) -> list[str]:
    out = ["## Search log", ""]
    if not log["sources"]:
        out += ["No search in this version: it was written without an update run, or for a run "
                "that stored no harvest counts.", ""]
        return out
    late = ((log["pubmed"] or {}).get("passes") or {}).get("mhda")
    for source, entry in log["sources"].items():
        start, end = entry["window"]
        if "returned" in entry:
            line = (f"- {source}, records created {start} to {end}: {entry['returned']} returned "
                    f"by the ranked search, {entry['matched']} matched the review's search "
                    "strategy")
        elif source == "pubmed" and late:
            line = (f"- {source}, window {start} to {end}: {entry['identified']} identified "
                    f"({entry['identified'] - late['new']} created in the window, "
                    f"{late['new']} created earlier and indexed for MeSH in it)")
        else:
            line = f"- {source}, records created {start} to {end}: {entry['identified']} identified"
        if entry.get("reason") == "query_changed":
            line += (f"; **a new search from the baseline cut-off**: the {source} query changed "
                     f"since the last successful run (now version {entry['query_sha256'][:12]}), "
                     "so the whole living period was searched again with it, not only the month")
        elif entry.get("reason") == "backfill":
            line += "; a backfill of an explicit window (the watermark does not move back)"
        out.append(line + ".")
    out.append("")
    if log.get("variants"):
        out += ["Search variant per source (review.toml `[search] variant`; "
                "docs/search-strategy-deviations.md):", "", *_variant_lines(log["variants"]), ""]
    out += _recall_lines(log.get("recall"))
    pubmed = log["pubmed"]
    if pubmed is None:
        return out
    out += ["How PubMed read the query (its `QueryTranslation`; the run's dates aside, it should "
            "not change from run to run):", "", "```", pubmed["querytranslation"] or "(none)",
            "```", "", f"PubMed errors: {_issues(pubmed['errors'])}. "
            f"PubMed warnings: {_issues(pubmed['warnings'])}.", ""]
    if log["querytranslation_changed"]:
        out += [f"**Query translation changed since version {log['compared_with_version']}.** "
                "PubMed now reads the query differently (a MeSH term renamed, a phrase no longer "
                "indexed...): check the search still finds what it should. Before:", "", "```",
                log["previous_querytranslation"] or "(none)", "```", ""]
    elif log["querytranslation_changed"] is False:
        out += [f"Query translation unchanged since version {log['compared_with_version']}.", ""]
    elif log.get("previous_version"):
        out += [f"Version {log['previous_version']} recorded no PubMed query translation to "
                "compare with.", ""]
    return out


def _prisma_markdown(counts: PrismaCounts) -> str:
    return markdown_table(["stage", "box", "n"],
                          [[r["stage"], r["box"], r["n"]] for r in counts.rows()])


DEMO_BANNER = (
    "> **Demo data, not the living review.** A report of the demo store that `make demo` fills "
    "with two monthly updates against the bundled replay server, which serves real records of "
    "peer-worker studies published after the review's cut-off in the APIs' own formats "
    "(`livingreview/replay/demo/PROVENANCE.md`). Its counts say what the pipeline does, not what "
    "the literature holds.")


def _markdown(summaries: Summaries, summary: dict[str, Any], run: UpdateRun | None,
              prisma_run: PrismaCounts | None, prisma_all: PrismaCounts,
              comparisons: list, changes: dict[str, Any], previous: dict[str, Any] | None,
              csv: dict[str, Path], pngs: dict[str, Path]) -> str:
    version = summary["version"]
    out: list[str] = [f"# Living review, version {version}", ""]
    if summary.get("demo"):
        out = [f"# DEMO DATA: living review, version {version}", "",
               DEMO_BANNER, ""]
    out += [
        "*Peer Workers in Co-production and Co-creation in Mental Health and Substance Use "
        "Services: A Scoping Review* (Åkerblom & Ness, 2023, doi:10.1007/s10488-022-01242-x), "
        "kept up to date.",
        "",
        f"**{summaries.headline}.**",
        "",
        "## What this version is",
        "",
    ]
    if run is not None:
        kind = "" if run.kind == "update" else f" ({run.kind})"
        out.append(f"Version {version} recomputes the review's numbers and figures after update "
                   f"run {run.id}{kind}, which searched records created from "
                   f"{_window(run.window_start, run.window_end)} ({_run_state(run)}). "
                   f"Generated {summary['generated_at']}.")
    else:
        out.append(f"Version {version} recomputes the review's numbers and figures from the "
                   f"corpus as it stands (no update run: e.g. after screening or coding). "
                   f"Generated {summary['generated_at']}.")
    if summary.get("note"):
        out[-1] += f" {summary['note']}"
    out += [
        "",
        f"The *baseline* is the published review: {summaries.included['baseline']} included "
        f"studies with a search cut-off of {summaries.cutoff.isoformat()} are in the store (the "
        "article included 172; its reference list names 102 of them, and the authors' full data "
        "set, DOI 10.18710/NAQHXL, can be imported). *New* studies are those the living review "
        "has included since. The article states codes (focus, role, region...) for only some "
        "studies, so every table says how many studies it rests on.",
        "",
        f"> **Search coverage.** {summary['search_note']}",
        "",
    ]
    out += _changes_markdown(changes, previous, summaries)
    out += ["## PRISMA flow", ""]
    if prisma_run is not None:
        out += [f"Update run {prisma_run.run_ids[0]}, window "
                f"{_window(prisma_run.window_start, prisma_run.window_end)}. Records a source "
                "returned again (the monthly windows overlap by a few days) count as identified "
                "and as already known; duplicates are records merged into one already held.", "",
                *_sources_markdown(prisma_run),
                f"![PRISMA flow diagram]({pngs[figures.PRISMA]})", "",
                _prisma_markdown(prisma_run), "",
                f"CSV: [{csv['prisma_run']}]({csv['prisma_run']})", ""]
    else:
        out += [f"![PRISMA flow diagram, all update runs]({pngs[figures.PRISMA]})", ""]
    runs = len(prisma_all.run_ids)
    if figures.PRISMA_CUMULATIVE in pngs:
        out += [f"![PRISMA flow diagram, all update runs]({pngs[figures.PRISMA_CUMULATIVE]})",
                ""]
    out += [f"All {runs} update run{'s' if runs != 1 else ''} together"
            + (f" (windows from {prisma_all.window_start} to {prisma_all.window_end})"
               if prisma_all.window_start or prisma_all.window_end else "") + ":", "",
            _prisma_markdown(prisma_all), "",
            f"CSV: [{csv['prisma_cumulative']}]({csv['prisma_cumulative']})", "",
            "The published review's own flow (its Fig. 1, from the article, not from this "
            "store): 13,178 records screened, 445 full texts assessed, 273 excluded, 172 "
            "studies included (11 of them from reference lists, experts and scanning).", ""]
    out += _search_log_markdown(summary["search_log"])
    out += ["## Co-creation alerts", "", status_sentence(summary["co_creation_detector"]), ""]
    alerts = summary.get("co_creation_alerts") or []
    if run is not None:
        out += [f"This run raised {len(alerts)} alert(s)" + (":" if alerts else "."), ""]
        for item in alerts:
            ident = f"doi:{item['doi']}" if item["doi"] else f"PMID {item['pmid']}"
            passage = f" — \"{item['evidence'][0]}\"" if item["evidence"] else ""
            out.append(f"- alert {item['alert_id']} (score {item['score']:g}): {item['title']} "
                       f"({item['year']}; {ident}){passage}")
        if alerts:
            out.append("")
    out += ["## Figures", "",
            f"![Fig. 2: included studies per year]({pngs[figures.FIG2]})", "",
            f"![Fig. 3: included studies per region and period]({pngs[figures.FIG3]})", "",
            f"![Fig. 4: main research focus]({pngs[figures.FIG4]})", ""]
    out += ["## Tables", "",
            "Counts are of included studies; percentages are of the studies coded for the field "
            "(one decimal, rounded half-up). *baseline* = the published review, *new* = added "
            "since, *all* = both.", ""]
    for key, table in summaries.tables.items():
        out += [f"### {table.title}", "",
                f"Studies: {table.coverage()}."
                + (f" {table.note}" if table.note else ""), "",
                _field_table_markdown(table), "",
                f"CSV: [{csv[key]}]({csv[key]})", ""]
    out += ["## Comparison with the published numbers", "",
            "The baseline's recomputed numbers against the article's. They can match only when "
            "the store holds all 172 studies, coded; until then a number is *incomplete* "
            "(or *exceeds published*, which deserves a look at the coding). Known errata in the "
            "article are compared with their reconstruction (see "
            "data/seed/published_summary.json, consistency_checks).", "",
            markdown_table(["figure", "printed", "expected", "recomputed", "coded / included",
                            "status", "note"],
                           [[c.figure_id, c.printed, c.expected, c.recomputed,
                             f"{c.coded} / {c.included}", c.status, c.note]
                            for c in comparisons]), "",
            f"CSV: [{csv['published_comparison']}]({csv['published_comparison']})", ""]
    out += ["## Data problems", ""]
    out += [f"- {p}" for p in summaries.problems] or ["None found."]
    out.append("")
    return "\n".join(out)


def _changes_markdown(changes: dict[str, Any], previous: dict[str, Any] | None,
                      summaries: Summaries) -> list[str]:
    if previous is None:
        return ["## What changed", "", "This is the first version written here: there is no "
                "earlier version to compare with.", ""]
    out = [f"## What changed since version {changes['previous_version']}", ""]
    before = changes["included_before"]
    out.append(f"Included studies: {before.get('all', '?')} then, {summaries.included['all']} "
               f"now ({before.get('new', '?')} → {summaries.included['new']} new).")
    out.append("")
    studies = changes["new_included_studies"]
    out.append(f"**New included studies ({len(studies)}):**" if studies
               else "**New included studies:** none.")
    for study in studies[:LISTED]:
        year = f" ({study['year']})" if study.get("year") else ""
        doi = f", doi:{study['doi']}" if study.get("doi") else ""
        out.append(f"- {study.get('title') or '(no title)'}{year}{doi} "
                   f"[record {study['record_id']}]")
    if len(studies) > LISTED:
        out.append(f"- … and {len(studies) - LISTED} more (summary.json lists them all)")
    if changes["no_longer_included"]:
        out += ["", f"**No longer included** (records {changes['no_longer_included']}): a "
                "decision was undone or changed, or the record was merged as a duplicate."]
    candidates = changes["new_candidates"]
    out += ["", f"**New candidates queued for screening ({len(candidates)}):**" if candidates
            else "**New candidates queued for screening:** none."]
    titles = changes["new_candidate_titles"]
    for record_id in candidates[:LISTED]:
        out.append(f"- {titles.get(record_id) or '(no title)'} [record {record_id}]")
    if len(candidates) > LISTED:
        out.append(f"- … and {len(candidates) - LISTED} more")
    changed = changes["changed_counts"]
    out += ["", f"**Changed counts ({len(changed)}):**" if changed
            else "**Changed counts:** none."]
    if changed:
        out += ["", markdown_table(["count (all studies)", "before", "now", "change"],
                                   [[c["count"], c["before"], c["now"],
                                     f"{c['now'] - c['before']:+d}"] for c in changed])]
    out.append("")
    return out
