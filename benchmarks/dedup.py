"""Deduplication benchmark: accuracy and speed against bib-dedupe, run side by side.

    python benchmarks/dedup.py [DATA_DIR] [--repeat 3] [--sizes 100000,1000000] [--no-peer]

DATA_DIR (default ``../shared/benchmarks/dedup``) holds one folder per labelled set, each with a
record file (``records_pre_merged.csv`` in the bib-dedupe layout or ``labelled_test_set.csv`` in
the ASySD layout) and ``merged_record_ids.csv`` (the true duplicate groups).

Prints, for every set: pairwise precision, recall and F1 and seconds (median of ``--repeat``
runs, file to groups) for livingreview and for bib-dedupe run in this same process; livingreview's
"maybe" pairs and the recall a person would reach by accepting the true ones among them; the
speed ratio. Then synthetic corpora (``benchmarks/synthetic.py``) of the given sizes, each in a
fresh subprocess: seconds per stage, peak resident memory, accuracy against the synthetic truth;
and the incremental case: 1,000 new records against a persisted 100,000-record corpus index.

Scoring: a pair of records is a true pair when both are in one true group; precision and recall
are over such pairs (the standard pairwise measures of the dedup literature).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bib_dedupe_file import run_bib_dedupe  # noqa: E402
from livingreview.dedup.blocking import batch_pairs  # noqa: E402
from livingreview.dedup.match import (  # noqa: E402
    DecidedPairs,
    cluster_table,
    dedupe_table,
    to_matches,
)
from livingreview.dedup.record_files import read_groups, read_record_file  # noqa: E402
from livingreview.dedup.rules import DISTINCT, OFF, THRESHOLDS, Thresholds, decide  # noqa: E402
from livingreview.dedup.scoring import score_pairs  # noqa: E402
from livingreview.dedup.table import RecordTable  # noqa: E402

RECORD_FILES = ("records_pre_merged.csv", "labelled_test_set.csv")


def canonical_id(value: str) -> str:
    """``id_0000001`` and ``1`` are the same record (the ASySD join key, see PROVENANCE.md);
    any other ID (``Smith2019a``, as CoLRev writes them) is itself."""
    numbered = re.fullmatch(r"(?:id_)?0*(\d+)", value.strip())
    return numbered.group(1) if numbered else value.strip()


def pair_set(groups) -> set[tuple[str, str]]:
    pairs = set()
    for group in groups:
        pairs.update(itertools.combinations(sorted(canonical_id(k) for k in group), 2))
    return pairs


def pairwise(predicted: set, truth: set) -> dict:
    tp = len(predicted & truth)
    fp, fn = len(predicted - truth), len(truth - predicted)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


# ---------------------------------------------------------------- the two tools


def run_ours(path: Path):
    keyed = read_record_file(path)
    table = RecordTable.from_records(keyed)
    matches = dedupe_table(table)
    return cluster_table(table, matches).groups, matches


def timed(function, path: Path, repeat: int):
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(path)
        seconds.append(time.perf_counter() - started)
    return result, statistics.median(seconds)


# ---------------------------------------------------------------- real sets


def real_sets(data_dir: Path, repeat: int, peer: bool) -> list[dict]:
    rows = []
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        record_file = next((folder / n for n in RECORD_FILES if (folder / n).exists()), None)
        truth_file = folder / "merged_record_ids.csv"
        if record_file is None or not truth_file.exists():
            continue
        truth = pair_set(read_groups(truth_file))
        (groups, matches), seconds = timed(run_ours, record_file, repeat)
        ours = pairwise(pair_set(groups), truth)
        maybe = {tuple(sorted((canonical_id(m.left), canonical_id(m.right))))
                 for m in matches if m.zone == "maybe"}
        ours.update(seconds=seconds, maybe=len(maybe),
                    recall_with_person=len((pair_set(groups) | maybe) & truth) / len(truth)
                    if truth else 1.0)
        row = {"set": folder.name, "records": len(read_record_file(record_file)),
               "true_pairs": len(truth), "ours": ours}
        if peer:
            peer_groups, peer_seconds = timed(run_bib_dedupe, record_file, repeat)
            row["bib_dedupe"] = dict(pairwise(pair_set(peer_groups), truth), seconds=peer_seconds)
        rows.append(row)
        print_set(row)
    return rows


def print_set(row: dict) -> None:
    o = row["ours"]
    line = (f"{row['set']:<20} {row['records']:>6} {row['true_pairs']:>6} | livingreview "
            f"P {o['precision']:.4f} R {o['recall']:.4f} F1 {o['f1']:.4f} {o['seconds']:6.2f} s"
            f" (fp {o['fp']}, fn {o['fn']}, maybe {o['maybe']}, R with person "
            f"{o['recall_with_person']:.4f})")
    if "bib_dedupe" in row:
        b = row["bib_dedupe"]
        line += (f"\n{'':<34}| bib-dedupe   P {b['precision']:.4f} R {b['recall']:.4f} "
                 f"F1 {b['f1']:.4f} {b['seconds']:6.2f} s (fp {b['fp']}, fn {b['fn']})  "
                 f"-> {b['seconds'] / max(o['seconds'], 1e-9):.1f}x faster")
    print(line, flush=True)


def print_totals(rows: list[dict]) -> None:
    for tool in ("ours", "bib_dedupe"):
        if not all(tool in r for r in rows):
            continue
        tp = sum(r[tool]["tp"] for r in rows)
        fp = sum(r[tool]["fp"] for r in rows)
        fn = sum(r[tool]["fn"] for r in rows)
        p, r_ = tp / (tp + fp), tp / (tp + fn)
        seconds = sum(r[tool]["seconds"] for r in rows)
        name = "livingreview" if tool == "ours" else "bib-dedupe"
        print(f"{'all sets (pooled pairs)':<34}| {name:<12} P {p:.4f} R {r_:.4f} "
              f"F1 {2 * p * r_ / (p + r_):.4f} {seconds:6.2f} s")


# ---------------------------------------------------------------- leave one set out

# The thresholds a rule may take (rules.Thresholds), strictest first; OFF switches a rule off.
GRID = {
    "title": (0.97, 0.96, 0.95, 0.94),
    "authors": (0.95, 0.9, 0.85),
    "title_any_authors": (OFF, 0.97, 0.95, 0.9, 0.85),
    "authors_any_title": (OFF, 0.95, 0.9, 0.8),
}


# The reference a choice is measured from: the rules as they stood before this selection (hand-set
# on all five sets, so not itself left out), with every rule added since switched off. It must not
# be the shipped THRESHOLDS, which are chosen on all sets, the left-out one included.
BASELINE = Thresholds(title=0.95, authors=0.9, title_any_authors=OFF, authors_any_title=OFF)


class ScoredSet:
    """One labelled set blocked and scored once; decided again under any thresholds."""

    def __init__(self, name: str, record_file: Path, truth_file: Path):
        self.name = name
        self.table = RecordTable.from_records(read_record_file(record_file))
        earlier, later = batch_pairs(self.table)
        self.scores = score_pairs(self.table, self.table, later, earlier)
        self.truth = pair_set(read_groups(truth_file))

    def evaluate(self, thresholds: Thresholds) -> dict:
        zone, method, score = decide(self.scores, thresholds)
        keep = np.flatnonzero(zone != DISTINCT)
        decided = DecidedPairs(self.scores.left[keep], self.scores.right[keep], zone[keep],
                               method[keep], score[keep])
        matches = to_matches(self.table, self.table, decided)
        predicted = pair_set(cluster_table(self.table, matches).groups)
        maybe = {tuple(sorted((canonical_id(m.left), canonical_id(m.right))))
                 for m in matches if m.zone == "maybe"}
        result = pairwise(predicted, self.truth)
        result.update(maybe=len(maybe), maybe_per_1000=1000 * len(maybe) / len(self.table),
                      recall_with_person=len((predicted | maybe) & self.truth) / len(self.truth)
                      if self.truth else 1.0)
        return result


def _looser(t: Thresholds) -> list[Thresholds]:
    """The choices one grid step looser than ``t`` in one threshold; None past the grid's
    loosest value (nothing is known beyond it)."""
    out = []
    for name, values in GRID.items():
        at = values.index(getattr(t, name))
        out.append(replace(t, **{name: values[at + 1]}) if at + 1 < len(values) else None)
    return out


def choose(results: dict[Thresholds, dict[str, dict]], sets: list[str]) -> Thresholds:
    """The thresholds chosen on ``sets``.

    Safe: no false merge on any of the sets, and none one grid step looser in any threshold
    either (a margin: a threshold right at the edge of a false merge on these sets is likely
    past it on another). Among the safe choices the one that finds the most true pairs over the
    sets (pooled); ties go to the fewest thresholds changed from BASELINE (a change needs a
    true pair it finds on these sets), then to the loosest (a rule adopted for a case is kept
    as loose as is safe, for sets where the case looks a little different).
    """
    def clean(t: Thresholds) -> bool:
        return all(results[t][s]["fp"] == 0 for s in sets)

    safe = [t for t in results
            if clean(t) and all(u is not None and clean(u) for u in _looser(t))]
    if not safe:
        safe = [t for t in results if clean(t)] or [BASELINE]
    def changed(t: Thresholds) -> int:
        return sum(getattr(t, k) != getattr(BASELINE, k) for k in GRID)

    return max(safe, key=lambda t: (sum(results[t][s]["tp"] for s in sets), -changed(t),
                                    -sum(getattr(t, k) for k in GRID)))


def leave_one_set_out(data_dir: Path, peer_rows: dict[str, dict]) -> tuple[list[dict], Thresholds]:
    scored = []
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        record_file = next((folder / n for n in RECORD_FILES if (folder / n).exists()), None)
        truth_file = folder / "merged_record_ids.csv"
        if record_file is not None and truth_file.exists():
            scored.append(ScoredSet(folder.name, record_file, truth_file))
    grid = [Thresholds(**dict(zip(GRID, values))) for values in itertools.product(*GRID.values())]
    results = {t: {s.name: s.evaluate(t) for s in scored} for t in grid}
    names = [s.name for s in scored]
    rows = []
    for left_out in scored:
        chosen = choose(results, [n for n in names if n != left_out.name])
        rows.append({"set": left_out.name, "records": len(left_out.table),
                     "true_pairs": len(left_out.truth), "chosen": chosen,
                     "left_out": results[chosen][left_out.name],
                     "baseline": results[BASELINE][left_out.name],
                     "shipped": results[THRESHOLDS][left_out.name],
                     "peer": peer_rows.get(left_out.name)})
    return rows, choose(results, names)


def _thresholds_text(t: Thresholds) -> str:
    return " ".join(f"{k}={'off' if getattr(t, k) == OFF else getattr(t, k)}" for k in GRID)


def print_loso(rows: list[dict], overall: Thresholds) -> None:
    print("\nLeave one set out: thresholds chosen on the other sets (no false merge on any, most "
          "true pairs), scored on the set left out")
    print(f"{'left out':<20} {'P':>6} {'R':>6} {'maybe/1k':>8} {'R+person':>8} | "
          f"{'bib-dedupe P':>12} {'R':>6} | baseline R | shipped P / R (in-sample) | "
          "chosen on the others")
    for row in rows:
        o, d, b = row["left_out"], row["baseline"], row["peer"]
        shipped = row["shipped"]
        peer = f"{b['precision']:12.4f} {b['recall']:6.4f}" if b else f"{'-':>12} {'-':>6}"
        print(f"{row['set']:<20} {o['precision']:6.4f} {o['recall']:6.4f} "
              f"{o['maybe_per_1000']:8.1f} {o['recall_with_person']:8.4f} | {peer} | "
              f"{d['recall']:10.4f} | {shipped['precision']:.4f} / {shipped['recall']:.4f}"
              f"{'':>8} | {_thresholds_text(row['chosen'])}")
    print(f"chosen on all sets: {_thresholds_text(overall)} (shipped: "
          f"{_thresholds_text(THRESHOLDS)})", flush=True)


# ---------------------------------------------------------------- whole processes

PEER_FILE = ROOT / "benchmarks" / "bib_dedupe_file.py"


def _livingreview_command() -> list[str]:
    script = Path(sys.executable).parent / "livingreview"
    return [str(script)] if script.exists() else [sys.executable, "-m", "livingreview.cli"]


def process_seconds(command: list[str], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of a command run as a whole
    process: start-up, imports, file to file. CPU time moves less than wall time when other
    jobs share the machine."""
    wall, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def write_synthetic_file(data_dir: Path, size: int, folder: Path) -> tuple[Path, set]:
    """A synthetic record file of ``size`` records in the bib-dedupe layout, and its true pairs."""
    from benchmarks.synthetic import build_pool, generate

    keyed, groups = generate(size, seed=3, pool=build_pool(data_dir))
    path = folder / f"synthetic_{size}.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["ID", "ENTRYTYPE", "title", "author", "year", "journal", "volume",
                         "number", "pages", "doi", "abstract"])
        for key, r in keyed:
            writer.writerow([key, "article", r.title or "", " and ".join(r.authors),
                             r.year or "", r.journal or "", r.volume or "", r.issue or "",
                             r.pages or "", r.doi or "", r.abstract or ""])
    return path, pair_set(groups)


