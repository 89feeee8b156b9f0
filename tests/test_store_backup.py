"""Backup and restore round trip on a real store, SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.cli.corpus import init_store
from livingreview.config import Settings
from livingreview.store.database import alembic_config, engine_for, session_scope
from livingreview.store.models import ScreeningDecision
from livingreview.store.runs import archive_response

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: what must survive a round trip."""
    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for name, table in sorted(meta.tables.items())}


@pytest.fixture
def populated(any_store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", any_store_url)
    monkeypatch.setenv("LR_HOME", str(tmp_path))
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    settings = Settings.from_env()
    init_store(settings)
    with session_scope(any_store_url) as session:
        archive_response(session, None, source="pubmed", method="GET", url="http://x/esearch",
                         params={"term": "peer"}, status=200, headers={}, body="<eSearchResult/>")
    return settings


def _decide(url: str) -> None:
    from livingreview.store.models import StoredRecord

    with session_scope(url) as session:
        record = session.scalars(select(StoredRecord).order_by(StoredRecord.id)).first()
        session.add(ScreeningDecision(record_id=record.id, stage="title_abstract",
                                      decision="exclude", reviewer="late", reason_code="EX_LANGUAGE"))


def test_backup_then_restore_brings_back_every_row_and_keeps_the_replaced_store(populated,
                                                                                tmp_path):
    url = populated.database_url
    before = _contents(url)
    made = runner.invoke(app, ["backup", str(tmp_path / "safe")])
    assert made.exit_code == 0, made.output
    folder = tmp_path / "safe" / made.stdout.strip().rsplit("/", 1)[-1]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["revision"] == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert manifest["tables"]["raw_responses"] == 1
    assert manifest["tables"]["records"] == len(before["records"])

    _decide(url)  # work done after the backup, which the restore undoes
    assert _contents(url) != before
    refused = runner.invoke(app, ["restore", str(folder)], input="n\n")
    assert refused.exit_code == 1 and "nothing restored" in refused.output
    restored = runner.invoke(app, ["restore", str(folder), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _contents(url) == before
    safety = [p for p in (tmp_path / "backups").iterdir() if p.name.endswith("before-restore")]
    assert len(safety) == 1
    kept = json.loads((safety[0] / "manifest.json").read_text())
    assert kept["tables"]["screening_decisions"] == len(before["screening_decisions"]) + 1


def test_a_damaged_backup_is_refused_before_the_store_is_touched(populated, tmp_path):
    url = populated.database_url
    made = runner.invoke(app, ["backup", str(tmp_path / "safe")])
    folder = tmp_path / "safe" / made.stdout.strip().rsplit("/", 1)[-1]
    store_file = next(p for p in folder.iterdir() if p.name.startswith("store."))
    store_file.write_bytes(store_file.read_bytes()[:-10])
    _decide(url)
    after = _contents(url)
    result = runner.invoke(app, ["restore", str(folder), "--yes"])
    assert result.exit_code == 1
    assert f"{store_file.name}: is missing or differs from the checksum" in result.output
    assert _contents(url) == after
