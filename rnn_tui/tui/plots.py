"""The live plots. Each is a PlotextPlot that keeps its own data and has one `replot()`:
clear, plot, refresh. The app feeds them core results (`Forecast`, `EpochEnd`, `Summary`); the grid
redraws the changed ones at a bounded rate, and a view setting (a reactive) redraws its plot."""

from __future__ import annotations

import math
import time

import numpy as np
from plotext._dict import color_codes
from rich.color import Color
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Grid
from textual.reactive import var
from textual_plotext import PlotextPlot

from rnn_tui.core.results import Forecast, Summary
from rnn_tui.systems import get_system
from rnn_tui.tui import bands

TRUTH = "cyan"
MODEL = "orange"
ONE_STEP = "green"
MARK = "gray"
MAX_POINTS = 1500  # plotext draws every point; more than the canvas can show only costs time
PLOT_S = 0.5  # at most 2 plot redraws a second: plotext rendering holds the GIL the trainer needs
PLOT_BUDGET = 0.03  # and, while training, at most this share of the time spent drawing plots


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


def _bucket(x: np.ndarray, y: np.ndarray, n: int):
    """At most n points: means over consecutive buckets (a noisy series such as per-step gradient
    norms stays honest, and plotext, which draws every point, stays fast)."""
    if len(x) <= n:
        return x, y
    edges = np.linspace(0, len(x), n + 1).astype(int)
    return np.add.reduceat(x, edges[:-1]) / np.diff(edges), np.add.reduceat(y, edges[:-1]) / np.diff(edges)


