"""Commands: init, update, status, serve, demo (the corpus and its monthly update)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from livingreview.config import Settings, load_review
from livingreview.cli.output import console, err, show, table
from livingreview.errors import LivingReviewError, SourceError


UNREACHABLE_HINT = (
    "The live bibliographic APIs cannot be reached from this machine ({why}).\n"
    "Nothing was lost and no watermark moved. To see the monthly update work offline, against "
    "the bundled replay server of recorded responses, run:  make demo"
)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def init_store(settings: Settings) -> None:
    from livingreview.baseline import load_baseline
    from livingreview.store.database import redact_url, session_scope, upgrade

    review = load_review(settings.review_file)
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        result = load_baseline(session, review["review"]["baseline_cutoff"])
    where = redact_url(settings.database_url)
    if result is None:
        console.print(f"Corpus store at {where} is up to date; the baseline was already loaded.")
    else:
        console.print(
            f"Corpus store ready at {where}: baseline of {result.studies} included studies "
            f"(of {review['review']['baseline_included']} in the published review; import the "
            f"authors' data set {review['review']['data_set_doi']} for the rest), "
            f"{result.coded_values} coded values, dated {review['review']['baseline_cutoff']}.")


def preflight(settings: Settings, sources: list[str]) -> None:
    """Fail fast, naming `make demo`, when the APIs cannot be reached at all."""
    import httpx

    bases = {"pubmed": settings.pubmed_base_url + "/einfo.fcgi",
             "crossref": settings.crossref_base_url + "/works?rows=0",
             "openalex": settings.openalex_base_url + "/works?per-page=1",
             "europepmc": settings.europepmc_base_url + "/search?query=x&format=json&pageSize=1"}
    for source in sources:
        try:
            httpx.get(bases[source], timeout=15.0)
        except httpx.TransportError as exc:
            _fail(UNREACHABLE_HINT.format(why=f"{source}: {type(exc).__name__}: {exc}"), code=3)


def refuse_while_locked(settings: Settings) -> None:
    """Say at once, before Prefect starts, that another update is writing (the flow's own lock
    is what guarantees one writer; this spares the user a failed flow run)."""
    from datetime import timedelta

    from livingreview.store import locks
    from livingreview.store.database import session_scope

    with session_scope(settings.database_url) as session:
        locks.ensure_free(session, timedelta(minutes=settings.lock_stale_minutes))


def run_update(settings: Settings, since: date | None, until: date | None,
               sources: list[str] | None, check: bool = True) -> dict:
    from livingreview.harvest.windows import enabled_sources
    from livingreview.store.database import require_schema

    review = load_review(settings.review_file)
    chosen = enabled_sources(review, sources)  # a wrong --source fails here, before the flow
    require_schema(settings.database_url)
    refuse_while_locked(settings)
    if check:
        preflight(settings, chosen)
    from flows.update_review import update_review

    try:
        result = update_review(since=since, until=until, sources=sources)
    except SourceError as exc:
        cause = exc.__cause__ or exc
        if "connect" in type(cause).__name__.lower() or "ConnectError" in str(exc):
            _fail(UNREACHABLE_HINT.format(why=str(exc)), code=3)
        raise
    counts = result["counts"]
    console.print(f"[bold green]Update run {result['run_id']} succeeded.[/]")
    rows = table("source", "window", "identified", title="This run")
    for source, window in counts["windows"].items():
        rows.add_row(source, f"{window[0]} to {window[1]}",
                      str(counts.get("identified", {}).get(source, 0)))
    console.print(rows)
    intake, queue = counts["intake"], counts["queue"]
    console.print(f"{intake['already_known']} already known, {intake['duplicates_total']} "
                  f"duplicates linked, {queue['auto_excluded_total']} excluded by metadata rules, "
                  f"{queue['queued']} queued for screening, "
                  f"{counts['alerts']['co_creation']} co-creation alert(s).")
    console.print(f"Report version {result['report_version']}: "
                  f"{Path(result['report_directory']) / 'report.md'}")
    return result


def register(app: typer.Typer) -> None:
    @app.command()
    def init() -> None:
        """Create the corpus store and load the published review's included studies."""
        try:
            init_store(Settings.from_env())
        except LivingReviewError as exc:
            _fail(str(exc))

    @app.command()
    def update(
        since: Optional[str] = typer.Option(None, help="Start of the window (YYYY-MM-DD); default: each source's watermark"),
        until: Optional[str] = typer.Option(None, help="End of the window (YYYY-MM-DD); default: today"),
        source: Optional[list[str]] = typer.Option(None, "--source", help="Only these sources"),
        check: bool = typer.Option(True, help="Check that the APIs answer before starting"),
    ) -> None:
        """Run one update: harvest, deduplicate, queue, validate, summarise, alert."""
        try:
            run_update(Settings.from_env(), _date(since, "--since"), _date(until, "--until"),
                       source or None, check)
        except LivingReviewError as exc:
            _fail(str(exc))

    @app.command()
    def reparse(
        run_id: int = typer.Argument(..., help="The update run to rebuild (see `livingreview status`)"),
        out: Optional[Path] = typer.Option(None, help="Write the rebuilt records here (JSON lines)"),
    ) -> None:
        """Rebuild a run's records from its archived responses, without HTTP, and compare them with
        the stored ones (after a parser fix: which records it changes)."""
        import json

        from livingreview.harvest.reparse import reparse_run
        from livingreview.store.database import require_schema, session_scope

        settings = Settings.from_env()
        try:
            require_schema(settings.database_url)
            with session_scope(settings.database_url) as session:
                rebuilt, outcomes = reparse_run(session, settings, load_review(settings.review_file), run_id)
        except LivingReviewError as exc:
            _fail(str(exc))
        rows = table("source", "rebuilt", "stored by the run", "equal", "differing", "not rebuilt",
                     title=f"Run {run_id} re-parsed from its archive")
        for o in outcomes:
            rows.add_row(o.source, str(o.rebuilt), str(o.stored), str(o.equal), str(len(o.differing)),
                          str(len(o.missing)))
        console.print(rows)
        for o in outcomes:
            for label, ids in (("differs", o.differing), ("not rebuilt", o.missing)):
                if ids:
                    console.print(f"{o.source} {label}: {', '.join(ids[:20])}"
                                  + (f" (+{len(ids) - 20} more)" if len(ids) > 20 else ""))
        if out is not None:
            with out.open("w", encoding="utf-8") as handle:
                for records in rebuilt.values():
                    for record in records:
                        handle.write(json.dumps(record.to_dict(), default=str) + "\n")
        if any(o.differing or o.missing for o in outcomes):
            raise typer.Exit(1)

    @app.command()
    def status() -> None:
        """Show the runs, the watermarks and the screening queue."""
        from sqlalchemy import func, select

        from livingreview.store.database import require_schema, session_scope
        from livingreview.store.models import Candidate, DuplicateLink, UpdateRun, Watermark

        settings = Settings.from_env()
        try:
            require_schema(settings.database_url)
        except LivingReviewError as exc:
            _fail(str(exc))
        from livingreview.screening.status import merged_record_ids, pending_candidates
        from livingreview.store.models import StoredRecord

        with session_scope(settings.database_url) as session:
            stored = session.scalar(select(func.count()).select_from(StoredRecord))
            merged = len(merged_record_ids(session))
            console.print(f"Corpus: {stored - merged} records ({stored} stored, {merged} merged "
                          "into a duplicate).")
            # Update runs are numbered on their own (update 1, 2, ...); the store's run id stays
            # beside them because reports and logs name it.
            all_runs = list(session.scalars(select(UpdateRun).order_by(UpdateRun.id)))
            updates = [r for r in all_runs if r.kind == "update"]
            rows = table("update", "run id", "window", "status", "report", "started",
                         title="Update runs")
            for number, run in reversed(list(enumerate(updates, 1))[-12:]):
                rows.add_row(str(number), str(run.id),
                             f"{run.window_start or ''} to {run.window_end or ''}", run.status,
                             str(run.report_version or ""), f"{run.started_at:%Y-%m-%d %H:%M}")
            show(rows, "No update has run yet (`livingreview update`, or `make demo` offline).")
            others = table("run id", "kind", "what", "status", "started",
                           title="Other runs (baseline, imports, reports, samples)")
            for run in [r for r in all_runs if r.kind != "update"][-12:][::-1]:
                others.add_row(str(run.id), run.kind, _run_subject(run), run.status,
                               f"{run.started_at:%Y-%m-%d %H:%M}")
            show(others, "No other runs.")
            marks = table("source", "harvested until", "by run", title="Watermarks")
            for mark in session.scalars(select(Watermark)):
                marks.add_row(mark.source, str(mark.harvested_until), str(mark.run_id))
            show(marks, "No source has been harvested yet.")
            pending = len(pending_candidates(session))
            queued = session.scalar(select(func.count()).select_from(Candidate))
            console.print(f"{pending} candidate(s) wait for a screening decision (see "
                          f"`livingreview queue`); {queued} queued since the start.")
            undecided = session.scalar(select(func.count()).select_from(DuplicateLink)
                                       .where(DuplicateLink.status == "pending"))
            if undecided:
                console.print(f"{undecided} possible duplicate pair(s) wait for a person "
                              "(see `livingreview duplicates review`).")

    @app.command()
    def serve() -> None:
        """Serve the scheduled monthly deployment (needs a Prefect server: `make server`)."""
        from flows.schedule import serve_update

        serve_update(Settings.from_env())

    @app.command()
    def demo(
        fresh: bool = typer.Option(
            True, "--fresh/--keep",
            help="--fresh (the default) starts from an empty demo store, first moving the old "
                 "one and its reports to data/demo-backups/; --keep runs the scenario's updates "
                 "the demo store has not run yet"),
    ) -> None:
        """The monthly update, offline: two months of real peer-worker records from the bundled
        replay server, into the demo store (work on it with `livingreview --demo ...`)."""
        try:
            run_demo(fresh)
        except LivingReviewError as exc:
            _fail(str(exc))


