"""The Textual app: lays out the configuration panel, the live plots and the status line, binds the
keys, and runs core `train` in a thread worker. A timer reads what the run reported (worker.RunLog)
and moves it to the screen; plots redraw at a bounded rate, only when new data came.

The layout follows the terminal's size through classes on the screen (Textual's breakpoints, see
app.tcss): below 110 columns the configuration panel folds away (f shows it in place of the plots),
below 32 rows the grid keeps the forecast and two plots, and below MIN_SIZE one line says so."""

from __future__ import annotations

import asyncio
from typing import Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from rnn_tui import config as C
from rnn_tui.core.events import Started
from rnn_tui.errors import UserError
from rnn_tui.models.registry import ARCHS
from rnn_tui.systems import system_docs
from rnn_tui.tui.config_panel import ConfigPanel
from rnn_tui.core import library
from rnn_tui.tui.plots import ForecastPlot, LivePlot, LossPlot, PlotGrid
from rnn_tui.tui.inside_screen import InsideScreen
from rnn_tui.tui.climate_screen import ClimateScreen
from rnn_tui.tui.lessons_screen import LessonsScreen
from rnn_tui.tui.runs_screen import RunsScreen
from rnn_tui.tui.screens import HelpScreen, LoadPresetScreen, SavePresetScreen
from rnn_tui.tui.status import StatusBar, device_text
from rnn_tui.tui.worker import News, Run

REDRAW_S = 0.25  # status line: at most 4 updates a second (plots: see plots.PLOT_S), only when something new came
STOP_WAIT_S = 30.0  # quitting waits this long at most for the trainer to finish its step
ENDED = {"finished": "finished: e exports a copy", "cancelled": "stopped: e exports a copy"}
MIN_SIZE = (60, 20)  # columns, rows: below this the app shows one line asking for more room
NARROW = 110  # columns: below this the configuration panel folds away (f shows it instead of the plots)


