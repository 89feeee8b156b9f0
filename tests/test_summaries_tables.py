"""Recomputed summary tables and the published-number regression, on a real SQLite store."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from test_summaries_store import (
    CUTOFF,
    add_record,
    add_run,
    code,
    corpus_fixtures,
    include_new,
    queue,
)

from livingreview.screening.scheme import SERVICE_CONTEXTS
from livingreview.store.database import session_scope
from livingreview.store.models import ChartingCode, StoredRecord
from livingreview.summaries.coding import CodeRow, study_codes
from livingreview.summaries.published import compare_with_published, regressions
from livingreview.summaries.tables import compute, percent, period_of

published, corpus = corpus_fixtures()


def test_percentages_round_half_up_exactly():
    assert percent(1, 16) == 6.3  # 6.25: Python's round() would give 6.2
    assert percent(1, 80) == 1.3  # 1.25
    assert percent(6, 172) == 3.5
    assert percent(116, 172) == 67.4
    assert percent(142, 172, 2) == 82.56
    assert percent(0, 5) == 0.0
    assert percent(3, 0) is None


def test_periods_keep_the_published_split_then_go_yearly():
    assert period_of(2016, True) == "2010–2016"
    assert period_of(2017, False) == "2017–2021"
    assert period_of(2022, True) == "2017–2021"  # issue year of a study found by 2021-12-14
    assert period_of(2022, False) == "2022"
    assert period_of(2009, False) == "before 2010"
    assert period_of(None, False) is None


AFRICA, EUROPE, GREAT_BRITAIN = "Africa", "Europe excluding Great Britain", "Great Britain"


def test_codes_of_one_study_follow_the_conventions():
    early = datetime(2022, 1, 1, tzinfo=timezone.utc)
    late = datetime(2022, 6, 1, tzinfo=timezone.utc)
    rows = [CodeRow(1, 7, "role_type", "Peer support", late),
            CodeRow(2, 7, "role_type", "Pre-determined  services", early),
            CodeRow(3, 7, "research_focus", "outcomes"),
            CodeRow(4, 7, "research_focus", "qualities"),
            CodeRow(5, 7, "service_cycle_phases", "design"),
            CodeRow(6, 7, "service_cycle_phases", "delivery"),
            CodeRow(7, 7, "country", "Atlantis"),
            CodeRow(8, 7, "country", "Northern Ireland"),
            CodeRow(9, 7, "country", "Israel"),
            CodeRow(10, 7, "multidisciplinary", "sometimes"),
            CodeRow(11, 7, "region", "Narnia")]
    values, problems = study_codes(rows, "study x")
    assert values["role_type"] == "pre-determined services"  # coded first
    assert values["role_type_secondary"] == ("peer support",)
    assert values["research_focus"] is None  # two values: a conflict, not counted
    assert values["involvement"] == "co-creation"  # design + delivery
    assert values["region"] == (GREAT_BRITAIN, "Middle East")  # from the countries
    assert values["multidisciplinary"] is None
    assert values["charted"] is True
    assert len(problems) == 4
    assert any("research_focus is coded as outcomes and qualities" in p for p in problems)
    assert any("'Atlantis'" in p and "Fix:" in p for p in problems)
    assert any("'sometimes'" in p and "Fix:" in p for p in problems)
    assert any("'Narnia'" in p and "Fix:" in p for p in problems)
    assert all(p.startswith("study x") for p in problems)


def test_published_corpus_reproduces_the_published_tables(corpus):
    with session_scope(corpus) as session:
        summaries = compute(session)
    assert summaries.included == {"baseline": 172, "new": 0, "all": 172}
    assert summaries.headline == "172 studies to 2021-12-14 + 0 new = 172 included"
    assert summaries.cutoff == CUTOFF
    assert summaries.problems == []
    tables = summaries.tables

    assert tables["period"].counts("baseline") == {"2010–2016": 56, "2017–2021": 116}
    period = tables["period"].frame.set_index("period")
    assert period.loc["2017–2021", "baseline_pct"] == 67.4
    years = tables["studies_per_year"].counts()
    assert list(years) == [str(y) for y in range(2010, 2023)]
    assert years["2022"] == 3 and sum(years.values()) == 172

    assert tables["region"].counts() == {
        "US": 75, "Oceania": 36, "Great Britain": 24, "Canada": 15,
        "Europe excluding Great Britain": 19, "Asia": 8, "Southern America": 1, "Africa": 0,
        "Middle East": 0}
    assert tables["region"].coded["all"] == 172
    by_period = tables["region_by_period"].frame.set_index("region")
    # "all studies from these areas have been published in the last 5 year period"
    assert by_period.loc[EUROPE, "2010–2016"] == 0 and by_period.loc["Asia", "2010–2016"] == 0
    assert by_period.loc["US", "2010–2016"] + by_period.loc["US", "2017–2021"] == 75

    focus = tables["research_focus"].frame.set_index("research_focus")
    assert focus["all_n"].to_dict() == {"outcomes": 49, "qualities": 52, "implementation": 71}
    assert focus["all_pct"].to_dict() == {"outcomes": 28.5, "qualities": 30.2,
                                          "implementation": 41.3}
    role = tables["role_type"].frame.set_index("role_type")
    assert role["all_n"].to_dict() == {"pre-determined services": 21, "peer support": 145,
                                       "partners in co-creation": 6}
    assert role["all_pct"].to_dict() == {"pre-determined services": 12.2, "peer support": 84.3,
                                         "partners in co-creation": 3.5}
    assert tables["role_type_secondary"].counts()["pre-determined services"] == 5
    assert tables["involvement"].counts() == {"co-production": 165, "delivery+assessment": 1,
                                              "co-creation": 6}
    assert tables["boundary_spanner"].counts()["explicit"] == 132
    assert tables["multidisciplinary"].counts() == {"team": 72, "environment": 70,
                                                    "not described": 30}
    assert tables["multidisciplinary"].counts(row="total") == {"team or environment": 142}
    assert tables["group_activities"].counts(row="total") == {"any group activity": 40}
    context = tables["service_context"].counts()
    assert [context[c] for c in SERVICE_CONTEXTS[:3]] == [13, 8, 2]  # veteran, forensic, perinatal
    assert tables["group_activities"].coded["all"] == 172
    crosstab = tables["role_by_focus"].frame
    support = crosstab[(crosstab.group == "all") & (crosstab.role_type == "peer support")].iloc[0]
    assert (support.outcomes, support.qualities, support.implementation) == (29, 49, 67)
    assert support.implementation_pct == 46.2


def test_single_valued_tables_add_up_to_the_studies_coded(corpus):
    with session_scope(corpus) as session:
        summaries = compute(session)
    for key in ("period", "studies_per_year", "research_focus", "role_type", "involvement",
                "boundary_spanner", "multidisciplinary", "identified_via"):
        table = summaries.tables[key]
        assert sum(table.counts().values()) == table.coded["all"] == 172, key


def test_published_regression_matches_the_full_corpus(corpus):
    with session_scope(corpus) as session:
        comparisons = compare_with_published(compute(session))
    status = {c.figure_id: c.status for c in comparisons}
    assert regressions(comparisons) == []
    assert status["involvement.coproduction_only"] == "matches reconstruction"
    assert status["peer_support.focus.implementation"] == "matches reconstruction"
    assert status["focus.outcomes"] == status["period.last_5_years"] == "match"
    assert status["region.US"] == "match"
    assert {s for s in status.values()} == {"match", "matches reconstruction"}
    by_id = {c.figure_id: c for c in comparisons}
    assert by_id["multidisciplinary.total"].recomputed_pct == 82.56
    assert by_id["boundary_spanner.explicit"].recomputed_pct == 76.7


def test_a_recoded_study_shows_as_a_regression(corpus):
    with session_scope(corpus) as session:
        row = session.scalars(select(ChartingCode).where(
            ChartingCode.field == "research_focus", ChartingCode.value == "outcomes")).first()
        row.value = "implementation"
        session.flush()
        failed = {c.figure_id for c in regressions(compare_with_published(compute(session)))}
    assert {"focus.outcomes", "focus.implementation"} <= failed


def test_partial_corpus_is_incomplete_not_failed(corpus):
    with session_scope(corpus) as session:
        keep = set(session.scalars(select(StoredRecord.id).where(StoredRecord.id <= 102)))
        comparisons = compare_with_published(compute(session, included_ids=keep))
    assert regressions(comparisons) == []
    assert {c.status for c in comparisons} <= {"incomplete", "exceeds published"}
    assert next(c for c in comparisons if c.figure_id == "selection.included").recomputed == 102


def test_new_studies_are_reported_beside_the_baseline(corpus):
    with session_scope(corpus) as session:
        run = add_run(session, start=CUTOFF, end=CUTOFF.replace(year=2023))
        when = datetime(2023, 2, 1, tzinfo=timezone.utc)
        for n, (year, country) in enumerate([(2022, "Kenya"), (2023, "Norway")]):
            record = add_record(session, run, source="pubmed", source_id=f"9{n}", year=year)
            queue(session, record, run)
            include_new(session, record, when)
            code(session, record, "country", country)
            code(session, record, "research_focus", "implementation")
        summaries = compute(session)
        comparisons = compare_with_published(summaries)
    assert summaries.included == {"baseline": 172, "new": 2, "all": 174}
    assert summaries.headline == "172 studies to 2021-12-14 + 2 new = 174 included"
    assert summaries.tables["period"].counts("new") == {"2010–2016": 0, "2017–2021": 0,
                                                       "2022": 1, "2023": 1}
    assert summaries.tables["period"].counts("baseline")["2017–2021"] == 116
    assert list(summaries.tables["studies_per_year"].counts())[-1] == "2023"
    region = summaries.tables["region"]
    assert region.counts("new")[AFRICA] == 1 and region.counts("baseline")[AFRICA] == 0
    assert region.counts()[EUROPE] == 20
    focus = summaries.tables["research_focus"]
    assert focus.counts("new") == {"outcomes": 0, "qualities": 0, "implementation": 2}
    assert focus.coded == {"baseline": 172, "new": 2, "all": 174}
    # the regression reads the baseline only, so new studies do not break it
    assert regressions(comparisons) == []
