"""Deduplication as the update flow uses it: pairs within a batch, matches against a persisted
corpus index, clusters with one canonical record. The records are real ones from the benchmark
sets (bib-dedupe's special cases, the Rathbone and ASySD sets), transcribed."""

from __future__ import annotations

import numpy as np
import pytest

from livingreview.dedup import Clusters, CorpusIndex, Match, build_clusters, dedupe_batch
from livingreview.dedup.match import cluster_table
from livingreview.dedup.table import RecordTable
from livingreview.errors import InputError
from livingreview.records import Record


def rec(**fields) -> Record:
    return Record(source=fields.pop("source", "test"), source_id=fields.pop("source_id", "x"),
                  **fields)


# bib-dedupe special cases, ids 3/4: the yearly minitrack introductions, one DOI each
HICSS_2021 = rec(title="Introduction to the Minitrack on Crowdsourcing and Digital Workforce in "
                 "the Gig Economy", authors=["Deng, Xuefei", "Taylor, Joseph", "Moussawi, Sara"],
                 year=2021, journal="Proceedings of the Annual Hawaii International Conference "
                 "on System Sciences", doi="10.24251/HICSS.2021.510")
HICSS_2022 = rec(title=HICSS_2021.title, authors=HICSS_2021.authors, year=2022,
                 journal=HICSS_2021.journal, doi="10.24251/HICSS.2022.544")
# ids 1/2: one AMCIS paper exported twice
AIRBNB_1 = rec(title="How Consumers Perceive Trustworthiness of Providers in Sharing Economy - "
               "Effects of Photos and Comments on Demand at Airbnb",
               authors=["Deng, Chaoqun", "Ravichandran, Thiagarajan"], year=2017,
               journal="Americas Conference on Information Systems")
AIRBNB_2 = rec(title="How Consumers Perceive Trustworthiness of Providers in Sharing Economy: "
               "Effects of Photos and Comments on Demand at Airbnb",
               authors=["Deng, Chaoqun", "Ravichandran, T."], year=2017,
               journal="Amcis 2017 Proceedings")
# ids 9/10: a conference paper and its journal extension three years later: not duplicates
TELEMED_2011 = rec(title="Making the Most of Virtual Expertise in Telemedicine and Telehealth "
                   "Environments", authors=["Standing, Craig", "Volpe, Izabela"], year=2011,
                   journal="Symposium on Dependable Autonomic and Secure Computing",
                   doi="10.1109/DASC.2011.166")
TELEMED_2014 = rec(title="Making the Most of Virtual Expertise in Telemedicine and Telehealth "
                   "Environment", authors=["Standing, Craig", "Gururajan, Raj"], year=2014,
                   journal="Journal of Organizational Computing and Electronic Commerce",
                   volume="24", issue="2-3", pages="138--156", doi="10.1080/10919392.2014.896714")
# stroke set: a Chinese record with its translated-title note, and the same from another database
BATROXOBIN_1 = rec(title="Efficacy observation of batroxobin for treatment of vascular cognitive "
                   "impairment. [Chinese]", authors=["Zhai, Q. J.", "Yue, X. Y.", "Hong, Z."],
                   year=2010, journal="Chinese Journal of Cerebrovascular Diseases", volume="7",
                   issue="2", pages="73-76")
BATROXOBIN_2 = rec(title="Efficacy observation of batroxobin for treatment of vascular cognitive "
                   "impairment", authors=["Zhai Q. J.", "Yue X. Y.", "Hong Z."], year=2010,
                   journal="Chin J Cerebrovasc Dis", volume="7", issue="2", pages="73-6")
# haematology set: an article and the erratum notice about it
ARTICLE = rec(title="Gain-of-function mutations in complement factor B are associated with "
              "atypical hemolytic uremic syndrome", authors=["de Jorge, E. G.", "Harris, C. L.",
                                                            "Esparza-Gordillo, J."],
              year=2007, journal="Proceedings of the National Academy of Sciences of the United "
              "States of America", volume="104", issue="1", pages="240-245")
ERRATUM = rec(title="Erratum: Gain-of-function mutations in complement factor B are associated "
              "with atypical hemolytic uremic syndrome", authors=ARTICLE.authors, year=2007,
              journal=ARTICLE.journal, volume="104", issue="25", pages="10749")


