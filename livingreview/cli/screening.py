"""Commands: queue, screen, decide, undo, conflicts, agreement, second-sample, chart ...,
export-queue, import-decisions, export-included (screening and charting)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from livingreview.config import Settings
from livingreview.cli.output import console, err, show, table
from livingreview.errors import LivingReviewError


STAGE_HELP = "Screening stage: title_abstract or full_text"


class Stage(str, Enum):
    # The two values of livingreview.screening.status.STAGES (tests/test_cli_help.py checks).
    title_abstract = "title_abstract"
    full_text = "full_text"


class Decision(str, Enum):
    include = "include"
    exclude = "exclude"
    maybe = "maybe"


def _reason_epilog() -> str:
    from livingreview.screening.eligibility import REASON_CODES

    # \b keeps click from re-wrapping the list into one paragraph.
    return "\b\nReason codes (--reason):\n" + "\n".join(
        f"  {code:<25} {text}" for code, text in REASON_CODES.items())


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _url() -> str:
    from livingreview.store.database import require_schema

    url = Settings.from_env().database_url
    require_schema(url)
    return url


def _review() -> dict:
    """review.toml, or nothing when there is none (the commands then use their defaults)."""
    from livingreview.config import load_review

    try:
        return load_review(Settings.from_env().review_file)
    except LivingReviewError:
        return {}


def _screening_settings() -> dict:
    return _review().get("screening", {})


def _stage(value: Optional[Stage]) -> Optional[str]:
    return None if value is None else Stage(value).value


def queue(reviewer: Optional[str] = typer.Option(None, help="Show what this reviewer should screen"),
          stage: Optional[Stage] = typer.Option(None, help=STAGE_HELP),
          limit: int = typer.Option(50, help="Show at most this many rows (0: all)")) -> None:
    """List the candidates waiting for a decision, highest priority first."""
    from livingreview.screening.priority import remaining_relevant
    from livingreview.screening.status import pending_candidates
    from livingreview.screening.stopping import MIN_DECISIONS, MIN_INCLUSIONS
    from livingreview.store.database import session_scope
    from livingreview.store.models import StoredRecord

    try:
        url = _url()
        with session_scope(url) as session:
            items = pending_candidates(session, reviewer=reviewer, stage=_stage(stage))
            rows = table("record", "stage", "rank", "status", "title", "flags",
                         title=f"Pending for {reviewer}" if reviewer else "Pending")
            # Titles take the width the terminal has and end in an ellipsis when cut.
            rows.columns[4].overflow, rows.columns[4].no_wrap = "ellipsis", True
            ranked = [i for i in items if i.priority is not None]
            rank = {(i.record_id, i.stage): n for n, i in enumerate(ranked, 1)}
            for item in items[:limit or None]:
                record = session.get(StoredRecord, item.record_id)
                rows.add_row(str(item.record_id), item.stage,
                             str(rank.get((item.record_id, item.stage), "-")),
                             (item.outcome or "new") + (" (2nd)" if item.second_reviewer else ""),
                             record.title or "", ", ".join(item.flags))
            estimate, decided, unscreened = remaining_relevant(session)
    except LivingReviewError as exc:
        _fail(str(exc))
    if not items:
        console.print("Nothing is waiting for a decision"
                      + (f" by {reviewer}" if reviewer else "") + ".")
    else:
        console.print(rows)
        console.print(f"{len(items)} pending" + (f", {limit} shown" if limit and len(items) > limit
                                                 else "")
                      + ". rank: the prioritisation model's order of likely relevance "
                        f"(1 = most likely of {len(ranked)} ranked; - = not ranked yet).")
    if estimate is not None:
        console.print(f"Stopping aid: {estimate.describe()}")
    else:
        console.print(f"Stopping aid: not yet ({decided} title/abstract decisions so far; it needs "
                      f"{MIN_DECISIONS} with {MIN_INCLUSIONS} inclusions). {unscreened} unscreened.")


def screen(reviewer: str = typer.Option(..., help="Your name, recorded with every decision"),
           stage: Optional[Stage] = typer.Option(None, help=STAGE_HELP + " (default: both)"),
           resolve: bool = typer.Option(False, help="Resolve conflicts instead of screening")) -> None:
    """Screen interactively: one key per decision (i, e + reason, m, u undo, s skip, q quit)."""
    from livingreview.screening.screener import Screener

    try:
        Screener(_url(), reviewer, stage=_stage(stage), resolve=resolve).run()
    except LivingReviewError as exc:
        _fail(str(exc))


def decide(record_id: int = typer.Argument(..., help="Record id (see `livingreview queue`)"),
           decision: Decision = typer.Argument(..., help="include, exclude or maybe"),
           reviewer: str = typer.Option(..., help="Who decides"),
           stage: Stage = typer.Option(Stage.title_abstract, help=STAGE_HELP),
           reason: Optional[str] = typer.Option(None, help="Reason code, required to exclude "
                                                "(the codes are listed below)"),
           note: Optional[str] = typer.Option(None, help="Free-text note"),
           resolve: bool = typer.Option(False, help="This decision resolves a conflict")) -> None:
    """Record one decision (for scripts; `screen` is the interactive way)."""
    from livingreview.screening.status import record_decision
    from livingreview.store.database import session_scope

    try:
        with session_scope(_url()) as session:
            row = record_decision(session, record_id, _stage(stage), decision.value, reviewer,
                                  reason_code=reason, note=note, resolution=resolve)
            shown = f"{row.decision}" + (f" ({row.reason_code})" if row.reason_code else "")
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"Recorded {shown} by {reviewer} on record {record_id} ({_stage(stage)}).")


def undo(record_id: int = typer.Argument(..., help="Record id (see `livingreview queue`)"),
         reviewer: str = typer.Option(..., help="Whose latest decision to take back"),
         stage: Stage = typer.Option(Stage.title_abstract, help=STAGE_HELP)) -> None:
    """Take back your latest decision on a record (the log keeps both events)."""
    from livingreview.screening.status import undo_last_decision
    from livingreview.store.database import session_scope

    try:
        with session_scope(_url()) as session:
            undo_last_decision(session, record_id, _stage(stage), reviewer)
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"Undid {reviewer}'s latest {_stage(stage)} decision on record {record_id}.")


def conflicts_command(stage: Optional[Stage] = typer.Option(None, help=STAGE_HELP)) -> None:
    """List disagreements waiting for a resolution (`screen --resolve` or `decide --resolve`)."""
    from livingreview.screening.status import conflicts
    from livingreview.store.database import session_scope
    from livingreview.store.models import StoredRecord

    try:
        with session_scope(_url()) as session:
            found = conflicts(session, _stage(stage))
            rows = table("record", "stage", "votes", "title", title="Conflicts")
            for record_id, name, outcome in found:
                votes = "; ".join(f"{v.reviewer}: {v.decision}"
                                  + (f" {v.reason_code}" if v.reason_code else "")
                                  for v in outcome.votes.values())
                rows.add_row(str(record_id), name, votes,
                             session.get(StoredRecord, record_id).title or "")
            rows.columns[3].overflow, rows.columns[3].no_wrap = "ellipsis", True
    except LivingReviewError as exc:
        _fail(str(exc))
    show(rows, "No conflicts are waiting for a resolution.")
    if found:
        console.print(f"{len(found)} conflict(s).")


def agreement_command() -> None:
    """Cohen's kappa per stage and per reviewer pair (double-screened records)."""
    from livingreview.screening.agreement import agreement
    from livingreview.store.database import session_scope

    try:
        with session_scope(_url()) as session:
            pairs = agreement(session)
    except LivingReviewError as exc:
        _fail(str(exc))
    rows = table("stage", "reviewers", "records", "agreement", "kappa", "disagreements",
                 title="Inter-rater agreement (Cohen's kappa)")
    for row in pairs:
        rows.add_row(row.stage, " / ".join(row.reviewers), str(row.records),
                      f"{row.observed_agreement:.1%}",
                      "undefined" if row.kappa is None else f"{row.kappa:.3f}",
                      str(row.disagreements))
    show(rows, "No record has been screened by two people yet.")


