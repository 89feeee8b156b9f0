"""Run the replay server on 127.0.0.1 in a background thread, for tests and the offline demo.

::

    with running_replay_server(scenario="demo", faults=[Fault("rate_limited", path="/works")]) as server:
        settings = Settings.from_env(pubmed_base_url=server.pubmed_base_url,
                                     crossref_base_url=server.crossref_base_url)
        ...  # the real clients, over loopback
        assert server.request_counts()["/works"] == 2
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from livingreview.errors import ConfigError
from livingreview.replay.app import EUROPEPMC_PREFIX, OPENALEX_PREFIX, ReplayState, RequestRecord, create_app
from livingreview.replay.faults import Fault
from livingreview.replay.scenario import DEMO, Scenario

ENTREZ_PREFIX = "/entrez/eutils"


class _IntendedDrop(logging.Filter):
    """Hide uvicorn's complaint about the response the dropped_connection fault cuts on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_IntendedDrop())


class ReplayServer:
    """A replay server bound to a free port; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        scenario: str | Path | Scenario = DEMO,
        faults: Iterable[Fault | dict[str, Any]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_rate_limits: bool = False,
        cursor_ttl: float = 300.0,
        cursor_mode: str = "scroll",
        latency: float = 0.0,
        openalex_budget: bool = False,
    ) -> None:
        self.app = create_app(scenario, faults, enforce_rate_limits=enforce_rate_limits,
                              cursor_ttl=cursor_ttl, cursor_mode=cursor_mode, latency=latency,
                              openalex_budget=openalex_budget)
        self._config = uvicorn.Config(
            self.app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
            http="h11", ws="none", timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- addresses ---

    @property
    def pubmed_base_url(self) -> str:
        """What the PubMed client takes as its base (``Settings.pubmed_base_url``)."""
        return self.base_url + ENTREZ_PREFIX

    @property
    def crossref_base_url(self) -> str:
        """What the Crossref client takes as its base (``Settings.crossref_base_url``)."""
        return self.base_url

    @property
    def openalex_base_url(self) -> str:
        """What the OpenAlex client takes as its base (``Settings.openalex_base_url``)."""
        return self.base_url + OPENALEX_PREFIX

    @property
    def europepmc_base_url(self) -> str:
        """What the Europe PMC client takes as its base (``Settings.europepmc_base_url``)."""
        return self.base_url + EUROPEPMC_PREFIX

    def base_urls(self) -> dict[str, str]:
        """Every source's base URL, as ``Settings`` overrides: ``Settings.from_env(**server.base_urls())``."""
        return {"pubmed_base_url": self.pubmed_base_url, "crossref_base_url": self.crossref_base_url,
                "openalex_base_url": self.openalex_base_url, "europepmc_base_url": self.europepmc_base_url}

    def environment(self) -> dict[str, str]:
        """Every source's base URL as the ``LR_*_BASE_URL`` variables ``Settings.from_env`` reads."""
        return {f"LR_{name.upper()}": url for name, url in self.base_urls().items()}

    def rate_limit_violations(self) -> dict[str, int]:
        """Arrivals over a published limit, per limit bucket (counted whether enforced or not)."""
        return dict(self.state.limiter.violations)

    # --- what happened ---

    @property
    def state(self) -> ReplayState:
        return self.app.state.replay

    @property
    def requests(self) -> list[RequestRecord]:
        """Every API request received so far, in arrival order (control requests excluded)."""
        return self.state.log.records()

    def request_counts(self) -> dict[str, int]:
        """API requests received per URL path."""
        return self.state.log.counts()

    # --- steering ---

    def add_faults(self, *faults: Fault | dict[str, Any]) -> list[Fault]:
        return self.state.faults.add(*faults)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def expire_cursors(self) -> int:
        """Expire every open Crossref cursor, as five idle minutes would."""
        return self.state.cursors.expire_all()

    def clear_requests(self) -> None:
        self.state.log.clear()

    # --- life cycle ---

    def start(self, timeout: float = 10.0) -> "ReplayServer":
        if self._thread is not None:
            raise RuntimeError("replay server already started")
        self._thread = threading.Thread(target=self._server.run, name="replay-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                raise ConfigError(
                    f"replay server did not start on {self._config.host}:{self._config.port} within "
                    f"{timeout:g} s. Fix: free the port or pass port=0 for any free port"
                )
            time.sleep(0.01)
        socket = self._server.servers[0].sockets[0]
        host, port = socket.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        # Started means listening; one real request proves the app answers.
        httpx.get(self.base_url + "/_control/health", timeout=timeout).raise_for_status()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def running_replay_server(
    scenario: str | Path | Scenario = DEMO,
    faults: Iterable[Fault | dict[str, Any]] = (),
    **options: Any,
) -> Iterator[ReplayServer]:
    """A started :class:`ReplayServer` for the ``with`` block; stopped cleanly afterwards.

    ``options``: ``enforce_rate_limits``, ``cursor_ttl`` (seconds), ``cursor_mode``
    (``"scroll"`` or ``"pages"``), ``latency`` (seconds added to each answer), ``host``, ``port``,
    ``openalex_budget`` (refuse OpenAlex requests once the day's dollar budget is spent).
    """
    server = ReplayServer(scenario, faults, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