def pairs(matches: list[Match], zone: str) -> set[frozenset[str]]:
    return {frozenset((m.left, m.right)) for m in matches if m.zone == zone}


def test_same_paper_exported_twice_is_a_duplicate_with_left_the_later_record():
    matches = dedupe_batch([("a", AIRBNB_1), ("b", AIRBNB_2), ("c", BATROXOBIN_1),
                            ("d", BATROXOBIN_2)])
    assert pairs(matches, "duplicate") == {frozenset("ab"), frozenset("cd")}
    first = next(m for m in matches if {m.left, m.right} == {"a", "b"})
    assert (first.left, first.right, first.method) == ("b", "a", "fuzzy")
    assert 0.9 <= first.score <= 1.0


def test_conflicting_dois_veto_a_merge_and_leave_it_to_a_person():
    matches = dedupe_batch([("2021", HICSS_2021), ("2022", HICSS_2022)])
    assert pairs(matches, "duplicate") == set()
    assert pairs(matches, "maybe") == {frozenset(("2021", "2022"))}


def test_a_conference_paper_and_its_later_journal_version_stay_apart():
    matches = dedupe_batch([("conf", TELEMED_2011), ("journal", TELEMED_2014)])
    assert pairs(matches, "duplicate") == set()


def test_an_erratum_is_never_merged_with_the_article_it_corrects():
    matches = dedupe_batch([("article", ARTICLE), ("erratum", ERRATUM)])
    assert pairs(matches, "duplicate") == set()


# diabetes set: one meeting abstract indexed under two journals' supplement DOIs
HAMSTER_ABSTRACT = ("Unlike mice and rats Golden Syrian hamsters fed a high-fat diet with "
                    "cholesterol develop a dyslipidemia resembling that of humans; we compared "
                    "liraglutide and linagliptin on glycemic control, body weight and lipids.")
HAMSTER_1 = rec(title="Liraglutide and linagliptin improves glycemic control but show "
                "differential anti-obesity and hypolipidemic efficacy in a novel hamster model",
                authors=["Hansen F.", "Hansen G.", "Pedersen P. J.", "Jelsing J."], year=2012,
                journal="Appetite", volume="59", issue="SUPPL. 1", pages="e24",
                abstract=HAMSTER_ABSTRACT, doi="10.1016/j.appet.2012.05.003")
HAMSTER_2 = rec(title=HAMSTER_1.title, authors=HAMSTER_1.authors, year=2012, journal="Appetite",
                volume="1", pages="e24", abstract=HAMSTER_ABSTRACT,
                doi="10.1016/j.regpep.2012.05.039")


def test_one_abstract_indexed_under_two_dois_is_one_item_when_everything_else_agrees():
    matches = dedupe_batch([("appet", HAMSTER_1), ("regpep", HAMSTER_2)])
    assert pairs(matches, "duplicate") == {frozenset(("appet", "regpep"))}
    table = RecordTable.from_records([("appet", HAMSTER_1), ("regpep", HAMSTER_2)])
    assert sorted(cluster_table(table).groups[0]) == ["appet", "regpep"]


def test_two_dois_stay_apart_when_the_page_or_the_abstract_differs():
    other_page = rec(**{**HAMSTER_2.__dict__, "pages": "e31"})
    other_text = rec(**{**HAMSTER_2.__dict__, "abstract": "Golden Syrian hamsters were given a "
                        "western diet; we report the effect of two incretin drugs on hepatic "
                        "steatosis, insulin resistance and the plasma lipid profile in them."})
    for second in (other_page, other_text):
        matches = dedupe_batch([("appet", HAMSTER_1), ("regpep", second)])
        assert pairs(matches, "duplicate") == set()
        assert pairs(matches, "maybe") == {frozenset(("appet", "regpep"))}


def test_a_proceedings_record_without_authors_matches_by_its_abstract_in_the_same_issue():
    text = ("The proceedings contain 205 papers. The topics discussed include: optimizing the "
            "management of thyroid disease in pregnancy; insulin pumps in type 1 diabetes; bone "
            "health in adolescents; adrenal incidentaloma work-up in primary care.")
    one = rec(title="ESICON 2017 Abstracts", authors=["Anonymous"], year=2017,
              journal="Indian Journal of Endocrinology and Metabolism", volume="21",
              issue="8 Supplement 1", abstract=text)
    two = rec(**{**one.__dict__, "journal": "Indian Journal of Endocrinology and Metabolism. "
                 "Conference: 47th Annual Conference Endocrine Society of India ESICON"})
    other_issue = rec(**{**one.__dict__, "issue": "6 Supplement 1"})
    matches = dedupe_batch([("one", one), ("two", two), ("other", other_issue)])
    assert pairs(matches, "duplicate") == {frozenset(("one", "two"))}


