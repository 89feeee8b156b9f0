"""bib-dedupe on one record file, as one process: ``python benchmarks/bib_dedupe_file.py
RECORDS.csv GROUPS.csv`` reads the file (bib-dedupe or ASySD layout), runs bib-dedupe's prep,
block, match and cluster, and writes the groups as ``merged_ids`` rows, the same job as
``livingreview dedup-file``. benchmarks/dedup.py times both as whole processes and calls
``run_bib_dedupe`` in its own process for the in-process figures.

Imports nothing from livingreview, so the process pays only for what bib-dedupe needs.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def run_bib_dedupe(path: Path) -> list[list[str]]:
    import bib_dedupe.bib_dedupe as bd
    import pandas as pd

    if path.name == "labelled_test_set.csv":
        frame = pd.read_csv(path, encoding="latin-1", dtype=str)
        frame = frame.rename(columns={"record_id": "ID"}).drop(columns=["label", "source"],
                                                              errors="ignore")
    else:
        frame = pd.read_csv(path, dtype=str)
    frame = frame.fillna("")
    if "ENTRYTYPE" not in frame:
        frame["ENTRYTYPE"] = "article"
    prepared = bd.prep(frame, verbosity_level=0)
    blocked = bd.block(prepared, verbosity_level=0)
    matched = bd.match(blocked, verbosity_level=0)
    return bd.cluster(matched, verbosity_level=0)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: python benchmarks/bib_dedupe_file.py RECORDS.csv GROUPS.csv")
    groups = run_bib_dedupe(Path(sys.argv[1]))
    with open(sys.argv[2], "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["merged_ids"])
        for group in groups:
            writer.writerow([";".join(str(k) for k in group)])


if __name__ == "__main__":
    main()
