"""Similarity of candidate pairs, one vectorised comparison per field.

Text fields are compared with RapidFuzz's ``process.cpdist`` (element-wise over two aligned
lists, in C, on all cores). Short coded fields (volume, pages, identifiers) are compared for
equality with three outcomes: ``AGREE`` (both present and equal), ``CONFLICT`` (both present and
different) and ``MISSING`` (at least one absent), because a missing value is no evidence either
way while a conflicting one is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from livingreview.dedup.normalise import author_list_similarity, journal_similarity
from livingreview.dedup.table import IDENTIFIERS, RecordTable

AGREE, CONFLICT, MISSING = 1, 0, -1
TITLE_FLOOR = 0.6  # below this title similarity only identifiers or locators can make a match
AUTHOR_WORDS_FLOOR = 0.6  # token-set similarity of name words below which lists never match
SHORT_TITLE = 25  # characters: "editorial", "coronary artery disease" identify nothing alone
MIN_ABSTRACT = 100  # characters of normalised abstract below which it is a placeholder


@dataclass
class PairScores:
    """Field similarities of candidate pairs ``(a[left], b[right])``, aligned arrays."""

    left: np.ndarray
    right: np.ndarray
    title: np.ndarray          # [0, 1]; 0 when either title is missing or they are far apart
    titled: np.ndarray         # bool: both records have a title
    title_partial: np.ndarray  # [0, 1]: best alignment of the shorter title inside the longer
    #                            (computed where it can matter, else equal to ``title``)
    authors: np.ndarray        # [0, 1]; NaN when either author list is missing
    first_author: np.ndarray   # AGREE / CONFLICT / MISSING
    journal: np.ndarray        # [0, 1]; NaN when either journal is missing
    abstract: np.ndarray       # [0, 1]; NaN when either is missing or the titles differ
    year_gap: np.ndarray       # absolute difference; -1 when either year is missing
    volume: np.ndarray
    number: np.ndarray
    pages: np.ndarray          # AGREE: same first page; CONFLICT: disjoint ranges of one kind
    number_full: np.ndarray    # issue with its supplement part ("3s1"), AGREE/CONFLICT/MISSING
    supplement: np.ndarray     # bool: either is in a supplement (its volume/issue are unreliable)
    doi: np.ndarray
    pmid: np.ndarray
    pmcid: np.ndarray
    openalex: np.ndarray
    same_notice: np.ndarray    # bool: both are the same kind of item (article, erratum, reply ...)
    short_title: np.ndarray    # bool: either title is too short to identify a work on its own
    numbers_differ: np.ndarray  # bool: the titles hold different numbers ("part 1", "HPV 16")
    authors_known: np.ndarray  # bool: both list at least two authors
    spans_pages: np.ndarray    # bool: either gives a range of pages, not one page (an
    #                            abstract-book page holds several items; a range one article)
    in_bundle: np.ndarray      # bool: one is a letters bundle whose pages and authors hold the
    #                            other (a letter or reply printed in it)

    def __len__(self) -> int:
        return len(self.left)

    @property
    def identifier_match(self) -> np.ndarray:
        return np.any([getattr(self, name) == AGREE for name in IDENTIFIERS], axis=0)

    @property
    def identifier_conflict(self) -> np.ndarray:
        return np.any([getattr(self, name) == CONFLICT for name in IDENTIFIERS], axis=0)


def _text_similarity(a: np.ndarray, b: np.ndarray, scorer=fuzz.ratio,
                     cutoff: float = 0) -> np.ndarray:
    """Element-wise similarity in [0, 1]; below ``cutoff`` (in [0, 1]) it reads 0, which lets
    RapidFuzz stop early on hopeless pairs."""
    if not len(a):
        return np.empty(0, dtype=np.float64)
    scores = process.cpdist(list(a), list(b), scorer=scorer, workers=-1,
                            score_cutoff=cutoff * 100 or None)
    return scores.astype(np.float64) / 100


def _coded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """AGREE/CONFLICT/MISSING of two aligned code arrays (0 = missing)."""
    present = (a != 0) & (b != 0)
    result = np.full(len(a), MISSING, dtype=np.int8)
    result[present] = np.where(a[present] == b[present], AGREE, CONFLICT)
    return result


def _pages(a: RecordTable, b: RecordTable, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """AGREE on the same first page; CONFLICT only for disjoint ranges of the same kind.

    Ranges that overlap ("488" inside "487-488"), share a last page (a typo in the first), or are
    of different kinds (an e-locator "c1804" against print pages "1014") are no evidence.
    """
    kind_a, kind_b = a.code("page_kind")[left], b.code("page_kind")[right]
    first_a, first_b = a.page_first[left], b.page_first[right]
    last_a, last_b = a.page_last[left], b.page_last[right]
    known = (first_a >= 0) & (first_b >= 0) & (kind_a == kind_b)
    same_first = a.code("first_page")[left] == b.code("first_page")[right]
    overlap = (np.maximum(first_a, first_b)
               <= np.minimum(np.maximum(first_a, last_a), np.maximum(first_b, last_b)))
    result = np.full(len(left), MISSING, dtype=np.int8)
    result[known & ~overlap & (last_a != last_b)] = CONFLICT
    result[known & same_first] = AGREE
    return result


BUNDLE = "letters"
_BUNDLE_PARTS = frozenset(("", "reply", "comment"))


def _in_bundle(a: RecordTable, b: RecordTable, left: np.ndarray, right: np.ndarray,
               title: np.ndarray) -> np.ndarray:
    """Whether one record of a pair is a letters bundle that holds the other.

    It holds the other when the other is a letter or reply (not an erratum), its pages lie
    within the bundle's and the bundle lists its first author (a bundle lists every author).
    """
    notice_a, notice_b = a.notice[left], b.notice[right]
    result = np.zeros(len(left), dtype=bool)
    for k in np.flatnonzero(((notice_a == BUNDLE) != (notice_b == BUNDLE)) & (title >= 0.9)):
        if notice_a[k] == BUNDLE:
            whole, w, part, p = a, left[k], b, right[k]
        else:
            whole, w, part, p = b, right[k], a, left[k]
        result[k] = (
            part.notice[p] in _BUNDLE_PARTS and part.first_author[p] != ""
            and part.page_kind[p] == whole.page_kind[w]
            and 0 <= whole.page_first[w] <= part.page_first[p]
            and max(part.page_first[p], part.page_last[p]) <= max(whole.page_first[w],
                                                                  whole.page_last[w])
            and part.first_author[p] in whole.author_words[w].split()
        )
    return result


def _shifted(a: RecordTable, b: RecordTable, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether ``a``'s issue and first page hold ``b``'s volume and issue (``a`` has no volume)."""
    issue_a = a.code("issue")[left]
    return (
        (a.code("volume")[left] == 0) & (issue_a != 0)
        & (issue_a == b.code("volume")[right])
        & (a.code("first_page")[left] == b.code("issue")[right])
    )


