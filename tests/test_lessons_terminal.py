"""A lesson in a real terminal (tmux): `rnn-tui lessons --run 1 --quick` opens the Lessons screen on
lesson 1 with its text, runs it, and the measured claim (✓ or ✗, with its number) appears; escape
closes the screen and q quits with exit status 0."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from test_terminal import _tmux, capture, wait_screen  # noqa: F401 (_tmux: the autouse fixture, tmux required in CI)

pytestmark = pytest.mark.terminal
ROOT = Path(__file__).resolve().parents[1]
CLAIM = re.compile(r"[✓✗] Run freely for \d+ steps")


def test_a_lesson_in_tmux_shows_its_text_runs_and_measures_its_claim(tmp_path):
    session = f"rnn-tui-lesson-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    app = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "rnn_tui", "lessons", "--run", "1", "--quick", "--runs", str(tmp_path / "runs")])
    command = f"cd {shlex.quote(str(ROOT))} && unset COLUMNS LINES && RNN_TUI_HOME={shlex.quote(str(tmp_path))} {app}; echo EXIT=$? > {shlex.quote(str(exit_file))}"
    subprocess.run(["tmux", "new-session", "-d", "-x", "160", "-y", "50", "-s", session, command], check=True)
    try:
        wait_screen(session, lambda s: "One step is not a forecast" in s and "The question" in s, 20, "lesson 1's text")
        screen = wait_screen(session, lambda s: CLAIM.search(s.replace("\n", " ")), 90, "the measured claim")
        assert "sine RNN, window re-fed" in screen and "the same RNN, state carried" in screen  # its two runs
        assert re.search(r"[\d,]+ times its one-step error", " ".join(screen.split())), screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        wait_screen(session, lambda s: "press s to start" in s, 10, "the main screen after escape")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists() and exit_file.read_text().strip() == "EXIT=0", capture(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
