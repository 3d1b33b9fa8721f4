"""Logging for what a user may want to read later (set-up, device, divergence, crash reports):
to stderr for headless runs, to a file in the data folder for the app (whose screen is busy)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from rnn_tui.paths import data_dir

LEVELS = ("debug", "info", "warning", "error")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Stderr(logging.StreamHandler):
    """To whatever sys.stderr is when a record is written (it may be replaced after set-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def log_file() -> Path:
    return data_dir() / "rnn-tui.log"


def setup(level: str = "warning", to_file: bool = False) -> Path | None:
    """Send rnn_tui's log records at `level` and above to stderr, or to the log file (kept to
    1 MB, three old files). Returns the file when one is used."""
    logger = logging.getLogger("rnn_tui")
    for h in list(logger.handlers):
        logger.removeHandler(h)
    logger.setLevel(level.upper())
    logger.propagate = False
    path = None
    if to_file:
        path = log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        except OSError:
            handler, path = logging.NullHandler(), None
    else:
        handler = _Stderr()
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    return path
