"""Every command's --help as a user reads it: no type labels, one way of naming arguments,
help for every argument and option; and --help itself starts without the heavy libraries."""

from __future__ import annotations

import re
import subprocess
import sys

import typer.main
from typer.testing import CliRunner

from livingreview.cli import build_app
from livingreview.cli.helptext import value_name

JARGON = re.compile(r"<(bool|int|str|float|path|list\[[^\]]*\])>|\bint range\b|\[x[<>]=|"
                    r"\{[a-z_]+\}|\b(INTEGER|TEXT|BOOLEAN|FLOAT)\b")


def _commands(group, path=()):
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def test_every_help_is_plain_and_complete():
    app = build_app()
    root = typer.main.get_command(app)
    runner = CliRunner()
    walked = 0
    for path, command in [((), root), *_commands(root)]:
        result = runner.invoke(app, [*path, "--help"], prog_name="livingreview",
                               env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        assert not JARGON.search(result.output), (path, JARGON.search(result.output).group(0),
                                                  result.output)
        for param in command.params:
            if param.name != "help":
                assert (param.help or "").strip(), (path, param.name, "has no help")
            if param.param_type_name == "argument":
                # One style: capitals (RECORD_ID, FILE), a file interface's own name allowed (RECORDS.csv).
                assert re.fullmatch(r"[A-Z][A-Z0-9_]*(\.[a-z]+)?", value_name(param)), (path, param.name)
        walked += 1
    assert walked == 1 + len(list(_commands(root)))
    assert walked > 40  # every command and sub-command, not only the top level


def test_stage_takes_only_its_two_values():
    result = CliRunner().invoke(build_app("queue"),
                                ["queue", "--stage", "abstracts"], prog_name="livingreview")
    assert result.exit_code == 2
    assert "'abstracts' is not one of 'title_abstract', 'full_text'" in result.output


def test_decide_help_lists_the_reason_codes():
    from livingreview.screening.eligibility import REASON_CODES

    result = CliRunner().invoke(build_app("decide"),
                                ["decide", "--help"], prog_name="livingreview",
                                env={"COLUMNS": "200"})
    for code in REASON_CODES:
        assert code in result.output


def test_version():
    done = subprocess.run([sys.executable, "-m", "livingreview.cli", "--version"],
                          capture_output=True, text=True, check=True)
    from importlib.metadata import version

    assert done.stdout == f"livingreview {version('livingreview')}\n"


def test_help_imports_no_heavy_library():
    probe = ("import sys; sys.argv = ['livingreview', '--help']\n"
             "from livingreview.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pandas', 'numpy', 'sqlalchemy', 'httpx', 'prefect', "
             "'rich', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