def second_sample(run: Optional[int] = typer.Option(None, help="Sample this run's candidates "
                                                              "(default: every unsampled one)"),
                  fraction: Optional[float] = typer.Option(None, help="Share for a second "
                                                           "reviewer (review.toml default)"),
                  seed: Optional[int] = typer.Option(None, help="Random seed (review.toml)")) -> None:
    """Draw the random share of candidates that a second reviewer screens too."""
    from livingreview.screening.agreement import DEFAULT_FRACTION, DEFAULT_SEED, assign_second_reviewers
    from livingreview.store.database import session_scope

    config = _screening_settings()
    fraction = config.get("second_reviewer_fraction", DEFAULT_FRACTION) if fraction is None else fraction
    seed = config.get("seed", DEFAULT_SEED) if seed is None else seed
    try:
        with session_scope(_url()) as session:
            sample = assign_second_reviewers(session, run, float(fraction), int(seed))
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"{len(sample.selected)} of {len(sample.pool)} candidate(s) go to a second "
                  f"reviewer (fraction {sample.fraction}, seed {sample.seed}; recorded on run "
                  f"{sample.run_id}).")


chart_app = typer.Typer(help="Chart the included studies with the review's coding scheme.",
                        no_args_is_help=True)


@chart_app.command("export")
def chart_export(path: Path = typer.Argument(..., help="CSV file to write")) -> None:
    """Write the charting sheet: one row per included study, one column per scheme field, and
    the detector's suggested involvement and role type (with their evidence) for newly included
    studies not yet coded; suggestions are never imported as codes."""
    from livingreview.cocreation.detector import DetectorConfig
    from livingreview.screening.charting import export_charting
    from livingreview.store.database import session_scope

    try:
        config = DetectorConfig.from_review(_review())
        with session_scope(_url()) as session:
            rows = export_charting(session, path, detector=config)
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"Wrote {rows} included stud{'y' if rows == 1 else 'ies'} to {path}. "
                  "Multi-valued cells use ' | '; allowed values: `livingreview chart scheme`.")