def whole_processes(data_dir: Path, sizes: list[int], repeat: int, peer: bool) -> None:
    print(f"\nWhole processes (median of {repeat}; start-up, imports, file in, groups out): "
          "livingreview dedup-file and bib-dedupe (benchmarks/bib_dedupe_file.py)")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        files = []
        for set_folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
            record_file = next((set_folder / n for n in RECORD_FILES
                                if (set_folder / n).exists()), None)
            truth_file = set_folder / "merged_record_ids.csv"
            if record_file is not None and truth_file.exists():
                files.append((set_folder.name, record_file, pair_set(read_groups(truth_file))))
        for size in sizes:
            path, truth = write_synthetic_file(data_dir, size, folder)
            files.append((f"synthetic {size:,}", path, truth))
        for name, path, truth in files:
            out = folder / "groups.csv"
            ours, ours_cpu = process_seconds(
                _livingreview_command() + ["dedup-file", str(path), "--out", str(out)], repeat)
            o = pairwise(pair_set(read_groups(out)), truth)
            line = (f"{name:<20} {len(read_record_file(path)):>6} records | livingreview "
                    f"{ours:5.2f} s (CPU {ours_cpu:5.2f} s; P {o['precision']:.4f} R "
                    f"{o['recall']:.4f})")
            if peer:
                theirs, theirs_cpu = process_seconds(
                    [sys.executable, str(PEER_FILE), str(path), str(out)], repeat)
                b = pairwise(pair_set(read_groups(out)), truth)
                line += (f" | bib-dedupe {theirs:6.2f} s (CPU {theirs_cpu:6.2f} s; P "
                         f"{b['precision']:.4f} R {b['recall']:.4f}) -> {theirs / ours:.1f}x "
                         f"faster (CPU {theirs_cpu / ours_cpu:.1f}x)")
            print(line, flush=True)


