"""Decision rules: each scored pair goes to one of three zones.

* ``duplicate``: merged automatically. Only pairs whose evidence leaves no reasonable doubt.
* ``maybe``: queued for a person. Close pairs that one piece of evidence speaks against.
* ``distinct``: dropped.

A false merge hides a study from the review, which is worse than a missed duplicate (a screener
sees the same study twice), so every doubt sends a pair to ``maybe`` rather than ``duplicate``:

* conflicting identifiers (two DOIs, two PMIDs) veto a fuzzy duplicate: errata, comments, replies,
  corrections and the yearly "introduction to the minitrack" share titles and authors but each
  has its own DOI. The one exception is a DOI that is the only disagreement of records agreeing
  on title, authors, journal, year, first page and abstract: one item indexed under two DOIs;
* a notice (erratum, reply, comment) never merges with the article it is about; a letter or reply
  joins only the Embase "(multiple letters)" record that holds it (its pages and authors);
* conflicting volume or first page vetoes a fuzzy duplicate, and so does a year gap above one
  (the online and print years of one article differ by at most one);
* a short title ("Editorial", "Introduction") identifies nothing by itself: it needs volume and
  pages to agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livingreview.dedup.scoring import AGREE, CONFLICT, PairScores

DUPLICATE, MAYBE, DISTINCT = "duplicate", "maybe", "distinct"
ZONES = np.array([DISTINCT, MAYBE, DUPLICATE], dtype=object)
OFF = 2.0  # a threshold no similarity reaches: the rule is switched off


@dataclass(frozen=True)
class Thresholds:
    """The similarity thresholds the rules are chosen by (benchmarks/dedup.py chooses them
    leave-one-set-out: on the other labelled sets, scored on the one left out).

    * ``title``/``authors``: the main rule, near-identical title and authors, nothing against;
    * ``title_any_authors``: the same long title, journal, volume, first page and year whatever
      the authors say (a collective author on one side, a garbled or mis-split list);
    * ``authors_any_title``: the same two or more authors, journal, volume, first page and year
      whatever the title says (a translated title, an abbreviated one).
    """

    title: float = 0.95
    authors: float = 0.9
    title_any_authors: float = 0.95
    authors_any_title: float = OFF


THRESHOLDS = Thresholds()


def decide(scores: PairScores, t: Thresholds = THRESHOLDS
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zone, method and score of every pair.

    Returns three aligned arrays: zone (``duplicate``/``maybe``/``distinct``), method (the
    identifier that matched, or ``fuzzy``) and score (1.0 for an identifier match, otherwise
    0.7 x title similarity + 0.3 x author similarity, in [0, 1]).
    """
    s = scores
    n = len(s)
    title, partial = s.title, s.title_partial
    authors = np.nan_to_num(s.authors, nan=-1.0)
    has_authors = authors >= 0
    journal = np.nan_to_num(s.journal, nan=-1.0)
    journal_ok = journal >= 0.9
    journal_conflict = (journal >= 0) & (journal < 0.5)
    gap = s.year_gap
    same_year = gap == 0
    near_year = (gap >= 0) & (gap <= 1)
    year_ok = (gap == -1) | near_year

    vol_agree, page_agree, issue_agree = s.volume == AGREE, s.pages == AGREE, s.number == AGREE
    # Supplements scatter their numbering over volume and issue ("v1" for "v128 n3 Suppl 1").
    vol_conflict = (s.volume == CONFLICT) & ~s.supplement
    page_conflict = s.pages == CONFLICT
    issue_conflict = (s.number == CONFLICT) & ~s.supplement
    locator_conflict = vol_conflict | page_conflict
    locator_agree = vol_agree & page_agree
    abstract_agree = np.nan_to_num(s.abstract, nan=0.0) >= 0.9
    long_abstract_agree = np.nan_to_num(s.abstract, nan=0.0) >= 0.95

    id_match = s.identifier_match
    id_conflict = s.identifier_conflict

    # Corroboration beyond title and authors: a year gap of one is only accepted with it.
    corroborated = locator_agree | (journal_ok & ~locator_conflict) | abstract_agree
    year_fits = same_year | (near_year & corroborated) | ((gap == -1) & corroborated)
    same_issue = journal_ok & vol_agree & (issue_agree | (s.number_full == AGREE)) & same_year
    same_volume = journal_ok & vol_agree & same_year & (s.number != CONFLICT)

    fuzzy = (
        # Near-identical title and authors, nothing contradicting.
        (title >= t.title) & (authors >= t.authors) & ~locator_conflict & year_fits
        # Close title, same authors, same volume and first page.
        | (title >= 0.9) & (authors >= 0.8) & locator_agree & year_ok
        # Title damaged (translation note, typo), everything else agrees.
        | (title >= 0.8) & (authors >= 0.95) & locator_agree & same_year & journal_ok
        # No authors on one side: title, journal, year and locators must carry it.
        | (title >= 0.97) & ~has_authors & same_year & journal_ok & ~locator_conflict
        | (title >= 0.97) & ~has_authors & same_year & locator_agree
        # One title is the other plus a subtitle or a translation.
        | (partial >= 0.97) & (title >= 0.7) & (authors >= 0.95) & locator_agree & same_year
        | (partial >= 0.97) & (title >= 0.85) & (authors >= 0.95) & same_issue
          & ~page_conflict
        # One article listed twice in one issue with different pages (abstract books do this):
        # the same long title and the same several authors in the same issue.
        | (title >= 0.97) & (authors >= 0.95) & s.authors_known & same_issue & ~s.short_title
        # The same in one volume whose issue is not given: an abstract listed at two pages, or
        # a page typo. Issues that differ are two items (an unmarked erratum, a second notice).
        | (title >= 0.97) & (authors >= 0.95) & s.authors_known & same_volume & ~s.short_title
        # Authors that say nothing (a collective name on one side, a garbled list): the same
        # long title at the same place in the same journal and year is the same item.
        | (title >= t.title_any_authors) & ~s.short_title & locator_agree & journal_ok
          & near_year & ~issue_conflict
        # A title that says nothing (translated, abbreviated): the same several authors at the
        # same place (a range of pages: one page of an abstract book holds several items) in
        # the same journal and year.
        | (authors >= t.authors_any_title) & s.authors_known & s.titled & locator_agree
          & s.spans_pages & ~s.supplement & journal_ok & same_year & (s.number != CONFLICT)
    )
    # A short title ("Editorial", "Coronary artery disease") identifies nothing by itself.
    short_ok = (~s.short_title | locator_agree
                | (same_issue & (authors >= 0.95) & s.authors_known & ~page_conflict)
                # nor does a proceedings record without authors ("ESICON 2017 Abstracts"); the
                # same long abstract in the same issue does.
                | (same_issue & long_abstract_agree & ~page_conflict))
    vetoed = (
        id_conflict
        | ~s.same_notice
        | ~short_ok
        | (issue_conflict & ~locator_agree)
        # The same abstract in two journals' meeting supplements: separate reports, not one
        # record twice, unless volume and page show one article named two ways.
        | journal_conflict & ~locator_agree
        # "Part 1"/"Part 2", "HPV 16"/"HPV 18": different numbers make different works, unless
        # volume, page and authors show one work with a typo in its title.
        | s.numbers_differ & ~(locator_agree & (authors >= 0.9))
    )
    duplicate_fuzzy = fuzzy & ~vetoed & ~id_match

    # Identifiers: the same DOI/PMID is a duplicate unless another identifier conflicts, the
    # item kinds differ (an erratum given its article's DOI), or the titles clearly disagree.
    titles_known = s.titled
    identifier_doubt = id_conflict | ~s.same_notice | (titles_known & (title < 0.6))
    duplicate_id = id_match & ~identifier_doubt
    # A DOI shared by records with unrelated titles and authors is the DOI of a whole
    # supplement or issue, not of either record.
    only_doi = (s.doi == AGREE) & (s.pmid != AGREE) & (s.pmcid != AGREE) & (s.openalex != AGREE)
    container_identifier = only_doi & titles_known & (title < 0.6) & (authors < 0.5)

    close = (
        (title >= 0.9) & ((authors >= 0.5) | ~has_authors)
        | (title >= 0.85) & (authors >= 0.8)
        | (partial >= 0.95) & (authors >= 0.8)
        | (authors >= 0.9) & locator_agree & near_year
    ) & ~(journal_conflict & ~near_year)
    maybe = (
        (id_match & identifier_doubt & ~container_identifier)
        | (fuzzy & vetoed & ~id_match)
        | (close & ~duplicate_fuzzy & ~id_match & year_ok)
    )

    # One item indexed under two DOIs (a meeting abstract registered in two journals'
    # supplements): the DOI is the only disagreement, and the same long title, the same authors,
    # journal, year and first page (and the abstract, where both have one) say it is one item.
    # A notice or a republished version has its own page or year; a report in another
    # journal has another journal.
    abstract_fits = np.isnan(s.abstract) | long_abstract_agree
    two_dois = (
        (s.doi == CONFLICT) & (s.pmid != CONFLICT) & (s.pmcid != CONFLICT)
        & (s.openalex != CONFLICT) & s.same_notice & ~s.numbers_differ
        & (title >= 0.97) & ~s.short_title & (authors >= 0.95) & s.authors_known
        & same_year & journal_ok & page_agree & ~vol_conflict & ~issue_conflict & abstract_fits
    )

    # A letter or reply printed in a letters bundle is part of that one record.
    bundled = (s.in_bundle & (title >= 0.95) & journal_ok & vol_agree & same_year
               & (s.number != CONFLICT) & ~id_conflict)

    zone = np.full(n, DISTINCT, dtype=object)
    zone[maybe] = MAYBE
    zone[duplicate_fuzzy | duplicate_id | two_dois | bundled] = DUPLICATE

    method = np.full(n, "fuzzy", dtype=object)
    for name in ("openalex", "pmcid", "pmid", "doi"):  # the last assignment wins: doi first
        method[getattr(s, name) == AGREE] = name

    # Journal names vary too much between databases to weigh in the score.
    score = np.clip(0.7 * title + 0.3 * np.where(has_authors, authors, title), 0.0, 1.0)
    score = np.where(id_match, 1.0, score)
    return zone, method, score
