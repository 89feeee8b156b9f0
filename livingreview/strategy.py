"""The review's search strategy as each source runs it: named variants, PubMed's query per
variant, and the local Boolean strategy for sources without Boolean search.

Table 1 of the article has three blocks, ANDed: P (peer participants), C (collaborative
processes), S (sectors and services). PubMed runs them as a query. Crossref (and OpenAlex, and a
work fetched by DOI) cannot, so the same three blocks are applied locally as regular expressions
over title, abstract and keywords (``[search.local]`` in review.toml); S may also look at the
journal title, standing in for the subject headings a database would have.

A variant is named in review.toml: ``faithful`` is the published strategy as translated in
``seed/search-strategy.md``; ``extended`` adds, per block, the terms listed under
``[search.local.extended]`` and ``[sources.pubmed.extended]`` (each one a documented deviation).
Every source says which variant it runs (``[search] variant``, overridable per source) and every
run records it.

A record without an abstract is never rejected: any block its title does not show might be in
the abstract, so it is kept, flagged ``needs_abstract``, with the blocks its title lacks.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livingreview.errors import ConfigError, InputError
from livingreview.records import Record

BLOCKS = ("P", "C", "S")
FAITHFUL = "faithful"
VARIANTS = (FAITHFUL, "extended")
# Blocks that may also be shown by the journal title (a stand-in for subject headings).
_JOURNAL_BLOCKS = frozenset({"S"})


def source_variant(review: dict[str, Any], source: str) -> str:
    """The variant ``source`` runs: its own ``variant`` key, else ``[search] variant``."""
    search = review.get("search", {})
    variant = review["sources"].get(source, {}).get("variant", search.get("variant", FAITHFUL))
    if variant not in VARIANTS:
        raise ConfigError(f"review.toml: variant {variant!r} for {source} is not one of "
                          f"{', '.join(VARIANTS)}. Fix: set variant to one of them")
    return variant


# --------------------------------------------------------------------------- PubMed


def _top_level_groups(query: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the parenthesised groups at depth 0, outside quotes."""
    groups, depth, start, quoted = [], 0, 0, False
    for position, char in enumerate(query):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            if depth == 0:
                start = position
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                groups.append((start, position))
    return groups


def query_blocks(query: str) -> dict[str, str]:
    """The P, C and S groups of a Table 1 query and what follows them (``limits``)."""
    groups = _top_level_groups(query)
    if len(groups) < len(BLOCKS):
        raise ConfigError("review.toml [sources.pubmed] query: expected the three Table 1 blocks "
                          "as parenthesised groups ANDed together, found "
                          f"{len(groups)}. Fix: write the query as (P) AND (C) AND (S) ...")
    blocks = {name: query[start:end + 1] for name, (start, end) in zip(BLOCKS, groups)}
    blocks["limits"] = query[groups[len(BLOCKS) - 1][1] + 1:].strip()
    return blocks


def source_query(config: dict[str, Any], variant: str, source: str) -> str:
    """A Boolean source's query for ``variant``: the faithful query with the variant's terms ORed
    into the blocks they belong to (``[sources.<source>.<variant>]`` P, C, S). PubMed, OpenAlex
    and Europe PMC write their queries as three parenthesised blocks, so one rule serves all."""
    query = config["query"]
    if variant == FAITHFUL:
        return query
    additions = config.get(variant, {})
    unknown = sorted(set(additions) - set(BLOCKS))
    if unknown:
        raise ConfigError(f"review.toml [sources.{source}.{variant}]: unknown block(s) {unknown}. "
                          "Fix: add terms under P, C or S")
    # Insert from the last group backwards so earlier offsets stay valid.
    for name, (_, end) in reversed(list(zip(BLOCKS, _top_level_groups(query)))):
        terms = " ".join(str(additions.get(name, "")).split())
        if terms:
            if not terms.startswith("OR "):
                raise ConfigError(f"review.toml [sources.{source}.{variant}] {name}: the added terms "
                                  "must start with OR. Fix: write OR followed by the terms")
            query = f"{query[:end].rstrip()}\n  {terms}\n{query[end:]}"
    return query


def pubmed_query(config: dict[str, Any], variant: str) -> str:
    """PubMed's query for ``variant`` (:func:`source_query`)."""
    return source_query(config, variant, "pubmed")


# --------------------------------------------------------------------------- local strategy


@dataclass(frozen=True)
class LocalStrategy:
    variant: str
    patterns: dict[str, tuple[str, ...]]

    def compiled(self) -> dict[str, re.Pattern[str]]:
        return _compile(self.patterns)


def _compile(patterns: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern[str]]:
    return {block: re.compile("|".join(f"(?:{p})" for p in items), re.IGNORECASE)
            for block, items in patterns.items()}