# ---------------------------------------------------------------- synthetic scale


class PeakMemory:
    """Peak resident memory of this process while a block runs (sampled every 20 ms)."""

    def __enter__(self):
        import psutil

        self._process = psutil.Process()
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def scale_case(data_dir: str, size: int) -> dict:
    """One synthetic corpus, deduplicated in stages; run in a fresh subprocess."""
    from benchmarks.synthetic import build_pool, generate
    from livingreview.dedup.blocking import batch_pairs
    from livingreview.dedup.match import pair_matches

    keyed, groups = generate(size, seed=1, pool=build_pool(data_dir))
    stages = {}
    with PeakMemory() as memory:
        started = time.perf_counter()
        table = RecordTable.from_records(keyed)
        stages["normalise"] = time.perf_counter() - started
        mark = time.perf_counter()
        earlier, later = batch_pairs(table)
        stages["block"] = time.perf_counter() - mark
        mark = time.perf_counter()
        matches = pair_matches(table, table, later, earlier)
        stages["score+decide"] = time.perf_counter() - mark
        mark = time.perf_counter()
        clusters = cluster_table(table, matches)
        stages["cluster"] = time.perf_counter() - mark
        total = time.perf_counter() - started
    accuracy = pairwise(pair_set(clusters.groups), pair_set(groups))
    return {"size": size, "seconds": total, "stages": stages, "candidate_pairs": len(earlier),
            "peak_rss_mb": memory.peak / 2**20,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "precision": accuracy["precision"], "recall": accuracy["recall"],
            "maybe": sum(m.zone == "maybe" for m in matches)}


