"""Opt-in checks against the real public APIs (``pytest -m live``; needs internet).

They catch what recorded responses cannot: an API that changed its format, its limits or its
reading of the review's query. Not part of ``make test``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from livingreview.config import Settings, load_review
from livingreview.sources import crossref, pubmed

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parent.parent

END = date.today() - timedelta(days=7)
START = END - timedelta(days=30)


@pytest.fixture
def review():
    return load_review(ROOT / "review.toml")


def test_pubmed_runs_the_reviews_query_for_a_month(review):
    archived = []
    with httpx.Client(timeout=60) as http:
        result = pubmed.harvest(http, Settings.from_env(), review["sources"]["pubmed"]["query"],
                                START, END, archived.append)
    assert archived and all(r.status == 200 for r in archived)
    assert "[crdt]" in result.summary["querytranslation"]
    assert all(r.pmid for r in result.records)
    assert not result.summary.get("errors"), result.summary["errors"]


def test_crossref_answers_one_of_the_reviews_queries(review):
    archived = []
    with httpx.Client(timeout=60) as http:
        result = crossref.harvest(http, Settings.from_env(), review["sources"]["crossref"]["queries"][:1],
                                  START, END, archived.append, max_per_query=50, rows=50)
    assert archived and archived[0].status == 200
    assert all(r.doi for r in result.records)
