"""One training run seen from the app: the core's Control, a thread-safe log of what the trainer
reported, and the loop that turns core events into app messages. Torch is imported here, lazily."""

from __future__ import annotations

import itertools
import threading
from typing import Callable

from rnn_tui.config import Config
from rnn_tui.errors import UserError
from rnn_tui.tui import messages as msg

_ids = itertools.count(1)


class RunLog:
    """What the trainer has reported so far. Written by the worker thread, read by the UI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.epochs: list = []  # core EpochEnd events, in order
        self.rollout = None  # the latest core RolloutReady event
        self.started = None  # the core Started event

    def add_epoch(self, e) -> None:
        with self._lock:
            self.epochs.append(e)

    def epochs_since(self, n: int) -> list:
        """EpochEnd events after the first n (the UI keeps its own copy and asks only for news)."""
        with self._lock:
            return self.epochs[n:]

    def last_epoch(self):
        with self._lock:
            return self.epochs[-1] if self.epochs else None


class Run:
    """A run of core `train` for the app. `execute` runs in a Textual thread worker."""

    def __init__(self, cfg: Config) -> None:
        from rnn_tui.core.trainer import Control  # torch is imported here, not at app start

        self.id = next(_ids)
        self.cfg = cfg
        self.control = Control()
        self.log = RunLog()
        self.result = None  # core RunResult once train returns
        self.done = threading.Event()

    def execute(self, post: Callable[[msg.RunMessage], object]) -> None:
        """Call core `train`, posting one message per event; never raises (errors become RunEnded)."""
        from rnn_tui.core import events as ev
        from rnn_tui.core.trainer import train


        def on_event(e) -> None:
            if isinstance(e, ev.EpochEnd):
                self.log.add_epoch(e)  # no message: the app's redraw timer reads the log (an epoch
                # can take milliseconds, and waking the UI loop for each costs the trainer time)
            elif isinstance(e, ev.RolloutReady):
                self.log.rollout = e
                post(msg.RolloutArrived(self.id))
            elif isinstance(e, ev.Started):
                self.log.started = e
                post(msg.RunStarted(self.id, e.device, e.n_params, e.epochs))
            elif isinstance(e, ev.Finished):
                post(msg.RunEnded(self.id, e.status, e.message, e.summary))
            elif isinstance(e, ev.Failed):
                post(msg.RunEnded(self.id, "failed", e.message))

        try:
            self.result = train(self.cfg, on_event, self.control)
        except UserError as exc:
            post(msg.RunEnded(self.id, "failed", str(exc)))
        except Exception as exc:  # noqa: BLE001 - the app must stay up; show the error instead
            first = (str(exc).splitlines() or [""])[0]
            post(msg.RunEnded(self.id, "failed", f"{type(exc).__name__}: {first}"))
        finally:
            self.done.set()

    def export(self, root: str = "runs"):
        """Write the ended run as headless mode does (config.toml, metrics.jsonl, summary.json,
        rollout.csv, model.pt) to a new folder under `root`; returns the folder."""
        from rnn_tui.core import runio

        cfg = self.cfg
        out = runio.prepare_dir(runio.new_run_dir(f"{cfg.system.name}_{cfg.model.arch}", root))
        header = f"Resolved configuration of this run (exported from the app).\nRepeat it with: rnn-tui train --config {out / 'config.toml'}"
        runio.write_config(out, cfg, header)
        log = runio.MetricsLog(out)
        for row in self.result.history:
            log.append(row)
        runio.write_results(out, self.result)
        return out
