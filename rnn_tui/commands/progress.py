"""Progress of a headless run on stderr: a rich progress bar with the losses and the time left when
stderr is a terminal; otherwise plain lines (at most two a second, always the first and the last
epoch), so logs and pipes stay readable."""

from __future__ import annotations

import sys
import time

from rnn_tui.core import events as ev


def describe(s) -> str:
    """The closing line of a run from its Summary."""
    val = "n/a" if s.final_val_loss is None else f"{s.final_val_loss:.3e}"
    line = f"{s.status}: val loss {val}, wall {s.wall_time_s:.1f} s"
    if s.fit_time_s is not None:
        line += f" (readout fit {s.fit_time_s:.1f} s)"
    e = s.evaluation
    if e is not None and e.rmse_curve:
        rmse = e.rmse_at_steps
        line += "; RMSE at 1/4/8 steps " + "/".join(f"{rmse.get(k, float('nan')):.3g}" for k in ("1", "4", "8"))
    if s.vpt_text():
        line += f"; {s.vpt_text()}"
    if s.ensemble_text():  # the scores above are the mean forecast's; the members' beside them
        line += f"; {s.ensemble_text()}"
    if s.climate is not None:  # [climate]: the long run's fate, its own exponent, D_stsp and D_H
        line += f"; {s.climate.text()}"
    return line


class LineProgress:
    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s, self.last = every_s, 0.0
        self.phase, self.phase_last = "", 0.0  # the long phase (a Progress event) last printed, and when

    def say(self, line: str) -> None:
        print(line, file=sys.stderr)

    def __call__(self, e: ev.Event) -> None:
        if isinstance(e, ev.Started):
            threads = f", {e.threads} thread{'s' * (e.threads != 1)}" if e.threads else ""
            models = f"{e.ensemble} models, " if e.ensemble > 1 else ""
            self.say(f"training on {e.device}{threads} ({e.step_mode}): {models}{e.n_params:,} parameters, {e.n_train} training windows, "
                  f"{e.epochs} epochs")
        elif isinstance(e, ev.EpochEnd):
            now = time.monotonic()
            if e.epoch in (1, e.epochs) or now - self.last >= self.every_s:
                self.last = now
                self.say(f"epoch {e.epoch:>4}/{e.epochs}  train {e.train_loss:.3e}  val {e.val_loss:.3e}  |g| {e.grad_norm:.2e}  "
                      f"lr {e.lr:.2e}  {e.samples_per_s:,.0f} samples/s  {e.elapsed_s:.1f}s")
        elif isinstance(e, ev.Progress):  # a long phase: its first and last report, and one every every_s
            now = time.monotonic()
            if e.phase != self.phase or e.done >= e.total > 0 or now - self.phase_last >= self.every_s:
                self.phase, self.phase_last = e.phase, now
                self.say(e.text())
        elif isinstance(e, ev.Finished):
            self.say(describe(e.summary))
            if e.message:
                self.say(e.message)

    def close(self) -> None:
        pass


class RichProgress(LineProgress):
    """A live bar: epoch M/N, train and validation loss, samples/s, elapsed and time left."""

    def __init__(self, console=None) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.console = console or Console(stderr=True)
        self.bar = Progress(TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[losses]}"),
                            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=self.console, transient=False)
        self.task = None

    def say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)

    def __call__(self, e: ev.Event) -> None:
        if isinstance(e, ev.Started):
            super().__call__(e)
            self.bar.start()
            self.task = self.bar.add_task("train", total=e.epochs, losses="")
        elif isinstance(e, ev.Progress) and self.task is not None:  # a long phase, in the bar's text
            self.bar.update(self.task, losses=e.text())
        elif isinstance(e, ev.EpochEnd) and self.task is not None:
            losses = f"train {e.train_loss:.3e}  val {e.val_loss:.3e}  {e.samples_per_s:,.0f}/s"
            self.bar.update(self.task, completed=e.epoch, losses=losses)
        elif isinstance(e, ev.Finished):
            self.close()
            super().__call__(e)

    def close(self) -> None:
        if self.task is not None:
            self.bar.stop()
            self.task = None


class Quiet(LineProgress):
    def __call__(self, e: ev.Event) -> None:
        pass


def make(quiet: bool = False) -> LineProgress:
    if quiet:
        return Quiet()
    return RichProgress() if sys.stderr.isatty() else LineProgress()
