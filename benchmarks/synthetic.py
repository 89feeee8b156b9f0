"""Synthetic bibliographic corpora with known duplicates, for timing deduplication at scale.

The real benchmark sets hold a few thousand records; the monthly update runs against a corpus
that grows to hundreds of thousands. This module grows realistic corpora from the real records:

* distinct works get titles from a word-level Markov chain trained on the real titles (so
  title openings repeat as they do in a real corpus: "effect of", "a randomized"), surnames and
  journals drawn from the real records, years, volumes, issues, pages and (for most) a DOI;
* duplicates are copies of a work damaged the way exports damage records: typos, case and
  punctuation changes, a translated-title note, journal abbreviated, author list truncated or
  written another way, pages shortened ("457-68"), the year shifted by one (online vs print),
  fields dropped.

``generate(n, seed, pool)`` returns ``(keyed_records, groups)`` where groups are the true
duplicate groups (lists of keys). Deterministic for a seed.
"""

from __future__ import annotations

import random
import re
import string
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from livingreview.dedup.normalise import parse_author
from livingreview.dedup.record_files import read_record_file
from livingreview.records import Record

DUPLICATE_SHARE = 0.25  # of all generated records, the share that copies another work
STOP = "\x00"


@dataclass
class Pool:
    """What the generator draws from: a title chain, surnames, journals."""

    chain: dict[tuple[str, str], list[str]]
    starts: list[tuple[str, str]]
    surnames: list[str]
    journals: list[str]


def build_pool(data_dir: str | Path) -> Pool:
    """Learn titles, surnames and journals from every record file under ``data_dir``."""
    chain: dict[tuple[str, str], list[str]] = defaultdict(list)
    starts, surnames, journals = [], set(), set()
    for path in sorted(Path(data_dir).glob("*/*.csv")):
        if path.name not in ("records_pre_merged.csv", "labelled_test_set.csv"):
            continue
        for _key, record in read_record_file(path):
            if record.title:
                words = re.sub(r"\[[^\]]*\]", "", record.title).split()
                if len(words) >= 3:
                    starts.append((words[0], words[1]))
                    for a, b, c in zip(words, words[1:], words[2:] + [STOP]):
                        chain[(a, b)].append(c)
            for author in record.authors:
                surname = author.split(",")[0].strip() if "," in author else parse_author(author)[0]
                if surname and surname.isalpha() and len(surname) > 1:
                    surnames.add(surname.capitalize())
            if record.journal and len(record.journal) < 80:
                journals.add(record.journal.rstrip("."))
    if not starts:
        raise SystemExit(f"no record files found under {data_dir}")
    return Pool(dict(chain), starts, sorted(surnames), sorted(journals))


def _title(rng: random.Random, pool: Pool) -> str:
    a, b = rng.choice(pool.starts)
    words = [a, b]
    while len(words) < 30:
        follow = pool.chain.get((a, b))
        if not follow:
            break
        c = rng.choice(follow)
        if c == STOP:
            if len(words) >= 6:
                break
            c = rng.choice(follow)
            if c == STOP:
                break
        words.append(c)
        a, b = b, c
    # a distinguishing tail keeps chance collisions of short chains apart, as real titles are
    if len(words) < 8:
        words += rng.sample(["in", "adults", "children", "mice", "a", "cohort", "trial",
                             "review", "patients", "with", "after", "stroke", "therapy"], 3)
    return " ".join(words)


def _work(rng: random.Random, pool: Pool, index: int) -> Record:
    n_authors = rng.choice([1, 2, 3, 3, 4, 5, 6, 8])
    authors = [
        f"{rng.choice(pool.surnames)}, {rng.choice(string.ascii_uppercase)}."
        + (f" {rng.choice(string.ascii_uppercase)}." if rng.random() < 0.5 else "")
        for _ in range(n_authors)
    ]
    first = rng.randint(1, 2000)
    abstract = None
    if rng.random() < 0.2:
        abstract = " ".join(_title(rng, pool) for _ in range(3))
    return Record(
        source="synthetic",
        source_id=str(index),
        title=_title(rng, pool),
        authors=authors,
        year=rng.randint(1990, 2024),
        journal=rng.choice(pool.journals),
        volume=str(rng.randint(1, 300)),
        issue=str(rng.randint(1, 12)) if rng.random() < 0.8 else None,
        pages=f"{first}-{first + rng.randint(0, 15)}",
        doi=f"10.5555/syn.{index}" if rng.random() < 0.6 else None,
        abstract=abstract,
    )


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 10:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.33:
        return text[:i] + text[i + 1:]
    if kind < 0.66:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _abbreviate(journal: str) -> str:
    words = [w for w in journal.split() if w.lower() not in ("of", "the", "and", "&", "in")]
    return " ".join(w[:4] if len(w) > 5 else w for w in words)


def _short_pages(pages: str) -> str:
    first, _, last = pages.partition("-")
    if last and len(first) == len(last) and len(first) > 1 and first[:-2] == last[:-2]:
        return f"{first}-{last[-2:]}"
    return pages


def _damage(rng: random.Random, work: Record, index: int) -> Record:
    """A copy of ``work`` as another database would export it."""
    record = replace(work, source="synthetic-copy", source_id=str(index), authors=list(work.authors))
    title = record.title or ""
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        title = _typo(rng, title)
    roll = rng.random()
    if roll < 0.3:
        title = title.lower()
    elif roll < 0.4:
        title = title.upper()
    elif roll < 0.5:
        title = f"[{title}]"
    elif roll < 0.55:
        title = title + ". [Chinese]"
    record.title = title.replace(":", " -") if rng.random() < 0.2 else title
    if rng.random() < 0.4:
        record.journal = _abbreviate(record.journal or "")
    if rng.random() < 0.3 and len(record.authors) > 1:
        record.authors = record.authors[: rng.randint(1, len(record.authors) - 1)]
    if rng.random() < 0.3:
        # "Last F." instead of "Last, F."
        record.authors = [a.replace(",", "") for a in record.authors]
    if rng.random() < 0.3:
        record.pages = _short_pages(record.pages or "")
    if rng.random() < 0.15 and record.year:
        record.year = record.year + rng.choice([-1, 1])
    for name, chance in (("doi", 0.4), ("pages", 0.1), ("volume", 0.1), ("issue", 0.3),
                         ("abstract", 0.5)):
        if rng.random() < chance:
            setattr(record, name, None)
    return record


def generate(n: int, seed: int, pool: Pool, prefix: str = "s") -> tuple[list[tuple[str, Record]], list[list[str]]]:
    """``n`` keyed records, about a quarter of them duplicates, and the true duplicate groups."""
    rng = random.Random(seed)
    n_works = max(1, int(n * (1 - DUPLICATE_SHARE)))
    works = [_work(rng, pool, i) for i in range(n_works)]
    keyed: list[tuple[str, Record]] = [(f"{prefix}{i}", w) for i, w in enumerate(works)]
    members: dict[int, list[str]] = defaultdict(list)
    for i in range(n_works, n):
        # some works are found by several databases: skew copies towards a subset
        origin = rng.randrange(n_works) if rng.random() < 0.7 else rng.randrange(max(1, n_works // 10))
        key = f"{prefix}{i}"
        keyed.append((key, _damage(rng, works[origin], i)))
        members[origin].append(key)
    rng.shuffle(keyed)
    groups = [[f"{prefix}{origin}"] + copies for origin, copies in members.items()]
    return keyed, groups
