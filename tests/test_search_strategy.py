"""The review's search strategy: variants, the local strategy on the included studies' real
abstracts, the file interface, abstract enrichment and recall against the replay server."""

from __future__ import annotations

import copy
import csv
import tomllib
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from livingreview.abstracts import enrich_abstracts
from livingreview.cli import app
from livingreview.config import Settings
from livingreview.records import Record
from livingreview.recall import KnownStudy, crossref_recall, pubmed_recall
from livingreview.replay import running_replay_server
from livingreview.replay.bodies import RECORDINGS_DIR
from livingreview.replay.scenario import build_scenario
from livingreview.sources import pubmed
from livingreview.strategy import (
    LocalStrategy,
    evaluate,
    local_strategy,
    pubmed_query,
    query_blocks,
    source_variant,
)

ROOT = Path(__file__).resolve().parents[1]
REVIEW = tomllib.loads((ROOT / "review.toml").read_text())
INCLUDED = ROOT / "tests/fixtures/included_studies/included_studies.csv"


def _included() -> list[Record]:
    with open(INCLUDED, newline="", encoding="utf-8") as handle:
        return [Record("fixture", r["record_id"], title=r["title"], abstract=r["abstract"] or None,
                       journal=r["journal"], keywords=[k for k in r["keywords"].split("; ") if k])
                for r in csv.DictReader(handle)]


STUDIES = _included()
WITH_ABSTRACT = [r for r in STUDIES if r.abstract]


def _kept(strategy: LocalStrategy, records: list[Record]) -> list[str]:
    blocks = strategy.compiled()
    return [r.source_id for r in records if evaluate(blocks, r).kept]