def incremental_case(data_dir: str, corpus_size: int = 100_000, new: int = 1_000) -> dict:
    """1,000 new records against a persisted index of a 100,000-record corpus."""
    from benchmarks.synthetic import build_pool, generate
    from livingreview.dedup import CorpusIndex

    keyed, groups = generate(corpus_size + new, seed=2, pool=build_pool(data_dir))
    corpus, batch = keyed[:corpus_size], keyed[corpus_size:]
    started = time.perf_counter()
    index = CorpusIndex()
    index.add(corpus)
    build = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus-index.npz"
        started = time.perf_counter()
        index.save(path)
        save = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        started = time.perf_counter()
        loaded = CorpusIndex.load(path)
        load = time.perf_counter() - started
    started = time.perf_counter()
    matches = loaded.match(batch)
    match = time.perf_counter() - started
    started = time.perf_counter()
    loaded.add(batch)
    add = time.perf_counter() - started
    truth = pair_set(groups)
    new_keys = {canonical_id(k) for k, _ in batch}
    corpus_keys = {canonical_id(k) for k, _ in corpus}
    expected = {p for p in truth if (p[0] in new_keys) != (p[1] in new_keys)}
    found = {tuple(sorted((canonical_id(m.left), canonical_id(m.right))))
             for m in matches if m.zone == "duplicate"}
    assert all(p[0] in corpus_keys or p[1] in corpus_keys for p in found)
    accuracy = pairwise(found, expected)
    return {"corpus": corpus_size, "new": new, "build_index": build, "save": save,
            "load": load, "index_mb": size_mb, "match": match, "add_new": add,
            "duplicates_found": len(found), "precision": accuracy["precision"],
            "recall": accuracy["recall"]}


