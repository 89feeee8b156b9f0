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


def versions_command() -> None:
    """List the review versions written so far: number, date, run, window, studies."""
    from livingreview.summaries.history import versions

    settings = Settings.from_env()
    try:
        rows = versions(settings.report_dir)
    except LivingReviewError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if not rows:
        typer.echo(f"no report versions in {settings.report_dir} yet", err=True)
    for row in rows:
        window = " to ".join(str(d) for d in row["window"] if d) or "no update run"
        included = row["included"]
        typer.echo(f"v{row['version']}  {row['generated_at'] or '?'}  run {row['run'] or '-'}  "
                   f"{window}  {included.get('all', '?')} studies "
                   f"({included.get('baseline', '?')} published + {included.get('new', '?')} "
                   f"new; {row['new_included_studies']} newly included in this version)")


def diff_command(old: int = typer.Argument(..., min=1, help="The earlier version."),
                 new: int = typer.Argument(..., min=1, help="The later version.")) -> None:
    """Say what changed between two review versions: studies in and out, every count that
    moved."""
    from livingreview.summaries.history import diff

    settings = Settings.from_env()
    try:
        change = diff(settings.report_dir, old, new)
    except LivingReviewError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"version {old} -> version {new}")
    for label, key in (("studies in", "studies_in"), ("studies out", "studies_out")):
        typer.echo(f"{label}: {len(change[key])}")
        for study in change[key]:
            typer.echo(f"  record {study['record_id']}: {study.get('title') or '(no title)'}"
                       + (f" doi:{study['doi']}" if study.get("doi") else ""))
    typer.echo(f"counts that moved: {len(change['counts'])}")
    for key, (before, after) in change["counts"].items():
        typer.echo(f"  {key}: {before} -> {after}")


def register(app: typer.Typer) -> None:
    """Add ``report``, ``versions`` and ``diff`` to the app."""
    app.command("report")(report_command)
    app.command("versions")(versions_command)
    app.command("diff")(diff_command)
