"""The review's figures as PNG files: Fig. 2, 3, 4 and a PRISMA flow diagram.

Drawn on matplotlib's Agg canvas without pyplot (no global figure state, safe in worker threads).
Each figure says in words what it counts and how many studies it rests on, for readers who will
not open the tables.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import MaxNLocator

from livingreview.screening.eligibility import REASON_CODES
from livingreview.summaries.prisma import PrismaCounts
from livingreview.summaries.tables import FieldTable, Summaries

BASELINE_COLOUR = "#4C72B0"
NEW_COLOUR = "#DD8452"
PERIOD_COLOURS = ("#8DA0CB", "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860",
                  "#DA8BC3", "#8C8C8C", "#CCB974")
DPI = 110

FIG2 = "fig2_studies_per_year.png"
FIG3 = "fig3_region_by_period.png"
FIG4 = "fig4_research_focus.png"
PRISMA = "prisma_flow.png"
PRISMA_CUMULATIVE = "prisma_flow_cumulative.png"


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _coverage(table: FieldTable) -> str:
    return f"Based on {table.coverage()}."


def _save(figure: Figure, path: Path, *, svg: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    if svg:  # text stays text: the HTML report inlines it and it scales for print
        figure.savefig(path.with_suffix(".svg"), format="svg")
    return path


def studies_per_year(table: FieldTable, path: Path, cutoff_label: str) -> Path:
    """Fig. 2: included studies per year, baseline and new stacked."""
    frame = table.frame[table.frame["row"] == "category"]
    years = [str(y) for y in frame["year"]]
    baseline, new = list(frame["baseline_n"]), list(frame["new_n"])
    figure = _figure(9, 4.8)
    ax = figure.add_axes((0.08, 0.2, 0.9, 0.68))
    ax.bar(years, baseline, color=BASELINE_COLOUR,
           label=f"published review (search to {cutoff_label})")
    ax.bar(years, new, bottom=baseline, color=NEW_COLOUR, label="added by the living review")
    for x, (b, n) in enumerate(zip(baseline, new)):
        if b + n:
            ax.text(x, b + n, str(b + n), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("Year of publication")
    ax.set_ylabel("Number of included studies")
    ax.set_ylim(0, max([b + n for b, n in zip(baseline, new)] + [1]) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    figure.suptitle("Fig. 2  Included studies per year of publication", x=0.08, ha="left",
                    fontsize=12, fontweight="bold")
    figure.text(0.08, 0.03, _coverage(table), fontsize=8, color="#444444")
    return _save(figure, path)


def region_by_period(table: FieldTable, path: Path) -> Path:
    """Fig. 3: included studies per region, one bar per period."""
    frame = table.frame
    periods = [c for c in frame.columns if c not in ("region", "baseline_n", "new_n", "all_n")]
    regions = list(frame["region"])
    figure = _figure(9, 5.4)
    ax = figure.add_axes((0.28, 0.17, 0.55, 0.71))
    height = 0.8 / max(len(periods), 1)
    for i, period in enumerate(periods):
        values = list(frame[period])
        ys = [r + (i - (len(periods) - 1) / 2) * height for r in range(len(regions))]
        ax.barh(ys, values, height=height, color=PERIOD_COLOURS[i % len(PERIOD_COLOURS)],
                label=period)
        for y, v in zip(ys, values):
            if v:
                ax.text(v, y, f" {v}", va="center", fontsize=7)
    ax.set_yticks(range(len(regions)), regions, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("Number of included studies")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max([int(frame[p].max()) for p in periods] + [1]) * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(title="Period of publication", frameon=False, fontsize=8, title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle("Fig. 3  Included studies per region and period", x=0.04, ha="left",
                    fontsize=12, fontweight="bold")
    figure.text(0.04, 0.07, _coverage(table), fontsize=8, color="#444444")
    figure.text(0.04, 0.03, "A study set in several regions counts once in each region.",
                fontsize=8, color="#444444")
    return _save(figure, path)


def research_focus(table: FieldTable, path: Path) -> Path:
    """Fig. 4: main research focus, baseline and new stacked, with counts and shares."""
    frame = table.frame[table.frame["row"] == "category"]
    labels = {"outcomes": "Outcomes\n(what do peer workers achieve?)",
              "qualities": "Qualities\n(what do peer workers bring?)",
              "implementation": "Implementation\n(how to implement peer work?)"}
    names = [labels.get(v, v) for v in frame["research_focus"]]
    baseline, new = list(frame["baseline_n"]), list(frame["new_n"])
    figure = _figure(8, 4.2)
    ax = figure.add_axes((0.3, 0.2, 0.64, 0.6))
    ax.barh(names, baseline, color=BASELINE_COLOUR, label="published review")
    ax.barh(names, new, left=baseline, color=NEW_COLOUR, label="added by the living review")
    for y, (b, n, pct) in enumerate(zip(baseline, new, frame["all_pct"])):
        share = "" if pct is None or pct != pct else f" ({pct:.1f}%)"
        ax.text(b + n, y, f" {b + n}{share}", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("Number of included studies")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max([b + n for b, n in zip(baseline, new)] + [1]) * 1.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
    figure.suptitle("Fig. 4  Main research focus of the included studies", x=0.04, ha="left",
                    fontsize=12, fontweight="bold")
    figure.text(0.04, 0.04, _coverage(table) + " Shares are of the studies coded.", fontsize=8,
                color="#444444")
    return _save(figure, path)


def _reason(code: str) -> str:
    return f"{REASON_CODES[code]} ({code})" if code in REASON_CODES else code


def prisma_flow(counts: PrismaCounts, path: Path, *, title: str, baseline_included: int,
                new_included_total: int, cutoff_label: str) -> Path:
    """A PRISMA 2020-style flow diagram of one run (or of runs summed), boxes and arrows."""
    return _save(prisma_figure(counts, title=title, baseline_included=baseline_included,
                               new_included_total=new_included_total,
                               cutoff_label=cutoff_label), path, svg=True)


def prisma_figure(counts: PrismaCounts, *, title: str, baseline_included: int,
                  new_included_total: int, cutoff_label: str) -> Figure:
    """The flow diagram's figure: long lines wrapped to their box, each box as tall as its text."""
    sources = [f"  {s}: {n}" + (f" ({counts.ranked_returned[s]} returned by the ranked search, "
                                 f"{counts.strategy_matched[s]} matched the review's search "
                                 "strategy)" if s in counts.ranked_returned else "")
               for s, n in sorted(counts.identified.items())] or ["  none"]
    sources.append(f"  total: {counts.identified_total}")
    if counts.filtered_out_total:
        sources.append(f"Not counted: {counts.filtered_out_total} returned by a ranked search "
                       "that did not match the search strategy (kept in the raw archive only)")
    removed = [f"Already known (seen again in the overlapping window): "
               f"{counts.already_known_total}",
               f"Duplicates removed: {counts.duplicates_total}",
               f"Excluded automatically by metadata rules: {counts.auto_excluded_total}"]
    removed += [f"  {_reason(r)}: {n}" for r, n in sorted(counts.auto_excluded.items())]
    if counts.imported:
        removed.append(f"Imported with their own decisions: {counts.imported}")
    if counts.awaiting_prefilter:
        removed.append(f"Not yet pre-filtered: {counts.awaiting_prefilter}")
    if counts.maybe_pairs:
        removed.append(f"(Possible duplicates flagged, still screened: {counts.maybe_pairs})")
    screening_out = [f"Excluded at title/abstract: {counts.excluded_title_abstract_total}"]
    screening_out += [f"  {_reason(r)}: {n}"
                      for r, n in sorted(counts.excluded_title_abstract.items())]
    screening_out.append(f"Awaiting title/abstract screening: {counts.awaiting_title_abstract}")
    if counts.duplicates_in_screening:
        screening_out.append(f"Found to be duplicates: {counts.duplicates_in_screening}")
    not_retrieved = [f"Reports not retrieved: {counts.not_retrieved}"]
    excluded = counts.excluded_with_reasons
    full_text_out = [f"Reports excluded, with reasons: {sum(excluded.values())}"]
    full_text_out += [f"  {_reason(r)}: {n}" for r, n in sorted(excluded.items())]
    full_text_out.append(f"Awaiting full-text decision: {counts.awaiting_full_text}")
    # PRISMA 2020's flow for updated reviews: the previous version's studies on top, this
    # update's new studies below, and the total of both at the bottom.
    rows: list[tuple[str, list[str], list[str] | None]] = [
        ("Previous", [f"Studies included in the previous version: {baseline_included}",
                      f"the published review (search to {cutoff_label})"],
         ["Reports of those studies: not stated by the article (its reference list names "
          "102 of the 172 studies; the rest are in the authors' data set)"]),
        ("Identification",
         ["Records identified (new)", *sources],
         ["Removed before screening", *removed]),
        ("Screening", ["Records screened (title/abstract)",
                       f"queued for screening: {counts.queued}",
                       f"screened so far: {counts.screened_title_abstract}"], screening_out),
        ("Retrieval", [f"Reports sought for retrieval: {counts.passed_title_abstract}"],
         not_retrieved),
        ("Eligibility", [f"Reports assessed for eligibility: {counts.reports_assessed}"],
         full_text_out),
        ("Included", [f"New studies included: {counts.included}",
                      f"Reports of new included studies: {counts.included} (one record per "
                      "report; duplicate records are merged)"], None),
        ("Total", ["Total studies included in the review",
                   f"{baseline_included} in the previous version",
                   f"+ {new_included_total} added by the living review",
                   f"= {baseline_included + new_included_total}"], None),
    ]
    layout = _TextLayout()
    boxes = [(stage, layout.box(left, _LEFT[1]), layout.box(right, _RIGHT[1]) if right else None)
             for stage, left, right in rows]
    heights = [max(left.height, right.height if right else 0) for _, left, right in boxes]
    gap, top = 0.45, 0.8
    total = top + sum(heights) + gap * (len(rows) - 1) + 0.3
    figure = _figure(_WIDTH, total)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, _WIDTH)
    ax.set_ylim(total, 0)  # one data unit is one inch, downwards
    ax.axis("off")
    ax.text(0.3, 0.35, title, fontsize=12, fontweight="bold", va="center")
    spans = []  # (top, bottom) of each left box
    for (stage, left, right), height in zip(boxes, heights):
        middle = top + height / 2
        ax.text(0.35, middle, stage, rotation=90, ha="center", va="center",
                fontsize=9, fontweight="bold", color="#333333")
        _draw(ax, _LEFT[0], middle - left.height / 2, _LEFT[1], left, "#E8EEF7")
        if right:
            _draw(ax, _RIGHT[0], middle - right.height / 2, _RIGHT[1], right, "#F7F7F7")
            ax.annotate("", xy=(_RIGHT[0], middle), xytext=(_LEFT[0] + _LEFT[1], middle),
                        arrowprops={"arrowstyle": "-|>", "color": "#333333"})
        spans.append((middle - left.height / 2, middle + left.height / 2))
        top += height + gap
    centre = _LEFT[0] + _LEFT[1] / 2
    for (_, bottom_a), (top_b, _) in zip(spans, spans[1:]):
        ax.annotate("", xy=(centre, top_b), xytext=(centre, bottom_a),
                    arrowprops={"arrowstyle": "-|>", "color": "#333333"})
    return figure


