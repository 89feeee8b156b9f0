"""A report version on disk: Markdown, summary.json, CSVs and PNGs, and its diff to the last one."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from PIL import Image
from test_summaries_store import (
    add_record,
    add_run,
    code,
    corpus_fixtures,
    include_new,
    queue,
)

from livingreview.errors import InputError
from livingreview.store.database import session_scope
from livingreview.summaries import figures
from livingreview.summaries.report import write_report

published, corpus = corpus_fixtures()


def _update_run(session, tag: str, titles: list[str], include: int, year: int) -> int:
    """An update run whose hits are all queued; the first ``include`` are then included."""
    run = add_run(session, start=date(year, 1, 1), end=date(year, 1, 31))
    for n, title in enumerate(titles):
        record = add_record(session, run, source="pubmed", source_id=f"{tag}{n}", title=title,
                            year=year, doi=f"10.1000/{tag}{n}")
        queue(session, record, run)
        if n < include:
            include_new(session, record, datetime(year, 2, 1, tzinfo=timezone.utc))
            code(session, record, "research_focus", "implementation")
            code(session, record, "country", "Norway")
    return run


def test_report_version_holds_every_file(corpus, tmp_path):
    out = tmp_path / "reports"
    with session_scope(corpus) as session:
        run = _update_run(session, "a", ["Peer workers in crisis teams", "Unrelated"], 1, 2022)
        report = write_report(session, out, 1, run)

    assert report.directory == out / "v0001"
    assert sorted(p.name for p in report.directory.iterdir()) == [
        "figures", "report.html", "report.md", "summary.json", "tables"]
    for name, path in report.figures.items():
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 600 and image.height >= 300, name
    assert set(report.figures) == {figures.FIG2, figures.FIG3, figures.FIG4, figures.PRISMA,
                                   figures.PRISMA_CUMULATIVE}
    for name in (figures.PRISMA, figures.PRISMA_CUMULATIVE):  # the flows also as SVG
        svg = (report.directory / "figures" / name).with_suffix(".svg").read_text(encoding="utf-8")
        assert svg.startswith("<?xml") and "<svg" in svg

    summary = json.loads(report.summary_json.read_text(encoding="utf-8"))
    assert summary["version"] == 1 and summary["run"]["id"] == run
    assert summary["included"] == {"baseline": 172, "new": 1, "all": 173}
    assert summary["prisma"]["run"]["identified"] == {"pubmed": 2}
    assert summary["prisma"]["run"]["included"] == 1

    for key, path in report.csv.items():
        assert path.exists(), key
    focus = pd.read_csv(report.csv["research_focus"]).set_index("research_focus")
    assert focus.loc["implementation", "all_n"] == 72
    assert focus.loc["implementation", "new_n"] == 1
    assert pd.read_csv(report.csv["prisma_run"]).set_index("box").loc[
        "new studies included", "n"] == 1

    text = report.report_md.read_text(encoding="utf-8")
    assert text == report.markdown
    assert "**172 studies to 2021-12-14 + 1 new = 173 included.**" in text
    assert "PubMed and Crossref only" in text and "10 databases" in text
    assert "This is the first version written here" in text
    for path in list(report.figures.values()) + list(report.csv.values()):
        assert f"({path.relative_to(report.directory)})" in text
    assert "Studies: 173 of 173 included studies coded (baseline 172 of 172, new 1 of 1)." in text
    assert "| implementation | 71 (41.3%) | 1 (100.0%) | 72 (41.6%) |" in text

    # what the flow publishes as Prefect artifacts must be plain JSON
    json.dumps(report.tables)
    assert {"research_focus", "region_by_period", "prisma_run", "prisma_cumulative",
            "published_comparison"} <= set(report.tables)


def test_next_version_says_what_changed(corpus, tmp_path):
    out = tmp_path / "reports"
    with session_scope(corpus) as session:
        first = _update_run(session, "a", ["Peer workers in crisis teams"], 1, 2022)
        write_report(session, out, 1, first)
        second = _update_run(session, "b", ["Co-creation with peer workers in Oslo",
                                             "Peer navigators in emergency departments",
                                             "Still to screen"], 2, 2023)
        report = write_report(session, out, 2, second)

    changes = report.summary["changes"]
    assert changes["previous_version"] == 1
    assert [s["title"] for s in changes["new_included_studies"]] == [
        "Co-creation with peer workers in Oslo", "Peer navigators in emergency departments"]
    assert len(changes["new_candidates"]) == 3
    changed = {c["count"]: (c["before"], c["now"]) for c in changes["changed_counts"]}
    assert changed["research_focus / implementation"] == (72, 74)
    assert changed["studies_per_year / 2023"] == (0, 2)
    assert changed["region_by_period / Europe excluding Great Britain × 2023"] == (0, 2)

    text = report.markdown
    assert "## What changed since version 1" in text
    assert "Included studies: 173 then, 175 now (1 → 3 new)." in text
    assert "- Co-creation with peer workers in Oslo (2023), doi:10.1000/b0" in text
    assert "**New candidates queued for screening (3):**" in text
    assert "- Still to screen [record" in text
    assert "| research_focus / implementation | 72 | 74 | +2 |" in text
    saved = json.loads(report.summary_json.read_text(encoding="utf-8"))
    assert saved["changes"]["new_candidates"] == changes["new_candidates"]


def test_rewriting_a_version_replaces_it_whole(corpus, tmp_path):
    out = tmp_path / "reports"
    with session_scope(corpus) as session:
        write_report(session, out, 1)
        (out / "v0001" / "stale.txt").write_text("from an earlier attempt")
        report = write_report(session, out, 1)
    assert not (report.directory / "stale.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["v0001"]  # no partial or old folders


def test_a_previous_version_without_summary_is_refused(corpus, tmp_path):
    with session_scope(corpus) as session:
        with pytest.raises(InputError, match="summary.json") as caught:
            write_report(session, tmp_path / "reports", 2, previous_dir=tmp_path / "nowhere")
    assert "Fix:" in str(caught.value)
    assert not (tmp_path / "reports" / "v0002").exists()


TRANSLATION = ('("peer support*"[tiab] OR "Peer Group"[MeSH Terms:noexp]) AND english[la] AND '
               '("{start}"[crdt] : "{end}"[crdt])')


def _harvested(session, run_id: int, *, pubmed: int, crossref_returned: int,
               translation: str = TRANSLATION, warnings: dict | None = None,
               passes: dict | None = None) -> None:
    """The counts the flow saves before summarising: Crossref's ranked search returned
    ``crossref_returned`` works and none matched the review's Boolean strategy."""
    from livingreview.store.models import UpdateRun

    run = session.get(UpdateRun, run_id)
    start, end = run.window_start, run.window_end
    run.counts = {
        "windows": {"pubmed": [str(start), str(end)], "crossref": [str(start), str(end)]},
        "identified": {"pubmed": pubmed, "crossref": 0},
        "filtered_out": {"pubmed": 0, "crossref": crossref_returned},
        "sources": {"pubmed": {"source": "pubmed", "count": pubmed, "errors": {},
                               "warnings": warnings or {},
                               "querytranslation": translation.format(
                                   start=f"{start:%Y/%m/%d}", end=f"{end:%Y/%m/%d}"),
                               **({"passes": passes} if passes else {})},
                    "crossref": {"passes": {}}},
    }
    session.flush()


