"""The project's own offline API server: NCBI E-utilities, Crossref, OpenAlex and Europe PMC
answered from recordings.

Tests and the offline demo point the real HTTP clients at it (``pubmed_base_url``,
``crossref_base_url``, ``openalex_base_url``, ``europepmc_base_url``; ``server.base_urls()`` gives all
four as ``Settings`` overrides) so that every request crosses real loopback HTTP, and inject the faults the
harvest must survive (429, 5xx, errors inside 200 bodies, delays, cut bodies).

Public API::

    running_replay_server(scenario="demo", faults=(), **options) -> ReplayServer   (context manager)
        scenario: "demo" (the review's field, two monthly windows), "recordings" (every
        recorded fixture) or a directory
    ReplayServer(...).start() / .stop(); .base_url, .pubmed_base_url, .crossref_base_url,
        .openalex_base_url, .europepmc_base_url, .base_urls(), .requests, .request_counts(),
        .rate_limit_violations(), .add_faults(), .clear_faults(), .expire_cursors()
    Fault(kind, path="*", times=1, after=0, params={}, retry_after=1, seconds=1.0, message=...)
    load_scenario(scenario="demo") -> Scenario;  build_scenario(directory, files) -> Path
    scenario_runs(scenario="demo") -> [date]   (the until day of each update the scenario expects)
    scenario_date_range(scenario="demo") -> DateRange
    create_app(scenario="demo", faults=(), ...) -> Starlette

Run it by hand: ``python -m livingreview.replay --port 8765 --scenario demo``.
"""

from livingreview.replay.app import RequestRecord, create_app
from livingreview.replay.faults import FAULT_KINDS, Fault
from livingreview.replay.scenario import (
    DEMO,
    RECORDINGS,
    DateRange,
    RecordedArticle,
    RecordedWork,
    Scenario,
    build_scenario,
    load_scenario,
    scenario_date_range,
    scenario_runs,
)
from livingreview.replay.server import ReplayServer, running_replay_server

__all__ = [
    "DEMO",
    "FAULT_KINDS",
    "RECORDINGS",
    "DateRange",
    "Fault",
    "RecordedArticle",
    "RecordedWork",
    "ReplayServer",
    "RequestRecord",
    "Scenario",
    "build_scenario",
    "create_app",
    "load_scenario",
    "running_replay_server",
    "scenario_date_range",
    "scenario_runs",
]
