"""What every figure shares: the look (one rc set, no pyplot), each run's colour and legend label,
the lead-time axis (Lyapunov times for a chaotic system, with the VPT marked) and the check that
overlaid runs forecast the same truth."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from rnn_tui.api import Run
from rnn_tui.errors import UserError
from rnn_tui.systems import get_system

RC = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8,
      "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False, "lines.linewidth": 1.2,
      "image.cmap": "RdBu_r", "figure.dpi": 100}
WIDTH = 6.4  # inches: a page's text width; a single column takes it at half size
TRUTH = "black"
TRUTH_LINE = {"color": TRUTH, "linewidth": 2.2, "zorder": 1}  # a wide band under the models' thin lines: both stay visible


@contextmanager
def styled() -> Iterator[None]:
    with matplotlib.rc_context(RC):
        yield


def figure(rows: int, height: float = 1.8, sharex: bool = True, width: float = WIDTH):
    """(Figure, a list of `rows` axes stacked), laid out to fit their labels."""
    fig = Figure(figsize=(width, 0.5 + height * rows), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, list(axes)


def colour(i: int) -> str:
    return f"C{i % 10}"


def label(run: Run) -> str:
    """'lstm 64 (20261206-101500-lorenz63_lstm)': the model and which run."""
    return f"{run.config.model.label()} ({run.id})"


@dataclass(frozen=True)
class LeadTime:
    """How lead times are shown: in Lyapunov times (`scale` = λ) for a chaotic system, else in the
    system's time units (`scale` = 1)."""

    scale: float
    label: str
    lyapunov: bool

    @classmethod
    def of(cls, run: Run) -> LeadTime:
        cfg = run.config
        system = get_system(cfg.system.name)
        lam = system.lyapunov_for(cfg.system.params)
        if lam:
            return cls(lam, f"lead time (Lyapunov times, λ = {lam:.3g} per time unit)", True)
        if system.kind == "map":
            return cls(1.0 / dt_of(run), "lead time (iterations)", False)
        return cls(1.0, "lead time (time units)", False)


def dt_of(run: Run) -> float:
    cfg = run.config
    return cfg.system.dt or get_system(cfg.system.name).dt


def lead_times(run: Run) -> np.ndarray:
    """(H,) the kept forecast's lead times, in time units: dt for the first predicted state."""
    t = run.forecast.t
    return t - (t[0] - dt_of(run))


def mark_vpt(ax, run: Run, lead: LeadTime, colour_: str) -> None:
    """A dashed line at the run's median valid prediction time over its test starts (chaotic systems)."""
    e = run.summary.evaluation
    if e is None or e.vpt is None or not np.isfinite(e.vpt.time.median):
        return
    at = e.vpt.lyapunov.median if lead.lyapunov else e.vpt.time.median * lead.scale
    bound = "≥ " if e.vpt.horizon_limited else ""
    ax.axvline(at, color=colour_, linestyle="--", linewidth=0.9, label=f"VPT {bound}{at:.2f} (median over test starts)")


def same_truth(runs: list[Run]) -> Run:
    """The run with the longest kept forecast, after checking that every run forecasts the same truth
    from the same start (one truth is drawn for all); a one-line UserError where one does not."""
    first = runs[0]
    for run in runs[1:]:
        a, b = first.forecast, run.forecast
        n = min(len(a.t), len(b.t))
        same = (run.config.system.name == first.config.system.name and a.truth.shape[1] == b.truth.shape[1]
                and np.array_equal(a.t[:n], b.t[:n]) and np.allclose(a.truth[:n], b.truth[:n], rtol=1e-9, atol=1e-12))
        if not same:
            raise UserError(f"{run.id} forecasts another truth than {first.id} (system, its settings or the split differ): "
                            "plot them in separate figures, or use --what losses")
    return max(runs, key=lambda r: len(r.forecast.t))


def field_of(run: Run) -> bool:
    return get_system(run.config.system.name).kind == "field"


def phase_pair(run: Run) -> tuple[int, int]:
    """The two components of a phase portrait: the system's own pair (x–z for Lorenz-63), else the first two."""
    system = get_system(run.config.system.name)
    names = run.forecast.names
    if system.kind == "field" or len(names) < 2:
        raise UserError(f"{run.id}: a phase portrait needs a system of two or more components; {system.name} "
                        f"{'is a field (use --what hovmoller)' if system.kind == 'field' else 'has one'}")
    return system.phase or (0, 1)


def padded(values: np.ndarray, pad: float = 0.15) -> tuple[float, float]:
    """Limits around the truth's range, so that a forecast that blew up does not flatten the plot."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    margin = pad * (hi - lo) or 1.0
    return lo - margin, hi + margin
