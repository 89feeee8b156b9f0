"""PubMed parsers against every recorded EFetch/ESearch fixture.

Expected values were read by hand from the fixture files (see tests/fixtures/pubmed/PROVENANCE.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livingreview.errors import InputError
from livingreview.sources import pubmed

FIXTURES = Path(__file__).parent / "fixtures" / "pubmed"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# (file, record index) -> fields as printed in the file. ``n_authors``, ``last_author``,
# ``abstract_start``, ``abstract_has``, ``labels`` and ``n_mesh`` are checks, not Record fields.
EXPECTED = {
    ("efetch_pubmed_11618220_historical_no_abstract.xml", 0): dict(
        pmid="11618220", doi="10.1163/156853287x00032", pmcid=None,
        title="Eroticism in late Ming, early Qing fiction: the beauteous realm and the sexual battlefield.",
        authors=["McMahon, K"], year=1987, journal="T'ung pao. T'oung pao", volume="73",
        issue="4-5", pages="217-64", publication_types=["Historical Article", "Journal Article"],
        language="eng", abstract=None, created_date="1987-01-01", n_mesh=5),
    ("efetch_pubmed_11748933_11700088.xml", 0): dict(
        pmid="11748933", doi="10.1006/cryo.2001.2328",
        title="Is cryopreservation a homogeneous process? Ultrastructure and motility of untreated, "
              "prefreezing, and postthawed spermatozoa of Diplodus puntazzo (Cetti).",
        n_authors=8, first_author="Taddei, A R", last_author="Mazzini, M", year=2001,
        journal="Cryobiology", volume="42", issue="4", pages="244-55",
        publication_types=["Journal Article", "Research Support, Non-U.S. Gov't"],
        abstract_start="This study subdivides the cryopreservation procedure",
        abstract_has=["(P < 0.001)"], created_date="2001-12-26", n_mesh=11),
    ("efetch_pubmed_11748933_11700088.xml", 1): dict(
        pmid="11700088", doi="10.1006/jmre.2001.2429",
        title="Proton MRI of (13)C distribution by J and chemical shift editing.",
        n_authors=6, first_author="Casieri, C", last_author="De Luca, F", year=2001,
        journal="Journal of magnetic resonance (San Diego, Calif. : 1997)", volume="153",
        issue="1", pages="117-23", publication_types=["Journal Article"],
        abstract_start="The sensitivity of (13)C NMR imaging", created_date="2001-11-09", n_mesh=0),
    ("efetch_pubmed_12091962_9997_rettype_abstract.xml", 0): dict(
        pmid="12091962", doi=None, title="The treatment of AIDS behind the walls of correctional facilities.",
        authors=["Olivero, J Michael"], year=1990, journal="Social justice (San Francisco, Calif.)",
        volume="17", issue="1", pages="113-25", publication_types=["Journal Article", "Review"],
        abstract=None, keywords=["Health Care and Public Health", "Legal Approach"],
        created_date="1990-04-01", n_mesh=19),
    ("efetch_pubmed_12091962_9997_rettype_abstract.xml", 1): dict(
        pmid="9997", doi="10.1016/0005-2795(76)90109-4",
        title="Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin interaction.",
        authors=["Strekas, T C"], year=1976, journal="Biochimica et biophysica acta", volume="446",
        issue="1", pages="179-91", publication_types=["Journal Article"],
        abstract_start="Electron paramagnetic resonance and magnetic susceptibility studies",
        created_date="1976-09-28", n_mesh=13),
    ("efetch_pubmed_20301577_book_article_genereviews.xml", 0): dict(
        pmid="20301577", doi=None, title="CACNA1C-Related Disorders",
        authors=["Napolitano, Carlo", "Priori, Silvia G"], year=1993, journal="GeneReviews®",
        publication_types=["Review"], language="eng",
        labels=["CLINICAL CHARACTERISTICS", "DIAGNOSIS/TESTING", "MANAGEMENT", "GENETIC COUNSELING"],
        abstract_start="CLINICAL CHARACTERISTICS: The clinical manifestations of CACNA1C-related disorders",
        created_date="2024-12-19", n_mesh=0),
    ("efetch_pubmed_219391_1979_case_report.xml", 0): dict(
        pmid="219391", doi="10.1055/s-0028-1085314",
        title="The fine structure of blood cells in ceroid-lipofuscinosis (Spielmeyer-Vogt's disease).",
        n_authors=5, first_author="Nakano, T", year=1979, journal="Neuropadiatrie", volume="10",
        issue="1", pages="56-66", publication_types=["Case Reports", "Journal Article"],
        abstract_start="Peripheral blood and bone marrow in a case of juvenile type",
        created_date="1979-02-01", n_mesh=13),
    ("efetch_pubmed_23435529_rct_structured_collective_author.xml", 0): dict(
        pmid="23435529", doi="10.1200/jco.2012.44.6112",
        title="Randomized phase III trial of docetaxel versus vinorelbine, both combined with "
              "cisplatin, as first-line therapy for advanced non-small-cell lung cancer: the TAX "
              "325 study group.",
        n_authors=15, first_author="Fossella, Frank", last_author="TAX 325 Study Group", year=2013,
        journal="Journal of clinical oncology : official journal of the American Society of Clinical Oncology",
        volume="31", issue="10", pages="1207-13",
        publication_types=["Journal Article", "Randomized Controlled Trial",
                           "Research Support, Non-U.S. Gov't"],
        labels=["PURPOSE", "PATIENTS AND METHODS", "RESULTS", "CONCLUSION"],
        created_date="2013-02-26", n_mesh=8),
    ("efetch_pubmed_24349601_pubmed_not_medline_refs.xml", 0): dict(
        pmid="24349601", doi="10.1037/a0030292", pmcid="PMC3858957",
        title="Genes, Economics, and Happiness.", n_authors=4, first_author="De Neve, Jan-Emmanuel",
        year=2012, journal="Journal of neuroscience, psychology, and economics", volume="5",
        issue="4", pages=None, publication_types=["Journal Article"],
        abstract_has=["serotonin transporter gene (5-HTTLPR)"],
        keywords=["5-HTTLPR", "genetic association", "life satisfaction", "rs2020933",
                  "serotonin transporter gene", "twin study"],
        created_date="2013-12-19", n_mesh=0),
    ("efetch_pubmed_27797938_structured_abstract_pmc.xml", 0): dict(
        pmid="27797938", doi="10.1136/gutjnl-2016-312510", pmcid="PMC5442267",
        title="Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
              "pancreatic cancer.",
        n_authors=22, first_author="Bao, Ying", year=2017, journal="Gut", volume="66", issue="6",
        pages="1116-1122",
        publication_types=["Journal Article", "Observational Study",
                           "Research Support, N.I.H., Extramural",
                           "Research Support, U.S. Gov't, Non-P.H.S.",
                           "Research Support, Non-U.S. Gov't"],
        labels=["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"],
        abstract_has=["ptrend=0.048", "linkage disequilibrium r2<0.25"],
        keywords=["PANCREATIC CANCER"], created_date="2016-11-01", n_mesh=21),
    ("efetch_pubmed_28775130_in_data_review_structured.xml", 0): dict(
        pmid="28775130", doi="10.1136/oemed-2017-104431", pmcid="PMC5771820",
        title="Occupational pesticide exposure and subclinical hypothyroidism among male pesticide applicators.",
        n_authors=12, first_author="Lerro, Catherine C", last_author="Ward, Mary H",
        # The issue year (PubDate 2018 Feb) wins over the electronic ArticleDate (2017-08-03).
        year=2018, journal="Occupational and environmental medicine", volume="75", issue="2",
        pages="79-89", publication_types=["Journal Article"],
        labels=["OBJECTIVES", "METHODS", "RESULTS", "CONCLUSIONS"],
        created_date="2017-08-05", n_mesh=0),
    ("efetch_pubmed_29963580_mathml_referencelist.xml", 0): dict(
        # The 49 <Reference> elements carry their own ArticleIdLists; the record's DOI is its own.
        pmid="29963580", doi="10.1117/1.jmi.5.2.026002", pmcid="PMC6022861",
        title="Development of a pulmonary imaging biomarker pipeline for phenotyping of chronic lung disease.",
        n_authors=9, first_author="Guo, Fumin", last_author="Canadian Respiratory Research Network",
        year=2018, journal="Journal of medical imaging (Bellingham, Wash.)", volume="5", issue="2",
        pages="026002", abstract_has=["inhaled He3/Xe129 MRI ventilation",
                                      "ultrashort echo-time H1 MRI proton density"],
        created_date="2018-07-03"),
    ("efetch_pubmed_30108519_html_mathml_in_abstract.xml", 0): dict(
        pmid="30108519", doi="10.3389/fphys.2018.01034", pmcid="PMC6079548",
        title='A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and Maximal '
              "Lactate Steady State in Trained Runners. Back to the Old Days?",
        authors=["Garcia-Tabar, Ibai", "Gorostiaga, Esteban M"], year=2018,
        journal="Frontiers in physiology", volume="9", issue=None, pages="1034",
        abstract_has=["maximal oxygen uptake ( V.O2max ) 67.6", '"Minimum Lactate Equivalent" (LEmin)',
                      "(P < 0.001; ES: 3.54)"],
        created_date="2018-08-16"),
    ("efetch_pubmed_32294727_editorial_season_date.xml", 0): dict(
        pmid="32294727", doi="10.1590/s0004-2803.202000000-01",
        title="LIVER TRANSPLANTATION IN BRAZIL: THE URGENT NEED OF A NEW ALLOCATION SYSTEM FOR THE "
              "EXCEPTIONS IN MELD SCORE.",
        authors=["Andraus, Wellington"], year=2020, journal="Arquivos de gastroenterologia",
        volume="57", issue="1", pages="1-2", publication_types=["Editorial"], abstract=None,
        created_date="2020-04-16", n_mesh=7),
    ("efetch_pubmed_32490903_season_no_elocation.xml", 0): dict(
        pmid="32490903", doi="10.1590/s0004-2803.202000000-27",
        title="PANCREATIC STEATOSIS: A NEW DIAGNOSIS AND THERAPEUTIC CHALLENGE IN GASTROENTEROLOGY.",
        authors=["Paul, Jayanta", "Shihaz, Ambalathu Veettil Hussain"], year=2020,
        journal="Arquivos de gastroenterologia", volume="57", issue="2", pages="216-220",
        publication_types=["Journal Article"], abstract_start="Fat infiltration in the pancreas",
        created_date="2020-06-04", n_mesh=6),
    ("efetch_pubmed_33856845_systematic_review_structured.xml", 0): dict(
        pmid="33856845", doi="10.1037/prj0000481",
        title="Impact of insight and metacognition on vocational rehabilitation of individuals with "
              "severe mental illness: A systematic review.",
        authors=["Manoli, Romina", "Cervello, Sophie", "Franck, Nicolas"], year=2021,
        journal="Psychiatric rehabilitation journal", volume="44", issue="4", pages="337-353",
        publication_types=["Journal Article", "Systematic Review"],
        labels=["OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS AND IMPLICATIONS FOR PRACTICE"],
        # Create Date is the "entrez" status (2021-04-15), not the "pubmed" one (2021-04-16).
        created_date="2021-04-15", n_mesh=4),
    ("efetch_pubmed_34529508_editorial_comment.xml", 0): dict(
        pmid="34529508", doi="10.2105/ajph.2021.306453", pmcid="PMC8561171",
        title="Public Health Responses to Pandemics in 1918 and 2020.", authors=["Ewing, E Thomas"],
        year=2021, journal="American journal of public health", volume="111", issue="10",
        pages="1715-1717", publication_types=["Editorial", "Comment"], abstract=None,
        created_date="2021-09-16", n_mesh=5),
    ("efetch_pubmed_34843274_collective_name_author.xml", 0): dict(
        pmid="34843274", doi="10.1037/amp0000904",
        title="Summary of the clinical practice guideline for the treatment of depression across "
              "three age cohorts.",
        authors=["Guideline Development Panel for the Treatment of Depressive Disorders"],
        year=2022, journal="The American psychologist", volume="77", issue="6", pages="770-780",
        publication_types=["Journal Article", "Research Support, Non-U.S. Gov't"],
        abstract_start="The American Psychological Association (APA) developed this clinical",
        created_date="2021-11-29", n_mesh=8),
    ("efetch_pubmed_35726897_letter.xml", 0): dict(
        pmid="35726897", doi="10.1002/acr2.11476", pmcid="PMC9274343", title="Reply.",
        authors=["Ghavidel-Parsa, Banafsheh", "Bidari, Ali"], year=2022,
        journal="ACR open rheumatology", volume="4", issue="7", pages="564-565",
        publication_types=["Letter"], abstract=None, created_date="2022-06-21", n_mesh=0),
    ("efetch_pubmed_36987902_norwegian_vernacular_title.xml", 0): dict(
        pmid="36987902", doi="10.4045/tidsskr.22.0358",
        # The English ArticleTitle, not the Norwegian VernacularTitle.
        title="Patients over 75 years admitted to the National Burn Centre, Haukeland University "
              "Hospital, 2000-19.",
        n_authors=7, first_author="Bruserud, Øyvind", language="eng", year=2023,
        journal="Tidsskrift for den Norske laegeforening : tidsskrift for praktisk medicin, ny raekke",
        volume="143", issue="5", pages=None, publication_types=["Journal Article"],
        labels=["BACKGROUND", "MATERIAL AND METHOD", "RESULTS", "INTERPRETATION"],
        abstract_has=["MATERIAL AND METHOD: All patients ≥ 75 years admitted"],
        created_date="2023-03-29", n_mesh=8),
    ("efetch_pubmed_38833988_published_erratum.xml", 0): dict(
        pmid="38833988", doi="10.1016/j.bbamcr.2024.119767",
        title='Corrigendum to "MageC2 protein is upregulated by oncogenic activation of MAPK pathway '
              'and causes impairment of the p53 transactivation function" [Biochim. Biophys. Acta, '
              "Mol. Cell Res. vol. 1868 (Issue 3) (March 2021) 118918].",
        n_authors=6, first_author="Pascucci, Franco Andrés", last_author="Monte, Martín", year=2024,
        journal="Biochimica et biophysica acta. Molecular cell research", volume="1871", issue="6",
        pages="119767", publication_types=["Published Erratum"], abstract=None,
        created_date="2024-06-04"),
    ("efetch_pubmed_38962805_erratum_no_abstract.xml", 0): dict(
        pmid="38962805", doi="10.1080/09540121.2024.2374185", title="Correction.", authors=[],
        year=2024, journal="AIDS care", volume="36", issue="sup1", pages="228-229",
        publication_types=["Journal Article", "Published Erratum"], abstract=None,
        created_date="2024-07-04"),
}

EFETCH_FILES = sorted(p.name for p in FIXTURES.glob("efetch_*.xml"))
RECORD_COUNTS = {name: 0 for name in EFETCH_FILES}
for (name, index) in EXPECTED:
    RECORD_COUNTS[name] = max(RECORD_COUNTS[name], index + 1)


def test_every_efetch_fixture_has_expectations():
    # A new fixture must come with hand-read expected values (or be listed as empty).
    assert set(EFETCH_FILES) == set(RECORD_COUNTS)
    assert {n for n, c in RECORD_COUNTS.items() if c == 0} == {"efetch_pubmed_37909814_empty_set.xml"}


@pytest.mark.parametrize("name", EFETCH_FILES)
def test_efetch_fixture_record_count(name):
    records = pubmed.parse_efetch(read(name), origin=name)
    assert len(records) == RECORD_COUNTS[name]
    for record in records:
        assert record.source == "pubmed"
        assert record.source_id == record.pmid
        assert record.url == f"https://pubmed.ncbi.nlm.nih.gov/{record.pmid}/"


@pytest.mark.parametrize(("name", "index"), sorted(EXPECTED), ids=lambda v: str(v))
def test_efetch_fields(name, index):
    record = pubmed.parse_efetch(read(name), origin=name)[index]
    expected = dict(EXPECTED[(name, index)])
    n_authors = expected.pop("n_authors", None)
    first_author = expected.pop("first_author", None)
    last_author = expected.pop("last_author", None)
    abstract_start = expected.pop("abstract_start", None)
    abstract_has = expected.pop("abstract_has", [])
    labels = expected.pop("labels", None)
    n_mesh = expected.pop("n_mesh", None)
    expected.setdefault("language", "eng")
    for field_name, value in expected.items():
        assert getattr(record, field_name) == value, field_name
    if n_authors is not None:
        assert len(record.authors) == n_authors
    if first_author is not None:
        assert record.first_author == first_author
    if last_author is not None:
        assert record.authors[-1] == last_author
    if abstract_start is not None:
        assert record.abstract.startswith(abstract_start)
    for fragment in abstract_has:
        assert fragment in record.abstract
    if labels is not None:
        positions = [record.abstract.find(f"{label}: ") for label in labels]
        assert positions[0] == 0 and positions == sorted(positions) and -1 not in positions
    if n_mesh is not None:
        assert len(record.mesh_terms) == n_mesh
    for text in (record.title, record.abstract or ""):
        assert not re.search(r"</?[A-Za-z][\w:.-]*[\s/>]", text)  # no leftover tags
        assert "  " not in text


def test_inline_markup_in_title_is_flattened():
    record = pubmed.parse_efetch(read("efetch_pubmed_27797938_structured_abstract_pmc.xml"))[0]
    assert "TERT" in record.title and "<i>" not in record.title


def test_mesh_terms_are_descriptor_names():
    record = pubmed.parse_efetch(read("efetch_pubmed_12091962_9997_rettype_abstract.xml"))[1]
    assert record.mesh_terms[:3] == ["Binding Sites", "Chromatium", "Cytochrome c Group"]


def test_book_keywords_keep_first_occurrence_only():
    record = pubmed.parse_efetch(read("efetch_pubmed_20301577_book_article_genereviews.xml"))[0]
    assert record.keywords[0] == "Timothy Syndrome"
    assert record.keywords.count("Timothy Syndrome") == 1
    assert len(record.keywords) == 8


def test_book_editors_are_not_authors():
    record = pubmed.parse_efetch(read("efetch_pubmed_20301577_book_article_genereviews.xml"))[0]
    assert not any(name.startswith(("Adam,", "Pagon,")) for name in record.authors)


def test_medline_date_year():
    # No recorded fixture has a MedlineDate; swap one into a real record (the form NLM documents).
    text = read("efetch_pubmed_12091962_9997_rettype_abstract.xml").replace(
        "<PubDate><Year>1990</Year><Season>Spring</Season></PubDate>",
        "<PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>")
    assert "MedlineDate" in text
    assert pubmed.parse_efetch(text)[0].year == 1998


def test_article_date_is_the_fallback_year():
    text = read("efetch_pubmed_33856845_systematic_review_structured.xml").replace(
        "<PubDate><Year>2021</Year><Month>Dec</Month></PubDate>", "<PubDate></PubDate>")
    assert pubmed.parse_efetch(text)[0].year == 2021  # from ArticleDate 2021-04-15


def test_empty_article_set_is_no_records():
    assert pubmed.parse_efetch(read("efetch_pubmed_37909814_empty_set.xml")) == []


@pytest.mark.parametrize(("name", "message"), [
    ("efetch_pubmed_19304878_default_retmode_asn1_html.html", "root element <html>"),
    ("esummary_pubmed_2docsums.xml", "not <PubmedArticleSet>"),
    ("esearch_pubmed_term_biopython.xml", "ESearch result"),
    ("epost_error_invalid_db.xml", "Invalid db name specified: nothing"),
])
def test_efetch_parser_rejects_other_bodies_by_name(name, message):
    with pytest.raises(InputError) as caught:
        pubmed.parse_efetch(read(name), origin=name)
    assert caught.value.source == name
    assert message in str(caught.value)
    assert caught.value.fix


def test_truncated_xml_names_line_and_problem():
    text = read("efetch_pubmed_35726897_letter.xml")[:1500]
    with pytest.raises(InputError) as caught:
        pubmed.parse_efetch(text, origin="cut.xml")
    assert caught.value.place.startswith("line ")
    assert "not well-formed XML" in caught.value.problem


def test_json_body_is_named_as_json():
    with pytest.raises(InputError, match="this is JSON, not XML"):
        pubmed.parse_efetch('{"error":"API rate limit exceeded","count":"4"}')


# --------------------------------------------------------------------------- ESearch


def test_esearch_with_history():
    result = pubmed.parse_esearch(read("esearch_pubmed_cancer_usehistory_webenv.xml"))
    assert result.count == 42249
    assert result.retmax == 100 and result.retstart == 0
    assert len(result.ids) == 100 and result.ids[0] == "41297076" and result.ids[-1] == "41296368"
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert result.query_key == "1"
    assert result.querytranslation.endswith("AND 2025/09/27:2025/11/26[Date - Entry]")
    assert result.errors == {} and result.warnings == {}
    assert pubmed.esearch_problem(result) is None


def test_esearch_paging_fields():
    result = pubmed.parse_esearch(read("esearch_pubmed_pnas_vol97_retstart6_retmax6.xml"))
    assert (result.count, result.retmax, result.retstart) == (2651, 6, 6)
    assert result.ids == ["11121077", "11121076", "11121075", "11121074", "11121073", "11121072"]
    assert result.querytranslation == '"proc natl acad sci u s a"[Journal] AND "97"[Volume]'
    assert result.webenv is None


def test_esearch_zero_hits_with_phrase_not_found_is_zero_results_plus_warnings():
    result = pubmed.parse_esearch(read("esearch_protein_no_hits_errorlist.xml"))
    assert result.count == 0 and result.ids == []
    assert result.errors == {"phrasesnotfound": ["abcXYZ"]}
    assert result.warnings == {"outputmessages": ["No items found."]}
    assert result.querytranslation == "(abcXYZ[All Fields])"
    assert pubmed.esearch_problem(result) is None


def test_esearch_unknown_field_is_a_problem():
    text = read("esearch_protein_no_hits_errorlist.xml").replace(
        "<PhraseNotFound>abcXYZ</PhraseNotFound>", "<FieldNotFound>tiabx</FieldNotFound>")
    result = pubmed.parse_esearch(text)
    assert result.errors == {"fieldsnotfound": ["tiabx"]}
    assert "fieldsnotfound: tiabx" in pubmed.esearch_problem(result)


def test_esearch_hits_without_history_is_a_problem():
    result = pubmed.parse_esearch(read("esearch_pubmed_term_biopython.xml"))
    assert result.count == 63 and len(result.ids) == 20
    assert "usehistory=y" in pubmed.esearch_problem(result)


def test_esearch_error_element_raises_with_ncbi_words():
    text = read("epost_error_invalid_db.xml").replace("ePostResult", "eSearchResult")
    with pytest.raises(InputError, match="Invalid db name specified: nothing"):
        pubmed.parse_esearch(text, origin="esearch.xml")


def test_esearch_translation_stack_is_ignored_but_translation_kept():
    result = pubmed.parse_esearch(read("esearch_pmc_stemcells_hasabstract_translationstack.xml"))
    assert result.count == 5
    assert result.querytranslation.startswith('("stem cells"[MeSH Terms]')


@pytest.mark.parametrize("name", ["esearch_pubmed_term_biopython.xml", "epost_pubmed_webenv.xml"])
def test_registry_parser_gives_no_records_for_esearch_and_epost(name):
    assert pubmed.parse(read(name)) == []


def test_registry_parser_raises_on_epost_errors():
    with pytest.raises(InputError, match="Empty ID list; Nothing to store"):
        pubmed.parse(read("epost_error_empty_and_invalid_ids.xml"))
