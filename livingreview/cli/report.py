"""Command: ``livingreview report`` (write the review's report again, between monthly runs)."""

from __future__ import annotations

from typing import Optional

import typer

from livingreview.config import Settings, load_review
from livingreview.errors import LivingReviewError


def report_command(
    run: Optional[int] = typer.Option(None, "--run", help="The update run to report on "
                                                          "(default: the latest that succeeded)."),
    version: Optional[int] = typer.Option(None, "--report-version", min=1,
                                          help="Report version number to write (default: the "
                                               "next one; an existing version is replaced "
                                               "whole)."),
    old_version: Optional[int] = typer.Option(None, "--version", min=1, hidden=True,
                                              help="Deprecated name of --report-version."),
) -> None:
    """Rewrite the report from the store as it is now (after screening decisions, imports or
    coding changed the numbers) as a new version in the report folder; print its path."""
    from livingreview.summaries.versions import rewrite_report_for

    if old_version is not None:
        # `livingreview --version` prints the program's version; this one is a report number.
        typer.echo("warning: report --version is deprecated; use --report-version", err=True)
        version = version if version is not None else old_version
    settings = Settings.from_env()
    try:
        paths = rewrite_report_for(settings, load_review(settings.review_file), run_id=run,
                                   version=version)
        summary = paths.summary
    except LivingReviewError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    about = f"update run {summary['run']['id']}" if summary["run"] else "no update run"
    typer.echo(f"report version {paths.version} ({about}; {summary['headline']})", err=True)
    typer.echo(str(paths.report_md))


def register(app: typer.Typer) -> None:
    """Add ``report`` to the app."""
    app.command("report")(report_command)
