"""Secrets set to recognisable values are used (the keys reach the APIs, the alert reaches its
hook) and appear nowhere the system writes: the update's and the report's output and logs, the
report folder, Prefect's artifacts, logs and run records (read back through the Prefect client),
the Prefect home of the processes, the raw archive and every text column of the store.

A real `livingreview update` process against the replay server and the Prefect test harness's
API, then a real `livingreview report` process, both with their own PREFECT_HOME.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select

from tests.reliability.conftest import ROOT

NCBI_KEY = "ncbi-SWEEP-7f3e9a1c5b2d4e6f8a0b"
OPENALEX_KEY = "oax-SWEEP-2c4e6a8b0d1f3e5a7c9b"
HOOK_TOKEN = "hook-SWEEP-token-91b3d5f7a9c1e3"


def _secrets(hook: str) -> list[str]:
    return [NCBI_KEY, OPENALEX_KEY, HOOK_TOKEN, hook]


def _review_that_alerts(folder: Path) -> Path:
    """The project's review.toml with the co-creation threshold at 0, so the alert (and its
    hook URL) is exercised on the recorded demo candidates."""
    review = (ROOT / "review.toml").read_text(encoding="utf-8")
    assert "\nthreshold = 3.0\n" in review
    path = folder / "review.toml"
    path.write_text(review.replace("\nthreshold = 3.0\n", "\nthreshold = 0.0\n"), encoding="utf-8")
    return path


def _files(*roots: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


def _harness_database() -> Path:
    """The folder of the Prefect test harness's database (where the API keeps runs and logs)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url.get_secret_value()
    path = Path(url.split("///", 1)[1])
    assert path.is_file(), url
    return path.parent


def _store_text(url: str) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every column of the store."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    values = []
    with engine.connect() as connection:
        for name, table in sorted(meta.tables.items()):
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    elif not isinstance(value, str):
                        value = json.dumps(value, default=str)
                    values.append((name, column, value))
    engine.dispose()
    return values


async def _prefect_records() -> dict[str, list[str]]:
    """Everything the Prefect API holds about runs: artifacts, logs, flow and task runs,
    deployments, variables and blocks, each as JSON text."""
    from prefect.client.orchestration import get_client

    async def every(read, **kw) -> list:
        found, offset = [], 0
        while True:
            page = await read(limit=200, offset=offset, **kw)
            found += page
            if len(page) < 200:
                return found
            offset += 200

    async with get_client() as client:
        kinds = {
            "artifacts": await every(client.read_artifacts),
            "logs": await every(client.read_logs),
            "flow_runs": await every(client.read_flow_runs),
            "task_runs": await every(client.read_task_runs),
            "variables": await client.read_variables(),
            "blocks": await client.read_block_documents(include_secrets=True),
        }
    return {kind: [item.model_dump_json() for item in items] for kind, items in kinds.items()}


def test_secrets_never_appear_in_anything_an_update_and_a_report_write(make_project, receiver,
                                                                      replay_demo):
    hook = f"json://127.0.0.1:{receiver.server_port}/hooks/{HOOK_TOKEN}"
    project = make_project(LR_NCBI_API_KEY=NCBI_KEY, LR_OPENALEX_API_KEY=OPENALEX_KEY,
                           LR_NOTIFY_URLS=hook)
    project.env["PREFECT_HOME"] = str(project.root / "prefect-home")
    project.env["LR_REVIEW_FILE"] = str(_review_that_alerts(project.root))
    seen_before = len(replay_demo.requests)

    update = project.update()
    assert update.returncode == 0, update.stdout[-2000:] + update.stderr[-4000:]
    report = subprocess.run([sys.executable, "-m", "livingreview", "report"], cwd=ROOT,
                            env=project.env, capture_output=True, text=True, timeout=240)
    assert report.returncode == 0, report.stderr[-4000:]

    # The secrets were in use: both keys were sent (the replay server logs them redacted) and
    # the alert reached the hook whose URL holds the token.
    sent = replay_demo.requests[seen_before:]
    keyed = {r.path.split("/")[1] for r in sent if r.params.get("api_key") == "**********"}
    assert keyed == {"entrez", "openalex"}, sorted({r.path for r in sent})
    assert [m["path"] for m in receiver.received] == [f"/hooks/{HOOK_TOKEN}"]

    written: dict[str, str] = {
        "update stdout": update.stdout, "update stderr": update.stderr,
        "report stdout": report.stdout, "report stderr": report.stderr}
    files = _files(project.root)  # store, report folder (md, html, csv, json, png), home
    kinds = {p.suffix for p in files if "reports" in p.parts}
    assert {".md", ".html", ".csv", ".json", ".png"} <= kinds, kinds  # figures are PNG
    assert (project.root / "prefect-home").is_dir()
    files |= _files(Path(os.environ["PREFECT_HOME"]), _harness_database())
    for kind, items in asyncio.run(_prefect_records()).items():
        written[f"prefect {kind}"] = "\n".join(items)
    assert "review-report" in written["prefect artifacts"]  # the update's artifacts were read
    for table, column, value in _store_text(project.url):
        written.setdefault(f"store {table}.{column}", "")
        written[f"store {table}.{column}"] += value + "\n"
    assert "api_key" in written["store raw_responses.params"]  # archived, redacted

    leaks = [(where, secret) for where, text in written.items() for secret in _secrets(hook)
             if secret in text]
    leaks += [(str(path), secret) for path, data in files.items() for secret in _secrets(hook)
              if secret.encode() in data]
    assert leaks == []
