"""The PRISMA flow diagram keeps its text inside its boxes, however long the reason lists."""

from __future__ import annotations

from PIL import Image
from matplotlib.patches import FancyBboxPatch

from livingreview.screening.eligibility import REASON_CODES
from livingreview.summaries.figures import DPI, prisma_figure, prisma_flow
from livingreview.summaries.prisma import PrismaCounts

CODES = list(REASON_CODES)


def _long_counts() -> PrismaCounts:
    """Every exclusion reason in use: the longest texts a real run can put in the boxes."""
    return PrismaCounts(
        run_ids=(2,), identified={"pubmed": 120, "crossref": 0}, already_known={"pubmed": 3},
        ranked_returned={"crossref": 42}, filtered_out={"crossref": 42},
        duplicates={"merged (doi)": 4, "matched a record an earlier run stored": 2},
        auto_excluded={code: n + 1 for n, code in enumerate(CODES)}, queued=len(CODES) * 3 + 14,
        maybe_pairs=2, awaiting_title_abstract=10, excluded_title_abstract={c: 2 for c in CODES},
        awaiting_full_text=3, excluded_full_text={c: 1 for c in CODES}, included=1)


def _boxes_and_texts(figure):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    ax = figure.axes[0]
    boxes = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyBboxPatch)]
    texts = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    return boxes, texts, figure.bbox


def test_every_line_of_box_text_stays_inside_its_box():
    counts = _long_counts()
    figure = prisma_figure(counts, title="PRISMA flow of update run 2 (2021-12-14 to 2026-11-25)",
                           baseline_included=172, new_included_total=4, cutoff_label="2021-12-14")
    boxes, texts, page = _boxes_and_texts(figure)
    # previous version, identification, screening, retrieval, eligibility (each with its side
    # box), new studies included, total
    assert len(boxes) == 12
    boxed = 0
    for text, extent in texts:
        holders = [b for b in boxes if b.x0 <= extent.x0 <= b.x1 and b.y0 <= extent.y1 <= b.y1]
        if not holders:  # the title and the stage labels sit outside the boxes
            assert text.startswith("PRISMA flow") or text in (
                "Previous", "Identification", "Screening", "Retrieval", "Eligibility",
                "Included", "Total"), text
            continue
        box = holders[0]
        boxed += 1
        assert extent.x1 <= box.x1 and extent.y0 >= box.y0, (
            f"{text[:60]!r} runs out of its box by {max(extent.x1 - box.x1, box.y0 - extent.y0):.0f}px")
        assert extent.x1 <= page.x1 and extent.y0 >= page.y0
    assert boxed >= 12
    # every reason is shown, wrapped rather than cut: its code survives in the diagram's text
    shown = " ".join(" ".join(t for t, _ in texts).split())
    assert all(f"({code}): " in shown for code in CODES)
    assert ("crossref: 0 (42 returned by the ranked search, 0 matched the review's search "
            "strategy)") in shown
    assert "Not counted: 42 returned by a ranked search" in shown


def test_a_short_box_is_not_stretched_to_its_neighbour():
    counts = _long_counts()
    figure = prisma_figure(counts, title="t", baseline_included=172, new_included_total=1,
                           cutoff_label="2021-12-14")
    boxes, _, _ = _boxes_and_texts(figure)
    identified, removed = boxes[2], boxes[3]
    assert identified.height < removed.height / 3  # 4 lines against ~30


def test_the_flow_follows_prisma_2020_for_updated_reviews():
    counts = PrismaCounts(run_ids=(2,), identified={"pubmed": 9}, queued=9,
                          excluded_title_abstract={"EX_SETTING": 3},
                          excluded_full_text={"EX_NOT_RETRIEVED": 1, "EX_NOT_PAID": 2},
                          awaiting_full_text=1, included=2)
    figure = prisma_figure(counts, title="t", baseline_included=172, new_included_total=5,
                           cutoff_label="2021-12-14")
    _, texts, _ = _boxes_and_texts(figure)
    shown = " ".join(" ".join(t for t, _ in texts).split())
    for line in ("Studies included in the previous version: 172",
                 "Reports sought for retrieval: 6", "Reports not retrieved: 1",
                 "Reports assessed for eligibility: 4", "Reports excluded, with reasons: 2",
                 "New studies included: 2", "Reports of new included studies: 2",
                 "172 in the previous version + 5 added by the living review = 177"):
        assert line in shown, line
    assert "EX_NOT_RETRIEVED" not in shown.split("Reports excluded, with reasons")[1]


def test_the_flow_png_grows_with_its_content(tmp_path):
    short = PrismaCounts(run_ids=(1,), identified={"pubmed": 1}, queued=1,
                         awaiting_title_abstract=1)
    paths = [prisma_flow(c, tmp_path / f"{n}.png", title="t", baseline_included=172,
                         new_included_total=0, cutoff_label="2021-12-14")
             for n, c in (("short", short), ("long", _long_counts()))]
    sizes = []
    for path in paths:
        with Image.open(path) as image:
            sizes.append(image.size)
    assert sizes[0][0] == sizes[1][0] == 10 * DPI
    assert sizes[1][1] > 2 * sizes[0][1]
