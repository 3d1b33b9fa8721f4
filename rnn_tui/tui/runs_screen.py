"""The Runs screen (R): the run library as a sortable leaderboard, and an overlay of the selected runs:
their losses on one log-scale plot, their free-running forecasts against the same truth (only for runs
of the same system and data; otherwise a one-line reason), and their RMSE-by-horizon curves. `l` loads
the highlighted run's configuration into the panel. Reads the run folders only (library.scan and each
run's metrics.jsonl, rollout.csv, summary.json); each selected run is read once. The app's run, while it
trains, is a first row "live": its series come from the run's log, refreshed while the log has news."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from rnn_tui import config as C
from rnn_tui.core import library, runio
from rnn_tui.core.library import COLUMNS, cell, text
from rnn_tui.errors import UserError
from rnn_tui.tui.plots import TRUTH, LivePlot, _int_ticks, _lin_ticks, _log_line, _log_ticks, _thin, _view

# One plotext colour per selected run, in the order selected (cyan is the truth's).
RUN_COLOURS = ("orange", "magenta", "green", "yellow", "blue", "red", "white", "gray")
MARK = "●"
LIVE = "live"  # the row id of the app's run while it trains
LIVE_EVERY_S = 0.5  # the live series are looked at no more often than this


def short_id(run_id: str) -> str:
    """The distinguishing part of a run id: its time (20261126-113611-lorenz63_lstm -> 113611)."""
    m = re.match(r"\d{8}-(\d{6})", run_id)
    return m.group(1) if m else run_id[-8:]


@dataclass
class RunData:
    """What the overlay plots need of one run, read from its folder ("" error: all read)."""

    row: library.RunRow
    colour: str
    label: str = ""
    epochs: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    t: np.ndarray | None = None
    names: list[str] = field(default_factory=list)
    truth: np.ndarray | None = None  # (steps, components)
    pred: np.ndarray | None = None
    rmse_curve: list[float] = field(default_factory=list)
    grad_by_lag: list[float] = field(default_factory=list)  # the last probe's ‖∂L/∂h(t−k)‖ by lag (train.inspect)
    problems: list[str] = field(default_factory=list)


def read_run_data(row: library.RunRow, colour: str) -> RunData:
    """What the overlays need of a kept run, through the run files' typed readers (runio); a file
    that cannot be read is named in `problems` and its plots are left out."""
    folder = Path(row.path)
    d = RunData(row=row, colour=colour)
    size = ""
    try:
        size = runio.read_config(folder).model.label().removeprefix(f"{row.arch} ")
    except UserError:
        d.problems.append("config.toml")
    d.label = " ".join(p for p in (row.arch or "?", size, short_id(row.id)) if p)
    try:
        for e in runio.read_metrics(folder):
            d.epochs.append(e.epoch)
            d.train.append(e.train_loss)
            d.val.append(e.val_loss)
    except UserError:
        d.problems.append("metrics.jsonl")
    try:
        r = runio.read_rollout(folder)
        d.t, d.names, d.truth, d.pred = r.t, list(r.names), r.truth, r.prediction
    except UserError:
        d.problems.append("rollout.csv")
    try:
        summary = runio.read_summary(folder / "summary.json")
        d.rmse_curve = list(summary.evaluation.rmse_curve) if summary.evaluation is not None else []
    except UserError:
        d.problems.append("summary.json")
    try:
        record = runio.read_inspect(folder)
        if record is not None and record.epochs and record["grad_norm_by_lag"].size:
            d.grad_by_lag = [float(v) for v in record["grad_norm_by_lag"][-1]]
    except UserError:
        d.problems.append("inspect.npz")
    return d


def live_row(run) -> library.RunRow:
    """The table row of the app's run (a tui.worker.Run) while it trains."""
    cfg = run.cfg
    row = library.RunRow(id=LIVE, path="", when="now", system=cfg.system.name, arch=cfg.model.arch, status="training",
                         epochs=len(run.log.epochs_since(0)))
    library.fill_config(row, cfg)
    return row


def live_label(run) -> str:
    return f"{LIVE} {run.cfg.model.label()}"


