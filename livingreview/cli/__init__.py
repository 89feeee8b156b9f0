"""The ``livingreview`` command line.

Each area registers its commands from its own module so that no single file grows into a
catch-all; this module only assembles them.
"""

from __future__ import annotations

import typer

from livingreview.cli import (
    corpus,
    dedup,
    detect,
    imports,
    operations,
    parse,
    report,
    screening,
    search,
    simulate,
)

app = typer.Typer(
    name="livingreview",
    help="Keep a published literature review current.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (corpus, parse, dedup, detect, screening, simulate, imports, report, search,
                operations):
    _module.register(app)


def main() -> None:
    from livingreview.config import Settings, protect_logs

    protect_logs(Settings.from_env())
    app()
