"""Decision rules: each scored pair goes to one of three zones.

* ``duplicate``: merged automatically. Only pairs whose evidence leaves no reasonable doubt.
* ``maybe``: queued for a person. Close pairs that one piece of evidence speaks against.
* ``distinct``: dropped.

A false merge hides a study from the review, which is worse than a missed duplicate (a screener
sees the same study twice), so every doubt sends a pair to ``maybe`` rather than ``duplicate``:

* conflicting identifiers (two DOIs, two PMIDs) veto a fuzzy duplicate: errata, comments, replies,
  corrections and the yearly "introduction to the minitrack" share titles and authors but each
  has its own DOI;
* a notice (erratum, reply, comment) never merges with the article it is about;
* conflicting volume or first page vetoes a fuzzy duplicate, and so does a year gap above one
  (the online and print years of one article differ by at most one);
* a short title ("Editorial", "Introduction") identifies nothing by itself: it needs volume and
  pages to agree.
"""

from __future__ import annotations

import numpy as np

from livingreview.dedup.scoring import AGREE, CONFLICT, PairScores

DUPLICATE, MAYBE, DISTINCT = "duplicate", "maybe", "distinct"
ZONES = np.array([DISTINCT, MAYBE, DUPLICATE], dtype=object)


def decide(scores: PairScores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zone, method and score of every pair.

    Returns three aligned arrays: zone (``duplicate``/``maybe``/``distinct``), method (the
    identifier that matched, or ``fuzzy``) and score (1.0 for an identifier match, otherwise a
    weighted similarity in [0, 1]).
    """
    s = scores
    n = len(s)
    title, authors, journal = s.title, np.nan_to_num(s.authors, nan=-1.0), s.journal
    has_authors = authors >= 0
    has_journal = ~np.isnan(journal)
    journal_ok = np.nan_to_num(journal, nan=0.0) >= 0.9
    gap = s.year_gap
    same_year = gap == 0
    near_year = (gap >= 0) & (gap <= 1)
    year_ok = (gap == -1) | near_year

    vol_agree, page_agree = s.volume == AGREE, s.pages == AGREE
    vol_conflict, page_conflict = s.volume == CONFLICT, s.pages == CONFLICT
    number_conflict = s.number == CONFLICT
    locator_conflict = vol_conflict | page_conflict
    locator_agree = vol_agree & page_agree
    abstract_agree = np.nan_to_num(s.abstract, nan=0.0) >= 0.9

    id_match = s.identifier_match
    id_conflict = s.identifier_conflict

    # Corroboration beyond title and authors: a year gap of one is only accepted with it.
    corroborated = locator_agree | (journal_ok & ~locator_conflict) | abstract_agree
    year_fits = same_year | (near_year & corroborated) | ((gap == -1) & corroborated)

    fuzzy = (
        # Near-identical title and authors, nothing contradicting.
        (title >= 0.95) & (authors >= 0.9) & ~locator_conflict & year_fits
        # Close title, same authors, same volume and first page.
        | (title >= 0.9) & (authors >= 0.8) & locator_agree & year_ok
        # Title damaged (translation note, typo), everything else agrees.
        | (title >= 0.8) & (authors >= 0.95) & locator_agree & same_year & journal_ok
        # No authors on one side: title, journal, year and locators must carry it.
        | (title >= 0.97) & ~has_authors & same_year & journal_ok & ~locator_conflict
        | (title >= 0.97) & ~has_authors & same_year & locator_agree
        # One title is the other plus a subtitle or a translation.
        | (s.title_partial >= 0.97) & (title >= 0.7) & (authors >= 0.95) & locator_agree
          & same_year
    )
    short_ok = ~s.short_title | locator_agree
    vetoed = id_conflict | ~s.same_notice | ~short_ok | (number_conflict & ~locator_agree)
    duplicate_fuzzy = fuzzy & ~vetoed & ~id_match

    # Identifiers: the same DOI/PMID is a duplicate unless another identifier conflicts, the
    # item kinds differ (an erratum given its article's DOI), or the titles clearly disagree.
    titles_known = s.title > 0
    identifier_doubt = id_conflict | ~s.same_notice | (titles_known & (title < 0.6))
    duplicate_id = id_match & ~identifier_doubt

    close = (
        (title >= 0.85) & ((authors >= 0.5) | ~has_authors)
        | (title >= 0.9)
        | (s.title_partial >= 0.95) & (authors >= 0.8)
        | (authors >= 0.9) & locator_agree & near_year
    )
    maybe = (
        (id_match & identifier_doubt)
        | (fuzzy & vetoed & ~id_match)
        | (close & ~duplicate_fuzzy & ~id_match & year_ok & s.same_notice)
    )

    zone = np.full(n, DISTINCT, dtype=object)
    zone[maybe] = MAYBE
    zone[duplicate_fuzzy | duplicate_id] = DUPLICATE

    method = np.full(n, "fuzzy", dtype=object)
    for name in ("openalex", "pmcid", "pmid", "doi"):  # the last assignment wins: doi first
        method[getattr(s, name) == AGREE] = name

    weights = np.array([0.6, 0.25, 0.15])
    parts = np.vstack([
        title,
        np.where(has_authors, authors, title),
        np.where(has_journal, np.nan_to_num(journal), title),
    ])
    score = np.clip(weights @ parts, 0.0, 1.0)
    score = np.where(id_match, 1.0, score)
    return zone, method, score
