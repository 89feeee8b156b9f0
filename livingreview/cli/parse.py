"""Command ``livingreview parse SOURCE FILE``: print the Records in a saved API response.

One JSON object per record, one per line, with every Record field in the Record's own order,
so the output can be diffed between versions and piped into ``jq``. Maintainers rely on it
staying stable.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from livingreview.errors import InputError

# The sources parse names (kept here so --help does not import the parsers and their HTTP clients;
# tests/test_cli_help.py checks it against livingreview.sources.PARSERS).
SOURCES = ("crossref", "europepmc", "openalex", "pubmed")


def _fail(message: str, code: int) -> None:
    typer.echo(f"livingreview parse: {message}", err=True)
    raise typer.Exit(code=code)


def _read(path: Path) -> str:
    if not path.exists():
        raise InputError(str(path), "file", "no such file", "check the path")
    if path.is_dir():
        raise InputError(str(path), "file", "this is a folder, not a file", "name a response file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", "not UTF-8 text",
                         "pass the response body as saved from the API (UTF-8)") from None
    except OSError as exc:
        raise InputError(str(path), "file", f"cannot be read ({exc.strerror})",
                         "check the file's permissions") from None


def parse_command(
    source: str = typer.Argument(..., help=f"One of: {', '.join(SOURCES)}."),
    file: Path = typer.Argument(..., help="A saved response body (XML or JSON).", metavar="FILE"),
) -> None:
    """Print the records in a saved API response, one JSON object per line."""
    from livingreview.sources import PARSERS

    parser = PARSERS.get(source.strip().lower())
    if parser is None:
        _fail(f"unknown source {source!r}. Valid sources: {', '.join(sorted(PARSERS))}", 2)
    try:
        records = parser(_read(file), origin=str(file))
    except InputError as exc:
        _fail(str(exc), 1)
    for record in records:
        typer.echo(json.dumps(record.to_dict(), ensure_ascii=False))
    if not records:
        hint = (" (ESearch and EPost results list PMIDs only; the records come from EFetch)"
                if parser is PARSERS["pubmed"] else "")
        typer.echo(f"livingreview parse: {file}: no records in this {source} response{hint}",
                   err=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("parse")(parse_command)
