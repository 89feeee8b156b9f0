"""The harvest, in one place: which sources and windows a run covers (``windows``), running one
source for its window (``run``), and what every source's API client shares when it fetches
(``fetching``: the result type, query and window checks, archive counting, cursor paging). The
per-API request building and parsing lives in ``livingreview.sources``.

The names below are loaded on first use, so that a source parser importing ``fetching`` does not
pull in the store (SQLAlchemy) that ``windows`` reads watermarks from.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"SourceHarvest": "run", "harvest_source": "run", "KNOWN_SOURCES": "windows",
          "Window": "windows", "enabled_sources": "windows", "plan_windows": "windows"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'livingreview.harvest' has no attribute {name!r}")
    return getattr(importlib.import_module(f"livingreview.harvest.{_HOMES[name]}"), name)