def test_an_abstract_listed_at_two_pages_of_one_volume_is_one_item_unless_the_issues_differ():
    one = rec(title="Maintenance of renal function under eculizumab despite discontinuation of "
              "plasma exchange after a third transplantation for atypical HUS",
              authors=["Davin, J. C.", "Groothoff, J. W.", "Bemelman, F. J."], year=2011,
              journal="Pediatric Transplantation.Conference: 6th Congress of the International "
              "Pediatric Transplant Association", volume="15", pages="22")
    two = rec(**{**one.__dict__, "journal": "Pediatric Transplantation", "pages": "52"})
    assert pairs(dedupe_batch([("a", one), ("b", two)]), "duplicate") == {frozenset("ab")}
    # two issues of one volume: a second item (an unmarked erratum, a notice), not one record
    three = rec(**{**one.__dict__, "issue": "9", "pages": "2205"})
    four = rec(**{**one.__dict__, "issue": "11", "pages": "2647"})
    assert pairs(dedupe_batch([("c", three), ("d", four)]), "duplicate") == set()


def test_a_letter_and_a_reply_join_the_letters_bundle_that_holds_them_and_only_then():
    title = "Atypical hemolytic uremic syndrome associated with group A beta hemolytic streptococcus"
    where = dict(year=2004, journal="Pediatric Nephrology", volume="19", issue="8")
    bundle = rec(title=title + " (multiple letters) [1]", pages="943-945", authors=[
        "Yildiz, B.", "Kural, N.", "Yarar, C.", "Shepherd, A. B.", "Palmer, A. L."], **where)
    letter = rec(title=title, pages="943-944", authors=["Yildiz, B.", "Kural, N.", "Yarar, C."],
                 **where)
    reply = rec(title=title + " - Reply", pages="945", authors=["Shepherd, A. B.",
                                                                 "Palmer, A. L."], **where)
    # a reply printed later, outside the bundle's pages
    later = rec(title=title + " - Reply", pages="1210", authors=reply.authors,
                **{**where, "issue": "11"})
    matches = dedupe_batch([("bundle", bundle), ("letter", letter), ("reply", reply),
                            ("later", later)])
    assert pairs(matches, "duplicate") == {frozenset(("bundle", "letter")),
                                           frozenset(("bundle", "reply"))}
    # without the bundle, a letter and the reply to it stay two items
    alone = dedupe_batch([("letter", letter), ("reply", reply)])
    assert pairs(alone, "duplicate") == set()


def test_exact_identifiers_match_whatever_the_titles_say_about_case_and_markup():
    a = rec(title="Peer workers in co-production", doi="https://doi.org/10.1000/ABC.1",
            pmid="123")
    b = rec(title="PEER WORKERS IN CO-PRODUCTION.", doi="doi:10.1000/abc.1")
    c = rec(title="Something else", pmid="PMID: 123", doi="10.1000/other")
    matches = dedupe_batch([("a", a), ("b", b), ("c", c)])
    by_pair = {frozenset((m.left, m.right)): m for m in matches}
    assert by_pair[frozenset("ab")].method == "doi"
    assert by_pair[frozenset("ab")].zone == "duplicate"
    assert by_pair[frozenset("ab")].score == 1.0
    # same PMID but a different DOI and title: the identifiers disagree, a person decides
    assert by_pair[frozenset("ac")].zone == "maybe"


def test_a_doi_shared_by_unrelated_abstracts_is_a_supplement_doi_not_a_duplicate():
    one = rec(title="Dipeptidyl peptidase-4 inhibitor suppressed abdominal aortic aneurysm "
              "formation in mice", authors=["Takahara Y.", "Tokunou T."], year=2015,
              doi="10.2337/db15-386741")
    two = rec(title="Preventive effects of dipeptidyl peptidase-4 inhibitor on angiotensin "
              "II-induced cardiac hypertrophy", authors=["Hiromura M.", "Kohashi K."], year=2015,
              doi="10.2337/db15-386741")
    assert dedupe_batch([("1", one), ("2", two)]) == []


