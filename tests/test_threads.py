"""The thread count of a run: one thread for small steps, more for large ones, never more than the
cores other rnn-tui runs leave free; train.threads overrides."""

import os
import subprocess
import sys

from rnn_tui import config
from rnn_tui.core import threads
from rnn_tui.core.trainer import train
from rnn_tui.paths import data_dir


def test_small_steps_take_one_thread_and_large_ones_more():
    assert threads.wanted(120_000) == 1  # the notes' sine RNN step
    assert threads.wanted(threads.PARALLEL_FROM) == 2
    assert threads.wanted(10_000_000) == 4  # the bench's Lorenz LSTM and KdV ConvLSTM steps are this large


def test_other_runs_threads_are_counted_and_dead_ones_forgotten(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 4)
    folder = data_dir() / "threads"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    (folder / f"{dead}-1.threads").write_text(f"{dead} 8\n")  # a run that was killed
    (folder / "me-1.threads").write_text(f"{os.getppid()} 3\n")  # a live process holding 3
    assert threads.busy() == 3
    assert not (folder / f"{dead}-1.threads").exists()
    claim = threads.choose(0, 10_000_000)
    assert (claim.n, claim.reason) == (1, "1 core free")
    assert threads.choose(2, 10).n == 2 and threads.choose(2, 10).reason == "train.threads"


def test_a_run_announces_its_threads_while_it_trains_and_reports_them(monkeypatch):
    seen = []
    cfg = config.load("sine_rnn", overrides=["system.steps=400", "train.epochs=2", "model.hidden_size=8", "rollout.horizon=20"])
    result = train(cfg, lambda e: seen.append(threads.busy()))
    assert result.summary.threads == 1 and result.summary.threads_reason == "small model"
    assert max(seen) == 1  # its own claim, visible to other runs while it trained
    assert threads.busy() == 0  # and gone after
    assert result.summary.to_dict()["threads_reason"] == "small model"
