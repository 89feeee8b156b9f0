"""The report versions written so far, read back from their ``summary.json``, and what changed
between two of them: studies in and out, and every count that moved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from livingreview.errors import InputError
from livingreview.summaries.report import version_dir


def versions(out_root: Path) -> list[dict[str, Any]]:
    """One row per version folder (oldest first): number, date, run, windows, studies."""
    rows = []
    for folder in sorted(out_root.glob("v[0-9][0-9][0-9][0-9]")):
        summary = _summary(folder)
        run = summary.get("run") or {}
        prisma = (summary.get("prisma") or {}).get("run") or {}
        rows.append({"version": int(folder.name[1:]), "generated_at": summary.get("generated_at"),
                     "run": run.get("id"), "window": [prisma.get("window_start"),
                                                       prisma.get("window_end")],
                     "included": summary.get("included", {}),
                     "new_included_studies": len((summary.get("changes") or {})
                                                 .get("new_included_studies", []))})
    return rows


def _summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "the version folder", "it has no summary.json",
                         "write the version again with `livingreview report`") from None


def _numbers(value: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a summary, by its dotted path (lists of studies are compared apart)."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, (int, float)):
        return {prefix: value}
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for key, item in value.items():
            out.update(_numbers(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {}


def diff(out_root: Path, old: int, new: int) -> dict[str, Any]:
    """Studies included in ``new`` and not in ``old`` and the reverse, and every count that
    differs (dotted path -> [old, new])."""
    summaries = {}
    for number in (old, new):
        folder = version_dir(out_root, number)
        if not folder.is_dir():
            raise InputError(str(out_root), f"version {number}", "there is no such version",
                             "list the versions with `livingreview versions`")
        summaries[number] = _summary(folder)
    studies = {n: {s["record_id"]: s for s in summaries[n].get("included_studies", [])}
               for n in (old, new)}
    skip = ("run", "files", "changes", "generated_at")
    counts = {n: _numbers({k: v for k, v in summaries[n].items() if k not in skip})
              for n in (old, new)}
    moved = {key: [counts[old].get(key), counts[new].get(key)]
             for key in sorted(set(counts[old]) | set(counts[new]))
             if counts[old].get(key) != counts[new].get(key)}
    return {"old": old, "new": new,
            "studies_in": [studies[new][r] for r in sorted(set(studies[new]) - set(studies[old]))],
            "studies_out": [studies[old][r] for r in sorted(set(studies[old]) - set(studies[new]))],
            "counts": moved}
