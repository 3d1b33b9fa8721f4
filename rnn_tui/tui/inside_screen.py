"""The Inside screen (key i, palette "Inside"): the current run's model seen from inside, live while
it trains. While shown it sets the run's Control.inspect, so the trainer probes once per epoch (hidden,
nothing is probed); after a run that was not probed, the ended model is probed once, off the UI thread."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Static

from rnn_tui.tui.inside_plots import PANELS, InsidePanel, SpectrumPanel

POLL_S = 0.5  # the screen looks for a newer probe this often (a probe comes once per epoch at most)


class InsideScreen(Screen):
    BINDINGS = [
        Binding("escape,i", "app.pop_screen", "Back"),
        Binding("right_square_bracket", "next_spectrum", "Next spectrum"),
    ]
    DEFAULT_CSS = """
    InsideScreen #inside-grid { grid-size: 2 3; grid-rows: 1fr 1fr 1fr; }
    InsideScreen #inside-grid HeatmapPanel { column-span: 2; }
    InsideScreen #inside-note { height: 1; }
    """

    def __init__(self, run) -> None:
        super().__init__()
        self.run = run  # tui/worker.py Run, or None before any run
        self.shown = None  # the InsideReady on screen
        self.probing = False

    def compose(self) -> ComposeResult:
        yield Static("", id="inside-note")
        with Grid(id="inside-grid"):
            for cls in PANELS:
                yield cls()
        yield Footer()

    @property
    def panels(self) -> list[InsidePanel]:
        return list(self.query(InsidePanel))

    def on_mount(self) -> None:
        if self.run is not None:
            self.run.control.inspect.set()
        waiting = "no run yet: start one (s) and open this view while it trains" if self.run is None else "waiting for the end of an epoch"
        for p in self.panels:
            p.show(None, waiting)
        self._poll()
        self.set_interval(POLL_S, self._poll)

    def on_unmount(self) -> None:
        if self.run is not None:
            self.run.control.inspect.clear()  # hidden, the view costs nothing

    def _poll(self) -> None:
        run = self.run
        if run is None:
            return
        latest = run.log.latest_inside()
        if latest is None and run.done.is_set() and not self.probing:
            self.probing = True
            self._probe_ended(run)
        if latest is not None and latest is not self.shown:
            self.show(latest)

    @work(thread=True, exit_on_error=False, group="inside")
    def _probe_ended(self, run) -> None:
        ready = run.probe_now()
        if ready is None:
            self.app.call_from_thread(self._note, "an ensemble is probed while it trains (open this view during the run, or set train.inspect)")
        else:
            self.app.call_from_thread(self.show, ready)

    def _note(self, text: str) -> None:
        self.query_one("#inside-note", Static).update(text)

    def show(self, ready) -> None:
        """Show a probe (core/events.py InsideReady) in every panel."""
        self.shown = ready
        cfg = self.run.cfg
        member = " (member 0, seed train.seed)" if cfg.train.ensemble > 1 else ""
        self._note(f"{cfg.system.name} · {cfg.model.label()}{member} · probed after epoch {ready.epoch} · escape goes back")
        for p in self.panels:
            p.show(ready.inside)

    def action_next_spectrum(self) -> None:
        self.query_one(SpectrumPanel).cycle()
