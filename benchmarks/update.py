"""One monthly update end to end, at the sizes a living review grows to.

    python benchmarks/update.py BENCH_DATA/dedup [--sizes 13000:1000,100000:10000]

For each CORPUS:NEW pair: a store holding the published baseline plus CORPUS synthetic records
(grown from the real records of the labelled dedup sets, as benchmarks/synthetic.py does), and a
replay scenario of NEW records created in the window, served by the project's replay server as
PubMed EFetch XML and, for half of them (the same works under their DOIs), as Crossref works:
the cross-source duplicates a real month brings. The records are cloned from a real recorded
EFetch article and a real Crossref work, so the parsers see the real shapes.

The update runs as a real `livingreview update` process against a real Prefect API. Printed:
wall time of the process, the per-step times Prefect recorded for its tasks, and the peak
resident memory of the process (the
replay server enforces none; Crossref's client pacing is lifted, PubMed's keyed 10 requests/s
is kept, so its waits are inside fetch_source).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RECORDINGS = ROOT / "livingreview" / "replay" / "recordings"
PUBMED_TEMPLATE = RECORDINGS / "pubmed" / "efetch_pubmed_27797938_structured_abstract_pmc.xml"
CROSSREF_TEMPLATE = RECORDINGS / "crossref" / "work_10.1371_journal.pone.0033693.json"
WINDOW_START, UNTIL = date(2026, 10, 1), date(2026, 11, 1)
# Every new record passes the review's strategy, so every step sees all of them.
TOPIC = ("Peer support workers with lived experience collaborated with community mental health "
         "services in co-producing recovery-oriented care. ")


def _day(offset: int) -> date:
    return WINDOW_START + timedelta(days=offset % (UNTIL - WINDOW_START).days)


def _pubmed_articles(records, rng: random.Random) -> bytes:
    template = etree.parse(str(PUBMED_TEMPLATE)).getroot()[0]
    root = etree.Element("PubmedArticleSet")
    for n, record in enumerate(records):
        article = copy.deepcopy(template)
        pmid = str(40_000_000 + n)
        for node in article.iter("PMID"):
            node.text = pmid
        title = article.find(".//ArticleTitle")
        for child in list(title):  # the template's markup (<i>, <sup>) goes with its title
            title.remove(child)
        title.text = record.title
        abstract = article.find(".//Abstract")
        for child in list(abstract):
            abstract.remove(child)
        etree.SubElement(abstract, "AbstractText").text = TOPIC + (record.abstract or record.title)
        created = _day(rng.randrange(31))
        for status in ("entrez", "pubmed"):
            for stamp in article.xpath(".//History/PubMedPubDate[@PubStatus=$s]", s=status):
                stamp.find("Year").text, stamp.find("Month").text = str(created.year), str(created.month)
                stamp.find("Day").text = str(created.day)
        for stamp in article.xpath(".//History/PubMedPubDate[@PubStatus='medline']"):
            stamp.getparent().remove(stamp)
        for ident in article.xpath(".//ArticleIdList/ArticleId"):
            kind = ident.get("IdType")
            ident.text = {"pubmed": pmid, "doi": record.doi or f"10.5555/bench.{n}"}.get(
                kind, ident.text)
        root.append(article)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _crossref_works(records, rng: random.Random) -> bytes:
    template = json.loads(CROSSREF_TEMPLATE.read_text())["message"]
    items = []
    for n, record in enumerate(records):
        item = copy.deepcopy(template)
        for notice in ("updated-by", "update-to", "relation"):  # the template's own corrections
            item.pop(notice, None)
        created = _day(rng.randrange(31))
        stamp = datetime(created.year, created.month, created.day, tzinfo=timezone.utc)
        item["DOI"] = record.doi or f"10.5555/bench.{n}"
        item["title"] = [record.title]
        item["abstract"] = f"<jats:p>{TOPIC}{record.abstract or ''}</jats:p>"
        for field in ("created", "indexed", "deposited"):
            item[field] = {"date-parts": [[created.year, created.month, created.day]],
                           "date-time": stamp.isoformat().replace("+00:00", "Z"),
                           "timestamp": int(stamp.timestamp() * 1000)}
        items.append(item)
    answer = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
              "message": {"items": items, "total-results": len(items), "items-per-page": 20}}
    return json.dumps(answer).encode()


def _corpus_records(size: int, seed: int, pool, new: bool = False):
    from dataclasses import replace

    from synthetic import generate

    if not new:
        keyed, _groups = generate(size, seed, pool)
        return [record for _key, record in keyed]
    # This month's records: distinct works (one PubMed record each; the duplicates a month
    # brings are the Crossref copies of the same works), published this year, under DOIs the
    # corpus does not hold.
    keyed, groups = generate(int(size / 0.75) + 1, seed, pool)
    copies = {key for group in groups for key in group[1:]}
    works = [record for key, record in keyed if key not in copies][:size]
    return [replace(record, year=UNTIL.year,
                    doi=record.doi.replace("/syn.", "/new.") if record.doi else None)
            for record in works]


def _prepare(directory: Path, corpus: int, new: int, pool) -> dict[str, float]:
    from livingreview.cli.corpus import init_store
    from sqlalchemy import select

    from livingreview.config import Settings, load_review
    from livingreview.intake import queue_candidates, save_index, store_hits
    from livingreview.store.models import Candidate, ScreeningDecision
    from livingreview.store.database import session_scope
    from livingreview.store.runs import finish_run, start_run

    settings = Settings.from_env(database_url=f"sqlite:///{directory / 'store.sqlite'}",
                                 review_file=ROOT / "review.toml", report_dir=directory / "reports")
    started = time.perf_counter()
    init_store(settings)
    records = _corpus_records(corpus, seed=1, pool=pool)
    with session_scope(settings.database_url) as session:
        run_id = start_run(session, window_start=None, window_end=None, kind="import")
        store_hits(session, run_id, records, index_path=settings.dedup_index)
        # The corpus of a review some years on: every record was queued and screened.
        queue_candidates(session, run_id, load_review(settings.review_file)["eligibility"])
        screened = select(Candidate.record_id).where(
            Candidate.record_id.not_in(select(ScreeningDecision.record_id)))
        session.add_all(ScreeningDecision(record_id=record_id, stage="title_abstract",
                                          decision="exclude", reason_code="EX_NO_PEER_WORKER",
                                          reviewer="bench-screener", run_id=run_id)
                        for record_id in session.scalars(screened).all())
        finish_run(session, run_id, status="succeeded")
    with session_scope(settings.database_url) as session:
        save_index(session, settings.dedup_index)
    built = time.perf_counter() - started
    fresh = _corpus_records(new, seed=2, pool=pool, new=True)
    rng = random.Random(3)
    scenario = directory / "scenario"
    (scenario / "pubmed").mkdir(parents=True)
    (scenario / "crossref").mkdir()
    (scenario / "pubmed" / "efetch_bench.xml").write_bytes(_pubmed_articles(fresh, rng))
    (scenario / "crossref" / "works_bench.json").write_bytes(
        _crossref_works(fresh[: new // 2], rng))
    return {"store_seconds": built, "url": settings.database_url, "scenario": str(scenario)}


def _task_times(api_url: str) -> dict[str, float]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        with get_client(sync_client=True) as client:
            flow_run = client.read_flow_runs(limit=1, sort="START_TIME_DESC")[0]
            from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[flow_run.id])))
    times: dict[str, float] = defaultdict(float)
    for run in tasks:
        if run.start_time and run.end_time:
            times[run.task_key.rsplit("-", 1)[0] if "-" in run.task_key else run.name] += (
                run.end_time - run.start_time).total_seconds()
    return dict(times)


def _measure(corpus: int, new: int, pool, api_url: str) -> dict:
    from livingreview.replay.server import running_replay_server

    with tempfile.TemporaryDirectory(prefix="lr-bench-update-") as tmp:
        prepared = _prepare(Path(tmp), corpus, new, pool)
        with running_replay_server(scenario=prepared["scenario"]) as replay:
            env = {**os.environ, "PREFECT_API_URL": api_url,
                   "LR_DATABASE_URL": prepared["url"], "LR_REPORT_DIR": str(Path(tmp) / "reports"),
                   "LR_REVIEW_FILE": str(ROOT / "review.toml"),
                   **replay.environment(),
                   # Pacing left out (the "without the enforced rate-limit waits"),
                   # but PubMed's keyed 10/s, which its client keeps on loopback too.
                   "LR_CROSSREF_RATE": "1000", "LR_NCBI_API_KEY": "bench-key-not-a-secret"}
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "livingreview.cli", "update",
                                   "--no-check", "--since", WINDOW_START.isoformat(),
                                   "--until", UNTIL.isoformat()],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if done.returncode != 0:
                raise SystemExit(f"update failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            requests = replay.request_count() if hasattr(replay, "request_count") else None
    steps = _task_times(api_url)
    return {"corpus": corpus, "new": new, "wall": wall, "steps": steps,
            "peak_mb": max(peak, before) / 1024, "setup": prepared["store_seconds"],
            "requests": requests, "output": done.stdout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="the labelled dedup sets (for the synthetic corpus)")
    parser.add_argument("--sizes", default="13000:1000,100000:10000",
                        help="CORPUS:NEW pairs, comma-separated")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect" / "bench"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness
    from synthetic import build_pool

    pool = build_pool(Path(args.data))
    pairs = [tuple(int(n) for n in pair.split(":")) for pair in args.sizes.split(",")]
    with prefect_test_harness(server_startup_timeout=120):
        api_url = PREFECT_API_URL.value()
        results = [_measure(corpus, new, pool, api_url) for corpus, new in pairs]
    print("\n## One monthly update end to end (replay server, real Prefect API, SQLite)\n")
    print("| corpus + new | wall s | peak MB | " + " | ".join(
        sorted({s for r in results for s in r["steps"]})) + " |")
    names = sorted({s for r in results for s in r["steps"]})
    print("|---|---:|---:|" + "---:|" * len(names))
    for r in results:
        print(f"| {r['corpus']:,} + {r['new']:,} | {r['wall']:.1f} | {r['peak_mb']:.0f} | "
              + " | ".join(f"{r['steps'].get(n, 0):.1f}" for n in names) + " |")
    for r in results:
        print(f"\n{r['corpus']:,} + {r['new']:,}: store built in {r['setup']:.0f} s (not timed "
              "above); the update's own summary:\n" + "\n".join(
                  line for line in r["output"].splitlines()[-6:]))


if __name__ == "__main__":
    main()
