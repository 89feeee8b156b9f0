"""``livingreview parse SOURCE FILE`` over every EFetch and Crossref work/works fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.records import Record
from livingreview.sources import crossref, pubmed

FIXTURES = Path(__file__).parent / "fixtures"
EFETCH = sorted((FIXTURES / "pubmed").glob("efetch_*.xml"))
WORKS = sorted(p for p in (FIXTURES / "crossref").glob("*.json")
               if p.name.startswith(("work_", "works_", "members_", "types_", "prefixes_")))
RECORD_KEYS = [f.name for f in fields(Record)]

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["parse", *args])


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_fixture_sets_are_complete():
    assert len(EFETCH) == 21 and len(WORKS) == 29


@pytest.mark.parametrize("path", EFETCH, ids=lambda p: p.name)
def test_parse_pubmed_prints_one_json_record_per_line(path):
    result = run("pubmed", str(path))
    assert result.exit_code == 0, result.stderr
    printed = lines(result)
    expected = pubmed.parse_efetch(path.read_text(encoding="utf-8"))
    assert printed == [r.to_dict() for r in expected]
    for obj in printed:
        assert list(obj) == RECORD_KEYS  # every Record field, in the Record's order
        assert isinstance(obj["authors"], list) and all(isinstance(a, str) for a in obj["authors"])
        assert obj["source"] == "pubmed" and obj["pmid"]


@pytest.mark.parametrize("path", WORKS, ids=lambda p: p.name)
def test_parse_crossref_prints_one_json_record_per_line(path):
    result = run("crossref", str(path))
    assert result.exit_code == 0, result.stderr
    printed = lines(result)
    assert printed == [r.to_dict() for r in crossref.parse_works(path.read_text(encoding="utf-8"))]
    for obj in printed:
        assert list(obj) == RECORD_KEYS and obj["doi"]


def test_parse_output_values_for_a_known_record():
    result = run("pubmed", str(FIXTURES / "pubmed" / "efetch_pubmed_23435529_rct_structured_collective_author.xml"))
    [obj] = lines(result)
    assert obj["pmid"] == "23435529" and obj["doi"] == "10.1200/jco.2012.44.6112"
    assert obj["year"] == 2013 and obj["language"] == "eng"
    assert obj["authors"][0] == "Fossella, Frank" and obj["authors"][-1] == "TAX 325 Study Group"
    assert obj["publication_types"][1] == "Randomized Controlled Trial"
    assert obj["abstract"].startswith("PURPOSE: To compare the efficacy")


def test_non_ascii_is_printed_as_text():
    result = run("pubmed", str(FIXTURES / "pubmed" / "efetch_pubmed_36987902_norwegian_vernacular_title.xml"))
    assert '"Bruserud, Øyvind"' in result.stdout


def test_unknown_source_lists_the_valid_ones_and_exits_2():
    result = run("pubmd", str(EFETCH[0]))
    assert result.exit_code == 2
    assert "unknown source 'pubmd'" in result.stderr
    assert "crossref, europepmc, openalex, pubmed" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("source", "name", "problem"), [
    ("pubmed", "pubmed/efetch_pubmed_19304878_default_retmode_asn1_html.html", "root element <html>"),
    ("pubmed", "pubmed/epost_error_invalid_db.xml", "Invalid db name specified: nothing"),
    ("crossref", "crossref/error_504_gateway_timeout.html", "an HTML page, not Crossref JSON"),
    ("crossref", "crossref/error_work_404_notarealdoi.txt", "Resource not found."),
    ("crossref", "pubmed/efetch_pubmed_35726897_letter.xml", "not Crossref JSON"),
    ("pubmed", "crossref/work_10.1038_srep16696.json", "this is JSON, not XML"),
    ("europepmc", "europepmc/search_cancer.xml", "format=json"),
])
def test_malformed_input_names_the_file_and_problem_and_exits_1(source, name, problem):
    path = FIXTURES / name
    result = run(source, str(path))
    assert result.exit_code == 1
    assert str(path) in result.stderr and problem in result.stderr and "Fix:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_missing_file_exits_1(tmp_path):
    result = run("pubmed", str(tmp_path / "nope.xml"))
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_truncated_file_names_the_line(tmp_path):
    cut = tmp_path / "cut.xml"
    cut.write_text((FIXTURES / "pubmed" / "efetch_pubmed_35726897_letter.xml").read_text()[:2000])
    result = run("pubmed", str(cut))
    assert result.exit_code == 1 and f"{cut}: line " in result.stderr


def test_esearch_file_gives_no_records_and_says_why():
    result = run("pubmed", str(FIXTURES / "pubmed" / "esearch_pubmed_term_biopython.xml"))
    assert result.exit_code == 0 and result.stdout == ""
    assert "records come from EFetch" in result.stderr


def test_openalex_and_europepmc_through_the_command():
    result = run("openalex", str(FIXTURES / "openalex" / "works_search_page1_per_page200.json"))
    assert result.exit_code == 0 and len(lines(result)) == 49
    result = run("europepmc", str(FIXTURES / "europepmc" / "search_cancer_core.json"))
    assert result.exit_code == 0 and len(lines(result)) == 25


def test_console_script_end_to_end():
    script = Path(sys.executable).with_name("livingreview")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = subprocess.run([str(script), "parse", "crossref",
                           str(FIXTURES / "crossref" / "work_10.1136_jclinpath-2020-206745.json")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    [obj] = [json.loads(line) for line in done.stdout.splitlines()]
    assert obj["doi"] == "10.1136/jclinpath-2020-206745"
    bad = subprocess.run([str(script), "parse", "scopus", "x"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert bad.returncode == 2 and "Valid sources" in bad.stderr and "Traceback" not in bad.stderr
