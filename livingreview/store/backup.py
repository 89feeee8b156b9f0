"""Backup and restore of the corpus store (raw archive included: it lives in the store).

A backup is a folder: the store copied online and consistently (SQLite's backup API while other
processes read and write; ``pg_dump``'s snapshot on PostgreSQL), any files under the archive
folder, and ``manifest.json`` with the schema revision, every table's row count and each file's
SHA-256. A restore checks the manifest before touching anything, keeps a backup of the store it
replaces, and checks the row counts afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, func, select, text
from sqlalchemy.engine import make_url

from livingreview.errors import InputError, StoreError
from livingreview.store.database import engine_for, redact_url

MANIFEST = "manifest.json"


@dataclass
class BackupResult:
    directory: Path
    tables: dict[str, int]


def table_counts(url: str) -> dict[str, int]:
    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {name: connection.scalar(select(func.count()).select_from(table))
                for name, table in sorted(meta.tables.items())}


def _revision(url: str) -> str | None:
    with engine_for(url).connect() as connection:
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise StoreError("an in-memory SQLite store cannot be backed up or restored. Fix: point "
                         "LR_DATABASE_URL at a file")
    return Path(parsed.database)


def _pg_command(tool: str, url: str) -> tuple[list[str], dict[str, str]]:
    binary = shutil.which(tool)
    if binary is None:
        raise StoreError(f"`{tool}` is not on PATH, and PostgreSQL stores are backed up with it. "
                         "Fix: install the PostgreSQL client (Debian: apt-get install "
                         "postgresql-client), the same major version as the server")
    parsed = make_url(url)
    args = [binary, "--host", parsed.host or "localhost", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres", "--no-password"]
    env = dict(os.environ)
    if parsed.password:  # passed in the environment, never on a command line others can read
        env["PGPASSWORD"] = str(parsed.password)
    return args + ["--dbname", parsed.database or "postgres"], env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise StoreError(f"{what} failed ({Path(command[0]).name} exit {done.returncode}): "
                         f"{done.stderr.strip()[-600:]}")


def backup(url: str, archive_dir: Path, dest_root: Path, *, label: str = "") -> BackupResult:
    """Copy the store (and the archive folder, where it holds files) into a new folder."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    directory = dest_root / f"livingreview-backup-{stamp}{'-' + label if label else ''}"
    partial = directory.with_name(directory.name + ".partial")
    partial.mkdir(parents=True)
    try:
        counts = table_counts(url)
        source = _sqlite_path(url)
        if source is not None:
            store_file = partial / "store.sqlite"
            with closing(sqlite3.connect(source, timeout=60)) as live, \
                    closing(sqlite3.connect(store_file)) as copy:
                live.backup(copy)  # a consistent snapshot while others keep writing
            # Count the copy, not the live store: a writer may have committed in between.
            counts = _sqlite_counts(store_file)
        else:
            store_file = partial / "store.pgdump"
            command, env = _pg_command("pg_dump", url)
            _run(command + ["--format=custom", "--file", str(store_file)], env, "pg_dump")
        files = {store_file.name: _sha256(store_file)}
        if archive_dir.is_dir() and any(archive_dir.iterdir()):
            shutil.copytree(archive_dir, partial / "archive")
            for path in sorted((partial / "archive").rglob("*")):
                if path.is_file():
                    files[str(path.relative_to(partial))] = _sha256(path)
        manifest = {"created_at": datetime.now(timezone.utc).isoformat(),
                    "database": make_url(url).get_backend_name(),
                    "store": redact_url(url), "revision": _revision(url),
                    "tables": counts, "files": files}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial.rename(directory)  # a backup folder without .partial is complete
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(directory=directory, tables=counts)


def _sqlite_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        counts = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                  for name in names}
    return counts


def read_manifest(directory: Path) -> dict[str, Any]:
    """The backup's manifest, after checking that every file it lists is there, unchanged."""
    where = str(directory)
    manifest_file = directory / MANIFEST
    if not manifest_file.is_file():
        raise InputError(where, MANIFEST, "is missing, so this is not a complete livingreview "
                         "backup", "name a folder that `livingreview backup` wrote (a folder "
                         "ending in .partial was interrupted and cannot be restored)")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(where, f"{MANIFEST} line {exc.lineno}", "is not valid JSON",
                         "restore from another backup") from exc
    for name, digest in manifest.get("files", {}).items():
        path = directory / name
        if not path.is_file() or _sha256(path) != digest:
            raise InputError(where, name, "is missing or differs from the checksum in the "
                             "manifest (the backup was damaged or edited)",
                             "restore from another backup")
    return manifest


def _refuse_while_writing(url: str) -> None:
    from datetime import timedelta

    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from livingreview.store import locks

    if "store_locks" not in inspect(engine_for(url)).get_table_names():
        return
    with Session(engine_for(url)) as session:
        held = locks.current(session)
        if held is not None and not locks.is_stale(held, timedelta(hours=24)):
            raise StoreError(f"run {held.run_id} (process {held.holder}) is writing to the store "
                             "now; restoring under it would lose its work. Fix: wait for it to "
                             "finish (`livingreview status`), then restore")


def restore(url: str, archive_dir: Path, directory: Path, *,
            safety_root: Path) -> BackupResult | None:
    """Replace the store with a backup's; the store replaced is first backed up into
    ``safety_root``. Returns that safety backup (None when there was no store to replace)."""
    manifest = read_manifest(directory)
    kind = make_url(url).get_backend_name()
    if manifest["database"] != kind:
        raise InputError(str(directory), MANIFEST, f"holds a {manifest['database']} backup and "
                         f"the store at {redact_url(url)} is {kind}",
                         "restore into a store of the same kind (set LR_DATABASE_URL)")
    _refuse_while_writing(url)
    target = _sqlite_path(url)
    safety = None
    if target is None or target.exists():
        safety = backup(url, archive_dir, safety_root, label="before-restore")
    engine_for(url).dispose()  # no pooled connection may hold the old store open
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(directory / "store.sqlite")) as saved, \
                closing(sqlite3.connect(target, timeout=60)) as live:
            saved.backup(live)  # page by page inside one transaction: readers never see half
        for leftover in (target.with_name(target.name + suffix) for suffix in ("-wal", "-shm")):
            if leftover.exists() and leftover.stat().st_size == 0:
                leftover.unlink()
    else:
        command, env = _pg_command("pg_restore", url)
        _run(command + ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                        str(directory / "store.pgdump")], env, "pg_restore")
    if (directory / "archive").is_dir():
        if archive_dir.exists():
            shutil.rmtree(archive_dir)
        shutil.copytree(directory / "archive", archive_dir)
    engine_for(url).dispose()
    restored = table_counts(url)
    if restored != manifest["tables"]:
        moved = {name: (manifest["tables"].get(name), restored.get(name))
                 for name in set(restored) | set(manifest["tables"])
                 if restored.get(name) != manifest["tables"].get(name)}
        raise StoreError(f"the restored store's row counts differ from the backup's manifest "
                         f"(table: backup, restored): {moved}. The store that was replaced is "
                         f"kept in {safety.directory if safety else 'no backup (it was empty)'}")
    return safety
