"""Commands: backup, restore (keeping the store safe over years of monthly runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from livingreview.config import Settings
from livingreview.errors import LivingReviewError


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def backup_command(
    folder: Optional[Path] = typer.Argument(
        None, help="Where to write the backup folder (default: backups/ in the project)."),
) -> None:
    """Copy the store and the raw-response archive, consistently, while runs may be writing;
    print the backup folder."""
    from livingreview.store.backup import backup
    from livingreview.store.database import require_schema

    settings = Settings.from_env()
    try:
        require_schema(settings.database_url)
        result = backup(settings.database_url, settings.archive_dir,
                        folder or settings.home / "backups")
    except LivingReviewError as exc:
        _fail(str(exc))
    rows = sum(result.tables.values())
    typer.echo(f"backed up {rows} rows in {len(result.tables)} tables "
               f"({result.tables.get('raw_responses', 0)} archived API responses)", err=True)
    typer.echo(str(result.directory))


def restore_command(
    folder: Path = typer.Argument(..., help="A folder written by `livingreview backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the current store without asking."),
) -> None:
    """Replace the store with a backup; the store it replaces is backed up first."""
    from livingreview.store.backup import read_manifest, restore

    settings = Settings.from_env()
    try:
        manifest = read_manifest(folder)
        rows = sum(manifest["tables"].values())
        if not yes and not typer.confirm(
                f"Replace the store with the backup of {manifest['created_at']} "
                f"({rows} rows)? The current store is backed up first", default=False):
            _fail("nothing restored (answer y, or pass --yes)")
        safety = restore(settings.database_url, settings.archive_dir, folder,
                         safety_root=settings.home / "backups")
    except LivingReviewError as exc:
        _fail(str(exc))
    kept = f"the store it replaced is kept in {safety.directory}" if safety else "there was no store to replace"
    typer.echo(f"restored {rows} rows from {folder}; {kept}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the app."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
