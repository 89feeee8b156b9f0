"""Screening prioritisation benchmark: livingreview's active learners next to ASReview's default,
and the leave-one-set-out choice of the default learner.

    python benchmarks/screening.py                   # every set in ../shared/benchmarks/screening
    python benchmarks/screening.py DIR --seeds 1 2 3 --only Kitchenham_2010
    python benchmarks/screening.py --learners elas_u4 elas_u4+characters
    python benchmarks/screening.py --asreview-cache /tmp/asr.json  # ASReview once, then reused

For each ASReview-style CSV (record_id, title, abstract, label_included) and each seed, every
candidate learner (``livingreview.screening.simulation.LEARNERS``) and ASReview start from the same
priors (one inclusion and one exclusion drawn with ``choose_priors``) and their screening orders
are scored by the same functions (``livingreview.screening.metrics``): WSS@95, loss (ASReview's
normalised area above the recall curve, 0 is perfect) and recall after 10% screened, priors
included. Seconds are the simulation only (features + active-learning loop), not imports or CSV
reading.

Leave-one-set-out selection: for each set in turn, the learner is chosen on the *other* sets by
the rule in ``choose_learner`` (at least ASReview's mean WSS@95 and loss on every one of them, then
the lowest mean loss; ``elas_u4``, ASReview's own model, when none qualifies) and scored on the
set left out. The left-out table is the honest estimate for a set the choice has never seen.

ASReview needs pandas < 3, which the project's venv does not have, so it runs in its own
interpreter: ``--asreview-python``, else $LR_ASREVIEW_PYTHON, else this interpreter if it can
import asreview, else ``.venv-asreview/bin/python`` in the repository (``make bench-screening``
creates it). This file is also that worker (``--asreview-worker JOB.json``), which is why the
livingreview imports sit inside functions: the worker's interpreter does not have the project.

Also printed, for the default learner:

* the stopping aid at the point where 95% of the inclusions are found: the estimated relevant
  records remaining among the unscreened, against the true number;
* the living-review update scenario (``--update-seeds``): for sets with a ``year`` column, records
  up to the year that splits the set closest to 75/25 are the earlier review (labels known), and
  the later records are ranked, once from the earlier labels ("one-shot") and by active learning
  continuing from them. Records with no year are left out of the scenario.
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
    ranker = Ranker(seed=seed, views=options["views"]).fit([texts[i] for i in earlier], labels[earlier],
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


# --------------------------------------------------------------------------- selection
#: The scores, in table order; loss is the one where lower is better.
MEASURES = ("wss95", "loss", "recall10")


def score_order(labels_in_order: np.ndarray) -> dict[str, float]:
    from livingreview.screening.metrics import loss, recall_after, wss

    return {"wss95": wss(labels_in_order), "loss": loss(labels_in_order),
            "recall10": recall_after(labels_in_order)}


def at_least_asreview(ours: dict[str, float], theirs: dict[str, float]) -> bool:
    """The floor: WSS@95 no lower and loss no higher than ASReview's default."""
    return ours["wss95"] >= theirs["wss95"] and ours["loss"] <= theirs["loss"]


def choose_learner(means: dict[str, dict[str, dict[str, float]]], peer: dict[str, dict],
                   sets: list[str], fallback: str) -> str:
    """The learner for a set none of ``sets`` is: among those at least ASReview's default on
    every one of ``sets`` (mean over seeds), the one with the lowest mean loss; ``fallback``
    (ASReview's own model) when none is.

    ``means[learner][set]`` and ``peer[set]`` map measure names to means over seeds.
    """
    qualified = [name for name, by_set in means.items()
                 if all(at_least_asreview(by_set[s], peer[s]) for s in sets)]
    if not qualified:
        return fallback
    # Ties go to the fallback, then to the order of LEARNERS: additions must earn their place.
    return min(qualified, key=lambda name: (np.mean([means[name][s]["loss"] for s in sets]),
                                            name != fallback))


