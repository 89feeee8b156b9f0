"""The demo store: where `make demo` keeps its corpus and reports, and how it is set aside.

The demo never shares a file with the living review's store: its database, response archive,
deduplication index and reports live under ``data/demo`` and ``reports/demo`` of the project
home, and ``livingreview --demo COMMAND`` points any command at them. Starting the demo afresh
never deletes anything: the previous demo store and its reports move, whole, into a dated folder
under ``data/demo-backups``, so decisions and imports made on it stay recoverable and no old
report version is left beside the new ones.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

DEMO_PROFILE = "demo"
DEMO_DATA_DIR = Path("data") / "demo"
DEMO_REPORT_DIR = Path("reports") / "demo"
DEMO_BACKUP_DIR = Path("data") / "demo-backups"


def demo_environment(home: Path) -> dict[str, str]:
    """The LR_ settings that point every command at the demo store (and at nothing else)."""
    data = Path(home) / DEMO_DATA_DIR
    return {"LR_PROFILE": DEMO_PROFILE, "LR_DATA_DIR": str(data),
            "LR_DATABASE_URL": f"sqlite:///{data / 'livingreview.sqlite'}",
            "LR_ARCHIVE_DIR": str(data / "archive"), "LR_DEDUP_INDEX": "",
            "LR_REPORT_DIR": str(Path(home) / DEMO_REPORT_DIR)}


def demo_store_exists(home: Path) -> bool:
    return any(_contents(Path(home)))


def back_up_demo_store(home: Path, now: datetime | None = None) -> Path | None:
    """Move the demo store and its reports into ``data/demo-backups/<UTC time>/``; the folder,
    or None when there was nothing to move."""
    home = Path(home)
    moving = list(_contents(home))
    if not moving:
        return None
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    target = home / DEMO_BACKUP_DIR / stamp
    suffix = 1
    while target.exists():
        suffix += 1
        target = home / DEMO_BACKUP_DIR / f"{stamp}-{suffix}"
    for kind, path in moving:
        destination = target / kind / path.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(destination))
    return target


def _contents(home: Path):
    for kind, folder in (("data", home / DEMO_DATA_DIR), ("reports", home / DEMO_REPORT_DIR)):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                yield kind, path
