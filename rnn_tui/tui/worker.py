"""One training run seen from the app: the core's Control and a thread-safe log of what the trainer
reported. The worker thread only writes to the log; the app's redraw timer reads what is new
(`RunLog.news`), so there is one way for data to reach the screen, and training never waits for
it. Torch is imported here, lazily."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pathlib import Path

from rnn_tui.config import Config
from rnn_tui.core import events as ev  # these three import numpy, not torch
from rnn_tui.core.control import Control
from rnn_tui.core.results import Forecast, Summary
from rnn_tui.errors import UserError

@dataclass
class News:
    """What the trainer reported since the app last looked (None or empty where nothing is new)."""

    started: ev.Started | None = None
    epochs: list[ev.EpochEnd] = field(default_factory=list)  # in order
    forecast: Forecast | None = None  # the newest one
    progress: list[ev.Progress] = field(default_factory=list)  # long phases' progress (a fit, scoring), in order
    summary: Summary | None = None  # the run ended: finished, diverged or cancelled
    error: str = ""  # the run failed: the one line to show

    @property
    def ended(self) -> bool:
        return self.summary is not None or bool(self.error)


class RunLog:
    """What the trainer has reported so far. Written by the worker thread, read by the UI thread's
    timer. Writes are a lock and an append: no message wakes the UI loop (an epoch can take
    milliseconds, and waking the loop for each would cost the trainer the interpreter lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: ev.Started | None = None
        self.epochs: list[ev.EpochEnd] = []  # in order
        self.forecast: Forecast | None = None  # the latest
        self.progress: list[ev.Progress] = []  # Progress events not yet read (a few a second at most)
        self.summary: Summary | None = None  # once the run has ended
        self.error = ""  # why the run failed (a UserError's message, or a crash report's line)
        self.inside: ev.InsideReady | None = None  # the newest probe (the Inside view reads it: latest_inside)
        # what `news` has handed out already
        self._epochs_read, self._started_read, self._forecast_read, self._end_read = 0, None, None, False

    # -- written by the worker --------------------------------------------------------------------

    def record(self, event) -> None:
        """A core event (Started, EpochEnd, ForecastReady, Progress). Finished is not kept here: the summary
        comes with the result (`end`), so that a run seen to end can always be exported."""
        with self._lock:
            if isinstance(event, ev.EpochEnd):
                self.epochs.append(event)
            elif isinstance(event, ev.ForecastReady):
                self.forecast = event.forecast
            elif isinstance(event, ev.Started):
                self.started = event
            elif isinstance(event, ev.Progress):
                self.progress.append(event)
            elif isinstance(event, ev.InsideReady):
                self.inside = event

    def end(self, summary: Summary | None = None, error: str = "") -> None:
        with self._lock:
            self.summary, self.error = summary, error

    # -- read by the app ----------------------------------------------------------------------------

    def latest_inside(self) -> ev.InsideReady | None:
        """The newest probe of the model (the Inside view polls it while shown)."""
        with self._lock:
            return self.inside

    def epochs_since(self, n: int) -> list:
        """EpochEnd events after the first n."""
        with self._lock:
            return self.epochs[n:]

    def news(self) -> News:
        """Everything new since the last call (for the one reader, the app's timer). One snapshot
        under the lock, so an end is never seen before the epochs and forecast written before it."""
        with self._lock:
            news = News(epochs=self.epochs[self._epochs_read :], progress=self.progress)
            self.progress = []
            self._epochs_read = len(self.epochs)
            if self.started is not self._started_read:
                news.started = self._started_read = self.started
            if self.forecast is not self._forecast_read:
                news.forecast = self._forecast_read = self.forecast
            if not self._end_read and (self.summary is not None or self.error):
                news.summary, news.error, self._end_read = self.summary, self.error, True
        return news


class Run:
    """A run of core `train` for the app. `execute` runs in a Textual thread worker."""

    def __init__(self, cfg: Config, runs: str | Path | None = None) -> None:
        from rnn_tui.core.library import runs_root

        self.cfg = cfg
        self.runs = runs_root(str(runs) if runs else None)  # where the run is kept when it ends
        self.kept: Path | None = None  # its folder there
        self.keep_error = ""  # why it could not be kept
        self.control = Control()
        self.log = RunLog()
        self.result = None  # core RunResult once train returns
        self.done = threading.Event()

    def execute(self) -> None:
        """Call core `train`, writing what it reports to the log; never raises. An unexpected error
        (a bug, not bad input) leaves a crash report and the log holds its one line."""
        from rnn_tui.core.trainer import train  # torch is imported here, not at app start
        from rnn_tui.crash import crashed

        try:
            self.result = train(self.cfg, self.log.record, self.control)
            try:  # every run goes to the run library, as a headless run does
                self.kept = self.export(self.runs)
            except (UserError, OSError) as exc:
                self.keep_error = str(exc)
            self.log.end(summary=self.result.summary)
        except UserError as exc:
            self.log.end(error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the app must stay up; the report keeps the traceback
            self.log.end(error=str(crashed(exc, self.cfg)))
        finally:
            self.done.set()

    def probe_now(self) -> ev.InsideReady | None:
        """A probe of the ended run's model (for the Inside view opened after a run that was not probed);
        None where there is no model, or it is an ensemble (probed only while it trains)."""
        from rnn_tui.core.probing import Probe  # torch: the run has imported it already

        result = self.result
        if result is None or result.model is None or result.prep is None or result.model.k != 1:
            return None
        cfg = result.config
        epoch = result.summary.epochs_run
        return ev.InsideReady(epoch, Probe(result.prep, cfg.train.seq_len, cfg.rollout.horizon)(result.model, epoch))

    def export(self, root: str | Path = "exports"):
        """Write the ended run as headless mode does (config.toml, metrics.jsonl, summary.json,
        rollout.csv, model.pt) to a new folder under `root`; returns the folder."""
        from rnn_tui.core import runio

        cfg = self.cfg
        out = runio.prepare_dir(runio.new_run_dir(f"{cfg.system.name}_{cfg.model.arch}", root))
        header = f"Resolved configuration of this run (exported from the app).\nRepeat it with: rnn-tui train --config {out / 'config.toml'}"
        runio.mark_run(out)
        runio.write_config(out, cfg, header)
        metrics = runio.MetricsLog(out)
        for epoch in self.result.history:
            metrics.append(epoch)
        runio.write_results(out, self.result)
        return out
