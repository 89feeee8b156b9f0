"""Shared fixtures: a real SQLite store per test, and Prefect's test harness (started lazily,
once per session, only by tests that run flows)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parent.parent

# `make test` (and CI) draws the same property-test examples every run, so a red run is the code,
# not the draw. `pytest --hypothesis-profile explore` draws afresh each run; add
# what it finds as a fixed test.
hypothesis_settings.register_profile("default", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=500)
hypothesis_settings.load_profile("default")
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Prefect offline and project-local, before anything imports it.
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect" / "tests"))
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
# Tests never write into the working tree's data/ or reports/ by accident.
for _name in ("LR_DATABASE_URL", "LR_REPORT_DIR", "LR_NOTIFY_URLS", "LR_NCBI_API_KEY",
              "LR_OPENALEX_API_KEY", "LR_PUBMED_BASE_URL", "LR_CROSSREF_BASE_URL",
              "LR_OPENALEX_BASE_URL", "LR_EUROPEPMC_BASE_URL", "LR_EXPECTATIONS_DIR",
              "LR_REVIEW_FILE", "LR_CROSSREF_RATE"):
    os.environ.pop(_name, None)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A migrated, empty corpus store in a temporary SQLite file."""
    from livingreview.store.database import upgrade

    url = f"sqlite:///{tmp_path / 'livingreview.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (initdb + pg_ctl as the postgres user)."""
    # Debian keeps the server binaries off PATH, under /usr/lib/postgresql/VERSION/bin.
    search = os.pathsep.join([os.environ.get("PATH", ""),
                              *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")))])
    initdb, pg_ctl, runuser = (shutil.which(n, path=search) for n in ("initdb", "pg_ctl",
                                                                      "runuser"))
    if not (initdb and pg_ctl and runuser) or os.geteuid() != 0:
        # The PostgreSQL half of the suite is part of the suite: missing, it fails, never skips.
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) or root for runuser are not "
                    "available. Fix: apt-get install postgresql (`make test` and .ci/run do it)",
                    pytrace=False)
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="livingreview-pg-"))
    data = base / "data"
    data.mkdir()
    shutil.chown(base, "postgres")
    shutil.chown(data, "postgres")
    as_postgres = [runuser, "-u", "postgres", "--"]
    subprocess.run(as_postgres + [initdb, "-D", str(data), "--auth=trust", "-U", "postgres"],
                   check=True, capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = f"-p {port} -h 127.0.0.1 -k {base}"
    subprocess.run(as_postgres + [pg_ctl, "-D", str(data), "-o", options, "-l",
                                  str(base / "log"), "-w", "start"], check=True, capture_output=True)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    subprocess.run(as_postgres + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_url(request, tmp_path: Path) -> str:
    """The same migrated, empty store on SQLite and on PostgreSQL."""
    from sqlalchemy import create_engine, text

    from livingreview.store.database import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'livingreview.sqlite'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"lr_{uuid.uuid4().hex[:12]}"
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"{server}/{name}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness for the session (a real local API, a temporary database)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        with prefect_test_harness(server_startup_timeout=90):
            yield


class _Receiver(BaseHTTPRequestHandler):
    """Takes apprise's json:// notifications: each POST's path and JSON body."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append({"path": self.path, "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A local HTTP notification receiver on an ephemeral port; ``receiver.received`` lists
    what it was sent (``json://127.0.0.1:{receiver.server_port}/...``)."""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