def run_demo(fresh: bool) -> list[dict]:
    """Run the demo scenario's monthly updates on the demo store; the runs' results."""
    from sqlalchemy import func, select

    from livingreview.demo_store import back_up_demo_store, demo_environment
    from livingreview.replay.scenario import DEMO, scenario_runs
    from livingreview.replay.server import running_replay_server
    from livingreview.store.database import release_engine, session_scope
    from livingreview.store.models import Watermark

    home = Settings.from_env().home
    if fresh:
        # A connection left open would keep writing to the moved file, not to the new store.
        release_engine(demo_environment(home)["LR_DATABASE_URL"])
        kept = back_up_demo_store(home)
        if kept is not None:
            console.print(f"The previous demo store and its reports were moved to {kept} "
                          "(nothing deleted).")
    os.environ.update(demo_environment(home))
    Path(os.environ["LR_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    with running_replay_server(scenario=DEMO) as replay:
        os.environ.update(replay.environment())
        # Crossref's polite-pool pace (3 list requests/s) is for the public API; on loopback it
        # would only make the demo wait.
        os.environ.setdefault("LR_CROSSREF_RATE", "50")
        settings = Settings.from_env()
        console.print(f"Demo store: {settings.database_url.split('///', 1)[-1]}; replay server "
                      f"of real recorded peer-worker records at {replay.base_url}")
        init_store(settings)
        with session_scope(settings.database_url) as session:
            done = session.scalar(select(func.max(Watermark.harvested_until)))
        runs = [until for until in scenario_runs(DEMO) if done is None or until > done]
        if not runs:
            console.print("The demo store has run every update of the demo scenario already. "
                          "Run `livingreview demo` (without --keep) to start it afresh.")
            return []
        results = []
        for number, until in enumerate(runs, start=1):
            console.rule(f"Demo update {number} of {len(runs)}: records created up to {until}")
            results.append(run_update(settings, None, until, None, check=True))
    console.print(DEMO_NEXT_STEPS.format(report=Path(results[-1]["report_directory"]) / "report.md"))
    return results


DEMO_NEXT_STEPS = (
    "\nDemo report: {report}\n"
    "Screen the demo's candidates (decisions go to the demo store only):\n"
    "  livingreview --demo queue\n"
    "  livingreview --demo screen --reviewer YOUR-NAME"
)


def _run_subject(run) -> str:
    """What a non-update run was about: the imported file, the report version."""
    counts = run.counts or {}
    if run.kind == "import":
        return counts.get("file") or "(file not recorded)"
    if run.report_version:
        return f"report version {run.report_version}"
    return ""


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date. Fix: write it as YYYY-MM-DD", code=2)
    return None
