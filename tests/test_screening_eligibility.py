"""The eligibility pre-filter excludes only on the review's mechanical rules, with one primary
reason in the checklist's order, and turns everything that needs judgement into flags."""

from __future__ import annotations

import pytest

from livingreview.errors import ConfigError
from livingreview.records import Record
from livingreview.screening.eligibility import (
    REASON_CODES,
    EligibilityRules,
    exclusion_reasons,
    prefilter,
)

ABSTRACT = "Peer support workers were employed in a community mental health team."


def rec(**fields) -> Record:
    base = dict(source="pubmed", source_id="1", title="Peer workers in community mental health "
                "teams", abstract=ABSTRACT, year=2020, language="eng",
                publication_types=["Journal Article"])
    base.update(fields)
    return Record(**base)


def test_primary_study_in_scope_is_kept_without_flags():
    verdict = prefilter(rec())
    assert verdict.excluded is False and verdict.reason_code is None and verdict.flags == []


@pytest.mark.parametrize("fields, code", [
    (dict(year=2009), "EX_PRE2010"),
    (dict(language="ger"), "EX_LANGUAGE"),
    (dict(publication_types=["Journal Article", "Systematic Review"]), "EX_REVIEW"),
    (dict(publication_types=["Meta-Analysis"]), "EX_REVIEW"),
    (dict(publication_types=["Editorial"]), "EX_COMMENTARY_DISCUSSION"),
    (dict(publication_types=["Published Erratum"]), "EX_COMMENTARY_DISCUSSION"),
    (dict(publication_types=["Preprint"]), "EX_NOT_PEER_REVIEWED"),
    (dict(source="crossref", publication_types=["posted-content"]), "EX_NOT_PEER_REVIEWED"),
    (dict(source="crossref", publication_types=["book-chapter"]), "EX_NOT_PEER_REVIEWED"),
    (dict(pmid="33720989"), "EX_NOT_PRIMARY"),
    (dict(doi="https://doi.org/10.1371/JOURNAL.PONE.0248558"), "EX_NOT_PRIMARY"),
])
def test_each_metadata_rule_excludes_with_its_reason_code(fields, code):
    verdict = prefilter(rec(**fields))
    assert verdict.excluded and verdict.reason_code == code


def test_unknown_language_and_year_do_not_exclude_and_crossref_articles_pass():
    assert not prefilter(rec(language=None, year=None)).excluded
    assert not prefilter(rec(source="crossref", publication_types=["journal-article"])).excluded


def test_one_primary_reason_in_table_order():
    record = rec(year=2005, language="fre", publication_types=["Review", "Letter"])
    assert exclusion_reasons(record) == ["EX_PRE2010", "EX_LANGUAGE", "EX_REVIEW",
                                         "EX_COMMENTARY_DISCUSSION"]
    assert prefilter(record).reason_code == "EX_PRE2010"
    # the checklist's codes in its order, then PRISMA's full-text-only "not retrieved"
    assert list(REASON_CODES)[0] == "EX_PRE2010"
    assert list(REASON_CODES)[-2:] == ["EX_NOT_PRIMARY", "EX_NOT_RETRIEVED"]


def test_case_reports_and_protocols_are_not_excluded_protocols_are_flagged():
    assert not prefilter(rec(publication_types=["Case Reports"])).excluded
    verdict = prefilter(rec(publication_types=["Clinical Trial Protocol"]))
    assert not verdict.excluded and "clinical_trial_protocol" in verdict.flags


@pytest.mark.parametrize("fields, flag", [
    (dict(title="Peer support workers: a scoping review of roles"), "review_like_title"),
    (dict(abstract="Members of a mutual peer support group met weekly."), "mutual_self_help"),
    (dict(abstract="A consumer-run drop-in centre employed peers."), "consumer_run"),
    (dict(abstract="Peer-led education on medication."), "peer_led_education"),
    (dict(title="Peer counselling for depression"), "peer_counselling"),
    (dict(abstract="Students of a Recovery College reported..."), "recovery_college"),
    (dict(title="Peer mentors for youth with psychosis"), "age_population"),
    (dict(mesh_terms=["Humans", "*Adolescent"]), "age_population"),
    (dict(abstract=None), "needs_abstract"),
])
def test_judgement_criteria_only_flag(fields, flag):
    verdict = prefilter(rec(**fields))
    assert not verdict.excluded
    assert flag in verdict.flags


def test_rules_come_from_review_toml_values_with_review_defaults():
    rules = EligibilityRules.from_mapping({"min_year": 2015, "languages": ["eng", "nor"],
                                           "exclude_pmids": ["111"],
                                           "excluded_publication_types": {"EX_REVIEW": ["Review"]}})
    assert prefilter(rec(year=2012), rules).reason_code == "EX_PRE2010"
    assert not prefilter(rec(language="nor"), rules).excluded
    assert prefilter(rec(pmid="111"), rules).reason_code == "EX_NOT_PRIMARY"
    assert not prefilter(rec(publication_types=["Meta-Analysis"]), rules).excluded
    # The whole review.toml mapping works too, and the defaults are the review's.
    whole = {"review": {}, "eligibility": {"min_year": 2010}}
    assert prefilter(rec(year=2009), whole).reason_code == "EX_PRE2010"
    assert prefilter(rec(doi="10.1007/s10488-022-01242-x")).reason_code == "EX_NOT_PRIMARY"


def test_bad_rules_name_the_setting_and_the_fix():
    with pytest.raises(ConfigError, match="min_yaer"):
        EligibilityRules.from_mapping({"min_yaer": 2010})
    with pytest.raises(ConfigError, match="EX_REVEIW"):
        EligibilityRules.from_mapping({"excluded_publication_types": {"EX_REVEIW": ["Review"]}})
    with pytest.raises(ConfigError, match="not a list"):
        EligibilityRules.from_mapping({"languages": "eng"})


def test_the_projects_review_toml_is_accepted():
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "review.toml"
    if not path.exists():
        pytest.skip("review.toml not in this checkout")
    with open(path, "rb") as handle:
        review = tomllib.load(handle)
    rules = EligibilityRules.from_mapping(review["eligibility"])
    assert rules.min_year == 2010 and "eng" in rules.languages
