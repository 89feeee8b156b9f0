"""Recall and cost of the local search strategy (Crossref's P AND C AND S), faithful vs extended.

    .venv/bin/python benchmarks/search_strategy.py [BENCH_DATA]

Recall: on the review's included studies with their real titles and abstracts
(tests/fixtures/included_studies). Each extended-variant pattern is checked for the studies only it
rescues; the leave-one-study-out figure drops, for each study, the patterns no other gathered
study needs (they would not have been written without it). Cost: the share of off-topic records
the strategy keeps (screening benchmark sets, the recorded OpenAlex and Crossref pages) and the
share of recorded Crossref works without an abstract, all of which the strategy keeps.
"""

from __future__ import annotations

import csv
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from livingreview.records import Record  # noqa: E402
from livingreview.sources import crossref, openalex  # noqa: E402
from livingreview.strategy import BLOCKS, LocalStrategy, evaluate, local_strategy  # noqa: E402

FIXTURE = ROOT / "tests/fixtures/included_studies/included_studies.csv"


def included() -> list[Record]:
    with open(FIXTURE, newline="", encoding="utf-8") as handle:
        return [Record(source="fixture", source_id=r["record_id"], title=r["title"],
                       abstract=r["abstract"] or None, journal=r["journal"],
                       keywords=[k.strip() for k in r["keywords"].split(";") if k.strip()])
                for r in csv.DictReader(handle)]


def kept(strategy: LocalStrategy, records: list[Record]) -> set[str]:
    blocks = strategy.compiled()
    return {r.source_id for r in records if evaluate(blocks, r).kept}


def recall_section(review: dict, studies: list[Record]) -> None:
    with_abstract = [r for r in studies if r.abstract]
    print(f"## Recall on the included studies ({len(with_abstract)} of {len(studies)} with a "
          "real abstract)\n")
    print("| variant | kept / with abstract | recall | failing P | C | S | title alone shows "
          "P, C and S |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant in ("faithful", "extended"):
        strategy = local_strategy(review, variant)
        blocks = strategy.compiled()
        verdicts = [evaluate(blocks, r) for r in with_abstract]
        failing = Counter(b for v in verdicts for b in v.failed_blocks)
        titles = sum(not evaluate(blocks, Record("t", r.source_id, title=r.title, abstract="x",
                                                 journal=r.journal)).failed_blocks
                     for r in studies)
        n_kept = sum(v.kept for v in verdicts)
        print(f"| {variant} | {n_kept} / {len(with_abstract)} | {n_kept / len(with_abstract):.3f} "
              f"| {failing['P']} | {failing['C']} | {failing['S']} | {titles} / {len(studies)} |")
    print()
    faithful = local_strategy(review, "faithful")
    extended = local_strategy(review, "extended")
    full = kept(extended, with_abstract)
    rescues: dict[tuple[str, int], set[str]] = {}
    for block in BLOCKS:
        added = extended.patterns[block][len(faithful.patterns[block]):]
        for position, _ in enumerate(added):
            patterns = dict(extended.patterns)
            patterns[block] = tuple(p for i, p in enumerate(patterns[block])
                                    if i != len(faithful.patterns[block]) + position)
            rescues[(block, position)] = full - kept(LocalStrategy("x", patterns), with_abstract)
    print("Studies each added pattern alone keeps in (the others stay):\n")
    for (block, position), ids in rescues.items():
        print(f"- {block}+{position + 1}: {len(ids)} {sorted(ids)}")
    print()
    # Leave one study out: a pattern that rescues only study i would not exist without it.
    loo_kept = 0
    for record in with_abstract:
        patterns = {b: list(extended.patterns[b]) for b in BLOCKS}
        for (block, position), ids in rescues.items():
            if ids == {record.source_id}:
                patterns[block][len(faithful.patterns[block]) + position] = r"(?!x)x"
        strategy = LocalStrategy("loo", {b: tuple(p) for b, p in patterns.items()})
        loo_kept += evaluate(strategy.compiled(), record).kept
    print(f"Leave-one-study-out recall (extended): {loo_kept} / {len(with_abstract)} = "
          f"{loo_kept / len(with_abstract):.3f}\n")


def _screening_sets(data: Path) -> dict[str, list[Record]]:
    sets = {}
    for path in sorted((data / "screening").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            sets[path.stem] = [Record("bench", r["record_id"], title=r["title"],
                                      abstract=r.get("abstract") or None)
                               for r in csv.DictReader(handle)]
    return sets


def cost_section(review: dict, data: Path) -> None:
    sets = _screening_sets(data)
    sets["openalex: 'machine learning public health' page"] = openalex.parse_works(
        (ROOT / "tests/fixtures/openalex/works_search_page1_per_page200.json").read_text())
    recorded = []
    for path in sorted((ROOT / "tests/fixtures/crossref").glob("works_*.json")):
        recorded += crossref.parse_works(path.read_text())
    sets["crossref: recorded /works pages"] = recorded
    print("## Cost: off-topic records the strategy keeps\n")
    print("| set | records | with abstract | kept (faithful) | kept (extended) | of which "
          "without abstract |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, records in sets.items():
        row = [name, len(records), sum(bool(r.abstract) for r in records)]
        for variant in ("faithful", "extended"):  # count records: pages may repeat a work
            blocks = local_strategy(review, variant).compiled()
            row.append(sum(evaluate(blocks, r).kept for r in records))
        row.append(sum(not r.abstract for r in records))
        print("| " + " | ".join(str(x) for x in row) + " |")
    print("\nEvery record without an abstract is kept (`needs_abstract`): the abstract could show "
          "any block. The monthly cost is therefore received x (share without an abstract after "
          "enrichment) + received x (share with one) x (keep rate with an abstract); the run "
          "summary records received, kept and needs_abstract per month.")


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "benchmarks"
    review = tomllib.loads((ROOT / "review.toml").read_text())
    recall_section(review, included())
    cost_section(review, data)


if __name__ == "__main__":
    main()