def test_every_harvested_source_and_the_ranked_search_post_filter_are_reported(corpus, tmp_path):
    with session_scope(corpus) as session:
        run = _update_run(session, "a", ["Peer workers in crisis teams", "Unrelated"], 1, 2022)
        _harvested(session, run, pubmed=2, crossref_returned=42,
                   warnings={"phrasesignored": ["of"]})
        report = write_report(session, tmp_path / "reports", 1, run)

    prisma = report.summary["prisma"]["run"]
    assert prisma["identified"] == {"pubmed": 2, "crossref": 0}  # crossref found nothing: shown
    assert prisma["ranked_returned"] == {"crossref": 42}
    assert prisma["filtered_out"] == {"crossref": 42} and prisma["strategy_matched"] == {
        "crossref": 0}
    assert prisma["identified_total"] == 2  # the 42 are outside the identified count
    assert report.summary["prisma"]["cumulative"]["filtered_out"] == {"crossref": 42}

    rows = pd.read_csv(report.csv["prisma_run"]).set_index("box")["n"]
    assert rows["identified: crossref"] == 0
    assert rows["returned by the ranked search: crossref"] == 42
    assert rows["did not match the review's search strategy (raw archive only, outside the "
                "identified count): crossref"] == 42

    text = report.markdown
    assert ("Sources searched: pubmed: 2 identified; crossref: 42 returned by the ranked search, "
            "0 matched the review's search strategy.") in text
    assert "they are outside the identified count" in text
    log = text[text.index("## Search log"):text.index("## Figures")]
    assert "- crossref, records created 2022-01-01 to 2022-01-31: 42 returned by the ranked " \
           "search, 0 matched the review's search strategy." in log
    assert '"Peer Group"[MeSH Terms:noexp]' in log
    assert "PubMed errors: none. PubMed warnings: phrasesignored: of." in log
    assert "changed since" not in log  # nothing to compare with yet


