"""OpenAlex and Europe PMC parsers on their recorded fixtures, and their cursor-paged harvests.

Expected values were read by hand from the fixture files (see the PROVENANCE.md next to them).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from livingreview.config import Settings
from livingreview.errors import InputError
from livingreview.sources import europepmc, openalex
from livingreview.sources.client import RetryPolicy, SourceClient, Throttle
from livingreview.sources.names import initials_last, surname_first

FIXTURES = Path(__file__).parent / "fixtures"
OPENALEX = (FIXTURES / "openalex" / "works_search_page1_per_page200.json").read_text()
CORE = (FIXTURES / "europepmc" / "search_cancer_core.json").read_text()


def by_id(records, source_id):
    return next(r for r in records if r.source_id == source_id)


def test_openalex_list_parses_every_work():
    records = openalex.parse_works(OPENALEX)
    assert len(records) == 49  # meta.count, one page
    assert sum(r.abstract is None for r in records) == 3
    assert sum(r.doi is None for r in records) == 2
    assert sum(r.pmid is not None for r in records) == 16


def test_openalex_work_fields():
    record = by_id(openalex.parse_works(OPENALEX), "W2068311567")
    assert record.openalex_id == "W2068311567"
    assert record.doi == "10.4081/gh.2014.294"  # from the https://doi.org/ URL
    assert record.pmid == "25599636"  # from the pubmed.ncbi.nlm.nih.gov URL
    assert record.title == ("Redefining climate regions in the United States of America using "
                            "satellite remote sensing and machine learning for public health applications")
    assert record.first_author == "Liss, Alexander"
    assert record.year == 2014
    assert (record.journal, record.volume, record.issue, record.pages) == ("Geospatial Health", "8", "3", "467")
    assert record.language == "eng"
    assert record.publication_types == ["article", "journal-article"]
    assert record.created_date == "2016-06-24"
    assert "Artificial Intelligence" in record.mesh_terms
    # The abstract rebuilt from the inverted index reads in word order.
    assert record.abstract.startswith("Existing climate classification has not been designed for "
                                      "an efficient handling of public health scenarios.")


def test_openalex_pmcid_without_prefix_and_null_author():
    records = openalex.parse_works(OPENALEX)
    assert by_id(records, "W2897157249").pmcid == "PMC6258996"
    record = by_id(records, "W4206064211")
    assert record.first_author == "Agossou, Cyrille"
    assert "NULL AUTHOR_ID" not in " ".join(record.authors)


def test_openalex_single_work_and_errors():
    work = json.loads(OPENALEX)["results"][0]
    [record] = openalex.parse_works(json.dumps(work))
    assert record.source_id == "W2068311567"
    with pytest.raises(InputError, match="not an OpenAlex works response"):
        openalex.parse_works('{"meta": {}}', origin="x.json")
    with pytest.raises(InputError, match="OpenAlex reported"):
        openalex.parse_works('{"error": "Invalid query parameters error.", "message": "bad filter"}')


def test_abstract_from_inverted_index():
    index = {"peer": [0, 3], "workers": [1], "support": [2], "others": [4]}
    assert openalex.abstract_from_inverted_index(index) == "peer workers support peer others"
    assert openalex.abstract_from_inverted_index(None) is None


@pytest.mark.parametrize(("display", "expected"), [
    ("Alexander Liss", "Liss, Alexander"),
    ("Jan van der Berg", "van der Berg, Jan"),
    ("Madonna", "Madonna"),
    ("Liss, Alexander", "Liss, Alexander"),
])
def test_surname_first(display, expected):
    assert surname_first(display) == expected


def test_initials_last():
    assert initials_last("Schoenfeld JD") == "Schoenfeld, JD"
    assert initials_last("Haas-Kogan DA") == "Haas-Kogan, DA"
    assert initials_last("TAX 325 Study Group") == "TAX 325 Study Group"


def test_europepmc_core_fields():
    records = europepmc.parse_search(CORE)
    assert len(records) == 25
    assert sum(r.abstract is not None for r in records) == 21
    record = records[0]
    assert record.source_id == "MED:39709209" and record.pmid == "39709209"
    assert record.doi == "10.1016/s0140-6736(24)02600-x"
    assert record.title == ("Abscopal response in a patient with fibrolamellar hepatocellular "
                            "carcinoma following radiotherapy.")
    assert record.authors == ["Schoenfeld, Jonathan D", "Haas-Kogan, Daphne A", "O'Neill, Allison F"]
    assert (record.year, record.journal, record.volume, record.issue, record.pages) == (
        2025, "Lancet (London, England)", "404", "10471", "2603-2604")
    assert record.publication_types == ["Journal Article"]
    assert record.language == "eng" and record.created_date == "2024-12-21"
    assert records[1].pmcid == "PMC12124214"


def test_europepmc_h4_heads_become_labels():
    record = by_id(europepmc.parse_search(CORE), "MED:40468710")
    assert record.abstract.startswith("Objective: This study investigated whether psychological flexibility")
    assert "Design: " in record.abstract and "<h4>" not in record.abstract


def test_europepmc_lite_idlist_and_empty():
    [first, *_] = europepmc.parse_search((FIXTURES / "europepmc" / "search_cancer.json").read_text())
    assert first.authors == ["Schoenfeld, JD", "Haas-Kogan, DA", "O'Neill, AF"]
    assert first.journal == "Lancet"
    ids = europepmc.parse_search((FIXTURES / "europepmc" / "search_cancer_idlist.json").read_text())
    assert len(ids) == 25 and ids[1].pmcid == "PMC12124214" and ids[1].title is None
    assert europepmc.parse_search((FIXTURES / "europepmc" / "search_no_results.json").read_text()) == []


def test_europepmc_xml_is_refused_with_the_fix():
    with pytest.raises(InputError, match="format=json"):
        europepmc.parse_search((FIXTURES / "europepmc" / "search_cancer.xml").read_text(), origin="x.xml")
