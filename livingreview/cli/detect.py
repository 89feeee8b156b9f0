"""Commands ``detect co-creation`` (flag a record file) and ``alerts`` (list the co-creation
alerts, confirm or dismiss them: the detector learns from these decisions)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from livingreview.errors import LivingReviewError

detect_app = typer.Typer(help="Run a detector over a record file.", no_args_is_help=True)
alerts_app = typer.Typer(help="Co-creation alerts: list them, confirm or dismiss them (the "
                              "detector learns from these decisions).", no_args_is_help=True)


def _fail(command: str, message: str, code: int = 1) -> None:
    typer.echo(f"livingreview {command}: {message}", err=True)
    raise typer.Exit(code)


def _store_detector(settings, config):
    """The detector the monthly alerts use: learned when the store has enough decisions."""
    from sqlalchemy import inspect

    from livingreview.cocreation.decisions import detector_for
    from livingreview.cocreation.detector import Detector
    from livingreview.store.database import engine_for, session_scope

    if settings.database_url.startswith("sqlite:///") and not Path(
            settings.database_url.removeprefix("sqlite:///")).exists():
        return Detector(config)
    if "alert_decisions" not in inspect(engine_for(settings.database_url)).get_table_names():
        return Detector(config)
    with session_scope(settings.database_url) as session:
        return detector_for(session, config)


@detect_app.command("co-creation")
def co_creation_command(
    records: Path = typer.Argument(..., help="CSV with record_id, title, abstract[, keywords].",
                                   metavar="RECORDS.csv"),
    out: Path = typer.Option(..., "--out", help="Where to write record_id,flagged,score,evidence.",
                             metavar="FLAGS.csv"),
    rules_only: bool = typer.Option(False, "--rules-only", help="Use the rules even when the "
                                    "store holds enough decided alerts to learn from."),
) -> None:
    """Flag the records that describe co-creation: peer workers in the early phases of the
    service cycle (commissioning and planning, design and development, governance). Each flag's
    evidence names the passages that carry it; the threshold is in review.toml."""
    from livingreview.cocreation.detector import Detector, DetectorConfig
    from livingreview.cocreation.files import read_texts, write_flags
    from livingreview.config import Settings, load_review

    try:
        settings = Settings.from_env()
        config = DetectorConfig.from_review(load_review(settings.review_file))
        texts = read_texts(records)
        detector = Detector(config) if rules_only else _store_detector(settings, config)
        flags = detector.detect(texts)
        write_flags(out, flags)
    except LivingReviewError as exc:
        _fail("detect co-creation", str(exc), code=2)
    flagged = sum(f.flagged for f in flags)
    typer.echo(f"{len(flags)} records: {flagged} flagged as co-creation ({detector.mode} mode, "
               + (f"threshold {config.threshold:g}" if detector.mode == "rules"
                  else f"learned from {len(detector.examples)} decided alerts")
               + f"); written to {out}")


def _session():
    from livingreview.config import Settings
    from livingreview.store.database import require_schema, session_scope

    settings = Settings.from_env()
    require_schema(settings.database_url)
    return session_scope(settings.database_url)


@alerts_app.command("list")
def list_command(
    status: Optional[str] = typer.Option(None, "--status", help="open, confirmed or dismissed "
                                         "(default: all)."),
) -> None:
    """The co-creation alerts raised so far, with the passages that carried each one."""
    from livingreview.cocreation.decisions import list_alerts

    if status not in (None, "open", "confirmed", "dismissed"):
        _fail("alerts list", f"--status {status!r}: use open, confirmed or dismissed", code=2)
    try:
        with _session() as session:
            views = list_alerts(session, status)
    except LivingReviewError as exc:
        _fail("alerts list", str(exc))
    if not views:
        typer.echo("no co-creation alerts" + (f" with status {status}" if status else ""))
        return
    for view in views:
        why = f" ({view.reason})" if view.reason else ""
        typer.echo(f"alert {view.id}  [{view.status}{why}]  record {view.record_id}  "
                   f"score {view.score:g} ({view.mode})  {view.title} ({view.year})")
        for item in view.evidence:
            if item.get("strength") == "actor":
                typer.echo(f"    {item['phase']}: \"{item['passage']}\"")


def _decide(command: str, alert_id: int, decision: str, by: Optional[str],
            why: Optional[str]) -> None:
    from livingreview.cocreation.decisions import decide

    try:
        with _session() as session:
            row = decide(session, alert_id, decision, by=by, why=why)
            who = row.decided_by
    except LivingReviewError as exc:
        _fail(command, str(exc))
    typer.echo(f"alert {alert_id} {decision} by {who}")


@alerts_app.command("confirm")
def confirm_command(
    alert_id: int = typer.Argument(..., metavar="ID", help="The alert's id (`alerts list`)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: the login)."),
    why: Optional[str] = typer.Option(None, "--why", help="Optional note."),
) -> None:
    """The record does describe co-creation."""
    _decide("alerts confirm", alert_id, "confirmed", by, why)


@alerts_app.command("dismiss")
def dismiss_command(
    alert_id: int = typer.Argument(..., metavar="ID", help="The alert's id (`alerts list`)."),
    why: str = typer.Option(..., "--why", help="Why it is not co-creation."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: the login)."),
) -> None:
    """The record does not describe co-creation."""
    _decide("alerts dismiss", alert_id, "dismissed", by, why)


def register(app: typer.Typer) -> None:
    """Add ``detect`` and ``alerts`` to the app."""
    app.add_typer(detect_app, name="detect")
    app.add_typer(alerts_app, name="alerts")
