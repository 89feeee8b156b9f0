"""The co-creation detector on the review's included studies (real titles and abstracts), on the
article's descriptions and on records written from the coding scheme's definitions; its key rules;
and its file interface ``livingreview detect co-creation``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.cocreation.detector import Detector, DetectorConfig, Text
from livingreview.cocreation.rules import evidence, rule_score
from livingreview.config import load_review

FIXTURES = Path(__file__).resolve().parent / "fixtures"
INCLUDED = FIXTURES / "included_studies" / "included_studies.csv"
ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _flagged(path: Path) -> set[str]:
    detector = Detector(DetectorConfig.from_review(load_review(ROOT / "review.toml")))
    texts = [Text(r["record_id"], r["title"], r["abstract"], r.get("keywords"))
             for r in _rows(path)]
    return {f.record_id for f in detector.detect(texts) if f.flagged}


def test_on_the_included_studies_it_flags_four_of_the_six_co_creation_studies_and_no_other():
    # tookey2018 and aminawung2021 show their early-phase work only in the full text (the article
    # cites program planning and design input that their abstracts do not mention).
    assert _flagged(INCLUDED) == {"nelson2016", "chisholm2020", "jones2020", "myers2021"}


def test_on_the_article_descriptions_and_the_written_records():
    assert _flagged(FIXTURES / "cocreation" / "article_descriptions.csv") == {
        "chisholm2020", "jones2020", "aminawung2021", "myers2021"}
    assert _flagged(FIXTURES / "cocreation" / "written_records.csv") == {
        "w01", "w02", "w03", "w05", "w06", "w07", "w08", "w09", "w10"}


def test_almeida_is_not_flagged_although_its_title_says_co_designed():
    almeida = next(r for r in _rows(INCLUDED) if r["record_id"] == "almeida2020")
    assert "Co-Designed" in almeida["title"]
    found = evidence(almeida["title"], almeida["abstract"], almeida["keywords"])
    assert [e.strength for e in found] == ["context", "context"]  # no peer-led service design
    assert rule_score(found) == 1.0


PLANNING = ("Peer workers with lived experience took part in planning the new crisis service "
            "with managers. Peer workers sat on the advisory board of the service and delivered "
            "one-to-one support.")


def test_the_key_rule_peers_as_agents_of_early_phase_work_on_services():
    found = evidence("A crisis service", PLANNING)
    assert [(e.phase, e.strength, e.cue) for e in found] == [
        ("commissioning", "actor", "planning"), ("governance", "actor", "advisory board")]
    assert rule_score(found) == 4.0
    # The same activities with managers as the only agents: evidence without an agent, not a flag.
    managers = PLANNING.replace("Peer workers with lived experience", "Managers").replace(
        "Peer workers sat", "Managers sat").replace("one-to-one support", "one-to-one care")
    assert rule_score(evidence("A crisis service", managers)) == 0.0
    # Designing the study, or peers' own roles, is not the service cycle.
    assert evidence(None, "Peer workers co-designed this study and developed the interview "
                          "guide.") == []
    assert evidence(None, "Managers and peer workers developed new peer worker roles.") == []
    # Passive voice: only who follows "by" did the work.
    assert [e.strength for e in evidence(None, "A peer navigator program developed by a "
                                               "research team.")] == []
    assert [e.strength for e in evidence(None, "A training program developed by persons with "
                                               "lived experience.")] == ["actor"]


def test_a_flag_is_explained_by_its_passages():
    (flag,) = Detector().detect([Text("x", "A crisis service", PLANNING)])
    assert flag.flagged and flag.score == 4.0 and flag.mode == "rules"
    assert flag.evidence_text() == (
        "[commissioning/actor: planning] Peer workers with lived experience took part in "
        "planning the new crisis service with managers. || [governance/actor: advisory board] "
        "Peer workers sat on the advisory board of the service and delivered one-to-one support.")


def test_a_record_without_abstract_is_judged_by_what_a_title_can_show():
    detector = Detector(DetectorConfig(threshold=3.0, threshold_title_only=2.0))
    title = "Involving persons with lived experience in planning a housing first project"
    assert [f.flagged for f in detector.detect([Text("a", title, ""),
                                                Text("b", title, "Peers were interviewed.")])] \
        == [True, False]


def _write(path: Path, header: str, *lines: str) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_cli_writes_one_row_per_record(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.sqlite'}")
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    out = tmp_path / "out" / "flags.csv"
    result = runner.invoke(app, ["detect", "co-creation", str(INCLUDED), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "102 records: 4 flagged as co-creation (rules mode, threshold 3)" in result.output
    rows = _rows(out)
    assert list(rows[0]) == ["record_id", "flagged", "score", "evidence"]
    assert len(rows) == 102
    assert {r["record_id"] for r in rows if r["flagged"] == "true"} == {
        "nelson2016", "chisholm2020", "jones2020", "myers2021"}
    nelson = next(r for r in rows if r["record_id"] == "nelson2016")
    assert nelson["score"] == "5"
    assert nelson["evidence"].startswith("[commissioning/actor: planning] Collaboration and "
                                         "involvement of persons with lived experience in "
                                         "planning Canada's At Home/Chez Soi project.")
    assert not (tmp_path / "absent.sqlite").exists()  # reading the store never creates one


@pytest.mark.parametrize("header, lines, place, fix", [
    ("record_id,title", ["1,A title"], "line 1 (header): missing column(s) abstract",
     "name the columns record_id,title,abstract (keywords optional)"),
    ("record_id,title,abstract", ["1,A,B", "1,C,D"], "line 3: record_id '1' repeats line 2",
     "give every row its own record_id"),
    ("record_id,title,abstract", ["1,A,B", ",C,D"], "line 3: empty record_id",
     "give every row a record_id"),
    ("record_id,title,abstract", ["1,A,B,extra"], "line 2: more fields than the header has",
     "quote fields that contain commas"),
])
def test_cli_bad_input_names_file_line_and_fix_and_writes_nothing(tmp_path, monkeypatch, header,
                                                                   lines, place, fix):
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.sqlite'}")
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    records = _write(tmp_path / "records.csv", header, *lines)
    out = tmp_path / "flags.csv"
    result = runner.invoke(app, ["detect", "co-creation", str(records), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{records}: {place}" in result.output and fix in result.output
    assert not out.exists() and list(tmp_path.glob(".flags.csv*")) == []


def test_cli_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    result = runner.invoke(app, ["detect", "co-creation", str(tmp_path / "nope.csv"), "--out",
                                 str(tmp_path / "flags.csv")])
    assert result.exit_code == 2 and f"{tmp_path / 'nope.csv'}: file: not found" in result.output


def test_review_toml_settings_are_checked(tmp_path):
    review = load_review(ROOT / "review.toml")
    assert DetectorConfig.from_review(review) == DetectorConfig(
        threshold=3.0, threshold_title_only=2.0, learn_after=20, learn_min_each=5,
        learned_cutoff=0.5)
    review["alerts"]["co_creation"]["treshold"] = 2
    with pytest.raises(Exception, match="unknown setting"):
        DetectorConfig.from_review(review)