def update_live_data(d: RunData, run, n_read: int, forecast) -> tuple[int, object, bool]:
    """Append the live run's epochs after the first n_read and take its newest forecast if it is not
    `forecast` (the one already taken); returns (epochs read, forecast taken, whether anything was new)."""
    new = run.log.epochs_since(n_read)
    for e in new:
        d.epochs.append(int(e.epoch))
        d.train.append(_num(e.train_loss))
        d.val.append(_num(e.val_loss))
    latest = run.log.forecast
    fresh = latest is not None and latest is not forecast
    if fresh:
        d.t, d.names = np.asarray(latest.t, float), list(latest.names)
        d.truth, d.pred = np.asarray(latest.truth, float), np.asarray(latest.prediction, float)
        d.rmse_curve = [_num(v) for v in latest.rmse_by_step()]
    return n_read + len(new), latest, bool(new) or fresh


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class OverlayPlot(LivePlot):
    """A plot of the selected runs (RunsScreen sets `runs` and replots)."""

    placeholder = "space selects runs to overlay"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.runs: list[RunData] = []

    def set_runs(self, runs: list[RunData]) -> None:
        self.runs = runs
        self.replot()

    def has_data(self) -> bool:
        return bool(self.runs)


class LossOverlay(OverlayPlot):
    """Validation loss of each run (line) and its training loss (dots), log scale."""

    placeholder = "losses: space selects runs to overlay"

    def has_data(self) -> bool:
        return any(r.epochs for r in self.runs)

    def draw(self) -> None:
        plt = self.plt
        self.title("loss (MSE, normalised): validation ─, train ·")
        plt.yscale("log")
        plt.xlabel("epoch")
        ys: list[float] = []
        for r in self.runs:
            if not r.epochs:
                continue
            ys += _log_line(plt, r.epochs, r.val, self.points, color=r.colour, label=r.label)
            x = [e for e, v in zip(r.epochs, r.train) if v > 0 and math.isfinite(v)]
            y = [v for v in r.train if v > 0 and math.isfinite(v)]
            if x:
                plt.scatter(x, y, marker="·", color=r.colour)
                ys += y
        _log_ticks(plt, ys)
        epochs = [e for r in self.runs for e in r.epochs]
        _int_ticks(plt.xticks, min(epochs), max(epochs), self.ticks)


class ForecastOverlay(OverlayPlot):
    """One component of each run's free-running forecast against the truth (runs of the same data)."""

    placeholder = "forecasts: space selects runs to overlay"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.component = 0
        self.reason = ""  # why the selected runs cannot share one forecast plot

    def set_runs(self, runs: list[RunData]) -> None:
        usable = [r for r in runs if r.truth is not None and len(r.truth)]
        keys = {r.row.data_key for r in usable}
        self.reason = ""
        if len(keys) > 1 or (usable and "" in keys):
            systems = sorted({r.row.system for r in usable})
            what = "different systems (" + ", ".join(systems) + ")" if len(systems) > 1 else "different data settings"
            self.reason = f"no common truth: the selected runs forecast {what}"
        elif runs and not usable:
            self.reason = "no forecast: the selected runs have no readable rollout.csv"
        self.runs = [] if self.reason else usable
        self.placeholder = self.reason or ForecastOverlay.placeholder
        self.replot()

    def next_component(self) -> str:
        if not self.runs:
            return ""
        self.component = (self.component + 1) % len(self.runs[0].names)
        self.replot()
        return self.runs[0].names[self.component]

    def draw(self) -> None:
        plt, first = self.plt, self.runs[0]
        k = self.component % len(first.names)
        self.component = k
        self.title(f"{first.names[k]}: truth vs free run   [c: next component]")
        plt.xlabel("t")
        tx, ty = _thin(first.t, first.truth[:, k], self.points)
        plt.scatter(tx.tolist(), ty.tolist(), marker="dot", color=TRUTH, label="truth")
        preds = []
        for r in self.runs:
            if k < r.pred.shape[1]:
                x, y = _thin(r.t, r.pred[:, k], self.points)
                keep = np.isfinite(y)
                plt.plot(x[keep].tolist(), y[keep].tolist(), marker="braille", color=r.colour, label=r.label)
                preds.append(r.pred[:, k])
        lo, hi = _view(first.truth[:, k], np.concatenate(preds) if preds else first.truth[:, k])
        plt.ylim(lo, hi)
        _lin_ticks(plt.yticks, lo, hi, 5)


