"""How many CPU threads a run asks for. Two torch runs that each take every core slow each other 20
to 40 times on a 2-core machine (issue 14), and small models gain nothing from a second thread; so
a run takes one thread unless its step is large enough to use more, and never more than the cores
that other rnn-tui runs of this user leave free. `train.threads` (> 0) overrides the rule.

The shared count is one small file per running run in the data folder's `threads/` (its pid and
thread count); files of processes that are gone are ignored and removed.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnn_tui.paths import data_dir

# Values a training step touches (the model's `footprint` activations for one batch) from which a
# second thread pays (measured on the bench cases: see docs/benchmarks.md, "Threads").
PARALLEL_FROM = 2_000_000
PER_THREAD = 4_000_000  # and one more thread per this many


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def wanted(work: int) -> int:
    """Threads worth having for a step that touches `work` values (before sharing)."""
    if work < PARALLEL_FROM:
        return 1
    return 2 + (work - PARALLEL_FROM) // PER_THREAD


def _folder() -> Path:
    return data_dir() / "threads"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def busy() -> int:
    """Threads held by other live rnn-tui runs of this user."""
    total = 0
    folder = _folder()
    if not folder.is_dir():
        return 0
    for f in folder.glob("*.threads"):
        try:
            pid, n = (int(v) for v in f.read_text().split())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            total += n
        else:
            f.unlink(missing_ok=True)
    return total


class Claim:
    """The threads this run holds, announced to other runs until `release`."""

    def __init__(self, n: int, reason: str) -> None:
        self.n, self.reason = n, reason
        self.path: Path | None = None

    def announce(self) -> None:
        try:
            folder = _folder()
            folder.mkdir(parents=True, exist_ok=True)
            self.path = folder / f"{os.getpid()}-{id(self)}.threads"
            self.path.write_text(f"{os.getpid()} {self.n}\n")
        except OSError:
            self.path = None  # a read-only home: the run still trains, it just cannot tell others

    def release(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def choose(setting: int, work: int) -> Claim:
    """The thread count of a run: `setting` when > 0, else by the rule above."""
    if setting > 0:
        return Claim(setting, "train.threads")
    free = max(1, cores() - busy())
    want = wanted(work)
    n = max(1, min(want, free))
    why = "small model" if want == 1 else (f"{free} core{'s' * (free != 1)} free" if n < want else "large step")
    return Claim(n, why)