def test_a_chain_through_a_record_without_identifiers_cannot_join_two_dois():
    # b (no DOI) looks like both a and c, which carry different DOIs: merging all three would
    # hide a study. The weaker link goes to a person.
    base = dict(title="Peer support workers in acute inpatient mental health services: a "
                "randomised trial", authors=["Gillard, S.", "Foster, R."], year=2019,
                journal="Psychiatric Services", volume="70")
    a = rec(doi="10.1000/one", pages="101-110", **base)
    b = rec(**base)
    c = rec(doi="10.1000/two", pages="201-210", **base)
    matches = dedupe_batch([("a", a), ("b", b), ("c", c)])
    merged = pairs(matches, "duplicate")
    assert frozenset("ac") not in merged
    assert len(merged) == 1  # b joins one of them; the other pair waits for a person
    clusters = cluster_table(RecordTable.from_records([("a", a), ("b", b), ("c", c)]), matches)
    assert all(not {"a", "c"} <= set(group) for group in clusters.groups)


def test_empty_and_sparse_records_do_not_break_or_merge():
    matches = dedupe_batch([("1", rec()), ("2", rec()), ("3", rec(title="Editorial")),
                            ("4", rec(title="Editorial"))])
    assert pairs(matches, "duplicate") == set()


def test_corpus_index_matches_new_records_and_survives_save_and_load(tmp_path):
    index = CorpusIndex()
    index.add([("c1", BATROXOBIN_1), ("c2", ARTICLE), ("c3", TELEMED_2011)])
    index.add([("c1", BATROXOBIN_1)])  # a re-run adds nothing twice
    assert len(index) == 3
    path = tmp_path / "dedup" / "corpus.npz"
    index.save(path)
    loaded = CorpusIndex.load(path)
    assert len(loaded) == 3 and "c2" in loaded

    new = [("n1", BATROXOBIN_2), ("n2", ERRATUM), ("n3", AIRBNB_1)]
    matches = loaded.match(new)
    assert [(m.left, m.right, m.zone) for m in matches if m.zone == "duplicate"] == \
        [("n1", "c1", "duplicate")]
    # the same answers as before saving
    assert sorted(map(repr, matches)) == sorted(map(repr, index.match(new)))


def test_index_matching_finds_what_batch_deduplication_finds():
    corpus = [("a", AIRBNB_1), ("c", BATROXOBIN_1), ("h", HICSS_2021), ("t", TELEMED_2011),
              ("r", ARTICLE)]
    new = [("b", AIRBNB_2), ("d", BATROXOBIN_2), ("i", HICSS_2022), ("u", TELEMED_2014),
           ("e", ERRATUM)]
    index = CorpusIndex()
    index.add(corpus)
    incremental = {(m.left, m.right, m.zone) for m in index.match(new)}
    batch = {(m.left, m.right, m.zone) for m in dedupe_batch(corpus + new)
             if m.left in dict(new) and m.right in dict(corpus)}
    assert incremental == batch
    assert ("b", "a", "duplicate") in incremental and ("i", "h", "maybe") in incremental


def test_index_grows_incrementally_and_matches_against_everything_added():
    index = CorpusIndex()
    index.add([("c1", AIRBNB_1)])
    index.add([("c2", BATROXOBIN_1)])
    matches = index.match([("n", BATROXOBIN_2), ("m", AIRBNB_2)])
    assert {(m.left, m.right) for m in matches if m.zone == "duplicate"} == \
        {("n", "c2"), ("m", "c1")}


def test_loading_something_that_is_not_an_index_names_the_file_and_the_fix(tmp_path):
    bad = tmp_path / "corpus.npz"
    bad.write_text("not an index")
    with pytest.raises(InputError) as error:
        CorpusIndex.load(bad)
    assert str(bad) in str(error.value) and "rebuild" in str(error.value)


def test_clusters_keep_every_member_and_pick_the_most_complete_record_as_canonical():
    clusters = build_clusters(
        [("b", "a", 0.97), ("c", "b", 1.0), ("e", "d", 0.95)],
        identifiers={"a": {"doi": "10.1/x"}, "c": {"doi": "10.1/x", "pmid": "5"}},
        completeness={"a": 5, "b": 3, "c": 8, "d": 4, "e": 4},
    )
    assert isinstance(clusters, Clusters)
    assert sorted(map(sorted, clusters.groups)) == [["a", "b", "c"], ["d", "e"]]
    assert clusters.canonical_of("a") == "c"  # most complete
    assert clusters.canonical_of("e") == "d"  # tie: the earlier one (right is earlier)
    assert clusters.canonical_of("z") == "z"  # in no group: its own canonical record


