"""Screening prioritisation benchmark: livingreview's active learner next to ASReview's default.

    python benchmarks/screening.py                   # every set in ../shared/benchmarks/screening
    python benchmarks/screening.py DIR --seeds 1 2 3 --model svm --only Kitchenham_2010
    python benchmarks/screening.py --views words    # ours with the word view only
    python benchmarks/screening.py --asreview-cache /tmp/asr.json  # ASReview once, then reused

For each ASReview-style CSV (record_id, title, abstract, label_included) and each seed, both tools
start from the same priors (one inclusion and one exclusion drawn with
``livingreview.screening.simulation.choose_priors``) and their screening orders are scored by the
same functions (``livingreview.screening.metrics``): WSS@95 and recall after 10% screened, priors
included. Seconds are the simulation only (features + active-learning loop), not imports or CSV
reading.

ASReview needs pandas < 3, which the project's venv does not have, so it runs in its own
interpreter: ``--asreview-python``, else $LR_ASREVIEW_PYTHON, else this interpreter if it can
import asreview, else ``.venv-asreview/bin/python`` in the repository (``make bench-screening``
creates it). This file is also that worker (``--asreview-worker JOB.json``), which is why the
livingreview imports sit inside functions: the worker's interpreter does not have the project.

Also printed:

* the stopping aid at the point where 95% of the inclusions are found: the estimated relevant
  records remaining among the unscreened, against the true number;
* the living-review update scenario: for sets with a ``year`` column, records up to the year that
  splits the set closest to 75/25 are the earlier review (labels known), and the later records are
  ranked, once from the earlier labels ("one-shot") and by active learning continuing from them.
  Records with no year are left out of the scenario.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SETS = REPO.parent / "shared" / "benchmarks" / "screening"
ASREVIEW_VENV_PYTHON = REPO / ".venv-asreview" / "bin" / "python"

# From ../shared/design.md, measured by the lead with ASReview 3.0.8, seeds 1-3, same scoring;
# printed only when ASReview cannot be run here, and labelled as such.
DESIGN_TABLE = {
    "Bannach-Brown_2019": (0.416, 0.561, 24),
    "Cohen_2006_ADHD": (0.583, 0.667, 7),
    "Cohen_2006_Antihistamines": (-0.015, 0.417, 3),
    "Cohen_2006_OralHypoglycemics": (0.173, 0.262, 4),
    "Kitchenham_2010": (0.674, 0.704, 10),
}


# --------------------------------------------------------------------------- ASReview worker
def asreview_worker(job_path: str) -> None:
    """Run ASReview's default model from the given priors; print the order and seconds as JSON.

    Runs in ASReview's interpreter: imports nothing from livingreview.
    """
    import logging

    logging.disable(logging.WARNING)
    import asreview
    from asreview import load_dataset
    from asreview.learner import ActiveLearningCycle
    from asreview.models.models import get_ai_config
    from asreview.models.queriers import TopDown
    from asreview.models.stoppers import IsFittable
    from asreview.simulation.simulate import Simulate

    job = json.loads(Path(job_path).read_text())
    db = load_dataset(job["dataset"], dataset_id=Path(job["dataset"]).name)
    frame = db.input.get_df()
    labels = db.input["included"]
    # As `asreview simulate --seed`: the global NumPy seed drives the model's randomness.
    np.random.seed(job["seed"])
    config = get_ai_config()
    start = time.perf_counter()
    cycles = [ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
              ActiveLearningCycle.from_meta(config["value"])]
    # Default stopper: stop after the last relevant record, as `asreview simulate` does.
    sim = Simulate(frame, labels, cycles, print_progress=False)
    sim.label(job["priors"])
    sim.review()
    seconds = time.perf_counter() - start
    print(json.dumps({"order": [int(i) for i in sim._results["record_id"]],
                      "seconds": seconds, "version": asreview.__version__,
                      "model": config["name"]}))


def find_asreview_python(explicit: str | None) -> str | None:
    candidates = [explicit, os.environ.get("LR_ASREVIEW_PYTHON")]
    try:
        import asreview  # noqa: F401
        candidates.append(sys.executable)
    except ImportError:
        pass
    candidates.append(str(ASREVIEW_VENV_PYTHON))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


#: Set by main() from --asreview-cache: a JSON file of earlier ASReview runs, so that trying
#: variants of our model does not re-run ASReview each time. Off by default: the published
#: table must come from one run of both tools.
ASREVIEW_CACHE: Path | None = None


def _cache_key(python: str, dataset: Path, priors: list[int], seed: int) -> str:
    digest = hashlib.sha256(dataset.read_bytes()).hexdigest()[:16]
    return json.dumps([str(Path(python).resolve()), dataset.name, digest, priors, seed])


def run_asreview(python: str, dataset: Path, priors: list[int], seed: int) -> dict:
    if ASREVIEW_CACHE is None:
        return _run_asreview(python, dataset, priors, seed)
    cache = json.loads(ASREVIEW_CACHE.read_text()) if ASREVIEW_CACHE.exists() else {}
    key = _cache_key(python, dataset, priors, seed)
    if key not in cache:
        cache[key] = _run_asreview(python, dataset, priors, seed)
        # Re-read before writing: another harness run may have added entries meanwhile.
        latest = json.loads(ASREVIEW_CACHE.read_text()) if ASREVIEW_CACHE.exists() else {}
        latest[key] = cache[key]
        ASREVIEW_CACHE.parent.mkdir(parents=True, exist_ok=True)
        ASREVIEW_CACHE.write_text(json.dumps(latest))
    return cache[key]


def _run_asreview(python: str, dataset: Path, priors: list[int], seed: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"dataset": str(dataset), "priors": priors, "seed": seed}, handle)
    try:
        done = subprocess.run([python, __file__, "--asreview-worker", handle.name],
                              capture_output=True, text=True, check=False)
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise RuntimeError(f"ASReview worker failed on {dataset.name}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def complete(order: list[int], n: int) -> list[int]:
    """ASReview stops at the last inclusion; append the rest (it cannot change either metric)."""
    seen = set(order)
    return order + [i for i in range(n) if i not in seen]


# --------------------------------------------------------------------------- ours
def run_ours(texts: list[str], labels: np.ndarray, priors: list[int], seed: int,
             options: dict) -> dict:
    """Simulate, and ask for the stopping estimate when 95% of inclusions are found."""
    from livingreview.screening.metrics import inclusions_needed
    from livingreview.screening.simulation import ActiveLearner

    needed = inclusions_needed(int(labels.sum()), 0.95)
    start = time.perf_counter()
    learner = ActiveLearner(texts, seed=seed, **options)
    learner.label(priors, labels[priors])
    estimate = truth = None
    estimate_seconds = 0.0
    while (batch := learner.next_batch()).size:
        learner.label(batch, labels[batch])
        found = int(learner.screened_labels.sum())
        if estimate is None and found >= needed and learner.pending.size:
            t = time.perf_counter()
            estimate = learner.estimate_remaining()
            estimate_seconds += time.perf_counter() - t
            truth = int(labels.sum()) - found
    seconds = time.perf_counter() - start - estimate_seconds
    return {"order": learner.order, "seconds": seconds, "estimate": estimate, "truth": truth,
            "fits": learner.fits}


# --------------------------------------------------------------------------- scenario
def split_year(years: pd.Series) -> int:
    """The year Y for which 'published up to Y' is closest to 75% of the dated records."""
    known = years.dropna()
    return int(min(sorted(known.unique()), key=lambda y: (abs((known <= y).mean() - 0.75), y)))


def update_scenario(frame: pd.DataFrame, texts: list[str], labels: np.ndarray, seed: int,
                    options: dict, asreview_python: str | None, dataset: Path) -> dict:
    from livingreview.screening.metrics import recall_after, wss
    from livingreview.screening.ranking import Ranker
    from livingreview.screening.simulation import ActiveLearner

    year = split_year(frame["year"])
    dated = frame["year"].notna().to_numpy()
    earlier = np.flatnonzero(dated & (frame["year"] <= year).to_numpy())
    later = np.flatnonzero(dated & (frame["year"] > year).to_numpy())
    result = {"year": year, "earlier": len(earlier), "earlier_in": int(labels[earlier].sum()),
              "later": len(later), "later_in": int(labels[later].sum()),
              "undated": int((~dated).sum())}
    if not result["later_in"] or not result["earlier_in"]:
        return result

    def score(order_later: list[int]) -> tuple[float, float]:
        screened = labels[order_later]
        return wss(screened), recall_after(screened)

    start = time.perf_counter()
    ranker = Ranker(seed=seed, **options).fit([texts[i] for i in earlier], labels[earlier],
                                               [texts[i] for i in later])
    scores = ranker.score([texts[i] for i in later])
    one_shot = later[np.argsort(-scores, kind="stable")].tolist()
    result["one_shot"] = (*score(one_shot), time.perf_counter() - start)

    # Active learning on the later records only, as the monthly queue would screen them.
    sub = np.concatenate([earlier, later])
    start = time.perf_counter()
    learner = ActiveLearner([texts[i] for i in sub], seed=seed, **options)
    learner.label(np.arange(len(earlier)), labels[earlier])
    while (batch := learner.next_batch()).size:
        learner.label(batch, labels[sub[batch]])
    active = sub[learner.order[len(earlier):]].tolist()
    result["active"] = (*score(active), time.perf_counter() - start)

    if asreview_python:
        # ASReview sees the whole file; its priors are the earlier records, and undated
        # records are dropped from its order before scoring.
        run = run_asreview(asreview_python, dataset, earlier.tolist(), seed)
        later_set = set(later.tolist())
        order = [i for i in complete(run["order"], len(labels)) if i in later_set]
        result["asreview"] = (*score(order), run["seconds"])
    return result


# --------------------------------------------------------------------------- main
def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", type=Path, nargs="?", default=DEFAULT_SETS,
                        help="folder of ASReview-style CSVs (default: the shared sets)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--model", default=None, help="ranking model (default: the project's)")
    parser.add_argument("--views", nargs="+", default=None,
                        help="text views for our model, of: words characters (default: the "
                             "project's)")
    parser.add_argument("--only", nargs="*", default=None, help="set names to run")
    parser.add_argument("--asreview-python", default=None)
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--no-update", action="store_true", help="skip the update scenario")
    parser.add_argument("--asreview-cache", type=Path, default=None, metavar="FILE",
                        help="reuse ASReview's runs stored in FILE (JSON; same interpreter, set "
                             "bytes, priors and seed), adding new ones; its seconds are then "
                             "those of the earlier run")
    parser.add_argument("--asreview-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.asreview_worker:
        asreview_worker(args.asreview_worker)
        return 0

    from livingreview.screening.metrics import recall_after, wss
    from livingreview.screening.ranking import (
        DEFAULT_MODEL,
        DEFAULT_VIEWS,
        check_model,
        check_views,
        frame_texts,
    )
    from livingreview.screening.simulation import choose_priors, read_labelled_set

    global ASREVIEW_CACHE
    ASREVIEW_CACHE = args.asreview_cache
    model = check_model(args.model or DEFAULT_MODEL)
    views = check_views(args.views or DEFAULT_VIEWS)
    options = {"model": model, "views": views}
    paths = sorted(args.sets.glob("*.csv"))
    if args.only:
        paths = [p for p in paths if p.stem in args.only]
    if not paths:
        print(f"no CSV files in {args.sets}", file=sys.stderr)
        return 2
    python = None if args.no_asreview else find_asreview_python(args.asreview_python)
    if python is None:
        print("ASReview not run: no interpreter with asreview (pass --asreview-python, set "
              "LR_ASREVIEW_PYTHON or run `make bench-screening`); its column below is the "
              "table in ../shared/design.md (ASReview 3.0.8, measured earlier), not this run.\n")

    rows, stops, updates = [], [], []
    for path in paths:
        frame = read_labelled_set(path)
        texts = frame_texts(frame)
        labels = frame["label_included"].to_numpy()
        ours, theirs = [], []
        for seed in args.seeds:
            priors = list(choose_priors(labels, seed))
            run = run_ours(texts, labels, priors, seed, options)
            screened = labels[run["order"]]
            ours.append((wss(screened), recall_after(screened), run["seconds"]))
            if run["estimate"] is not None or run["truth"] is not None:
                stops.append((path.stem, seed, run["estimate"], run["truth"]))
            if python:
                asr = run_asreview(python, path, priors, seed)
                order = complete(asr["order"], len(labels))
                assert order[:2] == priors
                theirs.append((wss(labels[order]), recall_after(labels[order]), asr["seconds"]))
        mine = np.mean(ours, axis=0)
        if python:
            ref = np.mean(theirs, axis=0)
        else:
            ref = np.array(DESIGN_TABLE.get(path.stem, (np.nan,) * 3), dtype=float)
        rows.append((path.stem, len(labels), int(labels.sum()), mine, ref))
        print(f"{path.stem}: ours WSS@95 {mine[0]:.3f} r@10% {mine[1]:.3f} {mine[2]:.1f}s | "
              f"ASReview WSS@95 {fmt(ref[0])} r@10% {fmt(ref[1])} {fmt(ref[2], 1)}s", flush=True)
        if not args.no_update and "year" in frame.columns:
            for seed in args.seeds:
                updates.append((path.stem, seed, update_scenario(frame, texts, labels, seed,
                                                                 options, python, path)))

    if not python:
        label = "ASReview (design.md table, not this run)"
    elif ASREVIEW_CACHE:
        label = f"ASReview (cached in {ASREVIEW_CACHE}, possibly an earlier run)"
    else:
        label = "ASReview (this run)"
    print(f"\n## Screening prioritisation: livingreview ({model}, views: {' + '.join(views)}) "
          f"vs {label}")
    print(f"mean over seeds {', '.join(map(str, args.seeds))}; same priors, same scoring\n")
    print("| set | records / included | WSS@95 ours | WSS@95 ASReview | recall@10% ours "
          "| recall@10% ASReview | seconds ours | seconds ASReview |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, n_in, mine, ref in rows:
        print(f"| {name} | {n:,} / {n_in} | {mine[0]:.3f} | {fmt(ref[0])} | {mine[1]:.3f} | "
              f"{fmt(ref[1])} | {mine[2]:.1f} | {fmt(ref[2], 1)} |")
    mine_all = np.mean([r[3] for r in rows], axis=0)
    ref_all = np.nanmean([r[4] for r in rows], axis=0)
    print(f"| **mean** | | {mine_all[0]:.3f} | {fmt(ref_all[0])} | {mine_all[1]:.3f} | "
          f"{fmt(ref_all[1])} | {mine_all[2]:.1f} | {fmt(ref_all[2], 1)} |")

    print("\n## Stopping aid at the 95%-recall point (relevant records left among unscreened)\n")
    print("| set | seed | screened | estimate (90% interval) | truth |")
    print("|---|---:|---:|---|---:|")
    for name, seed, estimate, truth in stops:
        if estimate is None:
            print(f"| {name} | {seed} | | too few decisions to estimate | {truth} |")
        else:
            print(f"| {name} | {seed} | {estimate.n_screened} | {estimate.expected:.1f} "
                  f"({estimate.low:.0f}-{estimate.high:.0f}) | {truth} |")

    if updates:
        print("\n## Update scenario: earlier records (up to the split year) known, later ranked\n")
        print("| set | split year | earlier (incl.) | later (incl.) | WSS@95 one-shot | "
              "WSS@95 active | WSS@95 ASReview | recall@10% one-shot | recall@10% active | "
              "recall@10% ASReview | seconds active / ASReview |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        by_set: dict[str, list[dict]] = {}
        for name, _, result in updates:
            by_set.setdefault(name, []).append(result)
        for name, results in by_set.items():
            r0 = results[0]
            if "one_shot" not in r0:
                print(f"| {name} | {r0['year']} | {r0['earlier']} ({r0['earlier_in']}) | "
                      f"{r0['later']} ({r0['later_in']}) | n/a (no inclusions on one side) "
                      "| | | | | | |")
                continue
            cols = {k: np.mean([r[k] for r in results], axis=0)
                    for k in ("one_shot", "active", "asreview") if k in r0}
            asr = cols.get("asreview", (np.nan,) * 3)
            print(f"| {name} | {r0['year']} | {r0['earlier']} ({r0['earlier_in']}) | "
                  f"{r0['later']} ({r0['later_in']}) | {cols['one_shot'][0]:.3f} | "
                  f"{cols['active'][0]:.3f} | {fmt(asr[0])} | {cols['one_shot'][1]:.3f} | "
                  f"{cols['active'][1]:.3f} | {fmt(asr[1])} | {cols['active'][2]:.1f} / "
                  f"{fmt(asr[2], 1)} |")
        undated = {name: r[0]["undated"] for name, r in by_set.items() if r[0]["undated"]}
        if undated:
            print("\nUndated records left out of the scenario: "
                  + ", ".join(f"{k} {v}" for k, v in undated.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
