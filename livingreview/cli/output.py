"""What the commands print with: rich consoles and tables, made on first use.

Importing rich costs more than a tenth of a second; ``livingreview --help`` imports every
command module and must not pay it, so the consoles here are built when something is printed.
"""

from __future__ import annotations

from functools import cache


class _LazyConsole:
    """Stands for ``rich.console.Console(**options)`` and builds it at its first use."""

    def __init__(self, **options) -> None:
        self._options = options

    @cache
    def _console(self):
        from rich.console import Console

        return Console(**self._options)

    def __getattr__(self, name: str):
        return getattr(self._console(), name)


console = _LazyConsole(highlight=False)
err = _LazyConsole(stderr=True, highlight=False)


def table(*columns: str, title: str | None = None):
    """A rich table with these column headings."""
    from rich.table import Table

    return Table(*columns, title=title)


def show(rows_table, when_empty: str) -> None:
    """Print the table, or a plain sentence when it has no rows (not an empty frame)."""
    console.print(rows_table if rows_table.row_count else when_empty)
