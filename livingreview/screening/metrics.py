"""How good a screening order is: work saved over sampling (WSS), recall after a fraction, loss.

All take the true labels (1 = included, 0 = excluded) in the order the records were screened,
priors included: the order *is* the screening, so the records a reviewer labels first to seed the
model count as work like any other.

WSS@r follows Cohen et al. (2006, JAMIA 13(2):206) as ASReview reports it: at the first point in
the order where a fraction ``r`` of the inclusions has been found,

    WSS@r = (TN + FN) / N - (1 - r)

where TN + FN are the records not yet screened at that point. It is the share of the screening
that ranking saved compared with screening in random order to the same recall; random order
scores about 0, negative values mean worse than random.

"A fraction r of the inclusions found" means at least ``ceil(r * n_included)`` found. The
products are rounded before ``ceil`` so that 0.95 * 20, which is 19.000000000000004 in floating
point, asks for 19 inclusions and not 20.

Loss is ASReview's (asreview-insights 1.6's ``loss``): the normalised area *above* the recall
curve, 0 for every inclusion first, 1 for every inclusion last. With N records, n inclusions and
``found[i]`` the inclusions among the first i records, the area under the curve is the step sum
``found[1] + ... + found[N]``; the best order has N n - n (n - 1) / 2, the worst n (n + 1) / 2,
and loss = (best - area) / (best - worst), the denominator being n (N - n). That is the share of
(inclusion, exclusion) pairs in which the exclusion comes first: one minus the order's ROC AUC.
Unlike WSS@95 it weighs the whole order, the first inclusions found as much as the last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Products such as 0.95 * 20 or 0.1 * 850 carry floating-point noise in the last bits.
_ROUNDING_DIGITS = 9


def _labels_array(labels_in_order: Sequence[int] | np.ndarray) -> np.ndarray:
    labels = np.asarray(labels_in_order)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError("labels_in_order must be a non-empty 1-D sequence of 0/1 labels")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels_in_order must hold only 0 (excluded) and 1 (included)")
    if labels.sum() == 0:
        raise ValueError("the labels hold no inclusion, so recall is undefined")
    return labels.astype(np.int64)


def inclusions_needed(n_included: int, recall: float) -> int:
    """How many inclusions make up at least the fraction ``recall`` of ``n_included``."""
    if not 0 < recall <= 1:
        raise ValueError(f"recall must be in (0, 1], got {recall}")
    return max(1, math.ceil(round(recall * n_included, _ROUNDING_DIGITS)))


def records_to_recall(labels_in_order: Sequence[int] | np.ndarray, recall: float = 0.95) -> int:
    """How many records must be screened, in this order, to reach ``recall``."""
    labels = _labels_array(labels_in_order)
    needed = inclusions_needed(int(labels.sum()), recall)
    found = np.cumsum(labels)
    return int(np.searchsorted(found, needed) + 1)


def wss(labels_in_order: Sequence[int] | np.ndarray, recall: float = 0.95) -> float:
    """Work saved over sampling at ``recall`` (WSS@95 by default); see the module docstring."""
    labels = _labels_array(labels_in_order)
    screened = records_to_recall(labels, recall)
    not_screened = labels.size - screened
    return not_screened / labels.size - (1 - recall)


def recall_after(labels_in_order: Sequence[int] | np.ndarray, fraction: float = 0.10) -> float:
    """Share of the inclusions found after screening the first ``fraction`` of the records.

    The first ``floor(fraction * N)`` records count as screened (ASReview Insights' convention:
    the last point that does not exceed the fraction).
    """
    labels = _labels_array(labels_in_order)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    screened = math.floor(round(fraction * labels.size, _ROUNDING_DIGITS))
    return float(labels[:screened].sum() / labels.sum())


def loss(labels_in_order: Sequence[int] | np.ndarray) -> float:
    """ASReview's loss: normalised area above the recall curve (0 is perfect); see the module
    docstring."""
    labels = _labels_array(labels_in_order)
    n, n_in = labels.size, int(labels.sum())
    if n_in == n:
        raise ValueError("every record is an inclusion, so no order is better than another")
    area = float(np.cumsum(labels).sum())
    best = n_in * (n - (n_in - 1) / 2)
    return (best - area) / (n_in * (n - n_in))