class KeyFooter(Footer):
    """The footer, each key marked with its action (`-key-start`) so that a narrow screen can leave
    out the keys it has no room for (app.tcss); `?` and `q` always stay."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            action = getattr(widget, "action", None)  # a FooterKey (not exported by textual.widgets)
            if isinstance(action, str):
                widget.add_class(f"-key-{action.rsplit('.', 1)[-1]}")
            yield widget


class TooSmall(Static):
    """Shown instead of the layout when the terminal is smaller than MIN_SIZE."""

    def render(self) -> str:
        width, height = self.app.size
        return f"rnn-tui needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]} (this is {width}×{height})"


class RnnTuiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "rnn-tui"
    AUTO_FOCUS = None  # nothing focused at start, so the letter keys act at once
    # The screen gets one class per axis from its size; app.tcss lays out each.
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny-w"), (MIN_SIZE[0], "-slim"), (80, "-narrow"), (NARROW, "-medium"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny-h"), (MIN_SIZE[1], "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("p", "pause", "Pause"),
        Binding("x", "stop", "Stop"),
        Binding("r", "reset", "Reset"),
        Binding("e", "export", "Export"),
        Binding("c", "component", "Component"),
        Binding("o", "one_step", "One-step", show=False),
        Binding("f", "toggle_panel", "Settings"),
        Binding("m", "maximize_plot", "Maximise"),
        Binding("R", "runs", "Runs", show=False),
        Binding("L", "lessons", "Lessons", show=False),
        Binding("i", "inside", "Inside", show=False),
        Binding("C", "climate", "Climate", show=False),
        Binding("a", "smooth_loss", "Smooth loss", show=False),
        Binding("y", "loss_scale", "Loss lin/log", show=False),
        Binding("P", "screenshot_svg", "Screenshot", show=False),
        Binding("ctrl+s", "save_preset", "Save preset", priority=True),
        Binding("ctrl+o", "load_preset", "Load preset", priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self, cfg: C.Config | None = None, source: str = "defaults", runs: str | None = None) -> None:
        super().__init__()
        self.cfg = cfg or C.Config()
        self.source = source
        self.runs = runs  # the runs folder every run is kept in (None: $RNN_TUI_RUNS or ./runs)
        self.current: Run | None = None
        self._runs: list[Run] = []  # every run started (a reset run may still be finishing its step)
        self.worker = None
        self.last_run: Run | None = None  # the last run that ended (for export)

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield ConfigPanel(self.cfg, id="config")
            yield PlotGrid(id="plots")
        yield StatusBar(id="status")
        yield KeyFooter()
        yield TooSmall(id="too-small")

    # The main screen's widgets, found once (App.query_one searches the active screen, which may
    # be a modal one, and finds nothing while the app shuts down).
    @property
    def panel(self) -> ConfigPanel:
        return self._widgets[ConfigPanel]

    @property
    def status(self) -> StatusBar:
        return self._widgets[StatusBar]

    @property
    def plots(self) -> PlotGrid:
        return self._widgets[PlotGrid]

    def on_mount(self) -> None:
        self._widgets = {cls: self.query_one(cls) for cls in (ConfigPanel, StatusBar, PlotGrid)}
        self.main_screen = self.screen
        self.sub_title = f"{self.source}: {self.cfg.system.name} · {self.cfg.model.arch}"
        self.plots.show_system(self.cfg.system.name)
        self.plots.show_model(ARCHS[self.cfg.model.arch].closed_form)
        self.redraw_timer = self.set_interval(REDRAW_S, self._redraw)
        self.call_after_refresh(self._preload_torch)

    @work(thread=True, group="preload", exit_on_error=False)
    def _preload_torch(self) -> None:
        """Import torch off the UI thread (the first frame does not wait for it) and offer cuda."""
        import torch

        if torch.cuda.is_available():
            self.call_from_thread(self.panel.enable_cuda)

    # -- training ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    def _train(self, run: Run) -> None:
        run.execute()

    def _training(self) -> bool:
        return self.current is not None and not self.current.done.is_set()

    def action_start(self) -> None:
        if self._training():
            self.notify("already training: p pauses, x stops", severity="warning")
            return
        try:
            cfg = self.panel.build()
        except UserError as exc:
            self.notify(f"cannot start: {exc}", severity="error", timeout=8)
            self.status.note = f"cannot start: {exc}"
            return
        self.cfg = cfg
        self.current = Run(cfg, self.runs)
        self._runs = [r for r in self._runs if not r.done.is_set()] + [self.current]
        self.plots.clear()
        self.plots.show_system(cfg.system.name)
        self.plots.show_model(ARCHS[cfg.model.arch].closed_form)  # closed form: the ridge path, no loss or gradient plots
        self.sub_title = f"{cfg.system.name} · {cfg.model.arch}"
        self.status.reset(cfg.train.epochs)
        self.status.set_state("starting", f"preparing {cfg.system.name} data and the {cfg.model.arch} model…")
        self.panel.set_running(True)
        if self.panel_shown() and self._narrow():
            self._show_panel(False)  # the panel stands in for the plots here: show them
        self.worker = self._train(self.current)

    def action_pause(self) -> None:
        if not self._training():
            return
        if self.current.control.toggle_pause():
            self.status.set_state("paused", "paused: p resumes, x stops")
        else:
            self.status.set_state("training", "resumed")

    def action_stop(self) -> None:
        if self._training():
            self.current.control.request_stop()
            self.status.set_state("stopping", "stopping at the next step…")

    def action_reset(self) -> None:
        if self._training():
            self.current.control.request_stop()
        self.current = None
        self.plots.clear()
        self.panel.set_running(False)
        self.status.reset()
        self.status.set_state("idle", "reset: press s to start training")

    def _redraw(self) -> None:
        """Timer tick, the one way the trainer's reports reach the screen: move what the run's log
        got since the last tick (its start, epochs, the newest forecast, its end) into the status
        line and the plots, which redraw themselves at a lower rate. Training never waits for this."""
        try:
            self._pull()
        except NoMatches:  # a tick while the app shuts down: its widgets are already gone
            pass

    def _pull(self) -> None:
        run = self.current
        news = run.log.news() if run is not None else None
        if news is not None:
            if news.started is not None:
                self._show_started(news.started)
            for p in news.progress:  # a long phase (a reservoir's drive, a readout's solve, scoring)
                self.status.show_progress(p)
            if news.epochs:
                self.plots.add_epochs(news.epochs)
                self.status.update_run(news.epochs[-1])
            if news.forecast is not None:
                self.plots.set_forecast(news.forecast)
                self.status.show_forecast(news.forecast)
            if news.ended:
                self._show_end(run, news)
        self.plots.flush(force=news is not None and news.ended)

    def _show_started(self, s: Started) -> None:
        self.status.device = device_text(s.device, s.threads)
        if self.status.state == "starting":  # not where the user paused or stopped meanwhile
            what = f"{s.ensemble} models at once ({s.n_params:,} parameters)" if s.ensemble > 1 else f"{s.n_params:,} parameters"
            self.status.set_state("training", f"training {what} on {s.device}")

    def _show_end(self, run: Run, news: News) -> None:
        self.panel.set_running(False)
        self.last_run = run
        if news.error:  # a set-up error (its own message) or a crash (its report's line)
            self.status.set_state("failed", news.error)
            self.notify(news.error, title="failed", severity="error", timeout=15)
            return
        summary = news.summary
        self.plots.set_summary(summary)
        note = summary.message or ENDED.get(summary.status, summary.status)
        if summary.ensemble_text():
            note = f"{summary.ensemble_text()} · {note}"
        if summary.climate is not None:  # [climate]: the long run's fate and figures (C shows them)
            note = f"{summary.climate.text()} (C) · {note}"
        if summary.fit_time_s is not None:  # a closed-form readout: how long the fit itself took
            note = f"readout fit {summary.fit_time_s:.1f} s · {note}"
        if run.kept is not None:
            note += f" · kept as {run.kept} (rnn-tui runs)"
        elif run.keep_error:
            note += f" · not kept in the runs folder: {run.keep_error}"
        self.status.set_state(summary.status, note)
        if summary.status == "diverged":
            self.notify(note, title=summary.status, severity="error", timeout=10)
        else:
            self.notify(note, title=summary.status)

    # -- live learning rate ------------------------------------------------------------------------

    @on(ConfigPanel.LrSubmitted)
    def _lr(self, m: ConfigPanel.LrSubmitted) -> None:
        if self._training():
            self.current.control.set_lr(m.lr)
            self.notify(f"learning rate → {m.lr:g} from the next step")

    # -- other actions --------------------------------------------------------------------------

    def action_component(self) -> None:
        name = self.plots.query_one(ForecastPlot).next_component()
        if name:
            self.notify(f"forecast plot: component {name}", timeout=2)

    def action_one_step(self) -> None:
        plot = self.plots.query_one(ForecastPlot)
        plot.show_one_step = not plot.show_one_step

    def _narrow(self) -> bool:
        """Fewer than NARROW columns: the panel is folded unless the user opened it."""
        return self.main_screen.size.width < NARROW

    def panel_shown(self) -> bool:
        """Whether the configuration panel is on screen (narrow screens fold it unless asked)."""
        screen = self.main_screen
        return screen.has_class("-panel-open") if self._narrow() else not screen.has_class("-panel-closed")

    def _show_panel(self, show: bool) -> None:
        screen = self.main_screen
        narrow = self._narrow()
        screen.set_class(show and narrow, "-panel-open")
        screen.set_class(not show and not narrow, "-panel-closed")
        if not show and self.focused is not None and self.panel in self.focused.ancestors_with_self:
            self.set_focus(None)  # a hidden field must not keep the letter keys

    def action_toggle_panel(self) -> None:
        self._show_panel(not self.panel_shown())

    def action_maximize_plot(self) -> None:
        if self._narrow() and self.panel_shown():
            self._show_panel(False)  # the panel stands in for the plots here
        focused = self.focused
        if not isinstance(focused, LivePlot):
            focused = self.plots.query_one("#hovmoller" if self.plots.has_class("-field") else "#forecast", LivePlot)
            focused.focus()
        self.screen.maximize(focused)

    def action_leave_field(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        else:
            self.set_focus(None)

    def action_runs(self) -> None:
        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen(library.runs_root(self.runs)))

    def action_inside(self) -> None:
        if not isinstance(self.screen, InsideScreen):
            self.push_screen(InsideScreen(self.current or self.last_run))

    def action_climate(self) -> None:
        if not isinstance(self.screen, ClimateScreen):
            run = self.last_run if self.last_run is not None else self.current
            self.push_screen(ClimateScreen(run.result if run is not None else None))

    def action_lessons(self, number: int | None = None, quick: bool | None = None) -> None:
        if not isinstance(self.screen, LessonsScreen):
            self.push_screen(LessonsScreen(library.runs_root(self.runs), number, quick))

    def action_smooth_loss(self) -> None:
        plot = self.plots.query_one(LossPlot)
        plot.smooth = not plot.smooth
        self.notify("loss plot: " + ("moving average (raw curves faint)" if plot.smooth else "raw losses"), timeout=2)

    def action_loss_scale(self) -> None:
        plot = self.plots.query_one(LossPlot)
        plot.log_y = not plot.log_y
        self.notify(f"loss plot: {'log' if plot.log_y else 'linear'} scale", timeout=2)

    def action_screenshot_svg(self) -> None:
        folder = library.runs_root(self.runs)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(path=str(folder))
        except OSError as exc:
            self.notify(f"cannot save a screenshot: {exc}", severity="error")
            return
        self.notify(f"screenshot saved to {path}", title="screenshot")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_save_preset(self) -> None:
        try:
            cfg = self.panel.build()
        except UserError as exc:
            self.notify(f"cannot save: {exc}", severity="error")
            return

        def save(name: str | None) -> None:
            if name:
                try:
                    path = C.save_preset(cfg, name)
                except (UserError, OSError) as exc:
                    self.notify(f"cannot save: {exc}", severity="error")
                    return
                self.notify(f"saved preset {name!r} to {path}", title="preset saved")

        self.push_screen(SavePresetScreen(f"{cfg.system.name}_{cfg.model.arch}"), save)

    def action_load_preset(self, name: str | None = None) -> None:
        if self._training():
            self.notify("stop the run (x) before loading a preset", severity="warning")
            return
        if name is not None:
            self._load_preset(name)
        else:
            self.push_screen(LoadPresetScreen(C.list_presets()), self._load_preset)

    def _load_preset(self, name: str | None) -> None:
        if not name:
            return
        try:
            cfg = C.load(name)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            return
        self.panel.load(cfg)
        self.plots.show_system(cfg.system.name)
        self.sub_title = f"preset {name}: {cfg.system.name} · {cfg.model.arch}"
        self.notify(f"loaded preset {name!r}")

    def action_export(self) -> None:
        if self._training():
            self.notify("the run is still going: stop it (x) or let it finish, then export", severity="warning")
            return
        run = self.last_run
        if run is None or run.result is None:
            self.notify("nothing to export yet: train a model first (s)", severity="warning")
            return
        self._export(run)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, run: Run) -> None:
        from rnn_tui import figures  # matplotlib (the extra rnn-tui[plot]) only if installed, and only now

        try:
            out = run.export()
            drawn = figures.write_all(out) if figures.available() else []  # forecast.png, losses.png, ... beside the files
        except (UserError, OSError) as exc:
            self.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
            return
        also = f" with {len(drawn)} figures" if drawn else ""
        self.call_from_thread(self.notify, f"run exported to {out}{also}", title="exported")

    async def action_quit(self) -> None:
        """Stop a running training first (within one step), then leave."""
        if self._training():
            self.status.set_state("stopping", "stopping the run before quitting…")
            self.current.control.request_stop()
            if self.worker is not None:
                try:
                    await asyncio.wait_for(self.worker.wait(), STOP_WAIT_S)
                except Exception:  # noqa: BLE001 - leaving anyway; the trainer has been told to stop
                    pass
        self.exit()

    def on_unmount(self) -> None:
        for run in self._runs:  # any way out: make sure no trainer thread outlives the app
            run.control.request_stop()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Load preset…", "Fill the configuration from a preset", self.action_load_preset)
        for name, doc in C.list_presets().items():
            yield SystemCommand(f"Load preset: {name}", doc or "a preset", lambda n=name: self.action_load_preset(n), discover=False)
        yield SystemCommand("Save preset…", "Save the configuration as a preset", self.action_save_preset)
        for name, doc in system_docs().items():  # searchable: with the dysts extra, 110 catalogue flows besides the registered systems
            yield SystemCommand(f"System: {name}", doc, lambda n=name: self.panel.choose_system(n), discover=False)
        yield SystemCommand("Start training", "Train with the configuration on the left", self.action_start)
        yield SystemCommand("Lessons", "The course notes' experiments as guided lessons, each claim measured (L)", self.action_lessons)
        yield SystemCommand("Inside", "The model from inside: hidden state, gates, recurrent spectrum, gradient through time (i)",
                            self.action_inside)
        yield SystemCommand("Climate", "The last run's long run: attractor, spectra, histograms, its own Lyapunov exponents (C)",
                            self.action_climate)
        yield SystemCommand("Runs", "The run library: a leaderboard, overlay selected runs, load a run's configuration (R)", self.action_runs)
        yield SystemCommand("Save SVG screenshot", "Save the screen as SVG into the runs folder (P)", self.action_screenshot_svg)
        yield SystemCommand("Export run", "Write a copy of the last run to a new folder under exports/", self.action_export)
