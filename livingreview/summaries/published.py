"""Regression against the published numbers (``data/seed/published_summary.json``).

The recomputed *baseline* figures should reproduce the article once the store holds the full
published corpus (172 studies, coded: the authors' data set, DOI 10.18710/NAQHXL). Until then
(the reference list names 102 of them) a comparison says how far the coding reaches instead of
failing.

Targets follow coding-scheme.md §4, rule 4: the consistent numbers exactly; for the numbers the
article gets wrong, the reconstruction from ``consistency_checks`` (the printed value is kept and
flagged as an erratum); regional counts with a tolerance, because the printed regions add up to 178
and their percentages to a denominator of 174. Regions are compared in the article's seven
categories (``scheme.published_region``: Middle East counts as Asia).

Statuses: ``match``; ``matches reconstruction`` (erratum); ``within tolerance``; ``differs``
(a real regression: the corpus is complete and the number is wrong); ``incomplete`` (the corpus
or its coding is not complete yet, the count so far does not exceed the target); ``exceeds
published`` (incomplete, yet already more than the target: a coding question worth a look).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from livingreview.errors import ConfigError
from livingreview.screening.scheme import PUBLISHED_REGIONS, SERVICE_CONTEXTS, published_region
from livingreview.summaries.tables import BASELINE_PERIODS, Summaries, percent

PUBLISHED_FILE = Path(__file__).resolve().parents[2] / "data" / "seed" / "published_summary.json"
REGION_TOLERANCE = 2
GROUP = "baseline"
PUBLISHED = "published_regions"  # regions mapped back to the article's seven

OK_STATUSES = ("match", "matches reconstruction", "within tolerance", "incomplete",
               "exceeds published")


@dataclass(frozen=True)
class Comparison:
    figure_id: str
    label: str
    printed: Any
    expected: int
    recomputed: int
    coded: int
    included: int
    status: str
    printed_pct: float | None = None
    recomputed_pct: float | None = None
    note: str = ""

    @property
    def regression(self) -> bool:
        """True when the full corpus is there and the number does not reproduce."""
        return self.status == "differs"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Target:
    figure_id: str
    table: str
    category: str | tuple[str, str]  # a category, or (role, focus) for the cross-tab
    row: str = "category"
    tolerance: int = 0
    full_coding: bool = True  # False: absent codes have a meaning (identified_via: database)


_TARGETS = (
    _Target("selection.included", "", ""),
    _Target("period.last_5_years", "period", BASELINE_PERIODS[1]),
    _Target("period.2010_2016", "period", BASELINE_PERIODS[0]),
    *(_Target(f"region.{name}", PUBLISHED, region, tolerance=REGION_TOLERANCE)
      for name, region in zip(("US", "oceania", "great_britain", "canada", "europe_excl_gb",
                               "asia", "southern_america"), PUBLISHED_REGIONS, strict=True)),
    _Target("involvement.coproduction_only", "involvement", "co-production"),
    _Target("involvement.cocreation", "involvement", "co-creation"),
    _Target("involvement.delivery_and_assessment", "involvement", "delivery+assessment"),
    _Target("activities.groups", "group_activities", "any group activity", row="total"),
    _Target("multidisciplinary.environment", "multidisciplinary", "environment"),
    _Target("multidisciplinary.team", "multidisciplinary", "team"),
    _Target("multidisciplinary.total", "multidisciplinary", "team or environment", row="total"),
    _Target("role.predetermined_services", "role_type", "pre-determined services"),
    _Target("role.peer_support", "role_type", "peer support"),
    _Target("role.partners_in_cocreation", "role_type", "partners in co-creation"),
    _Target("focus.outcomes", "research_focus", "outcomes"),
    _Target("focus.qualities", "research_focus", "qualities"),
    _Target("focus.implementation", "research_focus", "implementation"),
    _Target("outcomes_by_role.predetermined_services", "role_by_focus",
            ("pre-determined services", "outcomes")),
    _Target("outcomes_by_role.peer_support", "role_by_focus", ("peer support", "outcomes")),
    _Target("outcomes_by_role.partners", "role_by_focus", ("partners in co-creation", "outcomes")),
    _Target("peer_support.focus.implementation", "role_by_focus",
            ("peer support", "implementation")),
    _Target("peer_support.focus.qualities", "role_by_focus", ("peer support", "qualities")),
    _Target("peer_support.focus.outcomes", "role_by_focus", ("peer support", "outcomes")),
    _Target("boundary_spanner.explicit", "boundary_spanner", "explicit"),
    _Target("context.veteran", "service_context", SERVICE_CONTEXTS[0]),
    _Target("context.forensic", "service_context", SERVICE_CONTEXTS[1]),
    _Target("context.perinatal", "service_context", SERVICE_CONTEXTS[2]),
    _Target("other_sources.reference_lists", "identified_via", "reference_list", full_coding=False),
    _Target("other_sources.experts", "identified_via", "expert", full_coding=False),
    _Target("other_sources.scanning_2021", "identified_via", "scanning", full_coding=False),
)


def load_published(path: Path | None = None) -> dict[str, Any]:
    path = path or PUBLISHED_FILE
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: the published summary is missing. Fix: copy "
                          "shared/seed/published_summary.json to data/seed/") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}. Fix: restore "
                          "the file from the seed material") from exc


def _expected(published: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """Target value and note per figure id: the printed count, or the reconstruction."""
    figures = {f["id"]: f for f in published["figures"]}
    checks = {c["id"]: c for c in published.get("consistency_checks", [])}
    values = {fid: (int(f["value"]), "") for fid, f in figures.items()
              if isinstance(f.get("value"), int)}
    # 167 + 6 + 1 = 174 > 172: with one value per study, co-production only is what is left.
    coprod = (figures["selection.included"]["value"] - figures["involvement.cocreation"]["value"]
              - figures["involvement.delivery_and_assessment"]["value"])
    values["involvement.coproduction_only"] = (
        coprod, f"printed 167 is an erratum (involvement.sum): 172 - 6 - 1 = {coprod}")
    rebuilt = checks["crosstab.role_by_focus"]["computed"]["consistent_reconstruction"]
    implementation = rebuilt["peer_support"]["implementation"]
    values["peer_support.focus.implementation"] = (
        implementation, f"printed 68 is an erratum (crosstab.role_by_focus): the cross-tab only "
                        f"reproduces the focus totals with {implementation}")
    values["role.partners_in_cocreation"] = (
        values["role.partners_in_cocreation"][0], "not printed: 172 - 21 - 145")
    for fid, (value, _) in list(values.items()):
        if fid.startswith("region."):
            values[fid] = (value, "printed regions add up to 178 and their percentages fit 174 "
                                  "(region.sum_counts, region.pct_vs_count): compared with a "
                                  f"tolerance of {REGION_TOLERANCE}")
    return values


def _recomputed(summaries: Summaries, target: _Target) -> tuple[int, int, int, int]:
    """(count, denominator of its percentage, studies coded, studies included), baseline group.

    The cross-tab's percentages are of the role's studies (145 peer-support studies in print).
    """
    included = summaries.included[GROUP]
    if not target.table:
        return included, included, included, included
    if target.table == PUBLISHED:
        regions = summaries.studies.loc[summaries.studies["group"] == GROUP, "region"]
        coded = int(regions.map(bool).sum())
        count = int(regions.map(
            lambda found: target.category in {published_region(r) for r in found}).sum())
        return count, coded, coded, included
    table = summaries.tables[target.table]
    if target.table == "role_by_focus":
        role, focus = target.category
        frame = table.frame
        row = frame[(frame["group"] == GROUP) & (frame["role_type"] == role)].iloc[0]
        return int(row[focus]), int(row["studies"]), table.coded[GROUP], included
    count = table.counts(GROUP, target.row)[target.category]
    return count, table.coded[GROUP], table.coded[GROUP], included


def compare_with_published(summaries: Summaries,
                           published: dict[str, Any] | None = None) -> list[Comparison]:
    """Each published figure next to its recomputed baseline value, with a status."""
    published = published or load_published()
    figures = {f["id"]: f for f in published["figures"]}
    expected = _expected(published)
    corpus = figures["selection.included"]["value"]
    results = []
    for target in _TARGETS:
        figure = figures[target.figure_id]
        value, note = expected[target.figure_id]
        count, denominator, coded, included = _recomputed(summaries, target)
        complete = included == corpus and (coded == corpus or not target.full_coding)
        status = _status(count, value, figure["value"], complete, target.tolerance)
        printed_pct = figure.get("percent_reported")
        places = len(str(printed_pct).split(".")[1]) if isinstance(printed_pct, float) else 1
        results.append(Comparison(
            figure_id=target.figure_id, label=figure["label"], printed=figure["value"],
            expected=value, recomputed=count, coded=coded, included=included, status=status,
            printed_pct=printed_pct,
            recomputed_pct=percent(count, denominator, places) if printed_pct is not None else None,
            note=note))
    return results


def _status(count: int, expected: int, printed: Any, complete: bool, tolerance: int) -> str:
    if not complete:
        return "exceeds published" if count > expected + tolerance else "incomplete"
    if count == expected:
        return "match" if expected == printed else "matches reconstruction"
    if abs(count - expected) <= tolerance:
        return "within tolerance"
    return "differs"


def regressions(comparisons: list[Comparison]) -> list[Comparison]:
    """The comparisons that fail on a complete corpus."""
    return [c for c in comparisons if c.regression]


