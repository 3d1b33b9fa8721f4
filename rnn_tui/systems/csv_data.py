"""Your own series from a CSV file (system name "csv"): a header row, then one row per sample.
A column named `t` gives the sample times; without it the times are n·dt.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.errors import UserError
from pydantic import Field

from rnn_tui.systems.base import System, SystemParams, Trajectory

MAX_ROWS = 1_000_000  # default `steps`: at most this many rows are read (the whole file in practice)


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    from rnn_tui.csvio import read_series

    if not params["path"]:
        raise UserError("csv: set the file with --param path=FILE.csv (or system.params.path)")
    t, values, names = read_series(params["path"], params["columns"] or None)
    rows = min(steps, values.shape[0])
    values = values[:rows]
    if t is None:
        t = np.arange(rows, dtype=np.float64) * dt
    else:
        t = t[:rows]
        dt = float((t[-1] - t[0]) / (rows - 1))
    return Trajectory(t=t, values=values, names=names, kind="data", dt=dt)


class Params(SystemParams):
    """csv's parameters."""

    path: str = Field("", min_length=1, description="the CSV file: a header row (names), then numbers; blank lines are skipped")
    columns: str = Field("", min_length=1, description="comma-separated columns to use, in order (empty: every column but t)")


SYSTEM = System(
    name="csv",
    kind="data",
    doc="your own series from a CSV file: header row, optional time column t, one row per sample",
    params=Params,
    steps=MAX_ROWS,  # the first `steps` rows are used; a shorter file is used whole
    dt=1.0,  # sample step when the file has no t column (with one, the mean step of t is used)
    generate=generate,
)
