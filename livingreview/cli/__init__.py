"""The ``livingreview`` command line.

Each area registers its commands from its own module so that no single file grows into a
catch-all; this module only assembles them. A command's module is imported only when that
command runs (all of them for ``--help`` or an unknown name): importing every area pulls in
the HTTP clients, the store and the screening models, which would cost ``dedup-file`` and the
like more time than their work does.
"""

from __future__ import annotations

import importlib
import sys

import typer

# Command (or command group) -> the module of livingreview.cli that registers it.
# tests/test_cli_commands.py checks this against what the modules register.
COMMANDS = {
    "init": "corpus", "update": "corpus", "status": "corpus", "serve": "corpus", "demo": "corpus",
    "reparse": "corpus",
    "parse": "parse",
    "dedup-file": "dedup", "duplicates": "dedup",
    "detect": "detect", "alerts": "detect",
    "queue": "screening", "screen": "screening", "decide": "screening", "undo": "screening",
    "conflicts": "screening", "agreement": "screening", "second-sample": "screening",
    "export-queue": "screening", "import-decisions": "screening",
    "export-included": "screening", "chart": "screening",
    "simulate": "simulate",
    "import": "imports",
    "report": "report", "versions": "report", "diff": "report",
    "strategy": "search", "recall": "search",
    "backup": "operations", "restore": "operations",
}
MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def build_app(command: str | None = None) -> typer.Typer:
    """The app with the commands of ``command``'s module, or with every command."""
    from livingreview.cli.helptext import PlainGroup, plain_help

    app = typer.Typer(
        name="livingreview",
        help="Keep a published literature review current.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: see livingreview/cli/helptext.py
        cls=PlainGroup,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                     help="Print livingreview's version and exit."),
        demo: bool = typer.Option(
            False, "--demo",
            help="Work on the demo store that `make demo` fills (data/demo, reports/demo) "
                 "instead of the living review's, e.g. `livingreview --demo screen --reviewer "
                 "NAME`."),
    ) -> None:
        # A callback keeps the command name required when only one module is loaded.
        """Keep a published literature review current."""
        if demo:
            import os

            from livingreview.config import Settings
            from livingreview.demo_store import demo_environment

            os.environ.update(demo_environment(Settings.from_env().home))

    for name in ((COMMANDS[command],) if command in COMMANDS else MODULES):
        importlib.import_module(f"livingreview.cli.{name}").register(app)
    plain_help(app)
    return app


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"livingreview {version('livingreview')}")
        raise typer.Exit()


def _command_name(argv: list[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main() -> None:
    from livingreview.config import Settings, apply_prefect_defaults, protect_logs

    apply_prefect_defaults()
    protect_logs(Settings.from_env())
    build_app(_command_name(sys.argv[1:]))()


def __getattr__(name: str):
    # ``from livingreview.cli import app``: the whole app, built on first use (tests, tools).
    if name == "app":
        globals()["app"] = build_app()
        return globals()["app"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
