"""A run folder owned by one process: never written over by accident, locked while a run writes
it, marked as running until the run ends, and removed again if the run fails at set-up.

    folder = RunFolder.claim(path, force=False)   # UserError if taken; creates nothing yet
    folder.start(cfg, header)                     # after set-up: config.toml, summary.json "running", metrics.jsonl
    folder.append(epoch_event)
    folder.finish(result) / folder.abandon()      # the run's files / remove what this run made

`train_into(folder, cfg, ...)` is all of that around the core trainer: what `rnn-tui train`, the
Python API and lessons run.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from rnn_tui.core import events as ev
from rnn_tui.core import runio
from rnn_tui.errors import UserError

LOCK = ".rnn-tui.lock"
RUN_FILES = ("config.toml", "metrics.jsonl", "summary.json", "rollout.csv", "model.pt")
# What a run folder may hold besides RUN_FILES: a folder holding anything else (a user's own files,
# written over with --force) is not marked as a run, so `rnn-tui runs rm` never removes it.
OTHER_RUN_FILES = ("state.pt", "sweep.json", LOCK, runio.MARKER)


def only_run_files(path: Path) -> bool:
    """Whether every entry of `path` is a file a run writes (crash reports and atomic writes' temporaries included)."""
    for p in path.iterdir():
        name = p.name
        known = name in RUN_FILES or name in OTHER_RUN_FILES or (name.startswith("crash-") and name.endswith(".txt")) \
            or (name.startswith(".") and name.endswith(".tmp"))
        if not known or p.is_symlink() or not p.is_file():
            return False
    return True


class RunFolder:
    def __init__(self, path: Path, resuming: bool = False) -> None:
        self.path = path
        self.resuming = resuming  # a resumed run writes into its own folder and appends to its metrics
        self.created: list[Path] = []  # what this run made (removed by `abandon`)
        self.made_dir = False
        self.lock_fd: int | None = None
        self.metrics: runio.MetricsLog | None = None

    @classmethod
    def claim(cls, path: str | Path, force: bool = False) -> RunFolder:
        """Check that the run may write to `path` (before any training): a folder with files in it
        needs `force`, a folder another run is writing is refused, an unwritable one too."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise UserError(f"--out {path}: is a file, not a folder")
        if path.is_dir():
            entries = [p.name for p in path.iterdir()]
            if entries and not force:
                raise UserError(f"--out {path}: the folder exists and is not empty ({', '.join(sorted(entries)[:3])}"
                                f"{', …' if len(entries) > 3 else ''}); choose a new folder, or add --force to write over its run files")
            if not os.access(path, os.W_OK | os.X_OK):
                raise UserError(f"--out {path}: the folder is not writable")
        return cls(path)

    @classmethod
    def resume(cls, path: str | Path) -> RunFolder:
        """The folder of a run that is resumed: it must exist; it is written in place."""
        path = Path(path)
        if not path.is_dir():
            raise UserError(f"--resume {path}: no such run folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UserError(f"--resume {path}: the folder is not writable")
        return cls(path, resuming=True)

    def start(self, cfg, header: str) -> None:
        """Create and lock the folder; write the configuration, a summary saying the run is running
        (a killed run leaves it so), and an empty metrics.jsonl."""
        try:
            self.made_dir = not self.path.exists()
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out {self.path}: cannot create the folder: {exc.strerror or exc}") from None
        self._lock()
        self._mark_new()
        if only_run_files(self.path) and not runio.is_marked(self.path):
            runio.mark_run(self.path)
        runio.write_config(self.path, cfg, header)
        runio.write_json(self.path / "summary.json", {"status": "running", "system": cfg.system.name, "arch": cfg.model.arch,
                                                      "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "pid": os.getpid()})
        self.metrics = runio.MetricsLog(self.path, append=self.resuming)

    def _lock(self) -> None:
        lock = self.path / LOCK
        fd = os.open(lock, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"--out {self.path}: another rnn-tui run is writing to this folder") from None
        self.lock_fd = fd
        self.created.append(lock)

    def _mark_new(self) -> None:
        """The run files this run creates (those already there, with --force, are replaced)."""
        self.created += [self.path / name for name in (*RUN_FILES, runio.MARKER) if not (self.path / name).exists()]

    def append(self, epoch) -> None:
        self.metrics.append(epoch)

    def finish(self, result) -> None:
        """Write the run's results (summary.json replaces the "running" one) and release the lock."""
        try:
            runio.write_results(self.path, result)
        finally:
            self._unlock()

    def abandon(self) -> None:
        """Set-up failed after the folder was started: remove what this run made."""
        for p in self.created:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self._unlock()
        if self.made_dir:
            try:
                self.path.rmdir()
            except OSError:
                pass

    def release(self) -> None:
        """The run stopped without results (a crash): keep its files, drop the lock."""
        self._unlock()

    def _unlock(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None
            try:
                (self.path / LOCK).unlink()
            except FileNotFoundError:
                pass


def train_into(folder: RunFolder, cfg, header: str, on_event=None, control=None, state: dict | None = None):
    """Train `cfg` (or go on from `state`, a checkpoint) into `folder`: the folder is made only once
    set-up succeeded (bad input leaves nothing behind), each epoch is appended as it ends, and the
    results are written when the run ends (finished, diverged or cancelled). A failure at set-up
    removes what this run made; an interrupt or a crash keeps the files and drops the lock. Returns
    the core RunResult; `on_event` sees every event after the folder has taken it."""
    from rnn_tui.core.trainer import train  # torch: only when something trains

    def record(e) -> None:
        if isinstance(e, ev.Started):
            folder.start(cfg, header)
        elif isinstance(e, ev.EpochEnd):
            folder.append(e)
        if on_event is not None:
            on_event(e)

    try:
        result = train(cfg, record, control, resume=state)
    except UserError:
        folder.abandon()
        raise
    except BaseException:  # an interrupt, or a bug: keep what was written, free the folder
        folder.release()
        raise
    folder.finish(result)
    return result