def test_the_search_log_says_how_many_pubmed_records_only_the_mesh_date_pass_found(corpus,
                                                                                  tmp_path):
    with session_scope(corpus) as session:
        run = _update_run(session, "a", ["Peer workers in crisis teams", "Peer navigators",
                                         "Peer mentors"], 0, 2022)
        _harvested(session, run, pubmed=3, crossref_returned=0,
                   passes={"crdt": {"count": 2, "new": 2}, "mhda": {"count": 2, "new": 1}})
        report = write_report(session, tmp_path / "reports", 1, run)
    log = report.markdown[report.markdown.index("## Search log"):]
    assert ("- pubmed, window 2022-01-01 to 2022-01-31: 3 identified (2 created in the window, "
            "1 created earlier and indexed for MeSH in it).") in log
    assert report.summary["search_log"]["pubmed"]["passes"]["mhda"] == {"count": 2, "new": 1}


def test_a_changed_pubmed_query_translation_is_flagged(corpus, tmp_path):
    out = tmp_path / "reports"
    with session_scope(corpus) as session:
        first = _update_run(session, "a", ["Peer workers in crisis teams"], 0, 2022)
        _harvested(session, first, pubmed=1, crossref_returned=3)
        write_report(session, out, 1, first)
        # the next month: other dates, same reading of the query
        second = _update_run(session, "b", ["Peer navigators"], 0, 2023)
        _harvested(session, second, pubmed=1, crossref_returned=0)
        same = write_report(session, out, 2, second)
        # PubMed drops the MeSH term from its reading of the query
        third = _update_run(session, "c", ["Peer mentors"], 0, 2024)
        _harvested(session, third, pubmed=1, crossref_returned=0,
                   translation='"peer support*"[tiab] AND english[la] AND '
                               '("{start}"[crdt] : "{end}"[crdt])')
        changed = write_report(session, out, 3, third)

    assert same.summary["search_log"]["querytranslation_changed"] is False
    assert "Query translation unchanged since version 1." in same.markdown
    log = changed.summary["search_log"]
    assert log["querytranslation_changed"] is True and log["compared_with_version"] == 2
    assert '"Peer Group"[MeSH Terms:noexp]' in log["previous_querytranslation"]
    assert "**Query translation changed since version 2.**" in changed.markdown
    saved = json.loads(changed.summary_json.read_text(encoding="utf-8"))
    assert saved["search_log"]["querytranslation_changed"] is True


def test_a_report_without_a_run_says_no_search_was_logged(corpus, tmp_path):
    with session_scope(corpus) as session:
        report = write_report(session, tmp_path / "reports", 1)
    assert report.summary["search_log"]["pubmed"] is None
    assert "No search in this version" in report.markdown


