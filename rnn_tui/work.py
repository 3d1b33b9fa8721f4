"""Long work outside the epochs (integrating a truth, driving a reservoir, solving a readout, scoring
many forecasts) is told two things by whoever started it, explicitly: a stop flag to look at and
where to say how far it has gone. `Work` carries both; `Work.phase(name, total)` gives a `Phase`
whose `tick(done)` raises `errors.Stopped` once the flag is set and reports a `Progress` at most
every `every_s` seconds (always the first and the last), so a phase that takes longer than a second
shows its progress and a stop acts within one.

Torch-free and screen-free: systems, models and the core use it alike.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from rnn_tui.errors import Stopped


@dataclass(frozen=True)
class Progress:
    """How far a long phase has gone: `done` of `total` `unit` (total 0: not known)."""

    phase: str  # "integrating lorenz63", "driving the reservoir", "solving the readout", "scoring"
    done: int
    total: int
    unit: str = "steps"
    elapsed_s: float = 0.0  # since the phase began

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    def text(self) -> str:
        """'driving the reservoir 12,000/42,000 steps (29%)'."""
        if self.total > 0:
            return f"{self.phase} {self.done:,}/{self.total:,} {self.unit} ({100 * self.fraction:.0f}%)"
        return f"{self.phase} {self.done:,} {self.unit}"


class Phase:
    """One phase of some work: `tick(done)` looks at the stop flag and reports now and then."""

    def __init__(self, work: Work, name: str, total: int, unit: str, after_s: float = 0.0) -> None:
        self.work, self.name, self.total, self.unit = work, name, int(total), unit
        self.after_s = after_s  # silent until then: a phase that ends sooner is never shown
        self.t0 = time.perf_counter()
        self.last = -float("inf")
        self.done = 0

    def tick(self, done: int, force: bool = False) -> None:
        """`done` units so far. Raises Stopped when the stop flag is set."""
        self.done = int(done)
        if self.work.stop is not None and self.work.stop.is_set():
            raise Stopped
        if self.work.report is None:
            return
        now = time.perf_counter()
        if now - self.t0 < self.after_s:
            return
        if force or now - self.last >= self.work.every_s:
            self.last = now
            self.work.report(Progress(self.name, self.done, self.total, self.unit, now - self.t0))

    def finish(self) -> None:
        """Report the phase as done (the bar reaches its end)."""
        self.tick(self.total if self.total > 0 else self.done, force=True)

    def __enter__(self) -> Phase:
        self.tick(0, force=True)
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.finish()


class Work:
    """The stop flag and the progress callback of one piece of work (either may be None)."""

    def __init__(self, stop: threading.Event | None = None, report: Callable[[Progress], None] | None = None,
                 every_s: float = 0.5) -> None:
        self.stop, self.report, self.every_s = stop, report, every_s

    def phase(self, name: str, total: int = 0, unit: str = "steps", after_s: float = 0.0) -> Phase:
        return Phase(self, name, total, unit, after_s)

    @property
    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def is_set(self) -> bool:
        """As threading.Event's: a Work can be passed where a loop looks at a bare stop flag."""
        return self.stopped


IDLE = Work()  # no stop flag, nobody listening
