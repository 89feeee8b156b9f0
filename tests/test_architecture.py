"""The functional core never imports Prefect (tasks and flows wrap it; the CLI loads flows only
when a command runs one)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import livingreview


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(livingreview.__path__, "livingreview.")
                  if not m.name.endswith("__main__"))


def test_no_core_module_imports_prefect():
    code = ("import importlib, sys\n"
            f"for name in {_core_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