def score_pairs(a: RecordTable, b: RecordTable, left: np.ndarray, right: np.ndarray) -> PairScores:
    """Compare row ``left[k]`` of ``a`` with row ``right[k]`` of ``b``.

    Pairs that no rule could keep (titles far apart, no shared identifier, no shared first
    author with volume and page) are dropped after the title comparison, before the costlier
    ones; the returned scores hold the remaining pairs, in ``left``/``right``.
    """
    title_a, title_b = a.title[left], b.title[right]
    titled = (title_a != "") & (title_b != "")
    title = np.where(titled, _text_similarity(title_a, title_b, cutoff=TITLE_FLOOR), 0.0)
    worth = (title >= TITLE_FLOOR) | ~titled
    for name in IDENTIFIERS:
        codes_a, codes_b = a.code(name)[left], b.code(name)[right]
        worth |= (codes_a != 0) & (codes_a == codes_b)
    first_a = a.code("first_author")[left]
    worth |= (
        (first_a != 0) & (first_a == b.code("first_author")[right])
        & (a.code("volume")[left] == b.code("volume")[right])
        & (a.code("first_page")[left] == b.code("first_page")[right])
    )
    if not worth.all():
        keep = np.flatnonzero(worth)
        left, right, title = left[keep], right[keep], title[keep]
        title_a, title_b, titled = title_a[keep], title_b[keep], titled[keep]
    authors_a, authors_b = a.authors[left], b.authors[right]
    authored = (authors_a != "") & (authors_b != "")
    authors = np.full(len(left), np.nan)
    authors[authored] = _text_similarity(authors_a[authored], authors_b[authored])
    # The surname string misjudges damaged lists (truncated, swapped names, a group appended);
    # the slower list comparison runs only where it can change a decision.
    # Same volume and first page: a translated title, whose authors and journal decide.
    volume_a = a.code("volume")[left]
    placed = ((volume_a != 0) & (volume_a == b.code("volume")[right])
              & (a.code("first_page")[left] == b.code("first_page")[right]))
    candidates = np.flatnonzero(authored & (authors < 0.95) & ((title >= 0.65) | placed))
    shared = _text_similarity(
        a.author_words[left[candidates]], b.author_words[right[candidates]],
        fuzz.token_set_ratio,
    )
    recheck = candidates[(shared >= AUTHOR_WORDS_FLOOR) | (authors[candidates] >= 0.5)]
    if len(recheck):
        lists_a, lists_b = a.author_list[left[recheck]], b.author_list[right[recheck]]
        listed = np.fromiter(
            (author_list_similarity(x, y) for x, y in zip(lists_a, lists_b)),
            dtype=np.float64, count=len(recheck),
        )
        authors[recheck] = np.maximum(authors[recheck], listed)

    # Partial alignment (a subtitle or translation added to one title) matters only for pairs
    # whose authors already agree and whose titles are neither far apart nor already equal.
    title_partial = title.copy()
    partial_needed = np.flatnonzero(
        titled & (title >= 0.65) & (title < 0.97) & (np.nan_to_num(authors) >= 0.8)
    )
    title_partial[partial_needed] = _text_similarity(
        title_a[partial_needed], title_b[partial_needed], fuzz.partial_ratio
    )

    journal_a, journal_b = a.journal[left], b.journal[right]
    journal = np.full(len(left), np.nan)
    # Only pairs with close titles can turn on the journal; the rest keep NaN (unknown),
    journal_codes_a, journal_codes_b = a.code("journal")[left], b.code("journal")[right]
    known = (journal_codes_a != 0) & (journal_codes_b != 0)
    journal[known & (journal_codes_a == journal_codes_b)] = 1.0
    # and only where authors agree or are missing: the rules that read the journal need that.
    # (or where volume and first page agree: a translated title can turn on it too)
    both = np.flatnonzero(known & (journal_codes_a != journal_codes_b) & ((title >= 0.8) | placed)
                          & ~(authored & (np.nan_to_num(authors) < 0.5)))
    journal[both] = [journal_similarity(x, y) for x, y in zip(journal_a[both], journal_b[both])]

    abstract_a, abstract_b = a.abstract[left], b.abstract[right]
    # Short texts ("No abstract available", "[Abstract]") are placeholders unrelated records
    # share: no evidence.
    abstracted = (abstract_a != "") & (abstract_b != "") & (title >= 0.9)
    close = np.flatnonzero(abstracted)
    abstracted[close] = [min(len(x), len(y)) >= MIN_ABSTRACT
                         for x, y in zip(abstract_a[close], abstract_b[close])]
    abstract = np.full(len(left), np.nan)
    abstract[abstracted] = _text_similarity(abstract_a[abstracted], abstract_b[abstracted])

    year_a, year_b = a.year[left], b.year[right]
    year_gap = np.where((year_a > 0) & (year_b > 0), np.abs(year_a - year_b), -1)

    short_title = (a.title_length[left] < SHORT_TITLE) | (b.title_length[right] < SHORT_TITLE)

    volume = _coded(a.code("volume")[left], b.code("volume")[right])
    pages = _pages(a, b, left, right)
    # Some conference-abstract exports shift the locators one field left (no volume, the volume
    # in the issue field, the issue in the pages field): seen shifted, they agree.
    shifted = _shifted(a, b, left, right) | _shifted(b, a, right, left)
    volume[shifted] = AGREE
    pages[shifted] = MISSING

    return PairScores(
        left=left,
        right=right,
        title=title,
        titled=titled,
        title_partial=title_partial,
        authors=authors,
        first_author=_coded(a.code("first_author")[left], b.code("first_author")[right]),
        journal=journal,
        abstract=abstract,
        year_gap=year_gap,
        volume=volume,
        number=np.where(shifted, MISSING, _coded(a.code("issue")[left], b.code("issue")[right])),
        number_full=np.where(shifted, MISSING,
                             _coded(a.code("number")[left], b.code("number")[right])),
        pages=pages,
        supplement=(a.supplement[left] > 0) | (b.supplement[right] > 0),
        doi=_coded(a.code("doi")[left], b.code("doi")[right]),
        pmid=_coded(a.code("pmid")[left], b.code("pmid")[right]),
        pmcid=_coded(a.code("pmcid")[left], b.code("pmcid")[right]),
        openalex=_coded(a.code("openalex")[left], b.code("openalex")[right]),
        same_notice=a.code("notice")[left] == b.code("notice")[right],
        short_title=short_title,
        numbers_differ=a.code("title_numbers")[left] != b.code("title_numbers")[right],
        authors_known=(a.author_count[left] >= 2) & (b.author_count[right] >= 2),
        spans_pages=(a.page_last[left] > a.page_first[left])
        | (b.page_last[right] > b.page_first[right]),
        in_bundle=_in_bundle(a, b, left, right, title),
    )
