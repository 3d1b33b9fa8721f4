"""Crash reports: an unexpected error (a bug, not bad input) is written in full, with the run's
configuration and the versions in use, to a file the user can attach to an issue; the front ends
show one line with its path."""

from __future__ import annotations

import logging
import platform
import sys
import time
import traceback
from pathlib import Path

from rnn_tui import __version__
from rnn_tui.fsutil import atomic_write
from rnn_tui.paths import data_dir

log = logging.getLogger(__name__)


class Crashed(Exception):
    """An unexpected error whose report is written; `str()` is the one line to show."""

    exit_code = 1

    def __init__(self, error: BaseException, report: Path | None) -> None:
        first = (str(error).splitlines() or [""])[0]
        where = f" (full report: {report})" if report else ""
        super().__init__(f"unexpected {type(error).__name__}: {first}{where}")
        self.error, self.report = error, report


def write_report(error: BaseException, cfg=None, folder: str | Path | None = None) -> Path | None:
    """Write the traceback, the configuration and the versions to `folder` (a run folder) or to
    the data folder's crashes/; returns the file, or None where nothing could be written."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = Path(folder) if folder is not None and Path(folder).is_dir() else data_dir() / "crashes"
    path = target / f"crash-{stamp}.txt"
    lines = [
        f"rnn-tui {__version__} crash report, {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"python {sys.version.split()[0]} on {platform.platform()}",
        f"torch {sys.modules['torch'].__version__}" if "torch" in sys.modules else "torch not imported",
        f"command: {' '.join(sys.argv)}",
        "",
        "".join(traceback.format_exception(error)).rstrip(),
    ]
    if cfg is not None:
        from rnn_tui.config import dumps

        try:
            lines += ["", "configuration:", dumps(cfg)]
        except Exception as exc:  # noqa: BLE001 - the report must be written whatever the config holds
            lines += ["", f"configuration could not be written: {exc!r}"]
    try:
        target.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: fh.write("\n".join(lines) + "\n"))
    except OSError as exc:
        log.error("could not write the crash report to %s: %s", path, exc)
        return None
    log.info("unexpected %s; report in %s", type(error).__name__, path)  # the front end shows the one line
    return path


def crashed(error: BaseException, cfg=None, folder: str | Path | None = None) -> Crashed:
    """The one-line error for an unexpected exception, with its report written."""
    return Crashed(error, write_report(error, cfg, folder))
