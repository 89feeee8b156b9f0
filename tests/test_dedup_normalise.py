"""Field normalisers: what real exports contain comes out comparable, and normalising twice
changes nothing (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livingreview.dedup.normalise import (
    author_list,
    author_list_similarity,
    journal_similarity,
    normalise_author_list,
    normalise_journal,
    normalise_number,
    normalise_pages,
    normalise_text,
    normalise_title,
    normalise_volume,
    notice_kind,
    page_span,
    parse_author,
    split_authors,
)

# Text with the characters exports hold: letters with accents, Greek, brackets, markup, dashes.
messy_text = st.text(
    alphabet=st.sampled_from(list("abcXYZ éüαβ019[]()<>&;:.,-–'/ ")) | st.characters(),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(messy_text)
def test_title_normalisation_is_idempotent(text):
    once = normalise_title(text)
    assert normalise_title(once) == once


@settings(max_examples=300, deadline=None)
@given(messy_text)
def test_journal_normalisation_is_idempotent(text):
    once = normalise_journal(text)
    assert normalise_journal(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789-–— ,;peSsuplA.")), max_size=20))
def test_page_normalisation_is_idempotent(text):
    once = normalise_pages(text)
    assert normalise_pages(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(messy_text, max_size=5))
def test_author_normalisation_is_idempotent(authors):
    once = normalise_author_list(authors)
    assert normalise_author_list(once) == once


@settings(max_examples=200, deadline=None)
@given(messy_text)
def test_volume_number_and_text_normalisation_are_idempotent(text):
    for normalise in (normalise_volume, normalise_number, normalise_text):
        once = normalise(text)
        assert normalise(once) == once


@pytest.mark.parametrize("raw, expected", [
    # translated-title notes and brackets (Ovid/Embase)
    ("Efficacy observation of batroxobin. [Chinese]", "efficacy observation of batroxobin"),
    ("[Clinical aspects of the complement system]. [Japanese]",
     "clinical aspects of the complement system"),
    ("HPV testing after treatment of CIN 3: a meta-analysis. [Review] [45 refs]",
     "hpv testing after treatment of cin 3 a meta analysis"),
    ("Eculizumab for atypical HUS.[Erratum appears in N Engl J Med. 2009 Jun 4;360(23):2487 "
     "Note: Philipp, Thomas [added]]", "eculizumab for atypical hus"),
    ("Severe ADAMTS 13 deficiency.[Erratum appears in J Pediatr. 2003 Jun",
     "severe adamts 13 deficiency"),
    ("Group A streptococcus (multiple letters) [1]", "group a streptococcus"),
    # markup, entities, Greek letters, accents, punctuation and case
    ("<i>In vivo</i> effects of TNF-&alpha; &amp; IL-6", "in vivo effects of tnf alpha il 6"),
    ("TNF-α and β-cell loss in Ångström-scale images", "tnf alpha and beta cell loss in angstrom scale images"),
    ("Infants born at <30 weeks' gestation--a trial", "infants born at 30 weeks gestation a trial"),
])
def test_titles_from_real_exports(raw, expected):
    assert normalise_title(raw) == expected


@pytest.mark.parametrize("title, kind", [
    ("Erratum: Gain-of-function mutations in complement factor B", "erratum"),
    ("Correction to: peer support in mental health", "erratum"),
    ("Reply to the letter on peer workers", "reply"),
    ("Comment on: peer workers in co-production", "comment"),
    ("Long-term effect of eculizumab (vol 85, pg 553, 2010)", "erratum"),
    ("Eculizumab for HUS (New England Journal of Medicine (2009) 360 (542-544))", "erratum"),
    ("Peer workers in co-production and co-creation in mental health", ""),
])
def test_notices_are_recognised(title, kind):
    assert notice_kind(normalise_title(title)) == kind


@pytest.mark.parametrize("field, expected", [
    ("Zhai, Q. J. and Yue, X. Y. and Hong, Z.", ["Zhai, Q. J.", "Yue, X. Y.", "Hong, Z."]),
    ("Adeli K.Lewis G. F.", ["Adeli K.", "Lewis G. F."]),
    ("Alonso N.Julian M. T.Puig-Domingo M.", ["Alonso N.", "Julian M. T.", "Puig-Domingo M."]),
    ("Smith J; Jones K", ["Smith J", "Jones K"]),
    ("Adeli K, Lewis GF", ["Adeli K", "Lewis GF"]),
    ("Stahl, Bernd Carsten", ["Stahl, Bernd Carsten"]),
])
def test_author_fields_in_every_export_form_split_into_authors(field, expected):
    assert split_authors(field) == expected


@pytest.mark.parametrize("author, surname", [
    ("O'Dell, M. W.", "odell"),
    ("Lewis G. F.", "lewis"),
    ("Lewis GF", "lewis"),
    ("G. F. Lewis", "lewis"),
    ("Nürnberger, Jens", "nurnberger"),
    ("Si Hyun Kang, null", "kang"),
    ("Le Quintrec, M.", "lequintrec"),
])
def test_surnames(author, surname):
    assert parse_author(author)[0] == surname


def test_damaged_author_lists_still_match_and_different_people_do_not():
    def similar(a, b):
        return author_list_similarity(author_list(a), author_list(b))

    # given and family names swapped by one database
    assert similar(["Ching-yi, Wu", "Chieh-ling, Yang"], ["Wu, C. Y.", "Yang, C. L."]) == 1.0
    # truncated list, compound surname split, collective author appended
    assert similar(["Stringer, A. Y.", "Small, S. K."], ["Stringer, Anthony Y."]) == 1.0
    assert similar(["Le, Quintrec M.", "Zuber, J."], ["Le Quintrec, M.", "Zuber, J."]) == 1.0
    assert similar(["Saland, J. M.", "Remuzzi, G.", "Consensus Study Group"],
                   ["Saland, J. M.", "Remuzzi, G."]) == 1.0
    # different people with one shared given name
    assert similar(["Zhang, Wei", "Li, Qiang"], ["Wang, Wei", "Chen, Qiang"]) == 0.0


@pytest.mark.parametrize("a, b", [
    ("Curr Opin Lipidol", "Current opinion in lipidology"),
    ("Chin J Cerebrovasc Dis", "Chinese Journal of Cerebrovascular Diseases"),
    ("Nat Rev Nephrol", "Nature Reviews Nephrology"),
    ("Am J Obstet Gynecol", "American Journal of Obstetrics & Gynecology"),
    ("Circulation", "Circulation. Conference: American Heart Association Scientific Sessions"),
])
def test_journal_abbreviations_match_full_names(a, b):
    assert journal_similarity(normalise_journal(a), normalise_journal(b)) == 1.0


def test_different_journals_with_the_same_initials_do_not_match():
    assert journal_similarity(normalise_journal("J Child Neurol"),
                              normalise_journal("J Clin Neurosci")) == 0.0


@pytest.mark.parametrize("raw, pages, span", [
    ("457-468", "457-468", ("", 457, 468)),
    ("457-68", "457-468", ("", 457, 468)),
    ("47--65", "47-65", ("", 47, 65)),
    ("e1-e8", "e1-e8", ("e", 1, 8)),
    ("1899-1899", "1899", ("", 1899, 1899)),
    ("532, 534-536, 538-540", "532-540", ("", 532, 540)),
    ("S3-89", "s3-s89", ("s", 3, 89)),
    ("t-71", "t-71", ("?", -1, -1)),
])
def test_pages(raw, pages, span):
    assert normalise_pages(raw) == pages
    assert page_span(pages) == span


@pytest.mark.parametrize("raw, volume", [("7", "7"), ("35 Suppl 1", "35"), ("1)", ""),
                                         ("Ph.D.", "")])
def test_volumes_that_hold_other_things(raw, volume):
    assert normalise_volume(raw) == volume


@pytest.mark.parametrize("raw, number", [("3", "3"), ("3 SUPPL. 1", "3s1"), ("Supplement 1", "s1"),
                                         ("10 SUPPL 1", "10s1"), ("20123456", "")])
def test_issue_numbers_supplements_and_accession_numbers(raw, number):
    assert normalise_number(raw) == number