def mean_scores(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


# --------------------------------------------------------------------------- main
def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", type=Path, nargs="?", default=DEFAULT_SETS,
                        help="folder of ASReview-style CSVs (default: the shared sets)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    parser.add_argument("--learners", nargs="+", default=None,
                        help="candidate active learners, names in livingreview.screening."
                             "simulation.LEARNERS (default: all)")
    parser.add_argument("--only", nargs="*", default=None, help="set names to run")
    parser.add_argument("--asreview-python", default=None)
    parser.add_argument("--update-seeds", type=int, nargs="*", default=[1, 2, 3],
                        help="seeds for the update scenario (none: skip it)")
    parser.add_argument("--asreview-cache", type=Path, default=None, metavar="FILE",
                        help="reuse ASReview's runs stored in FILE (JSON; same interpreter, set "
                             "bytes, priors and seed), adding new ones; its seconds are then "
                             "those of the earlier run")
    parser.add_argument("--save", type=Path, default=None, metavar="FILE",
                        help="also write the per-seed scores to FILE (JSON), for --merge")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, metavar="FILE",
                        help="run nothing: report the scores saved by runs on parts of the "
                             "sets (--only ... --save FILE), e.g. run side by side")
    parser.add_argument("--asreview-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.asreview_worker:
        asreview_worker(args.asreview_worker)
        return 0

    from livingreview.screening.ranking import frame_texts
    from livingreview.screening.simulation import (
        DEFAULT_LEARNER,
        LEARNERS,
        check_learner,
        choose_priors,
        read_labelled_set,
    )

    global ASREVIEW_CACHE
    ASREVIEW_CACHE = args.asreview_cache
    learners = list(dict.fromkeys([DEFAULT_LEARNER, *(args.learners or LEARNERS)]))
    for name in learners:
        check_learner(name)
    paths = sorted(args.sets.glob("*.csv"))
    if args.only:
        paths = [p for p in paths if p.stem in args.only]
    if not paths and not args.merge:
        print(f"no CSV files in {args.sets}", file=sys.stderr)
        return 2
    python = find_asreview_python(args.asreview_python)
    if python is None and not args.merge:
        print("ASReview not found: pass --asreview-python, set LR_ASREVIEW_PYTHON or run "
              "`make bench-screening` (it creates .venv-asreview); the choice of learner is "
              "measured against ASReview run in the same run, so there is nothing to report.",
              file=sys.stderr)
        return 2

    # runs[learner][set] = per-seed scores; peer[set] likewise; seconds alike.
    runs = {name: {} for name in learners}
    seconds = {name: {} for name in [*learners, "asreview"]}
    peer_runs, identical, stops, updates, sizes = {}, {}, [], [], {}
    for path in [] if args.merge else paths:
        frame = read_labelled_set(path)
        texts = frame_texts(frame)
        labels = frame["label_included"].to_numpy()
        sizes[path.stem] = (len(labels), int(labels.sum()))
        peer_runs[path.stem], seconds["asreview"][path.stem] = [], []
        identical[path.stem] = 0
        for name in learners:
            runs[name][path.stem], seconds[name][path.stem] = [], []
        for seed in args.seeds:
            priors = list(choose_priors(labels, seed))
            asr = run_asreview(python, path, priors, seed)
            peer_order = complete(asr["order"], len(labels))
            assert peer_order[:2] == priors
            peer_runs[path.stem].append(score_order(labels[peer_order]))
            seconds["asreview"][path.stem].append(asr["seconds"])
            for name in learners:
                run = run_ours(texts, labels, priors, seed, check_learner(name))
                runs[name][path.stem].append(score_order(labels[run["order"]]))
                seconds[name][path.stem].append(run["seconds"])
                if name == DEFAULT_LEARNER:
                    # ASReview stops at its last inclusion: compare what it screened.
                    identical[path.stem] += run["order"][:len(asr["order"])] == asr["order"]
                    if run["estimate"] is not None or run["truth"] is not None:
                        estimate = run["estimate"]
                        stops.append((path.stem, seed, estimate and {
                            "n_screened": estimate.n_screened, "expected": estimate.expected,
                            "low": estimate.low, "high": estimate.high}, run["truth"]))
        line = " | ".join(f"{name} " + " ".join(
            f"{fmt(mean_scores(runs[name][path.stem])[m])}" for m in MEASURES)
            for name in learners)
        peer = mean_scores(peer_runs[path.stem])
        print(f"{path.stem} (WSS@95 loss r@10%): {line} | ASReview "
              + " ".join(fmt(peer[m]) for m in MEASURES), flush=True)
        if args.update_seeds and "year" in frame.columns:
            options = check_learner(DEFAULT_LEARNER)
            for seed in args.update_seeds:
                updates.append((path.stem, seed, update_scenario(frame, texts, labels, seed,
                                                                 options, python, path)))

    saved = {"seeds": args.seeds, "learners": learners, "sizes": sizes, "runs": runs,
             "peer_runs": peer_runs, "seconds": seconds, "identical": identical, "stops": stops,
             "asreview_cache": str(ASREVIEW_CACHE) if ASREVIEW_CACHE else None}
    if args.merge:
        parts = [json.loads(f.read_text()) for f in args.merge]
        if any(p["seeds"] != parts[0]["seeds"] or p["learners"] != parts[0]["learners"]
               for p in parts):
            print("--merge: the files were run with different seeds or learners",
                  file=sys.stderr)
            return 2
        args.seeds, learners = parts[0]["seeds"], parts[0]["learners"]
        saved = {"seeds": args.seeds, "learners": learners, "stops": []}
        for key in ("sizes", "peer_runs", "identical"):
            saved[key] = {k: v for p in parts for k, v in p[key].items()}
        for key in ("runs", "seconds"):
            saved[key] = {name: {k: v for p in parts for k, v in p[key][name].items()}
                          for name in parts[0][key]}
        saved["stops"] = [tuple(stop) for p in parts for stop in p["stops"]]
        caches = {p.get("asreview_cache", "unrecorded") for p in parts} - {None}
        ASREVIEW_CACHE = Path(", ".join(sorted(caches))) if caches else None
        sizes, runs, peer_runs, seconds, identical, stops = (
            saved[k] for k in ("sizes", "runs", "peer_runs", "seconds", "identical", "stops"))
    elif args.save:
        args.save.write_text(json.dumps(saved))
    names = sorted(sizes)
    means = {name: {s: mean_scores(runs[name][s]) for s in names} for name in learners}
    peer = {s: mean_scores(peer_runs[s]) for s in names}
    source = (f"cached in {ASREVIEW_CACHE}, possibly an earlier run" if ASREVIEW_CACHE
              else "this run")
    if args.merge:
        source += f"; merged from {', '.join(map(str, args.merge))}"
    seeds = ", ".join(map(str, args.seeds))

    print(f"\n## Leave-one-set-out: the learner chosen on the other sets, scored on the set left "
          f"out, vs ASReview's default (ELAS u4; {source})")
    print(f"mean over seeds {seeds}; same priors, same scoring. ≥ = the left-out score is at "
          "least ASReview's (WSS@95 no lower, loss no higher); seeds = on how many seeds it is\n")
    print("| left-out set | records / included | chosen on the others | WSS@95 ours | "
          "WSS@95 ASReview | loss ours | loss ASReview | recall@10% ours | recall@10% ASReview "
          "| ≥ | seeds ≥ |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|:---:|---:|")
    folds_held = True
    for left_out in names:
        others = [s for s in names if s != left_out]
        chosen = choose_learner(means, peer, others, DEFAULT_LEARNER) if others else \
            DEFAULT_LEARNER
        mine, ref = means[chosen][left_out], peer[left_out]
        held = at_least_asreview(mine, ref)
        folds_held &= held
        per_seed = sum(at_least_asreview(a, b)
                       for a, b in zip(runs[chosen][left_out], peer_runs[left_out], strict=True))
        n, n_in = sizes[left_out]
        print(f"| {left_out} | {n:,} / {n_in} | {chosen} | {mine['wss95']:.3f} | "
              f"{ref['wss95']:.3f} | {mine['loss']:.4f} | {ref['loss']:.4f} | "
              f"{mine['recall10']:.3f} | {ref['recall10']:.3f} | {'yes' if held else 'NO'} | "
              f"{per_seed}/{len(args.seeds)} |")
    on_all = choose_learner(means, peer, names, DEFAULT_LEARNER)
    print(f"\nChosen on all {len(names)} sets: {on_all}; the default (livingreview.screening."
          f"simulation.DEFAULT_LEARNER) is {DEFAULT_LEARNER}. Every left-out fold at least "
          f"ASReview's: {'yes' if folds_held else 'NO'}.")
    print(f"{DEFAULT_LEARNER} screened in ASReview's order, up to ASReview's last inclusion, on "
          + ", ".join(f"{s} {identical[s]}/{len(args.seeds)}" for s in names) + " seeds.")

    print(f"\n## Every candidate on every set (mean over seeds {seeds}; ASReview: {source})\n")
    print("| set | learner | WSS@95 | loss | recall@10% | ≥ ASReview | seconds |")
    print("|---|---|---:|---:|---:|:---:|---:|")
    for s in names:
        for name in [*learners, "asreview"]:
            row = peer[s] if name == "asreview" else means[name][s]
            mark = "" if name == "asreview" else ("yes" if at_least_asreview(row, peer[s])
                                                   else "no")
            label = "ASReview ELAS u4" if name == "asreview" else name
            print(f"| {s} | {label} | {row['wss95']:.3f} | {row['loss']:.4f} | "
                  f"{row['recall10']:.3f} | {mark} | {np.mean(seconds[name][s]):.1f} |")

    print(f"\n## Stopping aid at the 95%-recall point ({DEFAULT_LEARNER}; relevant records left "
          "among unscreened)\n")
    print("| set | seed | screened | estimate (90% interval) | truth |")
    print("|---|---:|---:|---|---:|")
    for name, seed, estimate, truth in stops:
        if estimate is None:
            print(f"| {name} | {seed} | | too few decisions to estimate | {truth} |")
        else:
            print(f"| {name} | {seed} | {estimate['n_screened']} | {estimate['expected']:.1f} "
                  f"({estimate['low']:.0f}-{estimate['high']:.0f}) | {truth} |")

    if updates:
        print(f"\n## Update scenario ({DEFAULT_LEARNER}, seeds "
              f"{', '.join(map(str, args.update_seeds))}): earlier records (up to the split "
              "year) known, later ranked\n")
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
