"""Commands about the search itself: ``strategy`` (a source's local strategy applied to a file)
and ``recall`` (does the configured search find the corpus's included studies?)."""

from __future__ import annotations

from pathlib import Path

import typer

LOCAL_SOURCES = ("crossref", "openalex")


def _fail(command: str, message: str, code: int = 1) -> None:
    typer.echo(f"livingreview {command}: {message}", err=True)
    raise typer.Exit(code=code)


def strategy_command(
    source: str = typer.Argument(..., help=f"A source without Boolean search: {', '.join(LOCAL_SOURCES)}."),
    records: Path = typer.Argument(..., help="CSV with record_id,title,abstract[,keywords].",
                                   metavar="RECORDS.csv"),
    out: Path = typer.Option(..., "--out", help="Where to write record_id,kept,failed_blocks.",
                             metavar="KEPT.csv"),
    variant: str = typer.Option(None, "--variant", help="faithful or extended; default: the "
                                "variant review.toml names for the source."),
) -> None:
    """Apply a source's local search strategy (P AND C AND S) to a file of records."""
    from livingreview.config import Settings, load_review
    from livingreview.errors import ConfigError, InputError
    from livingreview.strategy import apply_to_file, local_strategy, source_variant

    name = source.strip().lower()
    if name not in LOCAL_SOURCES:
        _fail("strategy", f"{source!r} has no local strategy (PubMed and Europe PMC run the "
              f"query themselves). Fix: name one of {', '.join(LOCAL_SOURCES)}", 2)
    try:
        review = load_review(Settings.from_env().review_file)
        chosen = local_strategy(review, variant or source_variant(review, name))
        counts = apply_to_file(chosen, records, out)
    except (ConfigError, InputError) as exc:
        _fail("strategy", str(exc))
    typer.echo(f"{name} ({chosen.variant}): kept {counts['kept']} of {counts['records']} records "
               f"({counts['needs_abstract']} without an abstract, kept for want of one) -> {out}")


def recall_command(
    source: list[str] = typer.Option(None, "--source", help="Only this source (repeatable)."),
    out: Path = typer.Option(None, "--out", help="Also write the per-study table as CSV."),
) -> None:
    """Does the configured search retrieve the corpus's included studies? Per source and study."""
    from livingreview.config import Settings, load_review
    from livingreview.errors import ConfigError, SourceError, StoreError
    from livingreview.recall import known_studies, measure_recall, recall_table, write_recall_csv
    import httpx

    from livingreview.store.database import session_scope

    settings = Settings.from_env()
    try:
        review = load_review(settings.review_file)
        with session_scope(settings.database_url) as session:
            studies = known_studies(session)
        headers = {"User-Agent": f"livingreview/0.1 (mailto:{settings.contact_email})"}
        with httpx.Client(timeout=settings.http_timeout, headers=headers,
                          follow_redirects=True) as http:
            result = measure_recall(settings, review, studies, http, lambda raw: None,
                                    only=source or None)
    except (ConfigError, SourceError, StoreError) as exc:
        _fail("recall", str(exc))
    typer.echo(recall_table(result))
    if out is not None:
        write_recall_csv(result, out)
        typer.echo(f"per-study table -> {out}")


def register(app: typer.Typer) -> None:
    app.command("strategy")(strategy_command)
    app.command("recall")(recall_command)