class HorizonOverlay(OverlayPlot):
    """Each run's test RMSE by forecast horizon (data units), log scale."""

    placeholder = "RMSE by horizon: space selects runs to overlay"

    def has_data(self) -> bool:
        return any(r.rmse_curve for r in self.runs)

    def draw(self) -> None:
        plt = self.plt
        self.title("free-run RMSE by horizon (test)")
        plt.yscale("log")
        plt.xlabel("steps ahead")
        ys: list[float] = []
        for r in self.runs:
            if r.rmse_curve:
                ys += _log_line(plt, range(1, len(r.rmse_curve) + 1), r.rmse_curve, self.points, reduce=_thin,
                                color=r.colour, label=r.label)
        _log_ticks(plt, ys)
        _int_ticks(plt.xticks, 1, max(len(r.rmse_curve) for r in self.runs), self.ticks)


class StudyPlot(LivePlot):
    """A sweep study (`rnn-tui sweep`): each complete trial's objective against its trial number,
    and the best so far as a line."""

    placeholder = "t shows a sweep study"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.study = ""
        self.trials: list[library.RunRow] = []

    def set_trials(self, study: str, trials: list[library.RunRow]) -> None:
        self.study, self.trials = study, trials
        self.placeholder = f"study {study}: no complete trial yet" if study else StudyPlot.placeholder
        self.replot()

    def has_data(self) -> bool:
        return any(r.score is not None for r in self.trials)

    def draw(self) -> None:
        plt = self.plt
        scored = [r for r in self.trials if r.score is not None]
        objective = scored[0].objective or "objective"
        higher = objective == "vpt"
        self.title(f"{self.study}: {objective} (validation) by trial, best so far ─")
        plt.xlabel("trial")
        x = [r.trial for r in scored]
        y = [r.score for r in scored]
        best, line = None, []
        for v in y:
            best = v if best is None or (v > best if higher else v < best) else best
            line.append(best)
        log = not higher and min(y) > 0 and max(y) / min(y) > 20
        if log:
            plt.yscale("log")
        plt.scatter(x, y, marker="dot", color="orange")
        plt.plot(x, line, marker="braille", color="green")
        if log:
            _log_ticks(plt, y)
        else:
            lo, hi = min(y), max(y)
            _lin_ticks(plt.yticks, lo, hi if hi > lo else lo + 1, 5)
        _int_ticks(plt.xticks, min(x), max(x) if max(x) > min(x) else min(x) + 1, self.ticks)


class GradOverlay(OverlayPlot):
    """Each probed run's gradient by lag (train.inspect: the last probe), relative to lag 0, log10;
    shown only where a selected run has one."""

    placeholder = "gradient by lag: runs trained with train.inspect"

    def has_data(self) -> bool:
        return any(r.grad_by_lag for r in self.runs)

    def draw(self) -> None:
        plt = self.plt
        self.title("log10 ‖∂L/∂h(t−k)‖/‖∂L/∂h(t)‖ by lag k (last probe)")
        plt.xlabel("lag k")
        for r in self.runs:
            n = r.grad_by_lag
            keep = [(k, math.log10(v / n[0])) for k, v in enumerate(n) if n and n[0] > 0 and v > 0 and math.isfinite(v)]
            if keep:
                ks, ys = zip(*keep)
                plt.plot(list(ks), list(ys), color=r.colour, marker="braille", label=r.label)


