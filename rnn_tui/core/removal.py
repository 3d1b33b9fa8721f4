"""What `rnn-tui runs rm` may remove: only folders that rnn-tui made as runs (the marker it writes,
runio.MARKER), directly inside the runs folder, that no running rnn-tui is writing. Every id is
checked before anything is removed; a refusal is one line naming the id and why, and removes nothing.

Runs made before the marker existed carry none: such a folder is removed only when it holds
config.toml and summary.json and nothing but the files a run writes (no subfolder, no link, no
file of the user's), which a folder of anyone else's is not.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from rnn_tui.core import runio
from rnn_tui.core.runfolder import LOCK, only_run_files
from rnn_tui.errors import UserError, closest


def removable(root: Path, ids: list[str]) -> list[Path]:
    """The run folders of `ids` under `root`, each checked; UserError on the first that may not go."""
    if not root.is_dir():
        raise UserError(f"runs rm: no runs folder {root}")
    return [_check(root, i) for i in dict.fromkeys(ids)]  # an id given twice is removed once


def remove(paths: list[Path]) -> None:
    for p in paths:
        shutil.rmtree(p)


def _check(root: Path, run_id: str) -> Path:
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    if run_id in ("", ".", "..") or any(s in run_id for s in seps):
        raise UserError(f"runs rm {run_id!r}: a path, not a run id; give the name of a run folder in {root} "
                        "(see `rnn-tui runs`); nothing removed")
    path = root / run_id
    if path.is_symlink():
        raise UserError(f"runs rm {run_id}: {path} is a link, not a run folder (runs rm removes no links, nor "
                        "what they point to); nothing removed")
    if not path.is_dir():
        names = [p.name for p in root.iterdir() if p.is_dir()]
        raise UserError(f"no run {run_id!r} in {root}{closest(run_id, names)}; see `rnn-tui runs`; nothing removed")
    if path.resolve().parent != root.resolve():
        raise UserError(f"runs rm {run_id}: {path} is outside the runs folder {root}; nothing removed")
    if not runio.is_marked(path) and not _old_run(path):
        raise UserError(f"runs rm {run_id}: {path} is not a run folder that rnn-tui made (no {runio.MARKER} in it, "
                        "and it holds more than a run's files); nothing removed")
    if _being_written(path):
        raise UserError(f"runs rm {run_id}: a running rnn-tui is writing {path}; stop that run first; nothing removed")
    return path


def _old_run(path: Path) -> bool:
    """A run from before the marker: config.toml, summary.json and nothing but a run's files."""
    return all((path / n).is_file() for n in ("config.toml", "summary.json")) and only_run_files(path)


def _being_written(path: Path) -> bool:
    """Whether a run holds the folder's lock (core/runfolder.py) right now."""
    try:
        fd = os.open(path / LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