_WIDTH = 10.0  # inches; the axes map one data unit to one inch
_LEFT = (0.7, 4.3)  # x and width of the main column's boxes
_RIGHT = (5.6, 4.2)  # x and width of the excluded/removed column's boxes
_PAD = 0.12  # inches between a box's edge and its text
_TITLE_SIZE, _BODY_SIZE, _SPACING = 9.0, 8.5, 1.35
_HANG = "  "  # a wrapped line continues indented by this much under its first line


@dataclass
class _BoxText:
    title: str  # wrapped, bold
    body: str  # wrapped
    title_height: float  # inches
    height: float  # of the whole box, inches


class _TextLayout:
    """Wraps box text to a width measured in rendered inches (the font's real glyph widths,
    not a character count) and says how tall each box must be."""

    def __init__(self) -> None:
        self.figure = _figure(1, 1)
        self.renderer = self.figure.canvas.get_renderer()

    def size(self, text: str, fontsize: float, bold: bool = False) -> tuple[float, float]:
        artist = self.figure.text(0, 0, text, fontsize=fontsize, linespacing=_SPACING,
                                  fontweight="bold" if bold else "normal")
        extent = artist.get_window_extent(self.renderer)
        artist.remove()
        return extent.width / DPI, extent.height / DPI

    def wrap(self, line: str, width: float, fontsize: float, bold: bool = False) -> list[str]:
        measured = self.size(line, fontsize, bold)[0]
        if measured <= width:
            return [line]
        body = line.lstrip(" ")
        indent = line[:len(line) - len(body)]
        chars = max(int(len(line) * width / measured), 12)
        while True:
            wrapped = textwrap.wrap(body, chars, initial_indent=indent,
                                    subsequent_indent=indent + _HANG, break_long_words=True,
                                    break_on_hyphens=False)
            if chars <= 12 or all(self.size(w, fontsize, bold)[0] <= width for w in wrapped):
                return wrapped
            chars -= 1

    def box(self, lines: list[str], box_width: float) -> _BoxText:
        width = box_width - 2 * _PAD
        title = "\n".join(self.wrap(lines[0], width, _TITLE_SIZE, bold=True))
        body = "\n".join(w for line in lines[1:] for w in self.wrap(line, width, _BODY_SIZE))
        title_height = self.size(title, _TITLE_SIZE, bold=True)[1]
        body_height = self.size(body, _BODY_SIZE)[1] if body else 0.0
        return _BoxText(title, body, title_height, 2 * _PAD + title_height + body_height)


