"""Figures of a run's numbers: the losses by epoch (metrics.jsonl) and the test-split error by lead
time (summary.json's RMSE curve), every run overlaid in its colour."""

from __future__ import annotations

import numpy as np

from rnn_tui.api import Run
from rnn_tui.errors import UserError
from rnn_tui.figures.style import LeadTime, colour, dt_of, figure, label, mark_vpt


def losses(runs: list[Run]):
    """Training (solid) and validation (dashed) loss of every run against the epoch, log scale."""
    fig, (ax,) = figure(1, height=3.2)
    for i, run in enumerate(runs):
        rows = run.metrics
        epochs = [r.epoch for r in rows]
        marker = "o" if len(rows) < 12 else None
        ax.plot(epochs, [r.train_loss for r in rows], color=colour(i), marker=marker, markersize=3, label=f"{label(run)}: training")
        ax.plot(epochs, [r.val_loss for r in rows], color=colour(i), marker=marker, markersize=3, linestyle="--", label="validation")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (MSE, normalised units)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("training and validation loss")
    return fig


def rmse(runs: list[Run]):
    """The RMSE of the free runs from every test start against lead time (Lyapunov times for a
    chaotic system), each run's VPT marked."""
    systems = {r.config.system.name for r in runs}
    if len(systems) > 1:
        raise UserError(f"--what rmse compares runs of one system; these are of {', '.join(sorted(systems))}")
    scored = [(i, r, r.summary.evaluation) for i, r in enumerate(runs)]
    scored = [(i, r, e) for i, r, e in scored if e is not None and e.rmse_curve]
    if not scored:
        raise UserError(f"{runs[0].id}: no test-split scores to plot (a cancelled run, or a split too short to score)")
    lead = LeadTime.of(runs[0])
    fig, (ax,) = figure(1, height=3.2)
    for i, run, e in scored:
        steps = np.arange(1, len(e.rmse_curve) + 1) * dt_of(run)
        ax.plot(steps * lead.scale, e.rmse_curve, color=colour(i), label=f"{label(run)} ({e.n_starts} {e.split} starts)")
        mark_vpt(ax, run, lead, colour(i))
    ax.set_yscale("log")
    ax.set_xlabel(lead.label)
    ax.set_ylabel("RMSE (data units)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"{runs[0].config.system.name}: forecast error by lead time on the held-out split")
    return fig