def test_clusters_refuse_a_link_that_would_join_two_dois():
    clusters = build_clusters(
        [("b", "a", 0.99), ("c", "b", 0.96)],
        identifiers={"a": {"doi": "10.1/one"}, "c": {"doi": "10.1/two"}},
    )
    assert clusters.groups == [["a", "b"]] or sorted(clusters.groups[0]) == ["a", "b"]
    assert clusters.refused == [("c", "b")]


def test_scale_work_is_blocked_not_quadratic():
    # 3,000 distinct records with a shared title opening: candidate pairs stay linear
    from livingreview.dedup.blocking import batch_pairs

    keyed = [(str(i), rec(title=f"The effect of peer support on outcome number {i} in "
                           f"cohort {i * 7919 % 10007}", authors=[f"Author{i % 500}, A."],
                          year=2000 + i % 20)) for i in range(3000)]
    left, right = batch_pairs(RecordTable.from_records(keyed))
    assert len(left) < 3000 * 60
    assert np.all(left < right)


def test_records_already_in_the_index_are_not_reported_as_their_own_duplicates():
    index = CorpusIndex()
    index.add([("c1", BATROXOBIN_1), ("c2", AIRBNB_1)])
    matches = index.match([("c1", BATROXOBIN_1), ("n", BATROXOBIN_2)])
    assert all(m.left != m.right for m in matches)
    assert ("n", "c1") in {(m.left, m.right) for m in matches if m.zone == "duplicate"}


def test_a_batch_with_a_repeated_key_is_refused_with_the_key_named():
    with pytest.raises(ValueError, match="'k' appears twice"):
        dedupe_batch([("k", AIRBNB_1), ("k", AIRBNB_2)])


def test_locators_shifted_one_field_left_by_a_conference_export_still_agree():
    # haematology set: volume missing, the volume in the issue field, the issue in the pages
    shifted = rec(title="The treatment of atypical HUS", authors=["Loirat, C."], year=2011,
                  journal="Pediatric Nephrology.Conference: 44th Annual Scientific Meeting of "
                  "the European Society for Paediatric Nephrology", issue="26", pages="9")
    proper = rec(title="The treatment of atypical hus", authors=["Loirat, C."], year=2011,
                 journal="Pediatric Nephrology", volume="26", issue="9", pages="1746-1746")
    other_issue = rec(title="The treatment of atypical hus", authors=["Loirat, C."], year=2011,
                      journal="Pediatric Nephrology", volume="26", issue="3", pages="300")
    matches = dedupe_batch([("s", shifted), ("p", proper), ("o", other_issue)])
    assert pairs(matches, "duplicate") == {frozenset("sp")}


# cytology set, ids 1436/1684: one trial report, its authors given as a person in one database
# and as the trial group in another
ALTS_PERSON = rec(title="A randomized trial on the management of low-grade squamous "
                  "intraepithelial lesion cytology interpretations", authors=["Walker, J"],
                  year=2003, journal="American Journal of Obstetrics and Gynecology",
                  volume="188", pages="1393-1400")
ALTS_GROUP = rec(title=ALTS_PERSON.title, authors=["Group, ASCUS-LSIL Traige Study (ALTS)"],
                 year=2003, journal="American Journal of Obstetrics & Gynecology", volume="188",
                 pages="1393-1400")


def test_authors_that_disagree_do_not_keep_apart_one_title_at_one_place():
    [match] = dedupe_batch([("person", ALTS_PERSON), ("group", ALTS_GROUP)])
    assert (match.left, match.right, match.zone) == ("group", "person", "duplicate")


def test_without_the_same_place_disagreeing_authors_still_keep_a_title_apart():
    elsewhere = rec(**{**ALTS_GROUP.to_dict(), "source": "test", "volume": "189",
                       "pages": "1-8"})
    assert [m.zone for m in dedupe_batch([("person", ALTS_PERSON), ("group", elsewhere)])] \
        in ([], ["maybe"])
