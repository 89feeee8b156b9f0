"""``python -m livingreview.replay --port 8765 --scenario demo``: serve until interrupted.

The first line on standard output is the base URL alone, so a script can read it; the rest
(where each API lives, what the scenario holds) goes to standard error.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from livingreview.errors import LivingReviewError
from livingreview.replay.faults import Fault
from livingreview.replay.scenario import DEMO
from livingreview.replay.server import ReplayServer

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@cli.command()
def serve(
    port: int = typer.Option(0, help="Port on 127.0.0.1; 0 picks a free one."),
    scenario: str = typer.Option(DEMO, help="'demo' (the review's field), 'recordings' (every recorded fixture) or a scenario directory."),
    fault: list[str] = typer.Option([], help='A fault as JSON, e.g. \'{"kind": "rate_limited", "path": "/works"}\'.'),
    enforce_rate_limits: bool = typer.Option(False, help="Refuse requests over the APIs' published limits."),
    latency: float = typer.Option(0.0, help="Seconds added to every answer."),
    ready_file: Optional[Path] = typer.Option(None, help="Also write the base URL to this file once serving."),
) -> None:
    """Serve PubMed E-utilities and Crossref from recorded responses."""
    try:
        faults = [Fault.from_dict(json.loads(spec)) for spec in fault]
        server = ReplayServer(scenario, faults, port=port, enforce_rate_limits=enforce_rate_limits,
                              latency=latency).start()
    except (LivingReviewError, json.JSONDecodeError) as exc:
        typer.echo(f"replay server: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(server.base_url)
    sys.stdout.flush()
    summary = server.state.scenario.summary()
    typer.echo(
        f"PubMed E-utilities: {server.pubmed_base_url}  (LR_PUBMED_BASE_URL)\n"
        f"Crossref REST:      {server.crossref_base_url}  (LR_CROSSREF_BASE_URL)\n"
        f"OpenAlex:           {server.openalex_base_url}  (LR_OPENALEX_BASE_URL)\n"
        f"Europe PMC REST:    {server.europepmc_base_url}  (LR_EUROPEPMC_BASE_URL)\n"
        f"control API:        {server.base_url}/_control/requests, /_control/faults\n"
        f"scenario {summary['scenario']}: {summary['pubmed_articles']} PubMed articles created "
        f"{' .. '.join(summary['pubmed_created'] or ['-'])}; {summary['crossref_works']} Crossref works "
        f"created {' .. '.join(summary['crossref_created'] or ['-'])}; {summary['openalex_works']} OpenAlex "
        f"works created {' .. '.join(summary['openalex_created'] or ['-'])}; {summary['europepmc_results']} "
        f"Europe PMC results indexed {' .. '.join(summary['europepmc_indexed'] or ['-'])}",
        err=True,
    )
    if ready_file:
        ready_file.write_text(server.base_url + "\n")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    cli()