def test_the_search_log_names_each_sources_variant_and_its_recall_on_the_included_studies(
        corpus, tmp_path):
    from livingreview.store.models import UpdateRun

    with session_scope(corpus) as session:
        run = _update_run(session, "a", ["Peer workers in crisis teams"], 0, 2022)
        _harvested(session, run, pubmed=1, crossref_returned=5)
        counts = dict(session.get(UpdateRun, run).counts)
        counts["sources"] = {
            "pubmed": {**counts["sources"]["pubmed"], "variant": "extended",
                       "count_variant": 12, "count_faithful": 9},
            "crossref": {"passes": {}, "variant": "extended", "received": 5, "kept_variant": 0,
                         "kept_faithful": 0, "needs_abstract": 0,
                         "abstracts": {"without_abstract": 5, "filled": {"pubmed": 2}}}}
        counts["recall"] = {"sources": [
            {"source": "pubmed", "variant": "extended", "studies": 3, "found": 2,
             "recall": 0.6667, "missed": [{"study": "kern2013", "status": "missed",
                                           "failed_blocks": ["C"], "note": ""}]},
            {"source": "crossref", "variant": "extended", "studies": 2, "found": 1,
             "recall": 0.5, "missed": [{"study": "x2020", "status": "absent",
                                        "failed_blocks": [],
                                        "note": "DOI 10.1/x not in Crossref"}]}]}
        session.get(UpdateRun, run).counts = counts
        session.flush()
        report = write_report(session, tmp_path / "reports", 1, run)
    log = report.markdown[report.markdown.index("## Search log"):report.markdown.index("## Figures")]
    assert "- pubmed: the extended variant; 12 records match it, 9 the faithful query." in log
    assert ("- crossref: the extended variant; of 5 records received, its local strategy kept 0 "
            "(the faithful one 0), 0 of them kept without an abstract; 2 abstracts filled in by "
            "DOI from another source.") in log
    assert "### Search recall on the known included studies" in log
    assert "- pubmed (extended): 2 of 3 (66.7%). Missed by the search: kern2013 (failed C)." in log
    assert ("- crossref (extended): 1 of 2 (50.0%). Missed by the search: none. Not held by the "
            "source under the study's identifier (1): x2020.") in log
    assert report.summary["search_log"]["recall"]["sources"][0]["found"] == 2
    assert report.summary["search_log"]["variants"]["pubmed"]["count_faithful"] == 9


def test_the_html_report_is_one_page_with_its_figures_and_escapes_what_came_from_outside(
        corpus, tmp_path):
    out = tmp_path / "reports"
    hostile = 'Peer workers <script>alert("x")</script> & <img src=x onerror=alert(1)>'
    with session_scope(corpus) as session:
        write_report(session, out, 1, _update_run(session, "a", ["Unrelated"], 0, 2021))
        run = _update_run(session, "h", [hostile, "Unrelated"], 1, 2022)
        report = write_report(session, out, 2, run)  # lists what is new since version 1
    page = report.report_html.read_text(encoding="utf-8")
    assert "<script" not in page and "onerror=alert(1)>" not in page
    assert "Peer workers &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in page
    # self-contained: no external fetch, every figure embedded (the two flows as inline SVG)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert page.count("<svg") == 2 and page.count("</svg>") == 2
    assert page.count('src="data:image/png;base64,') == 3  # Fig. 2, 3 and 4
    assert 'src="figures/' not in page
    # the first screen says what is new, in a sentence
    lead = re.search(r'<p class="lead">(.*?)</p>', page).group(1)
    assert lead == ("This month&#x27;s search between 2022-01-01 and 2022-01-31 found 2 records; 2 "
                    "of them went to screening and 1 new study was included. The review now "
                    f"holds {report.summary['included']['all']} studies: "
                    f"{report.summary['included']['baseline']} from the published review and 1 "
                    "added since.")


def test_a_new_version_never_lands_beside_or_over_another_stores(corpus, tmp_path, store_url):
    from livingreview.errors import ConfigError
    from livingreview.summaries.versions import new_version

    out = tmp_path / "reports"
    with session_scope(corpus) as session:
        failed = add_run(session, start=date(2022, 1, 1), end=date(2022, 1, 31), status="failed")
    # The run wrote its report, then failed (an alert could not be sent): its v0001 is its own,
    # replaced when the run is repeated; no other store wrote it.
    with session_scope(corpus) as session:
        write_report(session, out, 1, failed)
        assert new_version(session, out) == 1
    # Another store (its own run ids, started at other times) must not write next to it.
    with session_scope(store_url) as session:
        add_run(session, start=date(2022, 1, 1), end=date(2022, 1, 31), status="failed")
    with session_scope(store_url) as session, \
            pytest.raises(ConfigError, match=r"holds version\(s\) v0001 that this store did not "
                                             r"write \(its next version is v0001\)"):
        new_version(session, out)
    with session_scope(store_url) as session:
        assert new_version(session, tmp_path / "no-reports-yet") == 1