@chart_app.command("import")
def chart_import(path: Path = typer.Argument(..., help="CSV sheet written by `chart export`"),
                 coder: str = typer.Option(..., help="Who coded the changes")) -> None:
    """Read a charting sheet back; every cell is checked, nothing is imported if one is bad."""
    from livingreview.screening.charting import import_charting
    from livingreview.store.database import session_scope

    try:
        with session_scope(_url()) as session:
            result = import_charting(session, path, coder)
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"Checked {result.rows} row(s): {result.fields_changed} field(s) changed in "
                  f"{len(result.changed_records)} stud{'y' if len(result.changed_records) == 1 else 'ies'}"
                  f", {result.values_written} value(s) written by {coder}.")


@chart_app.command("scheme")
def chart_scheme() -> None:
    """Show the charting fields and their allowed values."""
    from livingreview.screening.scheme import FIELDS, allowed_text

    rows = table("field", "values", "allowed",
                 title="Charting scheme (docs/coding-scheme.md §2, field dictionary)")
    for spec in FIELDS.values():
        rows.add_row(spec.name, "several" if spec.multi else "one", allowed_text(spec.name))
    console.print(rows)


def export_queue(fmt: str = typer.Argument(..., metavar="TOOL", help="rayyan or asreview"),
                 path: Path = typer.Argument(..., help="CSV file to write"),
                 stage: Stage = typer.Option(Stage.title_abstract, help=STAGE_HELP),
                 reviewer: Optional[str] = typer.Option(None, help="Only what this reviewer "
                                                        "has not screened")) -> None:
    """Export the pending queue for screening in Rayyan or ASReview LAB."""
    from livingreview.screening.exchange import export_queue as write

    from livingreview.store.database import session_scope

    try:
        with session_scope(_url()) as session:
            rows = write(session, path, fmt.lower(), _stage(stage), reviewer)
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"Wrote {rows} row(s) for {fmt} to {path}.")


def import_decisions(fmt: str = typer.Argument(..., metavar="TOOL", help="rayyan or asreview"),
                     path: Path = typer.Argument(..., help="The tool's CSV export"),
                     stage: Stage = typer.Option(Stage.title_abstract, help=STAGE_HELP),
                     reviewer: Optional[str] = typer.Option(None, help="Who decided (required "
                                                            "for ASReview; overrides Rayyan's names)"),
                     reason_map: list[str] = typer.Option([], "--reason-map", help="'tool reason="
                                                          "EX_CODE', repeatable"),
                     default_reason: Optional[str] = typer.Option(None, help="Reason code for "
                                                                  "exclusions without one")) -> None:
    """Record the decisions made in Rayyan or ASReview LAB (all or nothing)."""
    from livingreview.screening.exchange import import_decisions as read
    from livingreview.store.database import session_scope

    mapping = {}
    for entry in reason_map:
        if "=" not in entry:
            _fail(f"--reason-map {entry!r} has no '='. Fix: write it as 'wrong population=EX_AGE_POPULATION'")
        text, code = entry.rsplit("=", 1)
        mapping[text] = code
    try:
        with session_scope(_url()) as session:
            result = read(session, path, fmt.lower(), stage=_stage(stage), reviewer=reviewer,
                          reason_map=mapping, default_reason=default_reason)
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"{result.recorded} decision(s) recorded, {result.unchanged} already there "
                  f"({result.rows} row(s); reviewers: {', '.join(sorted(result.reviewers)) or '-'}).")


def export_included(path: Path = typer.Argument(..., help="File to write: .ris or .bib")) -> None:
    """Export the included studies as RIS (EndNote, Zotero) or BibTeX (Zotero, LaTeX)."""
    from livingreview.screening.exchange import export_included as write
    from livingreview.store.database import session_scope

    try:
        with session_scope(_url()) as session:
            count = write(session, path)
    except LivingReviewError as exc:
        _fail(str(exc))
    console.print(f"Wrote {count} included stud{'y' if count == 1 else 'ies'} to {path}.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("queue")(queue)
    app.command("screen")(screen)
    app.command("decide", epilog=_reason_epilog())(decide)
    app.command("undo")(undo)
    app.command("conflicts")(conflicts_command)
    app.command("agreement")(agreement_command)
    app.command("second-sample")(second_sample)
    app.command("export-queue")(export_queue)
    app.command("import-decisions")(import_decisions)
    app.command("export-included")(export_included)
    app.add_typer(chart_app, name="chart")