def test_the_fixture_holds_the_included_studies_and_the_six_co_creation_studies():
    with open(INCLUDED, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 102 and len({r["record_id"] for r in rows}) == 102
    assert sorted(r["record_id"] for r in rows if r["co_creation"] == "true") == [
        "aminawung2021", "chisholm2020", "jones2020", "myers2021", "nelson2016", "tookey2018"]
    assert len(WITH_ABSTRACT) == 93
    assert all(r["provenance"].startswith("http") for r in rows if r["abstract_found"] == "true")


def test_the_extended_strategy_keeps_every_included_study_whose_abstract_it_is_given():
    assert len(_kept(local_strategy(REVIEW, "extended"), WITH_ABSTRACT)) == 93


def test_the_faithful_translation_keeps_44_of_93_as_the_issue_found():
    kept = _kept(local_strategy(REVIEW, "faithful"), WITH_ABSTRACT)
    assert len(kept) == 44
    assert "ahmed2015" not in kept  # "peer specialists": a role Table 1 does not name


@pytest.mark.parametrize("block, expected", [("P", 79), ("C", 54)])
def test_each_rebuilt_block_is_needed(block, expected):
    """Back to the faithful terms in one block, the recall falls: a broken block fails here."""
    extended = local_strategy(REVIEW, "extended")
    faithful = local_strategy(REVIEW, "faithful")
    patterns = dict(extended.patterns, **{block: faithful.patterns[block]})
    assert len(_kept(LocalStrategy("x", patterns), WITH_ABSTRACT)) == expected


def test_a_block_that_matches_nothing_loses_every_study():
    extended = local_strategy(REVIEW, "extended")
    for block in ("P", "C", "S"):
        patterns = dict(extended.patterns, **{block: (r"(?!x)x",)})
        assert _kept(LocalStrategy("x", patterns), WITH_ABSTRACT) == []


def test_a_record_without_an_abstract_is_never_rejected_and_says_what_its_title_lacks():
    blocks = local_strategy(REVIEW, "extended").compiled()
    verdict = evaluate(blocks, Record("crossref", "x", title="Hospital emergency numbers"))
    assert (verdict.kept, verdict.failed_blocks, verdict.needs_abstract) == (True, ("P", "C"), True)
    verdict = evaluate(blocks, Record("crossref", "y", title="Hospital emergency numbers",
                                      abstract="Numbers to call in an emergency."))
    assert (verdict.kept, verdict.failed_blocks, verdict.needs_abstract) == (False, ("P", "C"), False)


def test_the_extended_pubmed_query_only_adds_terms_inside_their_blocks():
    config = REVIEW["sources"]["pubmed"]
    faithful, extended = query_blocks(config["query"]), query_blocks(pubmed_query(config, "extended"))
    assert extended["limits"] == faithful["limits"] == "AND english[la]\nAND 2010:3000[dp]"
    for block in ("P", "C", "S"):
        assert extended[block].startswith(faithful[block][:-1].rstrip())
    assert '"peer specialist*"[tiab]' in extended["P"] and "coproduc*[tiab]" in extended["C"]
    assert pubmed_query(config, "faithful") == config["query"]


def test_each_source_runs_the_named_variant_and_may_override_it():
    assert source_variant(REVIEW, "pubmed") == source_variant(REVIEW, "crossref") == "extended"
    review = copy.deepcopy(REVIEW)
    review["sources"]["crossref"]["variant"] = "faithful"
    assert source_variant(review, "crossref") == "faithful"
    review["sources"]["crossref"]["variant"] = "wide"
    with pytest.raises(Exception, match="variant 'wide' for crossref is not one of"):
        source_variant(review, "crossref")


# --------------------------------------------------------------------------- file interface


def test_strategy_command_writes_kept_and_failed_blocks(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    records = tmp_path / "records.csv"
    records.write_text(
        "record_id,title,abstract,keywords\n"
        "a,Peer support workers in a community mental health team,Peer workers and nurses "
        "worked together.,\n"
        "b,Hospital emergency numbers,Numbers to call.,\n"
        "c,Hospital emergency numbers,,\n", encoding="utf-8")
    out = tmp_path / "kept.csv"
    result = CliRunner().invoke(app, ["strategy", "crossref", str(records), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "kept 2 of 3 records (1 without an abstract" in result.output
    assert out.read_text() == ("record_id,kept,failed_blocks\na,true,\nb,false,P;C\n"
                               "c,true,P;C\n")
    result = CliRunner().invoke(app, ["strategy", "crossref", str(records), "--out", str(out),
                                      "--variant", "faithful"])
    assert result.exit_code == 0, result.output
    # The faithful Table 1 has no collaboration term for "worked together" (deviation D3).
    assert out.read_text().splitlines()[1] == "a,false,C"


def test_strategy_command_names_the_line_of_a_bad_file_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    records = tmp_path / "records.csv"
    records.write_text("record_id,title,abstract\na,x,y\na,z,w\n", encoding="utf-8")
    out = tmp_path / "kept.csv"
    result = CliRunner().invoke(app, ["strategy", "crossref", str(records), "--out", str(out)])
    assert result.exit_code == 1
    assert "line 3: record_id 'a' repeats line 2. Fix: give every row its own record_id" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [records]
    result = CliRunner().invoke(app, ["strategy", "pubmed", str(records), "--out", str(out)])
    assert result.exit_code == 2 and "'pubmed' has no local strategy" in result.output


# --------------------------------------------------------------------------- replay server


PUBMED_FILES = ["pubmed/efetch_pubmed_27797938_structured_abstract_pmc.xml",
                "pubmed/efetch_pubmed_28775130_in_data_review_structured.xml"]
CROSSREF_FILES = ["crossref/work_10.1371_journal.pone.0020476.json",
                  "crossref/works_sample10.json"]


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    scenario = build_scenario(tmp_path_factory.mktemp("scenario"), PUBMED_FILES + CROSSREF_FILES)
    with running_replay_server(scenario) as server:
        yield server


@pytest.fixture()
def settings(replay, tmp_path):
    return Settings.from_env(home=tmp_path, pubmed_base_url=replay.pubmed_base_url,
                             crossref_base_url=replay.crossref_base_url,
                             contact_email="test@example.org")


def _recorded(name: str) -> Record:
    return pubmed.parse_efetch((RECORDINGS_DIR / name).read_bytes())[0]


def test_a_missing_abstract_is_looked_up_by_doi_in_pubmed_with_its_provenance(settings):
    gut = _recorded(PUBMED_FILES[0])
    records = [Record("crossref", gut.doi, title=gut.title, doi=gut.doi),
               Record("crossref", "10.1136/bmj.298.6673.604-c", title="Hospital emergency numbers",
                      doi="10.1136/bmj.298.6673.604-c")]
    archived = []
    with httpx.Client(timeout=10) as http:
        counts = enrich_abstracts(http, settings, records, archived.append)
    assert counts == {"without_abstract": 2, "filled": {"pubmed": 1}, "still_missing": 1}
    assert records[0].abstract == gut.abstract and records[0].field_sources == {
        "abstract": "pubmed:27797938"}
    assert records[1].abstract is None and records[1].field_sources == {}
    assert records[0].to_dict()["field_sources"] == {"abstract": "pubmed:27797938"}
    assert records[1].to_dict()["field_sources"] == {}
    assert [raw.url.split("?")[0].rsplit("/", 1)[-1] for raw in archived] == [
        "esearch.fcgi", "efetch.fcgi"]


# A three-block query in Table 1's shape that the two recorded (off-topic) articles satisfy:
# GUT 27797938 (telomeres, pancreatic cancer, 2017) and OEM 28775130 (pesticides, thyroid, 2018).
RECORDED_QUERY = ('(telomer*[tiab] OR "pesticide exposure*"[tiab]) AND (cancer*[tiab] OR '
                  '"thyroid function"[tiab]) AND ("Humans"[MeSH Terms] OR applicator*[tiab]) '
                  'AND english[la] AND 2010:3000[dp]')


def _pubmed_outcomes(settings, query, studies, archived=None):
    with httpx.Client(timeout=10) as http:
        outcomes = pubmed_recall(http, settings, query, studies,
                                 archived.append if archived is not None else (lambda raw: None))
    return [(o.study, o.status, o.failed_blocks, o.note) for o in outcomes]


def test_pubmed_recall_uses_uid_lookups_and_tells_found_from_absent(settings):
    studies = [KnownStudy("gut", None, None, "27797938"),
               KnownStudy("oem", None, "10.1136/oemed-2017-104431", None),  # DOI only
               KnownStudy("gone", None, None, "99999999"),
               KnownStudy("nodoi", None, "10.9999/not-in-pubmed", None),
               KnownStudy("bare", None, None, None)]
    archived = []
    assert _pubmed_outcomes(settings, RECORDED_QUERY, studies, archived) == [
        ("gut", "found", [], ""), ("oem", "found", [], ""),
        ("gone", "absent", [], "PMID 99999999 not returned by PubMed"),
        ("nodoi", "absent", [], "DOI 10.9999/not-in-pubmed not in PubMed"),
        ("bare", "no_identifier", [], "no PMID or DOI")]
    terms = [str(raw.params) for raw in archived]
    assert any("27797938[uid] OR 28775130[uid] OR 99999999[uid]" in t for t in terms)


@pytest.mark.parametrize("broken, expected", [
    # P without the term that finds OEM
    (RECORDED_QUERY.replace(' OR "pesticide exposure*"[tiab]', ""), [("oem", ["P"])]),
    # C's phrase misspelt: OEM's abstract no longer shows C
    (RECORDED_QUERY.replace('"thyroid function"', '"thyroid functoin"'), [("oem", ["C"])]),
    # S's MeSH heading misspelt and its text term gone: GUT (indexed Humans) loses S
    (RECORDED_QUERY.replace('"Humans"[MeSH Terms] OR ', '"Humanz"[MeSH Terms] OR '),
     [("gut", ["S"])]),
    # the date limit moved past both articles
    (RECORDED_QUERY.replace("2010:3000[dp]", "2019:3000[dp]"),
     [("gut", ["limits"]), ("oem", ["limits"])]),
])
def test_pubmed_recall_fails_when_a_block_is_broken_and_names_it(settings, broken, expected):
    studies = [KnownStudy("gut", None, None, "27797938"), KnownStudy("oem", None, None, "28775130")]
    outcomes = _pubmed_outcomes(settings, broken, studies)
    assert [(study, blocks) for study, status, blocks, _ in outcomes if status == "missed"] == expected
    assert all(status in ("found", "missed") for _, status, _, _ in outcomes)


def test_the_review_query_is_evaluated_on_look_ups_so_off_topic_articles_fail_its_blocks(settings):
    query = pubmed_query(REVIEW["sources"]["pubmed"], "extended")
    outcomes = _pubmed_outcomes(settings, query, [KnownStudy("gut", None, None, "27797938")])
    assert outcomes[0][1] == "missed" and "P" in outcomes[0][2]


def test_crossref_recall_fetches_works_by_doi_and_names_the_failing_blocks(settings):
    studies = [KnownStudy("delphi", None, "10.1371/journal.pone.0020476", None),
               KnownStudy("styrene", None, "10.1246/bcsj.36.278", None),
               KnownStudy("unknown", None, "10.9999/not-in-crossref", None),
               KnownStudy("bare", None, None, "123")]
    with httpx.Client(timeout=10) as http:
        outcomes = crossref_recall(http, settings, REVIEW, "extended", studies, lambda raw: None)
        review = copy.deepcopy(REVIEW)
        review["search"]["local"]["faithful"] = {"P": [r"\bdelphi\b"], "C": [r"\breport\w*"],
                                                 "S": [r"\bhealth\w*"]}
        review["search"]["local"]["extended"] = {}
        found = crossref_recall(http, settings, review, "extended", studies[:1], lambda raw: None)
    assert [(o.study, o.status, o.failed_blocks, o.note) for o in outcomes] == [
        ("delphi", "found", ["P", "C"], "kept without an abstract"),
        ("styrene", "missed", ["P", "C", "S"], ""),
        ("unknown", "absent", [], "DOI 10.9999/not-in-crossref not in Crossref"),
        ("bare", "no_identifier", [], "no DOI")]
    assert [(o.status, o.failed_blocks) for o in found] == [("found", [])]


def test_recall_command_measures_the_stores_included_studies_per_source(replay, tmp_path,
                                                                         monkeypatch):
    from livingreview.cli.corpus import init_store

    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("LR_PUBMED_BASE_URL", replay.pubmed_base_url)
    monkeypatch.setenv("LR_CROSSREF_BASE_URL", replay.crossref_base_url)
    monkeypatch.setenv("LR_CROSSREF_RATE", "50")
    init_store(Settings.from_env())  # the baseline: the review's reference list, with DOIs
    out = tmp_path / "recall.csv"
    result = CliRunner().invoke(app, ["recall", "--source", "crossref", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # The test's replay holds none of the review's studies: every one is absent, none "found".
    first = result.output.splitlines()[0]
    assert first.startswith("crossref (extended): 0 of ") and "known included studies" in first
    assert "missed agrawal2016: DOI 10.1007/s40596-016-0533-z not in Crossref" in result.output
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["source"] for r in rows} == {"crossref"} and len(rows) > 90
    assert {r["status"] for r in rows} <= {"absent", "no_identifier"}


@pytest.mark.parametrize("content, message", [
    (b"", "records.csv: file: empty. Fix: write a header record_id,title,abstract"),
    (b"record_id,title,abstract\n1,ok,ok\n2,\xff\xfe,y\n",
     "records.csv: line 3: not UTF-8 text (byte 0xff). Fix: save the file as comma-separated UTF-8"),
    (b"id,title\n1,x\n", "line 1 (header): missing column(s) record_id, abstract"),
])
def test_strategy_command_says_what_is_wrong_with_an_unreadable_file(tmp_path, monkeypatch,
                                                                     content, message):
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    records = tmp_path / "records.csv"
    records.write_bytes(content)
    result = CliRunner().invoke(app, ["strategy", "crossref", str(records), "--out",
                                      str(tmp_path / "kept.csv")])
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "kept.csv").exists()



def test_a_missing_abstract_is_filled_from_europepmc_then_openalex_with_its_provenance(tmp_path):
    scenario = build_scenario(tmp_path / "scenario", [
        "europepmc/search_cancer_core.json", "openalex/works_search_page1_per_page200.json"])
    records = [Record("crossref", "10.1111/bjhp.12807", title="t", doi="10.1111/bjhp.12807"),
               Record("crossref", "10.4081/gh.2014.294", title="t", doi="10.4081/gh.2014.294"),
               Record("crossref", "10.9999/nowhere", title="t", doi="10.9999/nowhere")]
    archived = []
    with running_replay_server(scenario) as server, httpx.Client(timeout=10) as http:
        settings = Settings.from_env(home=tmp_path, europepmc_base_url=server.europepmc_base_url,
                                     openalex_base_url=server.openalex_base_url,
                                     contact_email="test@example.org")
        counts = enrich_abstracts(http, settings, records, archived.append,
                                  ("europepmc", "openalex"))
    assert counts == {"without_abstract": 3, "filled": {"europepmc": 1, "openalex": 1},
                      "still_missing": 1}
    assert records[0].field_sources == {"abstract": "europepmc:MED:40468710"} and records[0].abstract
    assert records[1].field_sources == {"abstract": "openalex:W2068311567"}
    assert records[1].abstract and records[2].abstract is None
    assert [raw.source for raw in archived] == ["europepmc", "openalex"]


def test_an_unknown_abstract_source_is_a_configuration_error():
    with pytest.raises(Exception, match=r"abstract_sources: \['scopus'\] cannot be asked"):
        enrich_abstracts(None, None, [Record("crossref", "x", doi="10.1/x")], lambda raw: None,
                         ("pubmed", "scopus"))