def _draw(ax, x: float, top: float, width: float, text: _BoxText, colour: str) -> None:
    ax.add_patch(FancyBboxPatch((x, top), width, text.height,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=colour, edgecolor="#333333", linewidth=1))
    ax.text(x + _PAD, top + _PAD, text.title, fontsize=_TITLE_SIZE, fontweight="bold",
            va="top", linespacing=_SPACING)
    if text.body:
        ax.text(x + _PAD, top + _PAD + text.title_height, text.body, fontsize=_BODY_SIZE,
                va="top", linespacing=_SPACING)


def write_figures(summaries: Summaries, prisma: PrismaCounts, directory: Path, *,
                  prisma_title: str, new_included_total: int,
                  cumulative: PrismaCounts | None = None,
                  cumulative_title: str = "") -> dict[str, Path]:
    """The PNGs into ``directory`` (the PRISMA flows also as SVG beside them); returns the
    PNGs' paths by file name. ``cumulative`` adds the flow of every update run together."""
    cutoff = summaries.cutoff.isoformat()
    written = {}
    if cumulative is not None:
        written[PRISMA_CUMULATIVE] = prisma_flow(
            cumulative, directory / PRISMA_CUMULATIVE, title=cumulative_title,
            baseline_included=summaries.included["baseline"],
            new_included_total=new_included_total, cutoff_label=cutoff)
    return written | {
        FIG2: studies_per_year(summaries.tables["studies_per_year"], directory / FIG2, cutoff),
        FIG3: region_by_period(summaries.tables["region_by_period"], directory / FIG3),
        FIG4: research_focus(summaries.tables["research_focus"], directory / FIG4),
        PRISMA: prisma_flow(prisma, directory / PRISMA, title=prisma_title,
                            baseline_included=summaries.included["baseline"],
                            new_included_total=new_included_total, cutoff_label=cutoff),
    }
