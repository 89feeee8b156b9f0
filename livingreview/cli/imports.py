"""Command: import (load a RIS, BibTeX, PubMed .nbib or CSV file into the corpus)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from livingreview.config import Settings
from livingreview.cli.output import console, err, show, table
from livingreview.errors import LivingReviewError



class FileFormat(str, Enum):
    ris = "ris"
    bibtex = "bibtex"
    nbib = "nbib"
    csv = "csv"


class IdentifiedVia(str, Enum):
    database = "database"
    reference_list = "reference_list"
    expert = "expert"
    scanning = "scanning"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_command(
        file: Path = typer.Argument(..., help="The file: .ris, .bib, .nbib, .txt (PubMed format) or .csv"),
        format: Optional[FileFormat] = typer.Option(
            None, "--format", help="The file's format when its extension does not say it"),
        included: bool = typer.Option(
            False, "--included", help="Mark every study in the file as an included study of the review"),
        identified_via: Optional[IdentifiedVia] = typer.Option(
            None, "--identified-via", help="How these studies were found (for PRISMA)"),
    ) -> None:
        """Load a bibliographic file into the corpus; the same file imported again adds nothing."""
        from livingreview.corpus_import import import_file

        settings = Settings.from_env()
        try:
            result = import_file(settings.database_url, file,
                                 format=format.value if format else None, included=included,
                                 identified_via=identified_via.value if identified_via else None,
                                 progress=True)
        except LivingReviewError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            err.print("Nothing was imported.", highlight=False)
            raise typer.Exit(1) from None
        for note in result.notes:
            err.print(f"[yellow]warning:[/] {note}", highlight=False, soft_wrap=True)
        console.print(
            f"{file.name} ({result.format}): {_count(result.records, 'record')} read; "
            f"{result.added} added to the corpus, {result.already_present} already present, "
            f"{_count(result.duplicates_linked, 'duplicate')} linked"
            + (f", {_count(result.possible_duplicates, 'possible duplicate')} to check"
               if result.possible_duplicates else "")
            + (f"; {_count(result.included, 'study', 'studies')} newly marked included"
               if included else "")
            + ".", highlight=False, soft_wrap=True)