def in_subprocess(kind: str, data_dir: Path, size: int, timeout: float) -> dict | None:
    command = [sys.executable, __file__, str(data_dir), f"--{kind}-worker", str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        print(f"  {kind} {size:,}: stopped after {timeout:.0f} s (--timeout)", flush=True)
        return None
    if done.returncode != 0:
        print(f"  {kind} {size:,}: failed\n{done.stderr[-2000:]}", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_scale(result: dict) -> None:
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result["stages"].items())
    print(f"  {result['size']:>9,} records: {result['seconds']:6.1f} s ({stages}); peak RSS "
          f"{result['peak_rss_mb']:,.0f} MB; {result['candidate_pairs']:,} candidate pairs; "
          f"P {result['precision']:.4f} R {result['recall']:.4f}; {result['maybe']:,} maybe",
          flush=True)


def print_incremental(result: dict) -> None:
    print(f"  {result['new']:,} new against {result['corpus']:,}: match {result['match']:.2f} s "
          f"(index load {result['load']:.2f} s, {result['index_mb']:.0f} MB on disk; built once "
          f"in {result['build_index']:.1f} s, saved in {result['save']:.2f} s; adding the new "
          f"records {result['add_new']:.2f} s); {result['duplicates_found']} duplicates, "
          f"P {result['precision']:.4f} R {result['recall']:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared" / "benchmarks"
                                                           / "dedup"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per set (median is shown)")
    parser.add_argument("--sizes", default="100000,1000000", help="synthetic corpus sizes, "
                        "comma-separated ('' for none)")
    parser.add_argument("--no-peer", action="store_true", help="skip bib-dedupe")
    parser.add_argument("--process-sizes", default="2000,7200", help="synthetic record files "
                        "timed as whole processes next to the labelled sets ('' for none)")
    parser.add_argument("--process-repeat", type=int, default=3, help="runs per whole process")
    parser.add_argument("--timeout", type=float, default=420, help="seconds per synthetic case")
    parser.add_argument("--scale-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--incremental-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    data_dir = Path(args.data_dir)

    if args.scale_worker:
        print(json.dumps(scale_case(str(data_dir), args.scale_worker)))
        return
    if args.incremental_worker:
        print(json.dumps(incremental_case(str(data_dir), args.incremental_worker)))
        return
    if not data_dir.is_dir():
        sys.exit(f"{data_dir}: no such folder. Fix: pass the folder that holds the labelled "
                 "sets (e.g. ../shared/benchmarks/dedup)")

    peer = not args.no_peer
    if peer:
        try:
            import bib_dedupe  # noqa: F401
        except ImportError:
            sys.exit("bib-dedupe is not installed. Fix: pip install -e '.[bench]' "
                     "(or run with --no-peer)")
    print(f"Labelled sets in {data_dir} (median of {args.repeat} runs, file to groups, "
          f"{os.cpu_count()} cores)\n{'set':<20} {'records':>6} {'pairs':>6}")
    rows = real_sets(data_dir, args.repeat, peer)
    print_totals(rows)
    print_loso(*leave_one_set_out(data_dir, {r["set"]: r.get("bib_dedupe") for r in rows}))
    whole_processes(data_dir, [int(s) for s in args.process_sizes.split(",") if s.strip()],
                    args.process_repeat, peer)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if sizes:
        print("\nSynthetic corpora (benchmarks/synthetic.py; one fresh process each)")
        for size in sizes:
            result = in_subprocess("scale", data_dir, size, args.timeout)
            if result:
                print_scale(result)
        print("\nIncremental: new records against a persisted corpus index")
        result = in_subprocess("incremental", data_dir, 100_000, args.timeout)
        if result:
            print_incremental(result)


if __name__ == "__main__":
    main()
