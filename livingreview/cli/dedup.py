"""Commands ``dedup-file`` (deduplicate a record file) and ``duplicates`` (review the corpus's
duplicate links: list, decide the pairs the update was unsure of, undo a merge)."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Optional

import typer

from livingreview.errors import LivingReviewError

duplicates_app = typer.Typer(
    help="Review duplicate links: decide the pairs the update was unsure of, undo a merge.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"livingreview: {message}", err=True)
    raise typer.Exit(code)


def dedup_file_command(
    records: Path = typer.Argument(..., help="Records CSV: bib-dedupe layout (ID, title, "
                                   "author, year, journal, volume, number, pages[, doi, "
                                   "abstract]) or ASySD layout (record_id, ...).",
                                   metavar="RECORDS.csv"),
    out: Path = typer.Option(..., "--out", help="Where to write the duplicate groups "
                             "(merged_ids column, ';'-joined IDs).", metavar="GROUPS.csv"),
    maybe: Optional[Path] = typer.Option(None, "--maybe", help="Also write the pairs a person "
                                         "should look at (left, right, method, score).",
                                         metavar="PAIRS.csv"),
) -> None:
    """Find the duplicate groups in a record file and write them as merged_ids rows."""
    from livingreview.dedup.match import cluster_table, dedupe_table
    from livingreview.dedup.record_files import read_record_file, write_groups
    from livingreview.dedup.table import RecordTable

    started = time.perf_counter()
    try:
        keyed = read_record_file(records)
    except LivingReviewError as exc:
        _fail(str(exc))
    table = RecordTable.from_records(keyed)
    matches = dedupe_table(table)
    clusters = cluster_table(table, matches)
    groups = clusters.groups
    write_groups(groups, out)
    maybe_pairs = [m for m in matches if m.zone == "maybe"]
    if maybe is not None:
        maybe.parent.mkdir(parents=True, exist_ok=True)
        with maybe.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["left", "right", "method", "score"])
            for m in maybe_pairs:
                writer.writerow([m.left, m.right, m.method, m.score])
    removed = sum(len(g) - 1 for g in groups)
    typer.echo(
        f"{len(keyed)} records: {len(groups)} duplicate groups ({removed} duplicates to remove), "
        f"{len(maybe_pairs)} pairs for a person; {time.perf_counter() - started:.2f} s. "
        f"Groups written to {out}" + (f", pairs to {maybe}" if maybe is not None else "")
    )


def _settings():
    from livingreview.config import Settings
    from livingreview.store.database import require_schema

    settings = Settings.from_env()
    require_schema(settings.database_url)
    return settings


def _describe(record) -> str:
    authors = "; ".join((record.authors or [])[:3]) + ("; ..." if len(record.authors or []) > 3
                                                        else "")
    where = " ".join(x for x in (
        record.journal or "", f"{record.year}" if record.year else "",
        f"vol {record.volume}" if record.volume else "", f"pp {record.pages}" if record.pages else "",
    ) if x)
    ids = " ".join(f"{k}:{v}" for k, v in (("doi", record.doi), ("pmid", record.pmid)) if v)
    return (f"  #{record.id} {record.title or '(no title)'}\n"
            f"      {authors or '(no authors)'} | {where or '(no venue)'}"
            + (f" | {ids}" if ids else ""))


def _show(view) -> None:
    link = view.link
    typer.echo(f"link {link.id}: {link.zone} by {link.method} (score {link.score:.3f}), "
               f"{link.status}, decided by {link.decided_by}")
    typer.echo(_describe(view.record))
    typer.echo(_describe(view.canonical))


@duplicates_app.command("list")
def list_command(
    status: str = typer.Option("pending", help="pending | merged | distinct | undone | all"),
) -> None:
    """List duplicate links (by default the pairs waiting for a person)."""
    from livingreview.dedup.review import links
    from livingreview.store.database import session_scope

    if status not in ("pending", "merged", "distinct", "undone", "all"):
        _fail(f"unknown status {status!r}; use pending, merged, distinct, undone or all", 2)
    with session_scope(_settings().database_url) as session:
        views = links(session, None if status == "all" else status)
        for view in views:
            _show(view)
        typer.echo(f"{len(views)} link(s) {status if status != 'all' else 'in all'}")


@duplicates_app.command("review")
def review_command(
    reviewer: str = typer.Option(..., "--reviewer", help="Who decides (recorded with each "
                                 "decision)."),
) -> None:
    """Decide the pending pairs one by one: same (s), different (d), skip (k) or quit (q)."""
    from livingreview.dedup.review import decide, link_view, links
    from livingreview.store.database import session_scope

    url = _settings().database_url
    with session_scope(url) as session:
        pending = [v.link.id for v in links(session)]
    if not pending:
        typer.echo("No pairs are waiting for a decision.")
        return
    decided = 0
    for position, link_id in enumerate(pending, start=1):
        with session_scope(url) as session:
            view = link_view(session, link_id)
            typer.echo(f"\n[{position}/{len(pending)}]")
            _show(view)
            answer = typer.prompt("same, different, skip or quit? [s/d/k/q]",
                                  default="k").strip().lower()[:1]
            if answer == "q":
                break
            if answer in ("s", "d"):
                decide(session, link_id, same=answer == "s", reviewer=reviewer)
                decided += 1
    typer.echo(f"{decided} decision(s) recorded.")


@duplicates_app.command("decide")
def decide_command(
    link_id: int = typer.Argument(..., help="The link's number (see `duplicates list`).",
                                  metavar="LINK"),
    same: bool = typer.Option(..., "--same/--different", help="Whether the two records are "
                              "the same work."),
    reviewer: str = typer.Option(..., "--reviewer", help="Who decides."),
    note: Optional[str] = typer.Option(None, help="Why (kept with the decision)."),
) -> None:
    """Decide one pending pair without the interactive loop."""
    from livingreview.dedup.review import decide
    from livingreview.store.database import session_scope

    try:
        with session_scope(_settings().database_url) as session:
            link = decide(session, link_id, same, reviewer, note)
            typer.echo(f"link {link.id}: {link.status} (decided by {reviewer})")
    except LivingReviewError as exc:
        _fail(str(exc))


@duplicates_app.command("undo")
def undo_command(
    link_id: int = typer.Argument(..., help="The merged link to reverse.", metavar="LINK"),
    reviewer: str = typer.Option(..., "--reviewer", help="Who decides."),
    note: Optional[str] = typer.Option(None, help="Why (kept with the decision)."),
) -> None:
    """Undo a merge: the record becomes visible again; the link is kept, marked undone."""
    from livingreview.dedup.review import undo
    from livingreview.store.database import session_scope

    try:
        with session_scope(_settings().database_url) as session:
            link = undo(session, link_id, reviewer, note)
            typer.echo(f"link {link.id}: {link.status} (decided by {reviewer}); "
                       f"record #{link.record_id} is visible again")
    except LivingReviewError as exc:
        _fail(str(exc))


@duplicates_app.command("history")
def history_command(
    link_id: int = typer.Argument(..., help="The link's number (see `duplicates list`).",
                                  metavar="LINK"),
) -> None:
    """Show a link and how it came to its status: each person's decision, oldest first."""
    from livingreview.dedup.review import link_view
    from livingreview.store.database import session_scope

    try:
        with session_scope(_settings().database_url) as session:
            view = link_view(session, link_id)
            _show(view)
            link, decisions = view.link, view.link.decisions
            for event in decisions:
                line = (f"{event.decided_at:%Y-%m-%d %H:%M} {event.reviewer}: "
                        f"{event.previous_status} -> {event.status}")
                typer.echo(line + (f" ({event.note})" if event.note else ""))
            typer.echo(f"now {link.status}; {len(decisions)} decision(s) by a person")
    except LivingReviewError as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("dedup-file")(dedup_file_command)
    app.add_typer(duplicates_app, name="duplicates")
