"""Harvest cost at scale: the real clients against the replay server scaled to 10,000 and 100,000
records shaped like the recorded ones, per source (PubMed, Crossref, OpenAlex).

Printed per source, size and client pace (3 and 10 requests/s): HTTP requests per 1,000 records,
records parsed per second on one core (the archived bodies of the run parsed again, timed alone),
the harvesting process's peak memory (ru_maxrss of a fresh process per run), and the requests the
server counted over the API's published limit (counted whether enforced or not).

Scaling: the recorded PubMed articles, Crossref work items and OpenAlex works are copied with
new identifiers (PMID, DOI, OpenAlex id) and creation dates spread over 2025; everything else is
byte for byte as recorded. Crossref items are marked journal articles issued 2024 so that the
harvest's standing filters (type, from-pub-date) keep them. Optimism: every record matches (the
replay answers a harvest by its window), so pages are always full; real pages are the same size.
PubMed fetches 1,000 records per EFetch here (review.toml's batch_size is 200: 5 requests per
1,000); Crossref asks for rows=1000 (review.toml: 200) and OpenAlex for 200 per page.

    python benchmarks/harvest.py [--sizes 10000 100000] [--rates 3 10] [--sources pubmed crossref openalex]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livingreview.replay.bodies import EFETCH_EPILOGUE, EFETCH_PROLOGUE, RECORDINGS_DIR  # noqa: E402

YEAR = date(2025, 1, 1)
PER_FILE = 5000
_ARTICLE = re.compile(rb"<(PubmedArticle|PubmedBookArticle)\b[^>]*>.*?</\1>", re.DOTALL)
_PMID = re.compile(rb'<PMID Version="\d+">\d+</PMID>')
_ENTREZ = re.compile(rb'(<PubMedPubDate PubStatus="entrez">\s*<Year>)\d+(</Year>\s*<Month>)\d+(</Month>\s*<Day>)\d+')


def _day(i: int) -> date:
    return YEAR + timedelta(days=i % 365)


def build(directory: Path, size: int, sources: list[str]) -> None:
    if "pubmed" in sources:
        articles = [m.group(0) for path in sorted((RECORDINGS_DIR / "pubmed").glob("efetch_*.xml"))
                    for m in _ARTICLE.finditer(path.read_bytes())]
        articles = [a for a in articles if _ENTREZ.search(a)]
        folder = directory / "pubmed"
        folder.mkdir(parents=True)
        for first in range(0, size, PER_FILE):
            chunk = []
            for i in range(first, min(first + PER_FILE, size)):
                day = _day(i)
                element = _PMID.sub(f'<PMID Version="1">{50_000_000 + i}</PMID>'.encode(), articles[i % len(articles)], 1)
                element = _ENTREZ.sub(rb"\g<1>%d\g<2>%d\g<3>%d" % (day.year, day.month, day.day), element, 1)
                chunk.append(element)
            (folder / f"efetch_bench_{first}.xml").write_bytes(EFETCH_PROLOGUE + b"\n".join(chunk) + EFETCH_EPILOGUE)
    if "crossref" in sources:
        items = []
        for path in sorted((RECORDINGS_DIR / "crossref").glob("works_*.json")):
            answer = json.loads(path.read_text())
            items += [i for i in answer.get("message", {}).get("items", []) if "created" in i and "indexed" in i]
        folder = directory / "crossref"
        folder.mkdir(parents=True)
        for first in range(0, size, PER_FILE):
            made = []
            for i in range(first, min(first + PER_FILE, size)):
                item = copy.deepcopy(items[i % len(items)])
                stamp = f"{_day(i).isoformat()}T12:00:00Z"
                item.update(DOI=f"10.5555/bench.{i}", type="journal-article", issued={"date-parts": [[2024, 1, 1]]},
                            created={"date-parts": [[2025, 1, 1]], "date-time": stamp, "timestamp": 0},
                            indexed={"date-parts": [[2025, 1, 1]], "date-time": stamp, "timestamp": 0})
                made.append(item)
            (folder / f"works_bench_{first}.json").write_text(json.dumps(
                {"status": "ok", "message-type": "work-list", "message": {"items": made}}))
    if "openalex" in sources:
        works = json.loads((RECORDINGS_DIR / "openalex" / "works_search_page1_per_page200.json").read_text())["results"]
        folder = directory / "openalex"
        folder.mkdir(parents=True)
        for first in range(0, size, PER_FILE):
            made = []
            for i in range(first, min(first + PER_FILE, size)):
                work = copy.deepcopy(works[i % len(works)])
                work.update(id=f"https://openalex.org/W9{i:09d}", doi=f"https://doi.org/10.5555/alex.{i}",
                            created_date=_day(i).isoformat())
                made.append(work)
            (folder / f"works_bench_{first}.json").write_text(json.dumps({"meta": {"count": len(made)}, "results": made}))


# --------------------------------------------------------------------------- one harvest (child process)


def one(source: str, base: str, rate: float, size: int) -> dict:
    from livingreview.config import Secret, Settings
    from livingreview.sources import PARSERS, crossref, openalex, pubmed
    from livingreview.sources.client import RetryPolicy, SourceClient

    keyed = rate > 3  # NCBI allows 10/s with a key, 3 without
    settings = Settings.from_env(home=Path(tempfile.mkdtemp()), pubmed_base_url=base + "/entrez/eutils",
                                 crossref_base_url=base, openalex_base_url=base + "/openalex",
                                 ncbi_api_key=Secret("bench-key" if keyed else ""), crossref_rate=rate,
                                 # a fresh key per run: each has OpenAlex's $1 a day to spend
                                 openalex_api_key=Secret(f"bench-{time.time_ns()}"))
    sample: list = []
    count = [0]

    def archive(raw) -> None:
        count[0] += 1
        if len(sample) < 12 and raw.status == 200:
            sample.append(raw.body)

    client = SourceClient(http=httpx.Client(timeout=120), source=source, rate=rate,
                          retry=RetryPolicy(attempts=3, initial_wait=0.5, jitter=0))
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    began = time.perf_counter()
    if source == "pubmed":
        result = pubmed.harvest(client, settings, "peer support[tiab]", start, end, archive, batch_size=1000)
    elif source == "crossref":
        result = crossref.harvest(client, settings, ["peer support worker mental health"], start, end, archive,
                                  max_per_query=size, rows=1000)
    else:
        result = openalex.harvest(client, settings, "peer support", start, end, archive, per_page=200,
                                  max_records=size)
    wall = time.perf_counter() - began
    parse = PARSERS[source]
    parsed, cpu = 0, 0.0
    for body in sample:
        t0 = time.process_time()
        records = parse(body, origin="bench")
        cpu += time.process_time() - t0
        parsed += len(records)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from the parent.
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
    return {"records": len(result.records), "requests": count[0], "wall_s": round(wall, 1),
            "parsed": parsed, "parse_cpu_s": cpu, "peak_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rates", type=float, nargs="+", default=[3.0, 10.0])
    parser.add_argument("--sources", nargs="+", default=["pubmed", "crossref", "openalex"])
    parser.add_argument("--one", nargs=4, metavar=("SOURCE", "BASE", "RATE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        source, base, rate, size = args.one
        print(json.dumps(one(source, base, float(rate), int(size))))
        return
    print("source    size     pace  records  requests  req/1000  parsed/s(1 core)  peak MB  violations  wall s")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            scenario = Path(tmp) / "scenario"
            build(scenario, size, args.sources)
            ready = Path(tmp) / "ready"
            server = subprocess.Popen([sys.executable, "-m", "livingreview.replay", "--scenario", str(scenario),
                                       "--ready-file", str(ready)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 600
                while not ready.exists():
                    if server.poll() is not None or time.time() > deadline:
                        raise SystemExit("replay server did not start")
                    time.sleep(0.5)
                base = ready.read_text().strip()
                for source in args.sources:
                    for rate in args.rates:
                        before = httpx.get(f"{base}/_control/requests").json()["rate_limit_violations"]
                        done = subprocess.run([sys.executable, __file__, "--one", source, base, str(rate), str(size)],
                                              capture_output=True, text=True, cwd=ROOT)
                        if done.returncode:
                            print(f"{source} {size} {rate}: failed\n{done.stderr[-2000:]}")
                            continue
                        got = json.loads(done.stdout.strip().splitlines()[-1])
                        after = httpx.get(f"{base}/_control/requests").json()["rate_limit_violations"]
                        httpx.delete(f"{base}/_control/requests")
                        violations = sum(after.values()) - sum(before.values())
                        rate_parse = got["parsed"] / got["parse_cpu_s"] if got["parse_cpu_s"] else float("nan")
                        print(f"{source:9} {size:<8} {rate:>4g}/s {got['records']:>8} {got['requests']:>9} "
                              f"{1000 * got['requests'] / max(got['records'], 1):>9.2f} {rate_parse:>17,.0f} "
                              f"{got['peak_mb']:>8.0f} {violations:>11} {got['wall_s']:>7}", flush=True)
            finally:
                server.terminate()
                server.wait(30)


if __name__ == "__main__":
    main()
