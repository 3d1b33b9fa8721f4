"""Figures of the kept forecasts (rollout.csv): each component against lead time, the phase portrait,
and the Hovmöller diagram (space against time) of a field. The truth is drawn once, in black; each
run's forecast in its colour, with its VPT marked where the system is chaotic."""

from __future__ import annotations

import numpy as np

from rnn_tui.api import Run
from rnn_tui.errors import UserError
from rnn_tui.figures.style import TRUTH, TRUTH_LINE, LeadTime, colour, field_of, figure, label, lead_times, mark_vpt, padded, phase_pair, same_truth

MAX_PANELS = 4  # components drawn one panel each; a field shows three sites


def _components(run: Run) -> list[int]:
    d = len(run.forecast.names)
    if field_of(run) or d > MAX_PANELS:
        return sorted({int(i) for i in np.linspace(0, d - 1, 3).round()})
    return list(range(d))


def forecast(runs: list[Run]):
    """One panel per component (three sites of a field): the truth and every run's free run against
    lead time (in Lyapunov times for a chaotic system), each run's VPT marked."""
    base = same_truth(runs)
    lead, f = LeadTime.of(base), base.forecast
    comps = _components(base)
    fig, axes = figure(len(comps))
    for ax, c in zip(axes, comps):
        ax.plot(lead_times(base) * lead.scale, f.truth[:, c], **TRUTH_LINE, label=f"truth ({base.config.system.name})")
        for i, run in enumerate(runs):
            ax.plot(lead_times(run) * lead.scale, run.forecast.prediction[:, c], color=colour(i), label=label(run))
        for i, run in enumerate(runs):
            mark_vpt(ax, run, lead, colour(i))
        ax.set_ylim(*padded(f.truth[:, c]))
        ax.set_ylabel(f"{f.names[c]} (data units)")
    axes[-1].set_xlabel(lead.label)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"{base.config.system.name}: free-running forecast from the first held-out state")
    return fig


def phase(runs: list[Run]):
    """The truth and every run's forecast in the plane of two components (x–z for Lorenz-63)."""
    base = same_truth(runs)
    i, j = phase_pair(base)
    f = base.forecast
    fig, (ax,) = figure(1, height=4.0, width=5.6)
    ax.plot(f.truth[:, i], f.truth[:, j], **TRUTH_LINE, label=f"truth ({base.config.system.name})")
    for k, run in enumerate(runs):
        ax.plot(run.forecast.prediction[:, i], run.forecast.prediction[:, j], color=colour(k), label=label(run))
    ax.plot([f.truth[0, i]], [f.truth[0, j]], "o", color=TRUTH, markersize=4, label="first forecast state")
    ax.set_xlim(*padded(f.truth[:, i]))
    ax.set_ylim(*padded(f.truth[:, j]))
    ax.set_xlabel(f"{f.names[i]} (data units)")
    ax.set_ylabel(f"{f.names[j]} (data units)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"{base.config.system.name}: phase portrait of the forecast")
    return fig


def hovmoller(runs: list[Run]):
    """A field in space and time: the truth, then each run's forecast and its error (forecast − truth),
    on one colour scale (the truth's), against lead time."""
    base = same_truth(runs)
    if not field_of(base):
        raise UserError(f"--what hovmoller is for fields (kdv, ks, lorenz96); {base.config.system.name} is not one: "
                        "use --what forecast or phase")
    lead, f = LeadTime.of(base), base.forecast
    vmax = float(np.nanmax(np.abs(f.truth)))
    panels = [("truth", f.truth, lead_times(base))]
    for run in runs:
        panels += [(label(run), run.forecast.prediction, lead_times(run)),
                   (f"error of {run.id} (forecast − truth)", run.forecast.prediction - f.truth[: len(run.forecast.t)], lead_times(run))]
    fig, axes = figure(len(panels), height=1.5)
    for ax, (title, values, lt) in zip(axes, panels):
        x = lt * lead.scale
        half = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5  # each column centred on its lead time
        image = ax.imshow(values.T, aspect="auto", origin="lower", vmin=-vmax, vmax=vmax, interpolation="nearest",
                          extent=(x[0] - half, x[-1] + half, -0.5, values.shape[1] - 0.5))
        fig.colorbar(image, ax=ax, label="u (data units)", pad=0.01)
        ax.set_ylabel("grid point")
        ax.set_title(title, loc="left")
    axes[-1].set_xlabel(lead.label)
    fig.suptitle(f"{base.config.system.name}: the field against lead time")
    return fig
