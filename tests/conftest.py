"""Shared fixtures: keep user presets and runs inside the test's tmp folder; `rnn-tui serve` in a
subprocess, with its app processes."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _trajectory_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("trajectory-cache")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch, _trajectory_cache):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    # one trajectory cache for the whole session (systems/cache.py): a cached trajectory is the
    # generated one bit for bit, so sharing it changes no result, only the time
    monkeypatch.setenv("RNN_TUI_CACHE", str(_trajectory_cache))


# -- `rnn-tui serve` in a subprocess (tests/test_serve.py, tests/browser/) ------------------------


class Served:
    """A running `rnn-tui serve` on a free port of 127.0.0.1, and its app processes (by pid)."""

    def __init__(self, args, port: int, log) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "rnn_tui", "serve", "--port", str(port), *args],
                                     stdout=log, stderr=subprocess.STDOUT)

    def wait_listening(self, timeout: float = 30.0) -> None:
        """Until the port accepts a connection (not a page request: that would reserve a place)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, f"rnn-tui serve exited ({self.proc.returncode}): {self.output()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"rnn-tui serve did not listen in {timeout} s: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        return open(self.log.name, encoding="utf-8", errors="replace").read()

    def apps(self) -> list[int]:
        """The server's live child processes: one app per open session."""
        return children(self.proc.pid)

    @staticmethod
    def alive(pid: int) -> bool:
        return alive(pid)

    def wait_apps(self, n: int, timeout: float = 40.0) -> list[int]:
        end = time.monotonic() + timeout
        while len(pids := self.apps()) != n:
            if time.monotonic() > end:
                raise AssertionError(f"{len(pids)} app processes, not {n}, after {timeout} s: {self.output()}")
            time.sleep(0.1)
        return pids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def alive(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError, ValueError):
            continue
        if int(ppid) == pid and state != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def serve(tmp_path):
    """serve(*args) starts `rnn-tui serve ARGS` on a free port and waits until it listens; every
    server started is stopped (SIGTERM, which ends its apps) after the test."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the app processes are found through Linux's /proc")
    started: list[Served] = []

    def start(*args: str) -> Served:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = Served(args, port, open(tmp_path / f"serve-{port}.log", "w"))
        started.append(server)
        server.wait_listening()
        return server

    yield start
    for server in started:
        server.stop()
        server.log.close()


# -- tiny runs written once by `rnn-tui train` (tests/test_api.py, tests/test_plot.py) -------------

# A chaotic system (VPT in Lyapunov times) at a size that trains in about a second on one thread.
TINY_LORENZ = {"train.epochs": 2, "model.hidden_size": 8, "system.steps": 1000, "rollout.horizon": 100, "train.threads": 1,
               "train.batch_size": 64}
# A field (a Hovmöller diagram; 12 sites, away from the exponent measured at 40), fitted in closed form.
TINY_FIELD = {"system.steps": 800, "system.params.n": 12, "model.hidden_size": 60, "train.seq_len": 30, "model.washout": 20, "rollout.horizon": 80,
              "train.threads": 1}


def cli_run(folder: Path, preset: str, overrides: dict, cache: Path) -> Path:
    """`rnn-tui train --preset PRESET --set K=V ... --out FOLDER` in this process; the folder."""
    from rnn_tui.cli import main

    sets = [a for k, v in overrides.items() for a in ("--set", f"{k}={v}")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNN_TUI_HOME", str(folder.parent / "home"))
        mp.setenv("RNN_TUI_CACHE", str(cache))
        assert main(["train", "--preset", preset, *sets, "--out", str(folder), "--quiet"]) == 0
    return folder


@pytest.fixture(scope="session")
def lorenz_run(tmp_path_factory, _trajectory_cache) -> Path:
    """A lorenz63_lstm run folder written by the CLI (TINY_LORENZ)."""
    return cli_run(tmp_path_factory.mktemp("cli") / "lorenz", "lorenz63_lstm", TINY_LORENZ, _trajectory_cache)


@pytest.fixture(scope="session")
def field_run(tmp_path_factory, _trajectory_cache) -> Path:
    """A lorenz96_esn run folder written by the CLI (TINY_FIELD)."""
    return cli_run(tmp_path_factory.mktemp("cli") / "field", "lorenz96_esn", TINY_FIELD, _trajectory_cache)
