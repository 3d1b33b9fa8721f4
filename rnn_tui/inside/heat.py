"""The hidden-state heatmap's rows: units ordered so that patterns show."""

from __future__ import annotations

import numpy as np

from rnn_tui.inside.results import Heatmap

ORDERED_BY = "variance over the window, largest first"


def heatmap(states: np.ndarray, boundary: int, of: str, max_units: int | None = None) -> Heatmap:
    """`states` (steps, units) -> a Heatmap of (units, steps), the units by variance over the steps
    (largest first; ties by index), at most `max_units` of them (the largest)."""
    s = np.asarray(states, dtype=np.float64)
    var = s.var(axis=0)
    order = np.lexsort((np.arange(len(var)), -var))
    if max_units is not None:
        order = order[:max_units]
    return Heatmap(s[:, order].T.copy(), int(boundary), order, ORDERED_BY, of)
