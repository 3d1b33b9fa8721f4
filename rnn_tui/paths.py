"""Where rnn-tui keeps a user's files: $RNN_TUI_HOME, else the platform's data folder for the user
(~/.local/share/rnn-tui on Linux). Saved presets, crash reports and the app's log live there."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    home = os.environ.get("RNN_TUI_HOME")
    if home:
        return Path(home)
    import platformdirs

    return Path(platformdirs.user_data_dir("rnn-tui", appauthor=False))
