"""Measure the co-creation detector: which studies it flags, precision and recall.

    .venv/bin/python benchmarks/cocreation.py [--threshold T]

Sets (all labelled by the article's coding: the six co-creation studies are positives):

* ``included``: the review's included studies with their real titles, abstracts and keywords
  (tests/fixtures/included_studies/included_studies.csv, provenance per row), the way the detector
  is judged; ``included, titles only`` the same records with the title alone;
* ``article``: the article's own descriptions of the six co-creation studies, of Almeida 2020 and
  of some co-production studies (tests/fixtures/cocreation/article_descriptions.csv);
* ``written``: records written from the coding scheme's definitions
  (tests/fixtures/cocreation/written_records.csv).

Every set is scored by the detector as configured (review.toml threshold) and with the threshold
chosen leave-one-out (for each record, the threshold that maximises F1 on the other records of
the set), next to the previous alert rule (the words co-creation / co-design / co-commissioning)
measured in the same run. The rules were written from the definitions and then revised after
reading the included studies' abstracts and the article descriptions, so the figures on those sets
are in-sample and optimistic; the written set was written by the rules' author.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livingreview.cocreation.detector import (  # noqa: E402
    Detector,
    DetectorConfig,
    Example,
    Text,
)
from livingreview.config import load_review  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SETS = {
    "included": FIXTURES / "included_studies" / "included_studies.csv",
    "article": FIXTURES / "cocreation" / "article_descriptions.csv",
    "written": FIXTURES / "cocreation" / "written_records.csv",
}
# The alert rule before the detector (review.toml until 2026-12): the words, not the definition.
WORD_RULE = re.compile(r"\bco[-\s]?creat\w*|\bco[-\s]?design\w*|\bco[-\s]?commission\w*", re.I)
THRESHOLDS = [0.5 + i for i in range(0, 8)]


def _read(path: Path, titles_only: bool = False) -> list[tuple[Text, bool]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return [(Text(r["record_id"], r["title"], None if titles_only else r["abstract"],
                  None if titles_only else r.get("keywords")), r["co_creation"] == "true")
            for r in rows]


def _metrics(flagged: list[bool], labels: list[bool]) -> tuple[int, int, int, str]:
    tp = sum(f and y for f, y in zip(flagged, labels))
    fp = sum(f and not y for f, y in zip(flagged, labels))
    fn = sum(y and not f for f, y in zip(flagged, labels))
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a"
    recall = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a"
    return tp, fp, fn, f"precision {precision}, recall {recall}"


def _f1(scores: list[float], labels: list[bool], threshold: float) -> float:
    flagged = [s >= threshold for s in scores]
    tp, fp, fn, _ = _metrics(flagged, labels)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _leave_one_out(scores: list[float], labels: list[bool]) -> tuple[list[bool], list[float]]:
    """Each record judged with the threshold that maximises F1 on the others (ties: higher)."""
    flagged, chosen = [], []
    for i in range(len(scores)):
        rest_s, rest_y = scores[:i] + scores[i + 1:], labels[:i] + labels[i + 1:]
        best = max(THRESHOLDS, key=lambda t: (_f1(rest_s, rest_y, t), t))
        chosen.append(best)
        flagged.append(scores[i] >= best)
    return flagged, chosen


def _line(name: str, flagged: list[bool], labels: list[bool], ids: list[str]) -> str:
    tp, fp, fn, text = _metrics(flagged, labels)
    positives = sum(labels)
    missed = [i for i, f, y in zip(ids, flagged, labels) if y and not f]
    wrong = [i for i, f, y in zip(ids, flagged, labels) if f and not y]
    return (f"  {name:<34} {tp}/{positives} co-creation flagged, {fp} of "
            f"{len(labels) - positives} others; {text}\n"
            f"  {'':<34} missed: {', '.join(missed) or '-'}; false flags: {', '.join(wrong) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threshold", type=float, default=None,
                        help="rule threshold (default: review.toml's)")
    args = parser.parse_args()
    config = DetectorConfig.from_review(load_review(ROOT / "review.toml"))
    if args.threshold is not None:
        config = DetectorConfig(threshold=args.threshold)
    detector = Detector(config)
    runs = [("included", SETS["included"], False), ("included, titles only", SETS["included"], True),
            ("article", SETS["article"], False), ("written", SETS["written"], False)]
    print(f"co-creation detector, rules mode, threshold {config.threshold:g}")
    for name, path, titles_only in runs:
        rows = _read(path, titles_only)
        texts, labels = [t for t, _ in rows], [y for _, y in rows]
        ids = [t.record_id for t in texts]
        flags = detector.detect(texts)
        scores = [f.score for f in flags]
        loo, chosen = _leave_one_out(scores, labels)
        # the configured threshold for this kind of record (with or without abstract)
        configured = {detector.threshold_for(t) for t in texts}
        words = [bool(WORD_RULE.search(" ".join(filter(None, [t.title, t.abstract, t.keywords]))))
                 for t in texts]
        print(f"\n{name} ({len(rows)} records, {sum(labels)} co-creation)")
        print(_line(f"detector (threshold {'/'.join(f'{c:g}' for c in sorted(configured))})",
                    [f.flagged for f in flags],
                    labels, ids))
        print(_line(f"detector (leave-one-out threshold, {min(chosen):g}-{max(chosen):g})", loo,
                    labels, ids))
        print(_line("previous rule (the words)", words, labels, ids))
        if name == "included":
            # Learned mode as maintainers would reach it: the article and written records taken
            # as decided alerts (36, 16 confirmed), none of them an included-study abstract.
            examples = [Example(t, y) for other in ("article", "written")
                        for t, y in _read(SETS[other])]
            learned = Detector(DetectorConfig(threshold=config.threshold, learn_after=2,
                                              learn_min_each=1), examples)
            print(_line(f"learned mode ({len(examples)} decided, "
                        f"{sum(e.confirmed for e in examples)} confirmed)",
                        [f.flagged for f in learned.detect(texts)], labels, ids))
    _suggestions(detector)


def _suggestions(detector: Detector) -> None:
    """Charting suggestions against the codes the article states for included studies."""
    from livingreview.baseline import SEED_FILE
    from livingreview.cocreation.suggestions import suggest
    from livingreview.screening.scheme import normalise_code

    with SEED_FILE.open(newline="", encoding="utf-8") as handle:
        stated = {r["ref_id"]: r for r in csv.DictReader(handle)}
    rows = _read(SETS["included"])
    found = suggest([t for t, _ in rows], detector)
    print("\ncharting suggestions on the included studies (against the article's stated codes)")
    for field in ("role_type", "involvement"):
        agree = total = 0
        for text, co_creation in rows:
            if field == "involvement":
                # The article states involvement for the six and Almeida; the rest is co-production.
                truth = ["co-creation"] if co_creation else normalise_code(
                    field, stated[text.record_id]["involvement"]) or ["co-production"]
            else:
                truth = normalise_code(field, stated[text.record_id][field])
            if not truth:
                continue
            total += 1
            agree += getattr(found[text.record_id], field) in truth
        print(f"  {field:<12} suggestion among the stated values for {agree} of {total} studies")


if __name__ == "__main__":
    main()
