"""The corpus store: migrations match the models, the baseline loads once, watermarks only
move forward, archived bodies come back byte for byte."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from livingreview.baseline import load_baseline, parse_reference_authors
from livingreview.store.database import engine_for, session_scope
from livingreview.store.models import (
    Base,
    ChartingCode,
    RawResponse,
    ScreeningDecision,
    StoredRecord,
)
from livingreview.store.runs import advance_watermarks, archive_response, archived_body, start_run, watermark

CUTOFF = date(2021, 12, 14)


def test_migrations_create_exactly_the_models_schema(any_store_url):
    with engine_for(any_store_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_baseline_loads_the_included_studies_once_with_corrected_doi(any_store_url):
    store_url = any_store_url
    with session_scope(store_url) as session:
        result = load_baseline(session, CUTOFF)
    assert result.studies == 102
    with session_scope(store_url) as session:
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == 102
        myers = session.scalar(select(StoredRecord).where(StoredRecord.study_id == "myers2021"))
        assert myers.doi == "10.2196/25867"  # printed with Nabatchi 2017's DOI
        decisions = session.scalars(select(ScreeningDecision)
                                    .where(ScreeningDecision.record_id == myers.id)).all()
        assert {(d.stage, d.decision, d.reviewer) for d in decisions} == {
            ("title_abstract", "include", "baseline"), ("full_text", "include", "baseline")}
        assert all(d.decided_at.date() == CUTOFF for d in decisions)
        co_creation = session.scalars(select(ChartingCode.record_id).where(
            ChartingCode.field == "involvement", ChartingCode.value == "co-creation")).all()
        assert len(co_creation) == 6  # the six co-creation studies the article names
        agrawal = session.scalar(select(StoredRecord).where(StoredRecord.study_id == "agrawal2016"))
        roles = session.execute(select(ChartingCode.field, ChartingCode.value).where(
            ChartingCode.record_id == agrawal.id, ChartingCode.field.like("role_type%"))).all()
        assert set(roles) == {("role_type", "pre-determined services"),
                              ("role_type_secondary", "peer support")}
    with session_scope(store_url) as session:
        assert load_baseline(session, CUTOFF) is None
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == 102


def test_reference_author_strings_split_into_people():
    assert parse_reference_authors("Bocking, J., Ewart, S. B., & Scholz, B.") == [
        "Bocking, J.", "Ewart, S. B.", "Scholz, B."]
    assert parse_reference_authors("Tseris, E.") == ["Tseris, E."]


def test_watermark_never_moves_backward(store_url):
    with session_scope(store_url) as session:
        run = start_run(session, window_start=CUTOFF, window_end=date(2022, 1, 31))
        advance_watermarks(session, ["pubmed"], date(2022, 1, 31), run)
        advance_watermarks(session, ["pubmed"], date(2022, 1, 1), run)
        assert watermark(session, "pubmed") == date(2022, 1, 31)
        assert watermark(session, "crossref") is None


def test_archived_body_is_returned_exactly(store_url):
    body = '<?xml version="1.0"?><eSearchResult><Count>3</Count>Ærø — ü</eSearchResult>'
    with session_scope(store_url) as session:
        archive_response(session, None, source="pubmed", method="POST", url="https://x/esearch.fcgi",
                         params={"term": "peer"}, status=200, headers={}, body=body)
    with session_scope(store_url) as session:
        assert archived_body(session.scalar(select(RawResponse))) == body


def test_a_failed_transaction_leaves_nothing_behind(any_store_url):
    store_url = any_store_url
    try:
        with session_scope(store_url) as session:
            load_baseline(session, CUTOFF)
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    with session_scope(store_url) as session:
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == 0


def test_baseline_codes_survive_a_charting_round_trip(store_url, tmp_path):
    from livingreview.screening.charting import export_charting, import_charting

    with session_scope(store_url) as session:
        load_baseline(session, CUTOFF)
    with session_scope(store_url) as session:
        assert export_charting(session, tmp_path / "chart.csv") == 102
        result = import_charting(session, tmp_path / "chart.csv", coder="maintainer")
    assert result.rows == 102 and result.fields_changed == 0


def test_migration_0002_carries_duplicate_decisions_from_notes_to_rows_and_back(any_store_url):
    from alembic import command
    from sqlalchemy import text

    from livingreview.store.database import alembic_config

    config = alembic_config(any_store_url)
    command.downgrade(config, "0001")
    written = ("2026-11-20 09:15 UTC alice: pending -> merged\n"
               "2026-11-21 10:00 UTC bob: merged -> undone (two versions: preprint, article)\n"
               "imported from the old spreadsheet")
    with session_scope(any_store_url) as session:
        pair = [StoredRecord(origin="test", title=title) for title in ("a", "b")]
        session.add_all(pair)
        session.flush()
        ids = [record.id for record in pair]
    with engine_for(any_store_url).begin() as connection:
        connection.execute(text(
            "INSERT INTO duplicate_links (record_id, canonical_id, method, score, zone, status, "
            "decided_by, decided_at, note) VALUES (:r, :c, 'fuzzy', 0.9, 'maybe', 'undone', "
            "'bob', CURRENT_TIMESTAMP, :n)"), {"r": ids[1], "c": ids[0], "n": written})
    command.upgrade(config, "head")
    with engine_for(any_store_url).connect() as connection:
        rows = connection.execute(text(
            "SELECT previous_status, status, reviewer, note FROM duplicate_decisions "
            "ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        ("pending", "merged", "alice", None),
        ("merged", "undone", "bob", "two versions: preprint, article"),
        ("undone", "undone", "bob", "imported from the old spreadsheet"),
    ]
    command.downgrade(config, "0001")
    with engine_for(any_store_url).connect() as connection:
        restored = connection.execute(text("SELECT note FROM duplicate_links")).scalar_one()
    assert restored.splitlines()[:2] == written.splitlines()[:2]
    command.upgrade(config, "head")
