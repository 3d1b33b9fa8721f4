"""Thread-safe handles on a running trainer: stop, pause/resume, and a new learning rate. Another
thread (the app, a signal handler) sets them; the trainer reads them before every step."""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rnn_tui.errors import UserError


class Control:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.paused = threading.Event()
        self.holding = threading.Event()  # set while the trainer waits in a pause: it takes no step until cleared
        self._lock = threading.Lock()
        self._lr: float | None = None
        # Set while someone watches the model's inside (the app's Inside view): the trainer then probes
        # it once per epoch as train.inspect would (core/probing.py); clear, a probe costs nothing.
        self.inspect = threading.Event()

    def request_stop(self) -> None:
        """Stop at the next step (a paused run is released so that it can stop)."""
        self.stop.set()
        self.paused.clear()

    def toggle_pause(self) -> bool:
        """Pause a running trainer or resume a paused one; returns True when it is now paused."""
        if self.paused.is_set():
            self.paused.clear()
            return False
        self.paused.set()
        return True

    def set_lr(self, lr: float) -> None:
        if not (lr > 0 and math.isfinite(lr)):
            raise UserError(f"learning rate must be a finite number > 0, got {lr!r}")
        with self._lock:
            self._lr = float(lr)

    def take_lr(self) -> float | None:
        """The learning rate asked for since the last call (None if none)."""
        with self._lock:
            lr, self._lr = self._lr, None
            return lr

    def wait_if_paused(self) -> None:
        if not self.paused.is_set():
            return
        self.holding.set()
        try:
            while self.paused.is_set() and not self.stop.is_set():
                self.stop.wait(0.02)
        finally:
            self.holding.clear()


@contextmanager
def stop_on_interrupt(control: Control) -> Iterator[None]:
    """While inside: a first Ctrl-C (SIGINT) asks the run to stop at its next step (the run still
    ends and writes its files, as cancelled); a second one raises KeyboardInterrupt at once, whatever
    the run is doing. `rnn-tui train` and `rnn_tui.train` (in a notebook, the kernel's interrupt)
    both use it. Outside the main thread, where no handler can be set, it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame) -> None:
        if control.stop.is_set():
            raise KeyboardInterrupt
        control.request_stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
