"""The Inside view's panels (rnn_tui/inside/results.py: Inside): the hidden-state heatmap, the gates,
the recurrent spectrum against the unit circle, the gradient by lag and a closed-form readout's weight
by feature group. Each keeps the probe it shows and draws it in `draw()`; a panel that does not apply
says why in its title (`heading`, what the tests read)."""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.inside.results import Inside
from rnn_tui.tui.plots import MODEL, TRUTH, LivePlot

MAX_ROWS = 48  # heatmap rows shown (the units of largest variance)
GATE_COLOURS = ("cyan", "orange", "green", "magenta")


class InsidePanel(LivePlot):
    """One panel: `inside` is the probe shown (None: nothing yet, `placeholder` says why)."""

    panel = ""  # the key of Inside.why for this panel
    name_ = ""  # its name in the title
    placeholder = "waiting for a probe"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.inside: Inside | None = None
        self.heading = ""

    def show(self, inside: Inside | None, placeholder: str = "") -> None:
        self.inside = inside
        if placeholder:
            self.placeholder = f"{self.name_}: {placeholder}"
        self.heading = self.placeholder if inside is None else (self.headline() if self.applies() else f"{self.name_}: {inside.reason(self.panel)}")
        self.replot()

    def applies(self) -> bool:
        return self.inside is not None and self.panel not in self.inside.why

    def has_data(self) -> bool:
        return self.inside is not None

    def headline(self) -> str:
        raise NotImplementedError

    def draw(self) -> None:
        self.title(self.heading)
        if not self.applies():
            self.plt.frame(False)
            self.plt.xticks([])
            self.plt.yticks([])
            return
        self.draw_panel()

    def draw_panel(self) -> None:
        raise NotImplementedError


class HeatmapPanel(InsidePanel):
    panel, name_ = "heatmap", "hidden state"

    def headline(self) -> str:
        h = self.inside.heatmap
        return f"hidden state {h.of}, units by {h.ordered_by.split(',')[0]} · warm-up 0–{h.boundary - 1} | free run from {h.boundary}"

    def draw_panel(self) -> None:
        h = self.inside.heatmap
        rows = h.states[:MAX_ROWS]
        self.plt.matrix_plot(rows.tolist())
        self.plt.vline(h.boundary + 0.5, MODEL)
        self.plt.xlabel("step (warm-up on true inputs, then the free run)")
        self.plt.ylabel("unit")


class GatesPanel(InsidePanel):
    panel, name_ = "gates", "gates"

    def headline(self) -> str:
        sat = " ".join(f"{k} {100 * v:.0f}%" for k, v in self.inside.gates.saturation.items() if v == v)
        return f"gates, mean over units · saturated (<0.1 or >0.9): {sat}"

    def draw_panel(self) -> None:
        g, plt = self.inside.gates, self.plt
        for name, colour in zip(g.names, GATE_COLOURS):
            values = g.values[name]  # (steps, units)
            plt.plot(list(range(len(values))), values.mean(axis=1).tolist(), color=colour, marker="braille", label=name)
        plt.ylim(0, 1)
        if self.inside.heatmap is not None:
            plt.vline(self.inside.heatmap.boundary - 0.5, "gray")


class SpectrumPanel(InsidePanel):
    panel, name_ = "spectrum", "spectrum"
    which = 0  # the spectrum shown, of Inside.spectra (] cycles)

    def headline(self) -> str:
        s = self.current()
        more = f" · ] next of {self.inside.n_spectra}" if self.inside.n_spectra > 1 else ""
        return f"eigenvalues of {s.of} · ρ = {s.radius:.4g} · unit circle{more}"

    def current(self):
        """The spectrum shown (computed once per probe and choice: a further matrix's costs an eigvals)."""
        key = (id(self.inside), self.which)
        if getattr(self, "_key", None) != key:
            self._key, self._spectrum = key, self.inside.spectrum_at(self.which)
        return self._spectrum

    def cycle(self) -> None:
        if self.applies():
            self.which += 1
            self.show(self.inside)

    def draw_panel(self) -> None:
        s, plt = self.current(), self.plt
        t = np.linspace(0, 2 * math.pi, 200)
        plt.plot(np.cos(t).tolist(), np.sin(t).tolist(), color="gray", marker="braille")
        plt.scatter(s.eigenvalues.real.tolist(), s.eigenvalues.imag.tolist(), color=MODEL, marker="●")
        lim = max(1.1, 1.1 * s.radius)
        plt.xlim(-lim, lim)
        plt.ylim(-lim, lim)


class GradPanel(InsidePanel):
    panel, name_ = "grad", "gradient through time"

    def headline(self) -> str:
        g = self.inside.grad
        return f"log10 ‖∂L/∂h(t−k)‖/‖∂L/∂h(t)‖ by lag k ({g.of}) · fitted ×{g.decay_per_step:.3g} a step"

    def draw_panel(self) -> None:
        n = self.inside.grad.norms
        keep = [(k, math.log10(v / n[0])) for k, v in enumerate(n) if n[0] > 0 and v > 0 and math.isfinite(v)]
        if keep:
            ks, ys = zip(*keep)
            self.plt.plot(list(ks), list(ys), color=TRUTH, marker="braille")
        self.plt.xlabel("lag k (steps back from the window's end)")


class ReadoutPanel(InsidePanel):
    panel, name_ = "readout", "readout"

    def headline(self) -> str:
        r = self.inside.readout
        dof = f" · ridge's degrees of freedom {r.dof:.4g}" if r.dof is not None else ""
        return f"readout RMS weight by feature group{dof}"

    def draw_panel(self) -> None:
        r = self.inside.readout
        self.plt.bar([f"{n} ({c})" for n, c in zip(r.names, r.count)], list(r.rms), color=MODEL)


PANELS = (HeatmapPanel, GatesPanel, SpectrumPanel, GradPanel, ReadoutPanel)
