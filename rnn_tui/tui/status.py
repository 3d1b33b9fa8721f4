"""The status line: run state, epoch N/M, the best validation loss (one step ahead) beside the
free-running forecast's error (the gap between them is the lesson), a progress bar and time left,
throughput, device and CPU threads, and a second line for the latest message (errors, divergence).
The first four come first: a narrow terminal hides the rest (app.tcss)."""

from __future__ import annotations

import math

import numpy as np

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Label, ProgressBar, Static

HINT = "press s to start training · f shows or hides the settings · ? for help"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def free_run_rmse(forecast) -> float:
    """RMSE of a free-running forecast (core results.Forecast) over its whole horizon, in data
    units; inf where it is not finite (the free run exploded)."""
    per_step = forecast.rmse_by_step()
    if not len(per_step) or not np.all(np.isfinite(per_step)):
        return math.inf
    return float(np.sqrt(np.mean(per_step**2)))


def rmse_text(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "not finite"


def device_text(device: str, threads: int | None) -> str:
    """'cpu · 4 threads', or the device alone on a GPU."""
    if threads is None:
        return device
    return f"{device} · {threads} thread{'' if threads == 1 else 's'}"


class StatusBar(Vertical):
    """State and progress of the current run. `state`, `note` and `device` are reactive: set them
    and the line follows (the state's colour is its CSS class). The app calls `update_run` at its
    redraw rate."""

    state = var("idle", init=False)  # idle, starting, training, paused, stopping, finished, diverged, cancelled, failed
    note = var(HINT, init=False)  # the second line
    device = var("–", init=False)  # where the run trains: "cpu · 1 thread", "cuda:0"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.texts: dict[str, str] = {"#state": "idle", "#epoch": "epoch –", "#device": "device –", "#best": "best val –",
                                      "#freerun": ""}
        self.phases: list[str] = []  # the long phases shown by show_progress, in order

    def compose(self) -> ComposeResult:
        with Horizontal(id="status-line"):
            yield Label("idle", id="state", classes="state-idle")
            yield Label("epoch –", id="epoch")
            yield Label("best val –", id="best")
            yield Label("", id="freerun")
            yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="progress")  # percentage in #epoch: no layout passes
            yield Label("", id="eta")
            yield Label("", id="speed")
            yield Label("device –", id="device")
        yield Static(HINT, id="note")

    def _set(self, wid: str, text: str) -> None:
        if self.texts.get(wid) != text:
            self.texts[wid] = text
            # Fixed widths (app.tcss), so no layout pass: redrawing the whole screen's layout
            # several times a second would take the GIL from the trainer.
            self.query_one(wid, Label).update(text, layout=False)

    def _watch_state(self, old: str, new: str) -> None:
        label = self.query_one("#state", Label)
        label.remove_class(f"state-{old}")
        label.add_class(f"state-{new}")
        self._set("#state", new)

    def _watch_note(self, note: str) -> None:
        self.query_one("#note", Static).update(note, layout=False)

    def _watch_device(self, device: str) -> None:
        self._set("#device", f"device {device}")

    def set_state(self, state: str, note: str | None = None) -> None:
        self.state = state
        if note is not None:
            self.note = note

    def reset(self, epochs: int = 0) -> None:
        self.device = "–"  # until the next run reports where it trains
        self.phases = []
        self._set("#epoch", f"epoch 0/{epochs}" if epochs else "epoch –")
        self.query_one("#progress", ProgressBar).update(total=max(1, epochs), progress=0)
        for wid in ("#eta", "#speed", "#freerun"):
            self._set(wid, "")
        self._set("#best", "best val –")

    def show_progress(self, p) -> None:
        """From a core Progress event (any long phase): its text on the second line, its fraction in
        the bar. `phases` keeps the names shown, in order."""
        if not self.phases or self.phases[-1] != p.phase:
            self.phases.append(p.phase)
        self.note = p.text()
        if p.total > 0:
            self.query_one("#progress", ProgressBar).update(total=p.total, progress=min(p.done, p.total))

    def show_forecast(self, forecast) -> None:
        """From the latest core Forecast: its free-running error, beside the one-step best val."""
        self._set("#freerun", f"free run RMSE {rmse_text(free_run_rmse(forecast))}")

    def update_run(self, e) -> None:
        """From the latest core EpochEnd event."""
        self._set("#epoch", f"epoch {e.epoch}/{e.epochs} {100 * e.epoch // max(1, e.epochs):>3}%")
        self.query_one("#progress", ProgressBar).update(total=max(1, e.epochs), progress=e.epoch)
        left = (e.epochs - e.epoch) * e.elapsed_s / max(1, e.epoch)
        self._set("#eta", f"{_duration(left)} left" if e.epoch < e.epochs else "")
        self._set("#speed", f"{e.samples_per_s:,.0f} samples/s")
        best = f"{e.best_val_loss:.3g}" if math.isfinite(e.best_val_loss) else "–"
        self._set("#best", f"best val {best}")

    @property
    def text(self) -> str:
        """The status line as plain text (for tests and the terminal test)."""
        parts = [self.texts.get(w, "") for w in ("#state", "#epoch", "#best", "#freerun", "#eta", "#speed", "#device")]
        return "  ".join(p for p in parts if p) + " | " + self.note
