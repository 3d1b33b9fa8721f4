"""The climate screen (C): whether the trained model, left to run for a long time, stays on the
truth's attractor. The long run's attractor projection beside the truth's, their power spectra
overlaid, the histograms of the components, and the model's own Lyapunov exponents against the
truth's (rnn_tui/core/climate.py). A run trained with [climate] enabled has it already; for any other
finished run, `g` computes it now in a thread worker (x stops it)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Static

from rnn_tui.climate.result import Climate
from rnn_tui.tui.plots import MODEL, TRUTH, LivePlot

if TYPE_CHECKING:  # core.climate imports torch: the app's first frame does not wait for it
    from rnn_tui.core.climate import ClimateView

TICK_S = 0.25


class _ClimatePlot(LivePlot):
    placeholder = "no long run yet: g runs it on the last trained model"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.view: ClimateView | None = None

    def set_view(self, view: ClimateView | None) -> None:
        self.view = view
        self.replot()

    def has_data(self) -> bool:
        return self.view is not None


class AttractorPlot(_ClimatePlot):
    """The long run's projection on the system's phase pair (a field: its first two grid points)."""

    def __init__(self, which: str, **kw) -> None:
        super().__init__(**kw)
        self.which = which  # "model" or "truth"

    def draw(self) -> None:
        v, plt = self.view, self.plt
        a, b = v.phase
        run = v.model if self.which == "model" else v.truth
        ok = np.all(np.isfinite(run), axis=1)
        self.title(f"{self.which} long run: {v.names[a]}–{v.names[b]}")
        plt.xlabel(v.names[a])
        plt.ylabel(v.names[b])
        if ok.any():
            plt.scatter(run[ok, a].tolist(), run[ok, b].tolist(), marker="braille", color=MODEL if self.which == "model" else TRUTH)


class SpectrumPlot(_ClimatePlot):
    """The smoothed power spectra of the first component, model over truth (log scale)."""

    key = (("truth", TRUTH), ("model", MODEL))

    def draw(self) -> None:
        v, plt = self.view, self.plt
        self.title(f"power spectrum of {v.names[0]}: truth, model")
        plt.xlabel("frequency (cycles per time unit)")
        n = max(2, len(v.freqs) // 2)  # the upper half is the smoothing's tail
        f = v.freqs[1:n]
        for spec, colour in ((v.spectrum_truth, TRUTH), (v.spectrum_model, MODEL)):
            p = np.log10(np.maximum(spec[1:n, 0], 1e-16))
            plt.plot(f.tolist(), p.tolist(), color=colour, marker="braille")
        plt.ylabel("log10 power")


class HistogramPlot(_ClimatePlot):
    """Each component's density over the truth's range: truth and model."""

    key = (("truth", TRUTH), ("model", MODEL))

    def draw(self) -> None:
        v, plt = self.view, self.plt
        self.title("histograms: truth, model (" + ", ".join(v.names[: len(v.histograms)]) + ")")
        offset = 0.0
        for centres, a, b in v.histograms:
            x = (np.arange(len(centres)) + offset).tolist()
            plt.plot(x, a.tolist(), color=TRUTH, marker="braille")
            plt.plot(x, b.tolist(), color=MODEL, marker="braille")
            offset += len(centres) + 4
        plt.xticks([])


def climate_lines(c: Climate | None) -> str:
    """The figures: fate, the exponents side by side, Kaplan–Yorke, D_stsp and D_H with their floors."""
    if c is None:
        return "no long run yet: g runs it on the last trained model ([climate] enabled runs it after training)"
    model = ", ".join(f"{x:.3f}±{e:.3f}" for x, e in zip(c.lyapunov_model, c.lyapunov_model_error or (0.0,) * 64)) or "–"
    truth = ", ".join(f"{x:g}" for x in c.lyapunov_truth) or "–"
    ky = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    g = lambda v: "–" if v is None else f"{v:.3g}"  # noqa: E731
    return (f"fate: {c.fate_detail or c.fate}    λ1 model {g(c.lambda1)} against truth {g(c.lyapunov_truth[0] if c.lyapunov_truth else None)}\n"
            f"exponents (per time unit) model: {model}    truth: {truth}    tangents: {c.tangent or '–'}\n"
            f"Kaplan–Yorke dimension model {ky(c.kaplan_yorke_model)}, truth {ky(c.kaplan_yorke_truth)}    "
            f"D_stsp {g(c.d_stsp)} (floor {g(c.d_stsp_floor)})    D_H {g(c.d_h)} (floor {g(c.d_h_floor)})    "
            f"{c.length_steps:,} steps in {c.seconds:.1f} s" + (f"\n{c.note}" if c.note else ""))


class ClimateScreen(Screen):
    """See the module docstring. `result`: the last run's core RunResult (None before any)."""

    TITLE = "Climate: the long run"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("g", "compute", "Run the long run"),
                Binding("x", "stop", "Stop")]
    DEFAULT_CSS = """
    ClimateScreen #climate-grid { grid-size: 2 2; height: 1fr; }
    ClimateScreen #climate-figures { height: auto; padding: 0 1; }
    """

    def __init__(self, result=None) -> None:
        super().__init__()
        self.result = result
        self.stop = threading.Event()
        self.progress = ""
        self.busy = False
        self.outcome = None  # core.climate.Outcome computed here

    def compose(self) -> ComposeResult:
        yield Static(id="climate-figures")
        with Grid(id="climate-grid"):
            yield AttractorPlot("model", id="climate-model")
            yield AttractorPlot("truth", id="climate-truth")
            yield SpectrumPlot(id="climate-spectrum")
            yield HistogramPlot(id="climate-histograms")
        yield Footer()

    def on_mount(self) -> None:
        r = self.result
        self.show(getattr(r, "climate_view", None), r.summary.climate if r is not None else None)
        self.set_interval(TICK_S, self._tick)

    def show(self, view: ClimateView | None, climate: Climate | None) -> None:
        self.query_one("#climate-figures", Static).update(climate_lines(climate))
        for plot in self.query(_ClimatePlot):
            plot.set_view(view)

    def action_compute(self) -> None:
        r = self.result
        if self.busy:
            return
        if r is None or r.model is None or r.prep is None or r.summary.status != "finished":
            self.notify("no finished run to run on: train one first (s)", severity="warning")
            return
        self.busy, self.progress = True, "starting the long run…"
        self.stop.clear()
        self._compute(r)

    def action_stop(self) -> None:
        self.stop.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="climate")
    def _compute(self, r) -> None:
        from rnn_tui.core.climate import evaluate_climate
        from rnn_tui.work import Work

        cfg = r.config.model_copy(update={"climate": r.config.climate.model_copy(update={"enabled": True})})
        try:
            self.outcome = evaluate_climate(r.model, r.prep, cfg, Work(self.stop, self._report))
            self.progress = "" if self.outcome is not None else "stopped"
        except (RuntimeError, ValueError) as exc:
            self.progress = f"failed: {str(exc).splitlines()[0]}"
        finally:
            self.busy = False

    def _report(self, p) -> None:
        self.progress = p.text()  # read by the timer (one string: no lock needed)

    def _tick(self) -> None:
        if self.outcome is not None:
            out, self.outcome = self.outcome, None
            self.show(out.view, out.climate)
        elif self.progress:
            self.query_one("#climate-figures", Static).update(self.progress)
