"""The live plots. Each is a PlotextPlot that keeps its own data and has one `replot()`:
clear, plot, refresh. The app feeds them data and calls `replot()` at a bounded rate."""

from __future__ import annotations

import math

import numpy as np
from textual import events
from textual_plotext import PlotextPlot

TRUTH = "cyan"
MODEL = "orange"
ONE_STEP = "green"
MARK = "gray"
MAX_POINTS = 1500  # plotext draws every point; more than the canvas can show only costs time


def _finite_positive(xs, ys):
    """Pairs with a finite, positive y (for log-scale plots)."""
    out_x, out_y = [], []
    for x, y in zip(xs, ys):
        if y is not None and math.isfinite(y) and y > 0:
            out_x.append(x)
            out_y.append(y)
    return out_x, out_y


def _thin(x: np.ndarray, y: np.ndarray, n: int = MAX_POINTS):
    """At most n evenly spaced points (always keeping the last)."""
    if len(x) <= n:
        return x, y
    idx = np.unique(np.linspace(0, len(x) - 1, n).round().astype(int))
    return x[idx], y[idx]


def _view(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Axis limits that hold the truth and the prediction, but no more than one truth-range beyond
    the truth on either side, so an exploding free run does not flatten the truth into a line."""
    lo, hi = float(np.nanmin(truth)), float(np.nanmax(truth))
    span = hi - lo or 1.0
    plo, phi = float(np.nanmin(pred)), float(np.nanmax(pred))
    return min(lo, max(plo, lo - span)), max(hi, min(phi, hi + span))


class LivePlot(PlotextPlot):
    """A plot that keeps its data, redraws it in `replot()` and again when resized."""

    can_focus = True  # so it can be maximised (m) and cycled with tab
    placeholder = "start training (s) to see this plot"

    def clear(self) -> None:
        """Forget the data (a reset)."""

    def has_data(self) -> bool:
        return False

    def draw(self) -> None:
        """Plot the kept data onto self.plt (already cleared)."""

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        if self.has_data():
            self.draw()
        else:
            plt.title(self.placeholder)
            plt.xticks([])
            plt.yticks([])
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.replot()


class LossPlot(LivePlot):
    """Training and validation loss (MSE, normalised units) per epoch, log scale."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.epochs: list[int] = []
        self.train: list[float] = []
        self.val: list[float] = []

    def add(self, epoch: int, train: float, val: float) -> None:
        self.epochs.append(epoch)
        self.train.append(train)
        self.val.append(val)

    def has_data(self) -> bool:
        return bool(self.epochs)

    def draw(self) -> None:
        plt = self.plt
        plt.title("loss (MSE, normalised) per epoch")
        plt.yscale("log")
        plt.xlabel("epoch")
        for ys, label, color in ((self.train, "train", TRUTH), (self.val, "validation", MODEL)):
            x, y = _finite_positive(self.epochs, ys)
            if x:
                x, y = _thin(np.asarray(x), np.asarray(y))
                plt.plot(x.tolist(), y.tolist(), label=label, color=color, marker="braille")


class GradNormPlot(LivePlot):
    """Gradient norm (before clipping) at every optimisation step, log scale."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.norms: list[float] = []

    def extend(self, norms) -> None:
        self.norms.extend(norms)

    def has_data(self) -> bool:
        return bool(self.norms)

    def draw(self) -> None:
        plt = self.plt
        plt.title("gradient norm per step")
        plt.yscale("log")
        plt.xlabel("step")
        x, y = _finite_positive(range(1, len(self.norms) + 1), self.norms)
        if x:
            x, y = _thin(np.asarray(x), np.asarray(y))
            plt.plot(x.tolist(), y.tolist(), color="magenta", marker="braille")


class RolloutPlot(LivePlot):
    """One component: the truth as markers, the model's free run as a line, from where prediction
    starts (a vertical mark); the true history before it; optionally the one-step predictions."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.component = 0
        self.show_one_step = False
        self.clear()

    def clear(self) -> None:
        self.rollout = None  # core RolloutReady
        self.epoch = 0

    def set_rollout(self, r) -> None:
        self.rollout = r
        self.epoch = r.epoch
        self.component %= max(1, len(r.names))

    def cycle(self, n_components: int) -> str:
        """Next component; returns its name (or '' before any rollout)."""
        self.component = (self.component + 1) % max(1, n_components)
        if self.rollout is not None:
            return self.rollout.names[self.component % len(self.rollout.names)]
        return ""

    def has_data(self) -> bool:
        return self.rollout is not None

    def draw(self) -> None:
        r, plt, k = self.rollout, self.plt, self.component % len(self.rollout.names)
        name = r.names[k]
        plt.title(f"{name}: truth vs model free run (epoch {r.epoch})   [c: next component]")
        plt.xlabel("t")
        if len(r.history_t):
            plt.plot(r.history_t.tolist(), r.history[:, k].tolist(), color=MARK, marker="braille", label="truth (input)")
        t = np.asarray(r.t)
        x, y = _thin(t, np.asarray(r.truth[:, k]), 400)
        plt.scatter(x.tolist(), y.tolist(), color=TRUTH, marker="dot", label="truth")
        if self.show_one_step:
            x, y = _thin(t, np.asarray(r.one_step[:, k]))
            plt.plot(x.tolist(), y.tolist(), color=ONE_STEP, marker="braille", label="model (one step)")
        pred = np.asarray(r.prediction[:, k])
        x, y = _thin(t, pred)
        ok = np.isfinite(y)
        if ok.any():
            plt.plot(x[ok].tolist(), y[ok].tolist(), color=MODEL, marker="braille", label="model (free run)")
            hist = r.history[:, k] if len(r.history_t) else np.zeros(0)
            plt.ylim(*_view(np.concatenate([r.truth[:, k], hist]), y[ok]))
        if len(t):
            plt.vertical_line(float(t[0]), color=MARK)


class PhasePlot(LivePlot):
    """Phase portrait of the system's phase pair (e.g. Lorenz x–z): truth vs model free run."""

    placeholder = "phase portrait: appears with the first rollout"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.pair: tuple[int, int] | None = None
        self.clear()

    def clear(self) -> None:
        self.rollout = None

    def set_rollout(self, r) -> None:
        self.rollout = r

    def has_data(self) -> bool:
        return self.rollout is not None and self.rollout.truth.shape[1] >= 2

    def draw(self) -> None:
        r, plt = self.rollout, self.plt
        a, b = self.pair or (0, 1)
        a, b = a % r.truth.shape[1], b % r.truth.shape[1]
        plt.title(f"phase portrait {r.names[a]}–{r.names[b]}")
        plt.xlabel(r.names[a])
        plt.ylabel(r.names[b])
        plt.scatter(r.truth[:, a].tolist(), r.truth[:, b].tolist(), color=TRUTH, marker="dot", label="truth")
        p = np.asarray(r.prediction)
        ok = np.isfinite(p[:, a]) & np.isfinite(p[:, b])
        if ok.any():
            plt.plot(p[ok, a].tolist(), p[ok, b].tolist(), color=MODEL, marker="braille", label="model (free run)")
            # Keep the attractor in view even when the free run leaves it.
            plt.xlim(*_view(r.truth[:, a], p[ok, a]))
            plt.ylim(*_view(r.truth[:, b], p[ok, b]))


def _colormap(v: np.ndarray, lo: float, hi: float) -> list[tuple[int, int, int]]:
    """Blue-white-red diverging colours for values in [lo, hi] (NaN -> grey)."""
    s = np.clip((v - lo) / (hi - lo or 1.0), 0.0, 1.0)
    r = np.where(s < 0.5, 2 * s, 1.0)
    g = np.where(s < 0.5, 2 * s, 2 - 2 * s)
    b = np.where(s < 0.5, 1.0, 2 - 2 * s)
    rgb = (np.stack([r * 0.85 + 0.1, g * 0.85 + 0.1, b * 0.85 + 0.1], axis=-1) * 255).astype(int)
    rgb[~np.isfinite(v)] = (90, 90, 90)
    return [tuple(map(int, c)) for c in rgb]


def _bin2d(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Average (T, N) into at most (rows, cols) cells."""
    T, N = a.shape
    ri = np.linspace(0, T, min(rows, T) + 1).astype(int)
    ci = np.linspace(0, N, min(cols, N) + 1).astype(int)
    out = np.empty((len(ri) - 1, len(ci) - 1))
    for i in range(len(ri) - 1):
        block = a[ri[i] : max(ri[i + 1], ri[i] + 1)]
        with np.errstate(all="ignore"):
            row = block.mean(axis=0)
        for j in range(len(ci) - 1):
            out[i, j] = row[ci[j] : max(ci[j + 1], ci[j] + 1)].mean()
    return out


class HovmollerPlot(LivePlot):
    """Space-time heatmap of a field (KdV): truth and model side by side, time upward, a line where
    prediction starts (the rows below it are the true input history in both panels)."""

    placeholder = "Hovmöller (space-time) plot: appears with the first rollout of a field system"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.rollout = None

    def set_rollout(self, r) -> None:
        self.rollout = r

    def has_data(self) -> bool:
        return self.rollout is not None

    def draw(self) -> None:
        r, plt = self.rollout, self.plt
        hist = np.asarray(r.history) if len(r.history_t) else np.zeros((0, r.truth.shape[1]))
        truth = np.vstack([hist, r.truth])
        pred = np.vstack([hist, r.prediction])
        times = np.concatenate([np.asarray(r.history_t), np.asarray(r.t)])
        lo, hi = float(np.nanmin(truth)), float(np.nanmax(truth))
        cols = max(4, (self.size.width - 12) // 2)
        rows = max(4, self.size.height - 5)
        plt.subplots(1, 2)
        for i, (data, title) in enumerate(((truth, "truth"), (pred, f"model (free run), epoch {r.epoch}")), start=1):
            sub = plt.subplot(1, i)
            sub.title(title)
            grid = _bin2d(data, rows, cols)  # (time rows, space cols)
            gr, gc = grid.shape
            yy, xx = np.meshgrid(np.arange(gr), np.arange(gc), indexing="ij")
            sub.scatter(xx.ravel().tolist(), yy.ravel().tolist(), marker="sd", color=_colormap(grid.ravel(), lo, hi))
            # Start of prediction, in binned rows.
            start_row = len(hist) * gr / max(1, len(times))
            sub.horizontal_line(start_row - 0.5, color="white")
            ticks = np.linspace(0, gr - 1, min(4, gr)).round().astype(int)
            t_at = np.interp(ticks * len(times) / gr, np.arange(len(times)), times)
            sub.yticks(ticks.tolist(), [f"{v:.3g}" for v in t_at])
            sub.xlabel("x (grid)")
            if i == 1:
                sub.ylabel("t")


class HorizonPlot(LivePlot):
    """RMSE by forecast horizon (data units). During training: this rollout's error; at the end:
    the test curve over many starts from the summary, with the valid prediction time for chaotic systems."""

    placeholder = "RMSE by horizon: appears with the first rollout"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.curve: np.ndarray | None = None
        self.source = ""
        self.vpt = ""

    def from_rollout(self, r) -> None:
        err = np.asarray(r.prediction) - np.asarray(r.truth)
        with np.errstate(all="ignore"):
            self.curve = np.sqrt(np.mean(err**2, axis=1))
        self.source = f"this rollout, epoch {r.epoch}"

    def from_summary(self, summary: dict) -> None:
        curve = summary.get("rmse_curve")
        if curve:
            self.curve = np.asarray([np.nan if v is None else v for v in curve], dtype=float)
            self.source = f"{summary.get('split', 'test')} split, {summary.get('n_starts', '?')} starts"
        self.vpt = vpt_text(summary)

    def has_data(self) -> bool:
        return self.curve is not None

    def draw(self) -> None:
        plt = self.plt
        title = f"RMSE by horizon ({self.source})"
        if self.vpt:
            title += f" · {self.vpt}"
        plt.title(title)
        plt.yscale("log")
        plt.xlabel("steps ahead")
        x, y = _finite_positive(range(1, len(self.curve) + 1), self.curve.tolist())
        if x:
            x, y = _thin(np.asarray(x), np.asarray(y))
            plt.plot(x.tolist(), y.tolist(), color=MODEL, marker="braille", label="model (free run)")


def vpt_text(summary: dict) -> str:
    """'VPT 4.2 Lyapunov times (median)' for chaotic systems, else ''."""
    v = summary.get("vpt_lyapunov")
    if isinstance(v, dict) and v.get("median") is not None:
        return f"VPT {v['median']:.2f} Lyapunov times (median)"
    v = summary.get("vpt")
    if isinstance(v, dict) and v.get("median") is not None:
        return f"VPT {v['median']:.3g} time units (median)"
    return ""
