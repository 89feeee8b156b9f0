"""The review's summaries, recomputed from the corpus store.

- ``tables``: ``compute(session) -> Summaries`` (Fig. 2-4 tables, roles, involvement, ...)
- ``prisma``: ``run_counts`` / ``cumulative_counts`` (reconciled PRISMA flow counts)
- ``figures``: the PNG figures (matplotlib, Agg canvas)
- ``published``: regression against the article's numbers (``data/seed/published_summary.json``)
- ``report``: ``write_report`` writes one report version (Markdown, JSON, CSV, PNG)
- ``versions``: ``rewrite_report`` writes the next version between runs (``livingreview report``)
- ``coding``: how one study's charting codes are read (the scheme itself is
  ``livingreview.screening.scheme``)
"""
