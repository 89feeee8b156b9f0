"""Crossref parser against every recorded /works and /works/{doi} fixture.

Expected values were read by hand from the fixture files (see tests/fixtures/crossref/PROVENANCE.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from livingreview.errors import InputError
from livingreview.sources import crossref

FIXTURES = Path(__file__).parent / "fixtures" / "crossref"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


SINGLE = {
    "work_10.1002_jor.1100150407.json": dict(
        doi="10.1002/jor.1100150407",
        title="Growth hormone secretagogue increases muscle strength during remobilization after "
              "canine hindlimb immobilization",
        n_authors=12, first_author="Lieber, Richard L.", year=1997,
        journal="Journal of Orthopaedic Research", volume="15", issue="4", pages="519-527",
        publication_types=["journal-article"], language="eng",
        # The JATS "Abstract" heading is dropped, not turned into a label.
        abstract_start="Twenty‐two beagles were divided into two equal groups",
        created_date="2005-02-24"),
    "work_10.1007_12080.1874-1746_journal_type.json": dict(
        doi="10.1007/12080.1874-1746", title="Theoretical Ecology", authors=[],
        # issued is [[null]] and there is no published-print/online: the year comes from created.
        year=2013, journal=None, publication_types=["journal"], language="eng", abstract=None,
        created_date="2013-05-25"),
    "work_10.1016_j.neurobiolaging.2010.03.024.json": dict(
        doi="10.1016/j.neurobiolaging.2010.03.024",
        title="Human umbilical cord blood-derived mesenchymal stem cells improve neuropathology and "
              "cognitive impairment in an Alzheimer's disease mouse model through modulation of "
              "neuroinflammation",
        n_authors=11, first_author="Lee, Hyun Ju", year=2012, journal="Neurobiology of Aging",
        volume="33", issue="3", pages="588-602", publication_types=["journal-article"],
        language="eng", abstract=None, created_date="2010-05-18"),
    "work_10.1016_j.pediatrneurol.2015.06.002_funders.json": dict(
        doi="10.1016/j.pediatrneurol.2015.06.002",
        title="Delay in Diagnosis of Spinal Muscular Atrophy: A Systematic Literature Review",
        authors=["Lin, Chia-Wei", "Kalb, Stephanie J.", "Yeh, Wei-Shi"], year=2015,
        journal="Pediatric Neurology", volume="53", issue="4", pages="293-300",
        publication_types=["journal-article"], language="eng", created_date="2015-06-12"),
    "work_10.1038_nnano.2014.279.json": dict(
        doi="10.1038/nnano.2014.279", title="Charges ride the spin wave",
        authors=["Kuschel, Timo", "Reiss, Günter"],
        # issued (2014-11-10, online) wins over published-print (2015-01).
        year=2014, journal="Nature Nanotechnology", volume="10", issue="1", pages="22-24",
        publication_types=["journal-article"], language="eng", created_date="2014-11-07"),
    "work_10.1038_srep16696.json": dict(
        doi="10.1038/srep16696",
        title="Single-molecule FRET studies on alpha-synuclein oligomerization of Parkinson’s "
              "disease genetically related mutants",
        n_authors=8, first_author="Tosatto, Laura", year=2015, journal="Scientific Reports",
        volume="5", issue="1", pages="16696",  # article-number stands in for the page
        publication_types=["journal-article"], language="eng",
        abstract_start="Oligomers of alpha-synuclein are toxic to cells", created_date="2015-11-19"),
    "work_10.1109_icdcsw.2003.1203662_proceedings.json": dict(
        doi="10.1109/icdcsw.2003.1203662",
        title="Accurate and explicit differentiation of wireless and congestion losses",
        authors=["Arya, V.", "Turletti, T."], year=2004,
        journal="23rd International Conference on Distributed Computing Systems Workshops, 2003. Proceedings.",
        volume=None, issue=None, pages="877-882", publication_types=["proceedings-article"],
        language=None, created_date="2004-06-22"),
    "work_10.1136_jclinpath-2020-206745.json": dict(
        doi="10.1136/jclinpath-2020-206745",
        title="Construction of a reference material panel for detecting KRAS / NRAS / EGFR / BRAF "
              "/ MET mutations in plasma ctDNA",
        n_authors=15, first_author="Xu, Jun", year=2020, journal="Journal of Clinical Pathology",
        volume="74", issue="5", pages="314-320", publication_types=["journal-article"],
        language="eng", labels=["Background", "Objective", "Methods", "Results", "Conclusion"],
        abstract_start="Background: The absence of high-quality next-generation sequencing",
        created_date="2020-08-17"),
    "work_10.1186_isrctn11093872_dataset.json": dict(
        doi="10.1186/isrctn11093872", title="CapaCiTY Study 2 - Chronic Constipation Treatment Pathway",
        authors=["Taheri, Shiva"], year=2015, journal="http://isrctn.com/",
        publication_types=["dataset"], language=None, created_date="2015-11-11"),
    "work_10.1371_journal.pone.0020476.json": dict(
        doi="10.1371/journal.pone.0020476",
        title="Using and Reporting the Delphi Method for Selecting Healthcare Quality Indicators: "
              "A Systematic Review",
        n_authors=5, first_author="Boulkedid, Rym", year=2011, journal="PLoS ONE", volume="6",
        issue="6", pages="e20476", publication_types=["journal-article"], language="eng",
        created_date="2011-06-17"),
    "work_10.1371_journal.pone.0033693.json": dict(
        doi="10.1371/journal.pone.0033693",
        title="Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia "
              "in the Basal Ganglia of Mice",
        n_authors=6, first_author="Sadasivan, Shankar", year=2012, journal="PLoS ONE", volume="7",
        issue="3", pages="e33693", publication_types=["journal-article"], language="eng",
        abstract=None, created_date="2012-03-23"),
    "work_10.3892_ijo_00000353_sparse.json": dict(
        doi="10.3892/ijo_00000353",
        title="Human bladder cancer cells undergo cisplatin-induced apoptosis that is associated "
              "with p53-dependent and p53-independent responses",
        authors=["Stravopodis"],  # family name only
        year=2009, journal="International Journal of Oncology", volume=None, issue=None,
        pages=None, publication_types=["journal-article"], language=None, abstract=None,
        created_date="2009-06-26"),
    "work_10.4018_978-1-4666-9588-7.les2_book_chapter.json": dict(
        doi="10.4018/978-1-4666-9588-7.les2", title='"Racial Epithet"',
        authors=["Hartlep, Nicholas D."], year=2015,
        journal="Impact of the Model Minority Stereotype on Modern Society", pages="525-916",
        publication_types=["book-chapter"], language=None, created_date="2015-11-10"),
    "work_10.7287_peerj.3819v0.1_reviews_2_peer_review.json": dict(
        doi="10.7287/peerj.3819v0.1/reviews/2",
        title='Peer Review #2 of "Human agency beliefs influence behaviour during virtual social '
              'interactions (v0.1)"',
        authors=["Georgescu, A"], year=2017, journal=None, publication_types=["peer-review"],
        language=None, created_date="2017-12-23"),
}

LISTS = {
    # file: (number of works, DOI of the first work)
    "works_query_widget_cursor_page1.json": (20, "10.1007/978-1-4302-0197-7_9"),
    "works_query_widget_cursor_page2.json": (20, "10.1145/3027385.3027428"),
    "works_query_widget_cursor_page3.json": (20, "10.1038/nature.2016.9804"),
    "members_98_works_rows5_cursor_page1.json": (5, "10.4061/2010/505436"),
    "members_98_works_rows5_cursor_page2.json": (5, "10.1111/dth.13147"),
    "works_query_ecology_rows2.json": (2, "10.1093/obo/9780199830060-0238"),
    "works_query_ecology_query.author_boettiger.json": (20, "10.1111/ele.14024"),
    "works_query_ecology_select_DOI_title.json": (20, "10.1093/obo/9780199830060-0238"),
    "works_query_ecology_rows3_select_DOI_title_author_published.json": (3, "10.1093/obo/9780199830060-0238"),
    "works_query_global_state_filter_has_orcid_rows3.json": (3, "10.1111/geb.12517"),
    "works_filter_has_full_text_true_rows10.json": (10, "10.1111/j.1651-2227.1964.tb07256.x"),
    "works_sample10.json": (10, "10.1016/0160-4120(81)90073-8"),
    "types_report_works.json": (20, "10.2172/1083995"),
    "prefixes_10.4176_works_empty.json": (0, None),
    "works_query_adfaaf_no_results.json": (0, None),
}

ERRORS = {
    "error_504_gateway_timeout.html": "an HTML page, not Crossref JSON",
    "error_work_404_notarealdoi.txt": "plain text 'Resource not found.'",
    "error_work_400_query_param_not_allowed.json": "This route does not support field query parameters",
    "error_works_400_sample_too_large.json": "must be a positive integer less than or equal to 100",
    "error_works_invalid_cursor.json": "Cursor specified but it is invalid",
    "error_works_500_bad_cursor_exception.json": "Crossref reported exception",
    "transform_csl_json_10.1126_science.169.3946.635.json": "not a Crossref REST API response",
    "transform_bibtex_10.1126_science.169.3946.635.bib": "not Crossref JSON",
}


def test_every_fixture_is_covered():
    names = {p.name for p in FIXTURES.iterdir() if p.name != "PROVENANCE.md"}
    assert names == set(SINGLE) | set(LISTS) | set(ERRORS)


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_single_work_fields(name):
    [record] = crossref.parse_works(read(name), origin=name)
    expected = dict(SINGLE[name])
    n_authors = expected.pop("n_authors", None)
    first_author = expected.pop("first_author", None)
    abstract_start = expected.pop("abstract_start", None)
    labels = expected.pop("labels", None)
    for field_name, value in expected.items():
        assert getattr(record, field_name) == value, field_name
    assert record.source == "crossref"
    assert record.source_id == record.doi
    assert record.url == f"https://doi.org/{record.doi}"
    if n_authors is not None:
        assert len(record.authors) == n_authors
    if first_author is not None:
        assert record.first_author == first_author
    if abstract_start is not None:
        assert record.abstract.startswith(abstract_start)
    if labels is not None:
        positions = [record.abstract.find(f"{label}: ") for label in labels]
        assert positions[0] == 0 and -1 not in positions and positions == sorted(positions)
    for text in (record.title or "", record.abstract or "", record.journal or ""):
        assert not re.search(r"</?[A-Za-z][\w:.-]*[\s/>]", text)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_list_fixture_counts_and_order(name):
    count, first_doi = LISTS[name]
    records = crossref.parse_works(read(name), origin=name)
    assert len(records) == count
    if count:
        assert records[0].doi == first_doi
    raw_items = json.loads(read(name))["message"]["items"]
    assert [r.doi for r in records] == [item["DOI"].lower() for item in raw_items]
    for record, item in zip(records, raw_items):
        assert record.publication_types == ([item["type"]] if "type" in item else [])
        for text in (record.title or "", record.abstract or "", record.journal or ""):
            assert not re.search(r"</?[A-Za-z][\w:.-]*[\s/>]", text)


def by_doi(name: str, doi: str):
    return next(r for r in crossref.parse_works(read(name)) if r.doi == doi)


def test_organisation_author_keeps_its_name():
    record = by_doi("types_report_works.json", "10.15554/pci.cta-17")
    assert record.authors == ["Concrete Technology Associates"]
    assert record.year == 1981
    assert record.abstract.startswith("Discusses the design and fabrication procedures")


def test_nameless_author_is_skipped():
    record = by_doi("works_query_widget_cursor_page3.json", "10.31390/gradschool_theses.6125")
    assert record.authors == ["Rovira, Joshua"]
    assert record.year == 2025  # issued [[null]]: from created 2025-10-24


def test_scp_markup_is_stripped_from_titles():
    record = by_doi("works_query_ecology_query.author_boettiger.json", "10.1111/j.2041-210x.2012.00247.x")
    assert record.title == ("Treebase: anRpackage for discovery, access and manipulation of "
                            "online phylogenies")
    # A JATS "Summary" head is not a section label.
    assert record.abstract.startswith("The TreeBASE portal is an important")


def test_italic_in_title_and_entities_in_container_title():
    record = by_doi("works_sample10.json", "10.1246/bcsj.36.278")
    assert record.title == ("The Cationic Copolymerization of Styrene and p-Brornostyrene in "
                            "Liquid Sulfur Dioxide")
    proceedings = by_doi("works_query_widget_cursor_page2.json", "10.1145/3027385.3027428")
    assert proceedings.journal == "Proceedings of the Seventh International Learning Analytics & Knowledge Conference"


def test_subtitle_is_appended_only_when_it_adds_words():
    proceedings = by_doi("works_query_widget_cursor_page2.json", "10.1145/3027385.3027428")
    assert proceedings.title == (
        "Widget, widget as you lead, I am performing well indeed!: using results from an "
        "exploratory offline study to inform an empirical online study about a learning "
        "analytics widget in a collaborative learning environment")
    assert by_doi("works_query_global_state_filter_has_orcid_rows3.json",
                  "10.1111/phpp.12112").title == "Global state of sunscreens"
    assert by_doi("members_98_works_rows5_cursor_page2.json", "10.1111/jfpp.12874").title == (
        "Microbial Contamination in Peeled Chestnuts and the Efficacy of Postprocessing "
        "Treatments for Microbial Spoilage Management")


def test_html_p_abstract_and_language_codes():
    entry = by_doi("works_query_ecology_rows2.json", "10.1093/obo/9780199830060-0238")
    assert entry.abstract.startswith("Communication is perhaps the most important")
    assert entry.language == "eng"
    german = by_doi("works_filter_has_full_text_true_rows10.json", "10.1002/chin.197423013")
    assert german.language == "ger"
    assert german.authors == ["KUMAR, P.", "JOHNSON, D. L."]


def test_select_responses_have_only_selected_fields():
    records = crossref.parse_works(read("works_query_ecology_select_DOI_title.json"))
    assert records[0].title == "Communicating Ecology"
    assert all(r.publication_types == [] and r.year is None for r in records)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_bodies_raise_input_error_naming_the_file(name):
    with pytest.raises(InputError) as caught:
        crossref.parse_works(read(name), origin=name)
    assert caught.value.source == name
    assert ERRORS[name] in str(caught.value)
    assert caught.value.fix


def test_truncated_json_names_the_place():
    text = read("work_10.1038_nnano.2014.279.json")[:500]
    with pytest.raises(InputError) as caught:
        crossref.parse_works(text, origin="cut.json")
    assert caught.value.place.startswith("line 1, column")
    assert "not valid JSON" in caught.value.problem
