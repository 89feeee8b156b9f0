"""The screening commands as a maintainer types them: decide, undo, conflicts, agreement,
second-sample, chart export/import, export-queue / import-decisions; errors say the fix."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.screening.status import record_status
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, ChartingCode, StoredRecord, UpdateRun


def _setup(url: str, n: int = 5) -> tuple[int, list[int]]:
    with session_scope(url) as s:
        run = UpdateRun(kind="update", status="succeeded")
        s.add(run)
        s.flush()
        ids = []
        for i in range(n):
            row = StoredRecord(origin="pubmed", title=f"Peer specialists study {i}", year=2024,
                               doi=f"10.1000/x{i}")
            s.add(row)
            s.flush()
            s.add(Candidate(record_id=row.id, run_id=run.id, priority=float(n - i)))
            ids.append(row.id)
        return run.id, ids


def _run(monkeypatch, url, *args, keys=""):
    monkeypatch.setenv("LR_DATABASE_URL", url)
    monkeypatch.setenv("LR_REVIEW_FILE", "/nonexistent/review.toml")
    return CliRunner().invoke(app, list(args), input=keys, env={"COLUMNS": "120"})


def test_decide_undo_conflicts_and_agreement(store_url, monkeypatch):
    _, ids = _setup(store_url)
    out = _run(monkeypatch, store_url, "decide", str(ids[0]), "exclude", "--reviewer", "ann")
    assert out.exit_code == 1 and "needs a reason code" in out.output and "Fix:" in out.output
    for reviewer, decision, reason in [("ann", "include", None), ("bob", "exclude", "EX_SETTING")]:
        args = ["decide", str(ids[0]), decision, "--reviewer", reviewer]
        out = _run(monkeypatch, store_url, *(args + (["--reason", reason] if reason else [])))
        assert out.exit_code == 0, out.output
    out = _run(monkeypatch, store_url, "conflicts")
    assert "1 conflict(s)" in out.output and "bob: exclude EX_SETTING" in out.output
    out = _run(monkeypatch, store_url, "agreement")
    assert "ann / bob" in out.output and "0.0%" in out.output
    out = _run(monkeypatch, store_url, "undo", str(ids[0]), "--reviewer", "bob")
    assert out.exit_code == 0
    with session_scope(store_url) as s:
        assert record_status(s, ids[0])["title_abstract"].decision == "include"
    out = _run(monkeypatch, store_url, "decide", str(ids[1]), "include", "--reviewer", "ann",
               "--stage", "full_text")
    assert out.exit_code == 1 and "title/abstract include first" in out.output


def test_second_sample_uses_the_recorded_fraction_and_seed(store_url, monkeypatch):
    run_id, ids = _setup(store_url, 10)
    out = _run(monkeypatch, store_url, "second-sample", "--run", str(run_id), "--seed", "3")
    assert out.exit_code == 0, out.output
    assert "2 of 10 candidate(s)" in out.output and "seed 3" in out.output
    out = _run(monkeypatch, store_url, "queue")
    assert out.output.count("(2nd)") == 2


def test_commands_on_a_store_without_tables_name_the_fix(tmp_path, monkeypatch):
    out = _run(monkeypatch, f"sqlite:///{tmp_path / 'empty.sqlite'}", "queue")
    assert out.exit_code == 1 and "livingreview init" in out.output


def test_chart_round_trip_and_rayyan_exchange_from_the_command_line(store_url, tmp_path, monkeypatch):
    _, ids = _setup(store_url, 2)
    for rid in ids[:1]:
        for stage in ("title_abstract", "full_text"):
            assert _run(monkeypatch, store_url, "decide", str(rid), "include", "--reviewer",
                        "ann", "--stage", stage).exit_code == 0
    sheet = tmp_path / "chart.csv"
    out = _run(monkeypatch, store_url, "chart", "export", str(sheet))
    assert "Wrote 1 included study" in out.output
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["research_focus"] = "qualities"
    rows[0]["multidisciplinary"] = "squad"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = _run(monkeypatch, store_url, "chart", "import", str(sheet), "--coder", "bob")
    assert out.exit_code == 1 and "column multidisciplinary 'squad'" in out.output
    assert "team | environment | not described" in out.output
    rows[0]["multidisciplinary"] = "Team"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = _run(monkeypatch, store_url, "chart", "import", str(sheet), "--coder", "bob")
    assert out.exit_code == 0 and "2 field(s) changed" in out.output
    with session_scope(store_url) as s:
        assert {(c.field, c.value) for c in s.query(ChartingCode)} == \
            {("research_focus", "qualities"), ("multidisciplinary", "team")}

    upload = tmp_path / "rayyan.csv"
    out = _run(monkeypatch, store_url, "export-queue", "rayyan", str(upload))
    assert "Wrote 1 row(s)" in out.output
    with open(upload, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["notes"] += ' | RAYYAN-INCLUSION: {"Kim"=>"Excluded"} | RAYYAN-EXCLUSION-REASONS: wrong setting'
    with open(upload, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = _run(monkeypatch, store_url, "import-decisions", "rayyan", str(upload),
               "--reason-map", "wrong setting=EX_SETTING")
    assert out.exit_code == 0 and "1 decision(s) recorded" in out.output
    with session_scope(store_url) as s:
        vote = record_status(s, ids[1])["title_abstract"].votes["Kim"]
        assert vote.reason_code == "EX_SETTING"