def _view(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Axis limits that hold the truth and the prediction, but no more than one truth-range beyond
    the truth on either side, so an exploding free run does not flatten the truth into a line."""
    lo, hi = float(np.nanmin(truth)), float(np.nanmax(truth))
    span = hi - lo or 1.0
    plo, phi = float(np.nanmin(pred)), float(np.nanmax(pred))
    return min(lo, max(plo, lo - span)), max(hi, min(phi, hi + span))


def _log_line(plt, xs, ys, points: int, reduce=None, **style) -> list[float]:
    """Plot the finite, positive (x, y) pairs on a log-y axis, reduced to at most `points` (by
    `_bucket` unless another `reduce` is given); returns the plotted y values (for the ticks)."""
    x, y = _finite_positive(xs, ys)
    if not x:
        return []
    x, y = (reduce or _bucket)(np.asarray(x, float), np.asarray(y, float), points)
    plt.plot(x.tolist(), y.tolist(), marker="braille", **style)
    return y.tolist()


def _log_ticks(plt, ys) -> None:
    """Decade ticks (1e-3, 1e-2, ...) on a log-scale y axis; a few 2-digit ticks when the data
    span less than two decades."""
    ys = [y for y in ys if y > 0 and math.isfinite(y)]
    if not ys:
        return
    lo, hi = math.log10(min(ys)), math.log10(max(ys))
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    if len(decades) >= 2:
        step = max(1, math.ceil(len(decades) / 6))
        ticks = [10.0**d for d in decades[::step]]
    else:
        ticks = [10.0**v for v in np.linspace(lo, hi, 4)] if hi > lo else [10.0**lo]
    labels = [f"1e{d}" for d in decades[::step]] if len(decades) >= 2 else [f"{t:.2g}" for t in ticks]
    plt.yticks(ticks, labels)


def _lin_ticks(setter, lo: float, hi: float, n: int = 5) -> None:
    """n evenly spaced ticks labelled with 3 significant digits (plotext would print 1e-10 as
    0.0000000001)."""
    ticks = np.linspace(lo, hi, n) if hi > lo else np.array([lo])
    setter(ticks.tolist(), [f"{v:.3g}" for v in ticks])


def _int_ticks(setter, lo: float, hi: float, n: int = 5) -> None:
    """At most n ticks on whole numbers (epochs, steps), at a round spacing: 1 2 5 10 20 25 50 …"""
    lo, hi = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    if hi <= lo:
        setter([float(lo)], [str(lo)])
        return
    step, k = 1, 0
    while True:
        for m in (1, 2, 2.5, 5) if k else (1, 2, 5):
            step = int(m * 10**k)
            if hi // step - math.ceil(lo / step) + 1 <= n:
                ticks = list(range(math.ceil(lo / step) * step, hi + 1, step))
                setter([float(t) for t in ticks], [str(t) for t in ticks])
                return
        k += 1


def _legend_fits(height: int, entries: int, xlabel: bool = True) -> bool:
    """Whether a legend of `entries` lines leaves most of the canvas free (plotext draws it over the
    canvas's top left corner). Where it does not, the title's coloured words are the legend."""
    canvas = height - (5 if xlabel else 4)  # title, frame top and bottom, tick labels, axis label
    return canvas >= 3 * entries + 2


class LivePlot(PlotextPlot):
    """A plot that keeps its data, redraws it in `replot()` and again when resized. The words of
    `key` in its title are drawn in their curve's colour (the legend of a plot too small for one)."""

    can_focus = True  # so it can be maximised (m) and cycled with tab
    placeholder = "press s to train"
    frame = None  # the last drawn figure (rich Text): what is on screen
    key: tuple[tuple[str, str], ...] = ()  # (word in the title, plotext colour of its curve)

    @property
    def small(self) -> bool:
        """Too few rows for an axis label and a legend: the title says what each colour is."""
        return self.size.height < 12

    def legend(self, label: str, entries: int) -> str | None:
        """`label` where a legend of `entries` lines fits, else None (no legend)."""
        return label if _legend_fits(self.size.height, entries, not self.small) else None

    def clear(self) -> None:
        """Forget the data (a reset)."""

    def has_data(self) -> bool:
        return False

    def draw(self) -> None:
        """Plot the kept data onto self.plt (already cleared)."""

    def title(self, text: str) -> None:
        """Set the title, shortened to the width (plotext drops a title that does not fit)."""
        room = max(8, self.size.width - 9) if self.size.width else len(text)  # y tick labels (<= 6) and the frame
        self.plt.title(text if len(text) <= room else text[: room - 1] + "…")

    @property
    def points(self) -> int:
        """How many points a line needs at this width (braille: two dots per character cell)."""
        return max(50, 2 * self.size.width)

    @property
    def ticks(self) -> int:
        """How many x ticks fit at this width."""
        return max(2, min(6, self.size.width // 12))

    def replot(self) -> None:
        """Clear, plot, refresh. The figure is rebuilt from the kept data inside render(), at the
        widget's current size: plotext transforms some settings in place (log-scale ticks), so a
        figure must never be built twice, and a resize needs a fresh layout anyway."""
        self.refresh()

    def render(self):
        plt = self.plt
        plt.clear_figure()
        if self.has_data():
            self.draw()
        else:
            self.title(self.placeholder)
            plt.frame(False)
            plt.xticks([])
            plt.yticks([])
        frame = super().render()
        if self.has_data():
            self._colour_key(frame)
        self.frame = frame
        return frame

    def _colour_key(self, frame) -> None:
        """Draw the `key` words of the title (the first line) in their curves' colours."""
        first = frame.plain.split("\n", 1)[0]
        for word, colour in self.key:
            at = first.find(word)
            if at >= 0:
                code = colour if isinstance(colour, int) else color_codes[colour]
                frame.stylize(Style(color=Color.from_ansi(code), bold=True), at, at + len(word))

    @property
    def dots(self) -> int:
        """Braille dots down the canvas (4 a character row): the spacing of a filled band."""
        return 4 * max(1, self.size.height - (5 if not self.small else 4))

    def render_lines(self, crop):
        """Textual draws the plot here (plotext's build and the conversion to terminal cells):
        the time it takes is what the grid's refresh budget counts."""
        t0 = time.perf_counter()
        try:
            return super().render_lines(crop)
        finally:
            grid = self.parent
            if isinstance(grid, PlotGrid):
                grid.drawing_s += time.perf_counter() - t0


def ema(values: list[float], alpha: float) -> list[float]:
    """Exponential moving average (`alpha`: the weight of each new value); non-finite values are
    passed through and do not enter the average."""
    out, avg = [], None
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(v)
            continue
        avg = v if avg is None else alpha * v + (1 - alpha) * avg
        out.append(avg)
    return out


# The raw losses under a moving average, in dimmer shades of TRUTH and MODEL (xterm-256 codes).
FAINT = {TRUTH: 30, MODEL: 130}
EMA_ALPHA = 0.3


class LossPlot(LivePlot):
    """Training and validation loss (MSE, normalised units) per epoch, log scale (`log_y`, y toggles)
    or linear; `smooth` (a toggles) draws an exponential moving average over the raw curves (faint)."""

    placeholder = "loss: press s to train"
    key = (("train", TRUTH), ("validation", MODEL))
    smooth = var(False, init=False)
    log_y = var(True, init=False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def _watch_smooth(self) -> None:
        self.replot()

    def _watch_log_y(self) -> None:
        self.replot()

    def clear(self) -> None:
        self.epochs: list[int] = []
        self.train: list[float] = []
        self.val: list[float] = []
        # an ensemble: every member's losses per epoch, drawn as bands under the median lines
        self.members_train: list[tuple[float, ...]] = []
        self.members_val: list[tuple[float, ...]] = []

    def add(self, epoch: int, train: float, val: float, members_train: tuple = (), members_val: tuple = ()) -> None:
        self.epochs.append(epoch)
        self.train.append(train)
        self.val.append(val)
        if members_train:
            self.members_train.append(tuple(members_train))
            self.members_val.append(tuple(members_val))

    @property
    def ensemble(self) -> bool:
        return bool(self.members_train) and len(self.members_train) == len(self.epochs)

    def _bands(self, shown: list[float]) -> None:
        """The members' 10-90% band of each loss (faint), under the median lines."""
        x = np.asarray(self.epochs, dtype=float)
        spans = [bands.quantiles(np.asarray(m, dtype=float).T) for m in (self.members_train, self.members_val)]
        finite = [v for lo, _, hi in spans for v in (*lo, *hi) if math.isfinite(v) and (v > 0 or not self.log_y)]
        if not finite:
            return
        ylim = (min(finite + shown), max(finite + shown))
        for (lo, _, hi), color in zip(spans, (TRUTH, MODEL)):
            xs, ys = bands.fill(x, lo, hi, ylim, self.dots, self.points, log=self.log_y)
            if xs:
                self.plt.scatter(xs, ys, marker="braille", color=FAINT[color])
            shown += [v for v in (*lo, *hi) if math.isfinite(v) and (v > 0 or not self.log_y)]

    def has_data(self) -> bool:
        return bool(self.epochs)

    def series(self) -> list[tuple[list[float], str, str | int]]:
        """(values, legend label or '', plotext colour) of each curve drawn, raw ones first."""
        curves = []
        for ys, label, color in ((self.train, "train", TRUTH), (self.val, "validation", MODEL)):
            if self.smooth:
                curves.append((ys, "", FAINT[color]))
                curves.append((ema(ys, EMA_ALPHA), label, color))
            else:
                curves.append((ys, label, color))
        return curves

    def draw(self) -> None:
        plt = self.plt
        extra = (" · EMA" if self.smooth else "") + ("" if self.log_y else " · linear")
        if self.ensemble:  # the median member's losses, the members' spread as bands
            self.title(f"loss of {len(self.members_train[-1])} (median, {bands.BAND_LABEL}): train, validation{extra}")
        else:
            self.title(f"loss/epoch: train, validation{extra}" if self.small
                       else f"loss (MSE{'' if extra else ', normalised'}): train, validation{extra}")
        if not self.small:
            plt.xlabel("epoch")
        if self.log_y:
            plt.yscale("log")
        shown: list[float] = []
        if self.ensemble:
            self._bands(shown)
        for ys, label, color in self.series():
            style = dict(color=color, label=self.legend(label, 2) if label else None)
            if self.log_y:
                shown += _log_line(plt, self.epochs, ys, self.points, **style)
                continue
            pairs = [(e, v) for e, v in zip(self.epochs, ys) if v is not None and math.isfinite(v)]
            if pairs:
                x, y = _bucket(*(np.asarray(c, float) for c in zip(*pairs)), self.points)
                plt.plot(x.tolist(), y.tolist(), marker="braille", **style)
                shown += y.tolist()
        if self.log_y:
            _log_ticks(plt, shown)
        elif shown:
            _lin_ticks(plt.yticks, min(shown), max(shown))
        _int_ticks(plt.xticks, self.epochs[0], self.epochs[-1], self.ticks)


class GradNormPlot(LivePlot):
    """Gradient norm (before clipping) at every optimisation step, log scale."""

    placeholder = "gradient norm: press s to train"

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
        self.title("gradient norm per step")
        plt.yscale("log")
        if not self.small:
            plt.xlabel("step")
        y = _log_line(plt, range(1, len(self.norms) + 1), self.norms, self.points, color="magenta")
        if y:
            _log_ticks(plt, y)
        _int_ticks(plt.xticks, 1, len(self.norms), self.ticks)


class RidgePathPlot(LivePlot):
    """A closed-form readout's ridge path (summary's ReadoutReport): the validation VPT against the
    ridge where it was scored (chaotic systems), else the validation loss, the ridge kept marked.
    Ridge 0 (least squares) is drawn one decade left of the smallest ridge, labelled 0."""

    placeholder = "ridge path: press s to fit the readout"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.report = None

    def set_report(self, report) -> None:
        self.report = report

    def has_data(self) -> bool:
        return self.report is not None and bool(self.report.path)

    def series(self) -> tuple[list[float], list[float], str]:
        """(x: log10 ridge, 0 one decade left of the smallest; y; what y is)."""
        path = self.report.path
        positive = [r for r, _, _ in path if r > 0]
        zero_at = math.log10(min(positive)) - 1 if positive else 0.0
        xs = [math.log10(r) if r > 0 else zero_at for r, _, _ in path]
        if any(math.isfinite(v) for _, _, v in path):
            return xs, [v for _, _, v in path], "validation VPT (Lyapunov times)"
        return xs, [loss for _, loss, _ in path], "validation loss"

    def draw(self) -> None:
        plt, rep = self.plt, self.report
        xs, ys, what = self.series()
        short = "VPT (Lyap.)" if what.startswith("validation VPT") else "loss"
        self.title(f"val {short} by ridge · kept {rep.ridge:g}{' auto' if rep.auto else ''}")
        keep = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y) and (y > 0 or what.startswith("validation VPT"))]
        if not keep:
            return
        kx, ky = zip(*keep)
        if what == "validation loss":
            plt.yscale("log")
            y = _log_line(plt, kx, ky, self.points, color="cyan")
            if y:
                _log_ticks(plt, y)
        else:
            plt.plot(kx, ky, color="cyan", marker="braille")
        at = [(x, y) for x, (r, _, _), y in zip(xs, rep.path, ys) if r == rep.ridge and math.isfinite(y) and (y > 0 or what != "validation loss")]
        if at:
            plt.scatter([at[0][0]], [at[0][1]], color="yellow", marker="●")
        pairs = [(x, "0" if r == 0 else f"1e{round(x)}") for x, (r, _, _) in zip(xs, rep.path)]
        shown = pairs[:: max(1, math.ceil(len(pairs) / self.ticks))]
        plt.xticks([x for x, _ in shown], [label for _, label in shown])
        if not self.small:
            plt.xlabel("ridge")


class ForecastPlot(LivePlot):
    """One component: the truth as markers, the model's free run as a line, from where prediction
    starts (a vertical mark); the true history before it; optionally the one-step predictions.
    Which component, and whether the one-step lines show, are reactive: set them and it redraws."""

    placeholder = "forecast vs truth: press s to train"
    component = var(0, init=False)
    show_one_step = var(False, init=False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.chosen = False  # the user picked a component with `c`
        self.clear()

    def clear(self) -> None:
        self.forecast: Forecast | None = None

    def set_forecast(self, f: Forecast) -> None:
        self.forecast = f
        k = self.component
        if not self.chosen and f.truth.shape[1] > 3:
            # A field: start at the grid point that moves most (the edges of a soliton field are flat).
            k = int(np.nanargmax(np.nanstd(f.truth, axis=0)))
        # No watcher: the grid redraws this plot at its bounded rate along with the others.
        self.set_reactive(ForecastPlot.component, k % len(f.names))

    def _validate_component(self, k: int) -> int:
        return k % len(self.forecast.names) if self.forecast is not None else 0

    def _watch_component(self) -> None:
        self.replot()

    def _watch_show_one_step(self) -> None:
        self.replot()

    def next_component(self) -> str:
        """Show the next component (the user's choice from now on); returns its name ('' before
        any forecast)."""
        self.chosen = True
        self.component += 1
        return self.forecast.names[self.component] if self.forecast is not None else ""

    def has_data(self) -> bool:
        return self.forecast is not None

    key = (("truth", TRUTH), ("model free run", MODEL), ("one step", ONE_STEP), ("median", MODEL),
           (bands.BAND_LABEL, FAINT[MODEL]))
    band = None  # an ensemble's forecast: (t, 10th percentile, median, 90th percentile) of the component shown

    def draw(self) -> None:
        f, plt, k = self.forecast, self.plt, self.component % len(self.forecast.names)
        one_step = " and one step" if self.show_one_step else ""
        ensemble = f.members is not None and len(f.members) > 1
        what = f"{len(f.members)} models: median, {bands.BAND_LABEL}" if ensemble else "model free run"
        if self.small:
            self.title(f"{f.names[k]}: truth vs {what}{one_step}, epoch {f.epoch} · c: next")
        else:
            self.title(f"{f.names[k]}: truth vs {what}{one_step} (epoch {f.epoch})   [c: next component]")
            plt.xlabel("t")
        entries = 3 + bool(self.show_one_step) + ensemble
        t = np.asarray(f.t)
        hist = f.history[:, k] if len(f.history_t) else np.zeros(0)
        truth = np.concatenate([f.truth[:, k], hist])
        lines = [(f.prediction[:, k], MODEL, self.legend("model (free run)", entries))]
        self.band = None
        if ensemble:  # the members' median as the line, their spread as a band under everything
            q10, q50, q90 = bands.quantiles(f.members[:, :, k])
            self.band = (t, q10, q50, q90)
            lines = [(q50, MODEL, self.legend(f"median of {len(f.members)}", entries))]
        if self.show_one_step:
            lines.insert(0, (f.one_step[:, k], ONE_STEP, self.legend("model (one step)", entries)))
        spans = [v for v, _, _ in lines] + ([q10, q90] if ensemble else [])
        finite = np.concatenate([np.asarray(v)[np.isfinite(v)] for v in spans])
        lo, hi = _view(truth, finite) if len(finite) else (float(truth.min()), float(truth.max()))
        plt.ylim(lo, hi)
        _lin_ticks(plt.yticks, lo, hi)
        if ensemble:
            xs, ys = bands.fill(t, q10, q90, (lo, hi), self.dots, self.points)
            if xs:
                plt.scatter(xs, ys, marker="braille", color=FAINT[MODEL], label=self.legend(f"models {bands.BAND_LABEL}", entries))
        if len(f.history_t):
            plt.plot(f.history_t.tolist(), f.history[:, k].tolist(), color=MARK, marker="braille", label=self.legend("truth (input)", entries))
        x, y = _thin(t, np.asarray(f.truth[:, k]), 400)
        plt.scatter(x.tolist(), y.tolist(), color=TRUTH, marker="dot", label=self.legend("truth", entries))
        for values, color, label in lines:
            x, y = _thin(t, np.asarray(values), self.points)
            ok = np.isfinite(y)
            if ok.any():  # clipped into view: plotext rasterises lines far off the canvas point by point
                plt.plot(x[ok].tolist(), np.clip(y[ok], lo, hi).tolist(), color=color, marker="braille", label=label)
        if len(t):
            plt.vertical_line(float(t[0]), color=MARK)


class PhasePlot(LivePlot):
    """Phase portrait of the system's phase pair (e.g. Lorenz x–z): truth vs model free run."""

    placeholder = "phase portrait: press s to train"
    key = (("truth", TRUTH), ("model free run", MODEL))

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.pair: tuple[int, int] | None = None
        self.clear()

    def clear(self) -> None:
        self.forecast: Forecast | None = None

    def set_forecast(self, f: Forecast) -> None:
        self.forecast = f

    def has_data(self) -> bool:
        return self.forecast is not None and self.forecast.truth.shape[1] >= 2

    def draw(self) -> None:
        r, plt = self.forecast, self.plt
        a, b = self.pair or (0, 1)
        a, b = a % r.truth.shape[1], b % r.truth.shape[1]
        self.title(f"{r.names[a]}–{r.names[b]} phase portrait: truth vs model free run")
        plt.xlabel(r.names[a])
        plt.ylabel(r.names[b])
        plt.scatter(r.truth[:, a].tolist(), r.truth[:, b].tolist(), color=TRUTH, marker="dot", label=self.legend("truth", 2))
        p = np.asarray(r.prediction)
        ok = np.isfinite(p[:, a]) & np.isfinite(p[:, b])
        if ok.any():
            # Keep the attractor in view even when the free run leaves it (and clip the line into
            # the view: plotext rasterises lines far off the canvas point by point).
            xl, yl = _view(r.truth[:, a], p[ok, a]), _view(r.truth[:, b], p[ok, b])
            plt.xlim(*xl)
            plt.ylim(*yl)
            _lin_ticks(plt.xticks, *xl)
            _lin_ticks(plt.yticks, *yl)
            plt.plot(np.clip(p[ok, a], *xl).tolist(), np.clip(p[ok, b], *yl).tolist(), color=MODEL, marker="braille", label=self.legend("model (free run)", 2))


def _colormap(v: np.ndarray, vmax: float) -> list[tuple[int, int, int]]:
    """Diverging colours centred on 0 with a dark middle (quiet on dark terminals): negative values
    towards blue, positive towards red, |v| >= vmax at full strength; NaN grey."""
    s = np.clip(v / (vmax or 1.0), -1.0, 1.0)[:, None]
    base, neg, pos = np.array([30, 30, 40]), np.array([70, 140, 255]), np.array([255, 90, 50])
    rgb = base + np.abs(s) * np.where(s < 0, neg - base, pos - base)
    rgb = np.nan_to_num(rgb, nan=110).astype(int)
    return [tuple(map(int, c)) for c in rgb]


def _resample(a: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Exactly n_out samples along an axis: block means when shrinking, repeats when growing
    (so the heatmap fills every character cell, with no holes)."""
    n = a.shape[axis]
    if n >= n_out:
        starts = np.floor(np.linspace(0, n, n_out + 1)[:-1]).astype(int)
        counts = np.diff(np.append(starts, n))
        sums = np.add.reduceat(a, starts, axis=axis)
        shape = [1] * a.ndim
        shape[axis] = n_out
        return sums / counts.reshape(shape)
    idx = np.minimum(((np.arange(n_out) + 0.5) * n / n_out).astype(int), n - 1)
    return np.take(a, idx, axis=axis)


class HovmollerPlot(LivePlot):
    """Space-time heatmap of a field (KdV): truth and model side by side, time upward, a line where
    prediction starts (the rows below it are the true input history in both panels)."""

    placeholder = "Hovmöller (space-time) plot: appears with the first forecast of a field system"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.forecast: Forecast | None = None

    def set_forecast(self, f: Forecast) -> None:
        self.forecast = f

    def has_data(self) -> bool:
        return self.forecast is not None

    def draw(self) -> None:
        r, plt = self.forecast, self.plt
        hist = np.asarray(r.history) if len(r.history_t) else np.zeros((0, r.truth.shape[1]))
        truth = np.vstack([hist, r.truth])
        pred = np.vstack([hist, r.prediction])
        times = np.concatenate([np.asarray(r.history_t), np.asarray(r.t)])
        vmax = float(np.nanmax(np.abs(truth))) if np.isfinite(truth).any() else 1.0
        T, N = truth.shape
        cols = max(4, self.size.width // 2 - 6)  # at least the canvas width of each panel
        rows = max(4, self.size.height - 3)
        plt.subplots(1, 2)
        for i, (data, title) in enumerate(((truth, "truth"), (pred, f"model (free run), epoch {r.epoch}")), start=1):
            sub = plt.subplot(1, i)
            sub.title(title[: max(8, self.size.width // 2 - 6)])
            grid = _resample(_resample(data, rows, 0), cols, 1)  # (time rows, space cols)
            yy, xx = np.meshgrid(np.arange(rows), np.arange(cols) * N / cols, indexing="ij")
            sub.scatter(xx.ravel().tolist(), yy.ravel().tolist(), marker="sd", color=_colormap(grid.ravel(), vmax))
            # Where prediction starts (rows below it are the true input history in both panels).
            start_row = len(hist) * rows / T - 0.5
            sub.plot([0, (cols - 1) * N / cols], [start_row, start_row], marker="─", color="white")
            ticks = np.linspace(0, rows - 1, min(4, rows)).round().astype(int)
            t_at = np.interp((ticks + 0.5) * T / rows, np.arange(T), times)
            sub.yticks(ticks.tolist(), [f"{v:.3g}" for v in t_at])
            _int_ticks(sub.xticks, 0, (cols - 1) * N / cols, max(2, min(5, cols // 8)))
            sub.xlabel("x (grid index)")
            if i == 1:
                sub.ylabel("t")


class HorizonPlot(LivePlot):
    """RMSE by forecast horizon (data units). During training: this forecast's error; at the end:
    the test curve over many starts from the summary, with the valid prediction time for chaotic systems.
    An ensemble: the mean forecast's curve over the members' band (10-90%), and each member's valid
    prediction time as a tick on a strip along the top, the mean forecast's as a vertical line."""

    placeholder = "free-run RMSE: press s to train"
    key = (("free-run", MODEL), ("mean forecast", MODEL), ("members", FAINT[MODEL]))
    STRIP = "│"  # a member's valid prediction time on the strip

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.clear()

    def clear(self) -> None:
        self.curve: np.ndarray | None = None
        self.source = ""
        self.vpt = ""
        self.members: np.ndarray | None = None  # (K, H) each member's RMSE curve (an ensemble)
        self.member_vpt: np.ndarray | None = None  # (K,) each member's median valid prediction time, in steps
        self.mean_vpt: float | None = None  # the mean forecast's, in steps

    def from_forecast(self, f: Forecast) -> None:
        self.curve = f.rmse_by_step()
        self.source = f"this forecast, epoch {f.epoch}"
        if f.members is not None and len(f.members) > 1:
            with np.errstate(all="ignore"):
                self.members = np.sqrt(np.mean((np.asarray(f.members, float) - np.asarray(f.truth, float)) ** 2, axis=2))

    def from_summary(self, summary: Summary) -> None:
        """The test-split curve (kept: this forecast's, where the run was not evaluated)."""
        e = summary.evaluation
        if e is not None and e.rmse_curve:
            self.curve = np.asarray(e.rmse_curve, dtype=float)
            self.source = f"{e.split}, {e.n_starts} starts"
        self.vpt = summary.vpt_text()
        ens = summary.ensemble
        if ens is None or e is None or not e.rmse_curve:
            return
        curves = [m.evaluation.rmse_curve if m.evaluation is not None and m.evaluation.rmse_curve else () for m in ens.members]
        self.members = np.array([list(c) if len(c) == len(self.curve) else [np.nan] * len(self.curve) for c in curves], float)
        if e.vpt is not None and ens.dt > 0:
            self.mean_vpt = e.vpt.time.median / ens.dt
            self.member_vpt = np.array([m.evaluation.vpt.time.median / ens.dt if m.evaluation is not None and m.evaluation.vpt
                                        else np.nan for m in ens.members], float)
            lyap = ens.vpts()
            if np.isfinite(lyap).any():
                self.vpt = (f"VPT mean forecast {e.vpt.lyapunov.median:.2f}, members {np.nanmedian(lyap):.2f} "
                            f"({np.nanmin(lyap):.2f}–{np.nanmax(lyap):.2f}) Lyapunov times")

    def has_data(self) -> bool:
        return self.curve is not None

    def draw(self) -> None:
        plt = self.plt
        ensemble = self.members is not None and len(self.members) > 1
        title = "free-run RMSE by horizon" + ("" if self.small else f" ({self.source})")
        if ensemble:
            title = f"mean forecast and members {bands.BAND_LABEL}: " + title
        if self.vpt:  # the valid prediction time first: it is what a reader looks for
            title = f"{self.vpt} · " + title
        self.title(title)
        plt.yscale("log")
        if not self.small:
            plt.xlabel("steps ahead")
        steps = np.arange(1, len(self.curve) + 1, dtype=float)
        shown: list[float] = []
        if ensemble:
            q10, _, q90 = bands.quantiles(self.members)
            finite = [v for v in (*q10, *q90, *self.curve) if math.isfinite(v) and v > 0]
            if finite:
                xs, ys = bands.fill(steps, q10, q90, (min(finite), max(finite)), self.dots, self.points, log=True)
                if xs:
                    plt.scatter(xs, ys, marker="braille", color=FAINT[MODEL], label=self.legend("members", 3))
                shown += finite
        label = "mean forecast" if ensemble else "model (free run)"
        shown += _log_line(plt, steps.tolist(), self.curve.tolist(), self.points, reduce=_thin, color=MODEL,
                           label=self.legend(label, 3 if ensemble else 1))
        if shown:
            _log_ticks(plt, shown)
            self._strip(max(shown))
        _int_ticks(plt.xticks, 1, len(self.curve), self.ticks)

    def _strip(self, top: float) -> None:
        """Each member's valid prediction time as a tick along the top; the mean forecast's as a line."""
        if self.member_vpt is not None:
            at = [float(v) for v in self.member_vpt if math.isfinite(v) and 1 <= v <= len(self.curve)]
            if at:
                self.plt.scatter(at, [top] * len(at), marker=self.STRIP, color=MODEL)
        if self.mean_vpt is not None and 1 <= self.mean_vpt <= len(self.curve):
            self.plt.vertical_line(float(self.mean_vpt), color=MARK)


class PlotGrid(Grid):
    """All the live plots. The first slot spans both columns: the forecast, or for a field the
    Hovmöller plot; systems with a phase pair show a portrait (see app.tcss). New data goes into
    the plots at once; `flush()` redraws the changed ones at most every PLOT_S, and less often
    where drawing them is slow: the wait after a redraw is at least its cost / PLOT_BUDGET, so the
    trainer (which needs the same interpreter lock) keeps ~97% of it, whatever the machine."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.stale: set[LivePlot] = set()
        self.plotted = 0.0  # when the plots were last redrawn
        self.drawing_s = 0.0  # seconds spent drawing plots (LivePlot.render_lines adds to it)
        self._drawn_at_flush = 0.0  # drawing_s at the last flush

    def compose(self) -> ComposeResult:
        yield HovmollerPlot(id="hovmoller")
        yield ForecastPlot(id="forecast")
        yield LossPlot(id="losses")
        yield GradNormPlot(id="gradnorm")
        yield RidgePathPlot(id="ridgepath")
        yield PhasePlot(id="phase")
        yield HorizonPlot(id="horizon")

    def show_system(self, system_name: str) -> None:
        system = get_system(system_name)
        kind = "field" if system.kind == "field" else ("phase" if system.phase else "scalar")
        for k in ("field", "phase", "scalar"):
            self.set_class(k == kind, f"-{k}")
        self.query_one(PhasePlot).pair = system.phase

    def clear(self) -> None:
        self.stale.clear()
        for plot in self.query(LivePlot):
            plot.clear()
            plot.replot()

    def add_epochs(self, epochs) -> None:
        """Core EpochEnd events, in order."""
        losses, grads = self.query_one(LossPlot), self.query_one(GradNormPlot)
        for e in epochs:
            losses.add(e.epoch, e.train_loss, e.val_loss, e.members_train_loss, e.members_val_loss)
            grads.extend(e.grad_norms)
        self.stale.update((losses, grads))

    def set_forecast(self, f: Forecast) -> None:
        for plot in (self.query_one(ForecastPlot), self.query_one(PhasePlot), self.query_one(HovmollerPlot)):
            plot.set_forecast(f)
            self.stale.add(plot)
        horizon = self.query_one(HorizonPlot)
        horizon.from_forecast(f)
        self.stale.add(horizon)

    def show_model(self, closed_form: bool) -> None:
        """A closed-form readout shows its ridge path in place of the loss and gradient-norm plots."""
        self.set_class(closed_form, "-closed-form")

    def set_summary(self, summary: Summary) -> None:
        """The run's summary: the test-split RMSE curve and the valid prediction time, and a
        closed-form readout's ridge path."""
        horizon = self.query_one(HorizonPlot)
        horizon.from_summary(summary)
        self.stale.add(horizon)
        if summary.readout is not None:
            path = self.query_one(RidgePathPlot)
            path.set_report(summary.readout)
            self.stale.add(path)

    def wait_s(self) -> float:
        """How long after the last redraw the next may come: PLOT_S, or longer when the last
        redraw (all its plots) took more than PLOT_BUDGET of that time."""
        cost = self.drawing_s - self._drawn_at_flush
        return max(PLOT_S, cost / PLOT_BUDGET)

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.stale and (force or now - self.plotted >= self.wait_s()):
            self.plotted = now
            self._drawn_at_flush = self.drawing_s
            with self.app.batch_update():
                for plot in self.stale:
                    if plot.display:
                        plot.replot()
            self.stale.clear()
