"""The deployment: every entrypoint imports, its schedule is the review's, and it registers and
runs on a real local Prefect server through a process worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml

from livingreview.config import load_review

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")


def _deployments() -> list[dict]:
    return yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())["deployments"]


FLOWS = {"monthly": "update-review", "backfill": "update-review", "report": "report-review",
         "recall-check": "check-search-recall"}


def test_the_deployments_are_the_ones_the_runbook_names():
    assert [d["name"] for d in _deployments()] == list(FLOWS)
    runbook = (ROOT / "deploy" / "README.md").read_text()
    for deployment, flow_name in FLOWS.items():
        assert f"{flow_name}/{deployment}" in runbook


@pytest.mark.parametrize("deployment", _deployments(), ids=lambda d: d["name"])
def test_every_deployment_entrypoint_imports_a_flow(deployment):
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
    assert isinstance(flow, Flow) and flow.name == FLOWS[deployment["name"]]


def test_deployment_schedule_is_the_reviews_schedule():
    schedule = load_review(ROOT / "review.toml")["schedule"]
    (deployed,) = _deployments()[0]["schedules"]
    assert (deployed["cron"], deployed["timezone"]) == (schedule["cron"], schedule["timezone"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise RuntimeError((tmp_path / "server.log").read_text())
        time.sleep(0.5)
    else:
        server.terminate()
        raise RuntimeError("Prefect server did not start:\n" + (tmp_path / "server.log").read_text())
    yield {**env, "PREFECT_API_URL": api}
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.mark.server
def test_monthly_deployment_registers_and_runs_through_a_worker(prefect_server, tmp_path):
    from livingreview.replay.server import running_replay_server

    env = {**prefect_server, "LR_HOME": str(ROOT),
           "LR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
           "LR_REPORT_DIR": str(tmp_path / "reports")}

    def prefect(*args: str, timeout: float = 120) -> str:
        done = subprocess.run([PREFECT, *args], env=run_env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    with running_replay_server(scenario="recordings") as replay:
        run_env = {**env, **replay.environment()}
        subprocess.run([sys.executable, "-m", "livingreview.cli", "init"], env=run_env, cwd=ROOT,
                       check=True, capture_output=True)
        prefect("work-pool", "create", "livingreview", "--type", "process")
        prefect("--no-prompt", "deploy", "--prefect-file", "deploy/prefect.yaml", "--all")

        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: prefect_server["PREFECT_API_URL"]}):
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("update-review/monthly")
                assert [s.schedule.cron for s in deployment.schedules] == ["0 6 1 * *"]
        prefect("deployment", "run", "update-review/monthly",
                "--param", f"until={date(2026, 11, 1).isoformat()}")
        prefect("worker", "start", "--pool", "livingreview", "--run-once", timeout=300)
        with temporary_settings({PREFECT_API_URL: prefect_server["PREFECT_API_URL"]}):
            with get_client(sync_client=True) as client:
                # the schedule has also created next month's runs; only the one asked for ran
                ran = [r for r in client.read_flow_runs() if not r.state.is_scheduled()]
                assert len(ran) == 1 and ran[0].state.is_completed(), [r.state for r in ran]
        assert (tmp_path / "reports" / "v0001" / "report.md").is_file()
        # Between monthly runs, the report deployment writes the next version through the gate.
        prefect("deployment", "run", "report-review/report")
        prefect("worker", "start", "--pool", "livingreview", "--run-once", timeout=300)
    assert (tmp_path / "reports" / "v0002" / "report.md").is_file()
