"""The command line carries the project's Prefect settings however it is started (not only
under make), and sets them before Prefect is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_cli_sets_prefect_settings_before_prefect_is_imported(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PREFECT_") and k not in ("DO_NOT_TRACK", "LR_HOME")}
    env["LR_HOME"] = str(tmp_path)
    probe = ("import sys, os, json; sys.argv = ['livingreview', '--version']\n"
             "from livingreview.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "import flows\n"
             "from prefect.settings import get_current_settings\n"
             "s = get_current_settings()\n"
             "print(json.dumps([str(s.home), s.server.analytics_enabled, "
             "s.server.ephemeral.startup_timeout_seconds, os.environ['DO_NOT_TRACK']]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, check=True, cwd=tmp_path)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [
        str(tmp_path / ".prefect"), False, 60, "1"]


def test_settings_chosen_in_the_environment_win(tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "elsewhere"),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90"}
    probe = ("from livingreview.config import apply_prefect_defaults; apply_prefect_defaults()\n"
             "import os; print(os.environ['PREFECT_HOME'], "
             "os.environ['PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS'])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, check=True)
    assert done.stdout.split() == [str(tmp_path / "elsewhere"), "90"]