class RunsScreen(Screen):
    """The leaderboard and the overlay of the selected runs."""

    DEFAULT_CSS = """
    RunsScreen #runs-hint { height: 1; color: $text-muted; padding: 0 1; }
    RunsScreen #runs-table { height: 2fr; }
    RunsScreen #overlays { height: 3fr; }
    RunsScreen #overlays LivePlot { width: 1fr; }
    """
    BINDINGS = [
        Binding("space", "toggle_mark", "Select"),
        Binding("o", "sort", "Sort"),
        Binding("c", "component", "Component"),
        Binding("l", "load_config", "Load config"),
        Binding("t", "study", "Study"),
        Binding("b", "load_best", "Best trial"),
        Binding("g", "rescan", "Rescan"),
        Binding("escape", "close", "Close"),
    ]
    AUTO_FOCUS = "#runs-table"

    def __init__(self, root: Path, select: list[str] | None = None) -> None:
        super().__init__()
        self.root = root
        self.rows: list[library.RunRow] = []
        self.sort_key = "when"
        self.study = ""  # the sweep study shown ("" for every run)
        # ids, in the order selected (their colours follow it); `select`: runs to overlay at once (a lesson's)
        self.marked: list[str] = list(select or [])
        self._data: dict[str, RunData] = {}
        self.live = None  # the app's run shown as the "live" row (a tui.worker.Run), while it trains
        self._live_data: RunData | None = None
        self._live_read: tuple[int, object] = (0, None)  # its epochs read, its forecast taken

    def compose(self) -> ComposeResult:
        yield Label("", id="runs-hint")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="overlays"):
            yield LossOverlay(id="loss-overlay")
            yield ForecastOverlay(id="forecast-overlay")
            yield HorizonOverlay(id="horizon-overlay")
            yield GradOverlay(id="grad-overlay")
            yield StudyPlot(id="study-plot")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="mark")
        for name, label in COLUMNS:
            table.add_column(label, key=name)
        self.query_one(StudyPlot).display = False
        self.query_one(GradOverlay).display = False
        self.action_rescan()
        self.set_interval(LIVE_EVERY_S, self._live_tick)

    # -- the table --------------------------------------------------------------------------------

    @property
    def table(self) -> DataTable:
        return self.query_one("#runs-table", DataTable)

    def action_rescan(self) -> None:
        run = getattr(self.app, "current", None)
        live = run if run is not None and not run.done.is_set() else None
        if live is not self.live:
            self.live, self._live_data, self._live_read = live, None, (0, None)
        self.rows = ([live_row(live)] if live is not None else []) + library.scan(self.root)
        ids = {r.id for r in self.rows}
        self.marked = [i for i in self.marked if i in ids]
        if self.study and self.study not in self.studies():
            self.study = ""
        self._fill()
        self._overlay()
        self._show_study()

    def _sorted(self) -> list[library.RunRow]:
        rows = library.select([r for r in self.rows if r.id != LIVE], sort=self.sort_key, study=self.study or None)
        if self.study:
            return rows  # a study's trials only
        rows = rows[::-1] if self.sort_key == "when" else rows  # the newest first
        return [r for r in self.rows if r.id == LIVE] + rows  # the live run first

    def _fill(self) -> None:
        table = self.table
        current = self._highlighted()
        table.clear()
        shown = self._sorted()
        for r in shown:
            bad = r.status in ("unreadable", "running")
            style = "dim" if bad else ""
            cells = [Text(MARK if r.id in self.marked else " ", style="bold")]
            for name, _ in COLUMNS:
                value = r.reason if bad and name == "params" else cell(r, name)
                cells.append(Text(value, style=style))
            table.add_row(*cells, key=r.id)
        if current is not None and current.id in {r.id for r in shown}:  # a study's view leaves other runs out
            table.move_cursor(row=table.get_row_index(current.id))
        best = "best first" if self.sort_key in library.LOWER_IS_BETTER else ("newest first" if self.sort_key == "when" else "")
        if self.study:
            trials = library.study_rows(self.rows, self.study)
            top = library.best_trial(trials)
            what = (f"study {self.study}: {len(trials)} trials, best trial {top.trial} ({top.objective} {top.score:.4g}) · b loads it"
                    if top else f"study {self.study}: {len(trials)} trials, none complete yet")
        else:
            what = f"{sum(r.id != LIVE for r in self.rows)} runs in {self.root}{' + the live run' if self.live else ''}"
        self.query_one("#runs-hint", Label).update(
            f"{what} · sorted by {self.sort_key}{' (' + best + ')' if best else ''} · "
            "space selects · o or a header sorts · t study · c component · l loads the config · escape closes")

    def _highlighted(self) -> library.RunRow | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.id == key), None)

    def sort_by(self, key: str) -> None:
        if key not in library.SORT_KEYS:
            self.notify(f"cannot sort by {key}", severity="warning", timeout=3)
            return
        self.sort_key = key
        self._fill()

    def action_sort(self) -> None:
        keys = library.SORT_KEYS
        self.sort_by(keys[(keys.index(self.sort_key) + 1) % len(keys)])

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    def action_toggle_mark(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        if row.id in self.marked:
            self.marked.remove(row.id)
        elif row.status == "unreadable":
            self.notify(f"{row.id} is unreadable: {row.reason}", severity="warning")
            return
        else:
            self.marked.append(row.id)
        self.table.update_cell(row.id, "mark", Text(MARK if row.id in self.marked else " ", style="bold"))
        self._overlay()

    # -- the overlay ------------------------------------------------------------------------------

    def selected(self) -> list[RunData]:
        out = []
        for i, run_id in enumerate(self.marked):
            row = next(r for r in self.rows if r.id == run_id)
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            if run_id == LIVE:
                d = self._live_series(row, colour)
            else:
                if run_id not in self._data:
                    self._data[run_id] = read_run_data(row, colour)
                d = self._data[run_id]
            d.colour = colour  # colours follow the selection order
            out.append(d)
        return out

    def _live_series(self, row: library.RunRow, colour: str) -> RunData:
        if self._live_data is None:
            self._live_data = RunData(row=row, colour=colour, label=live_label(self.live))
            self._live_read = (0, None)
        d = self._live_data
        n, forecast, _ = update_live_data(d, self.live, *self._live_read)
        self._live_read = (n, forecast)
        return d

    def _live_tick(self) -> None:
        """Timer: replot the overlay when the selected live run's log has news."""
        if self.live is None or LIVE not in self.marked or self._live_data is None:
            return
        n, forecast, news = update_live_data(self._live_data, self.live, *self._live_read)
        self._live_read = (n, forecast)
        if news:
            self._overlay()
            if self.table.row_count and LIVE in {r.id for r in self.rows}:
                self.table.update_cell(LIVE, "epochs", Text(text(n)))

    def _overlay(self) -> None:
        runs = self.selected()
        for run in runs:
            if run.problems:
                self.notify(f"{run.row.id}: cannot read {', '.join(run.problems)}", severity="warning", timeout=5)
                run.problems = []  # said once
        for plot in self.query(OverlayPlot):
            plot.set_runs(runs)
        grad = self.query_one(GradOverlay)
        grad.display = grad.has_data() and not self.query_one(StudyPlot).display

    def action_component(self) -> None:
        name = self.query_one(ForecastOverlay).next_component()
        if name:
            self.notify(f"forecast overlay: component {name}", timeout=2)

    # -- sweep studies ----------------------------------------------------------------------------

    def studies(self) -> list[str]:
        return sorted({r.study for r in self.rows if r.study})

    def action_study(self) -> None:
        """Cycle: every run, then each sweep study's trials (with its objective-by-trial plot)."""
        names = self.studies()
        if not names:
            self.notify("no sweep studies in this runs folder (rnn-tui sweep makes them)", timeout=3)
            return
        order = ["", *names]
        self.study = order[(order.index(self.study) + 1) % len(order)] if self.study in order else ""
        if self.study and self.sort_key == "when":
            self.sort_key = "trial"
        self._fill()
        self._show_study()

    def _show_study(self) -> None:
        plot = self.query_one(StudyPlot)
        plot.display = bool(self.study)
        self.query_one(HorizonOverlay).display = not self.study
        plot.set_trials(self.study, library.study_rows(self.rows, self.study) if self.study else [])

    def action_load_best(self) -> None:
        if not self.study:
            self.notify("press t to show a sweep study first", severity="warning", timeout=3)
            return
        top = library.best_trial(library.study_rows(self.rows, self.study))
        if top is None:
            self.notify(f"study {self.study} has no complete trial yet", severity="warning", timeout=3)
            return
        self._load(top)

    # -- load the configuration -------------------------------------------------------------------

    def action_load_config(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        self._load(row)

    def _load(self, row: library.RunRow) -> None:
        app = self.app
        if app._training():
            self.notify("stop the run (x) before loading a configuration", severity="warning")
            return
        try:
            cfg = C.load(config=Path(row.path) / "config.toml", strict=False)
        except (UserError, OSError) as exc:
            self.notify(f"cannot load {row.id}: {exc}", severity="error")
            return
        app.panel.load(cfg)
        app.plots.show_system(cfg.system.name)
        app.sub_title = f"run {row.id}: {cfg.system.name} · {cfg.model.arch}"
        self.dismiss()
        app.notify(f"loaded the configuration of {row.id}: change it and press s")

    def action_close(self) -> None:
        self.dismiss()
