"""The command line loads only the module of the command it runs: the map it loads by must name
every command the modules register, and nothing else."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from livingreview.cli import COMMANDS, MODULES, build_app


def _registered(module: str) -> set[str]:
    app = typer.Typer()
    importlib.import_module(f"livingreview.cli.{module}").register(app)
    return ({c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
            | {g.name for g in app.registered_groups})


def test_command_map_names_exactly_what_each_module_registers():
    for module in MODULES:
        assert _registered(module) == {c for c, m in COMMANDS.items() if m == module}, module


def test_a_single_module_app_still_needs_the_command_name():
    app = build_app("dedup-file")
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == {"dedup-file", "duplicates"}


def test_dedup_file_does_not_import_the_heavy_libraries(tmp_path):
    records = tmp_path / "records.csv"
    records.write_text("ID,title,author,year\n1,A title of some length here,\"Smith, J\",2020\n"
                       "2,A title of some length here,\"Smith, J\",2020\n", encoding="utf-8")
    out = tmp_path / "groups.csv"
    probe = (
        "import sys; from livingreview.cli import main; sys.argv = ['livingreview', "
        f"'dedup-file', {str(records)!r}, '--out', {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'sklearn', 'prefect', 'sqlalchemy', 'httpx')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert out.read_text(encoding="utf-8").splitlines() == ["merged_ids", "1;2"]