def local_strategy(review: dict[str, Any], variant: str) -> LocalStrategy:
    """``[search.local.faithful]``, plus ``[search.local.<variant>]``'s terms for a variant."""
    if variant not in VARIANTS:
        raise ConfigError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}. "
                          "Fix: name one of them")
    local = review.get("search", {}).get("local", {})
    faithful = local.get(FAITHFUL)
    if not faithful or any(not faithful.get(block) for block in BLOCKS):
        raise ConfigError("review.toml: [search.local.faithful] must list patterns for P, C and "
                          "S. Fix: restore the Table 1 blocks there (see search-strategy.md (c))")
    added = local.get(variant, {}) if variant != FAITHFUL else {}
    patterns = {block: tuple(faithful[block]) + tuple(added.get(block, ())) for block in BLOCKS}
    for block, items in patterns.items():
        for item in items:
            try:
                re.compile(item)
            except re.error as exc:
                raise ConfigError(f"review.toml [search.local] {block}: {item!r} is not a regular "
                                  f"expression ({exc}). Fix: correct or remove it") from None
    return LocalStrategy(variant, patterns)


@dataclass(frozen=True)
class Verdict:
    kept: bool
    failed_blocks: tuple[str, ...]  # blocks the available text does not show
    needs_abstract: bool = False


def evaluate(strategy: LocalStrategy | dict[str, re.Pattern[str]], record: Record) -> Verdict:
    """P AND C AND S over title, abstract and keywords (S also over the journal title).

    Without an abstract the record is kept: the blocks its title lacks are reported, not held
    against it.
    """
    blocks = strategy.compiled() if isinstance(strategy, LocalStrategy) else strategy
    text = " ".join([record.title or "", record.abstract or "", "; ".join(record.keywords)])
    failed = tuple(block for block in BLOCKS if not blocks[block].search(
        f"{text} {record.journal or ''}" if block in _JOURNAL_BLOCKS else text))
    if not record.abstract:
        return Verdict(True, failed, needs_abstract=True)
    return Verdict(not failed, failed)


# --------------------------------------------------------------------------- file interface


def read_records_csv(path: Path) -> list[Record]:
    """Records from a CSV with ``record_id``, ``title``, ``abstract`` and optional ``keywords``
    (``;``-separated). A bad file names the line and the fix; nothing is read from it then."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "file", "not found",
                         "give the path of a CSV with record_id,title,abstract") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(str(path), f"line {line}",
                         f"not UTF-8 text (byte {data[exc.start]:#04x})",
                         "save the file as comma-separated UTF-8 text") from None
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        if header is None:
            raise InputError(str(path), "file", "empty",
                             "write a header record_id,title,abstract and one row per record")
        columns = set(header)
        missing = [c for c in ("record_id", "title", "abstract") if c not in columns]
        if missing:
            raise InputError(str(path), "line 1 (header)", f"missing column(s) {', '.join(missing)}",
                             "name the columns record_id,title,abstract (keywords optional)")
        records, seen = [], {}
        try:
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise InputError(str(path), f"line {line}", "more fields than the header has",
                                     "quote fields that contain commas")
                record_id = (row["record_id"] or "").strip()
                if not record_id:
                    raise InputError(str(path), f"line {line}", "empty record_id",
                                     "give every row a record_id")
                if record_id in seen:
                    raise InputError(str(path), f"line {line}", f"record_id {record_id!r} repeats "
                                     f"line {seen[record_id]}", "give every row its own record_id")
                seen[record_id] = line
                keywords = [k.strip() for k in (row.get("keywords") or "").split(";") if k.strip()]
                records.append(Record(source="file", source_id=record_id, title=row["title"],
                                      abstract=row["abstract"], keywords=keywords,
                                      journal=row.get("journal")))
        except csv.Error as exc:
            raise InputError(str(path), f"line {reader.line_num}", f"not readable as CSV ({exc})",
                             "save the file as comma-separated UTF-8 text") from None
    return records


def apply_to_file(strategy: LocalStrategy, records_csv: Path, out_csv: Path) -> dict[str, int]:
    """Write ``record_id,kept,failed_blocks`` for every record of ``records_csv``.

    The output appears whole or not at all (written beside it, then renamed).
    """
    records = read_records_csv(records_csv)
    blocks = strategy.compiled()
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=out_csv.parent, prefix=f".{out_csv.name}.", suffix=".tmp")
    counts = {"records": len(records), "kept": 0, "needs_abstract": 0}
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["record_id", "kept", "failed_blocks"])
            for record in records:
                verdict = evaluate(blocks, record)
                counts["kept"] += verdict.kept
                counts["needs_abstract"] += verdict.needs_abstract
                writer.writerow([record.source_id, "true" if verdict.kept else "false",
                                 ";".join(verdict.failed_blocks)])
        os.replace(temporary, out_csv)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return counts
