"""The real app in a real terminal (tmux): first frame, `s` starts training, the epoch counter
advances on screen (with the device and its CPU threads), `q` quits with exit status 0."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.terminal


@pytest.fixture(autouse=True)
def _tmux():
    """The real-terminal tests need tmux. CI installs it (.ci/run) and sets RNN_TUI_REQUIRE_TMUX=1:
    missing there is a failure; elsewhere a loud skip (a warning in the summary, not a silent "s")."""
    if shutil.which("tmux") is not None:
        return
    if os.environ.get("RNN_TUI_REQUIRE_TMUX"):
        pytest.fail("tmux is not installed and RNN_TUI_REQUIRE_TMUX is set: the real-terminal tests must run", pytrace=False)
    warnings.warn("tmux is not installed: the real-terminal tests (tests/test_terminal.py) did NOT run", UserWarning)
    pytest.skip("tmux is not installed: the real-terminal tests did NOT run (apt-get install tmux)")

ROOT = Path(__file__).resolve().parents[1]
EPOCH = re.compile(r"epoch (\d+)/(\d+)")


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def wait_screen(session: str, predicate, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; screen was:\n{screen}")


def epoch_on(screen: str) -> int:
    m = EPOCH.search(screen)
    return int(m.group(1)) if m else -1


def test_app_in_tmux(tmp_path):
    session = f"rnn-tui-test-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    app = " ".join(
        shlex.quote(a)
        for a in [sys.executable, "-m", "rnn_tui", "--set", "train.epochs=50", "--set", "system.steps=400",
                  "--set", "model.hidden_size=16", "--set", "rollout.every=2", "--set", "train.threads=1", "--set", "train.device=cpu"]
    )
    # COLUMNS/LINES can reach the pane from the environment and would override the pane's real size.
    command = f"cd {shlex.quote(str(ROOT))} && unset COLUMNS LINES && RNN_TUI_HOME={shlex.quote(str(tmp_path))} {app}; echo EXIT=$? > {shlex.quote(str(exit_file))}"
    subprocess.run(["tmux", "new-session", "-d", "-x", "160", "-y", "50", "-s", session, command], check=True)
    try:
        t0 = time.monotonic()
        parts = ("press s to start", "System", "Model", "Training", "s Start", "q Quit")  # panel, status, footer
        wait_screen(session, lambda s: all(p in s for p in parts), 20, "the first frame")
        print(f"first frame after {time.monotonic() - t0:.2f} s")

        subprocess.run(["tmux", "send-keys", "-t", session, "s"], check=True)
        screen = wait_screen(session, lambda s: epoch_on(s) >= 1, 60, "the first epoch")
        assert EPOCH.search(screen).group(2) == "50"
        seen = epoch_on(screen)
        screen = wait_screen(session, lambda s: epoch_on(s) > seen, 60, "the epoch counter to advance")
        assert "loss (MSE" in screen and "samples/s" in screen
        assert re.search(r"device cpu · 1 thread\b", screen)  # the run's CPU threads beside the device (last: no space after)
        # the one-step loss beside the free-run error (from the first forecast on)
        screen = wait_screen(session, lambda s: re.search(r"best val \S+\s+free run RMSE \S+", s), 60, "the free-run error")

        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists(), "the app did not exit after q:\n" + capture(session)
        assert exit_file.read_text().strip() == "EXIT=0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_runs_screen_in_tmux(tmp_path):
    """Two headless runs, then the app: R opens the leaderboard, space selects both, the overlay
    plots show both runs' labels; escape closes it and q quits."""
    from rnn_tui.cli import main

    runs = tmp_path / "runs"
    for arch in ("rnn", "lstm"):
        assert main(["train", "--preset", "lorenz63_lstm", "--set", f"model.arch={arch}", "--set", "system.steps=1500",
                     "--set", "train.epochs=2", "--set", "model.hidden_size=8", "--set", "train.threads=1", "--quiet",
                     "--runs", str(runs)]) == 0
    session = f"rnn-tui-runs-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    app = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "rnn_tui", "--runs", str(runs)])
    command = (f"cd {shlex.quote(str(ROOT))} && unset COLUMNS LINES && RNN_TUI_HOME={shlex.quote(str(tmp_path))} {app}; "
               f"echo EXIT=$? > {shlex.quote(str(exit_file))}")
    subprocess.run(["tmux", "new-session", "-d", "-x", "160", "-y", "45", "-s", session, command], check=True)
    try:
        wait_screen(session, lambda s: "q Quit" in s, 20, "the first frame")
        subprocess.run(["tmux", "send-keys", "-t", session, "R"], check=True)
        wait_screen(session, lambda s: "2 runs in" in s and "lorenz63" in s, 10, "the runs screen")
        subprocess.run(["tmux", "send-keys", "-t", session, "space"], check=True)
        wait_screen(session, lambda s: "●" in s, 10, "the first run marked")
        for keys in ("Down", "space"):  # keys reach the app in order: no wait between them
            subprocess.run(["tmux", "send-keys", "-t", session, keys], check=True)
        screen = wait_screen(session, lambda s: s.count("rnn 8 ") >= 3 and s.count("lstm 8 ") >= 3, 10,
                             "both runs' labels in the three overlay plots")
        assert "truth" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        wait_screen(session, lambda s: "System" in s and "2 runs in" not in s, 10, "the main screen again")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists(), "the app did not exit after q:\n" + capture(session)
        assert exit_file.read_text().strip() == "EXIT=0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
