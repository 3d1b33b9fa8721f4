"""Headless mode end to end: `rnn-tui train` writes a complete, repeatable run folder."""

import json
import subprocess
import sys
import tomllib

import pytest
import torch

FAST = ["--set", "train.epochs=3", "--set", "model.hidden_size=8", "--set", "rollout.horizon=40",
        "--set", "train.device=cpu"]  # the tests read "cpu" back: pinned, so a machine with a GPU passes them too


def rnn_tui(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.heavy  # a CI tier (.ci/run): over 5 s on the default run
def test_train_writes_every_file_and_repeats(tmp_path):
    out = tmp_path / "run"
    p = rnn_tui("train", "--preset", "sine_rnn", *FAST, "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "epoch" in p.stderr and "Traceback" not in p.stderr
    for name in ["config.toml", "metrics.jsonl", "summary.json", "rollout.csv", "model.pt"]:
        assert (out / name).is_file(), name
    rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert {"epoch", "train_loss", "val_loss", "grad_norm", "lr", "elapsed_s"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished"
    assert {"1", "4", "8"} <= set(summary["rmse_at_steps"])
    assert summary["n_params"] > 0 and summary["device"] == "cpu" and summary["wall_time_s"] > 0
    header = (out / "rollout.csv").read_text().splitlines()[0]
    assert header == "t,x_true,x_pred"
    payload = torch.load(out / "model.pt", weights_only=True)
    assert "state_dict" in payload
    cfg = tomllib.loads((out / "config.toml").read_text())
    assert cfg["train"]["epochs"] == 3 and cfg["model"]["hidden_size"] == 8

    again = tmp_path / "again"
    p2 = rnn_tui("train", "--config", str(out / "config.toml"), "--out", str(again), "--quiet")
    assert p2.returncode == 0, p2.stderr
    rows2 = [json.loads(l) for l in (again / "metrics.jsonl").read_text().splitlines()]
    assert [r["train_loss"] for r in rows2] == [r["train_loss"] for r in rows]


def test_headless_alias(tmp_path):
    p = rnn_tui("--headless", "--preset", "sine_rnn", *FAST, "--out", str(tmp_path / "r"))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "r" / "summary.json").is_file()


def test_diverged_run_exits_3_and_still_writes_summary(tmp_path):
    out = tmp_path / "div"
    p = rnn_tui("train", "--preset", "sine_rnn", *FAST, "--set", "train.optimizer=sgd", "--set", "train.lr=1e8", "--out", str(out))
    assert p.returncode == 3, p.stderr
    assert "diverged" in p.stderr and "Traceback" not in p.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "diverged" and "lower train.lr" in summary["message"]
    assert (out / "model.pt").is_file()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--preset", "sine_rnn", "--set", "train.lr=-1"], "train.lr must be > 0"),
        (["--preset", "sine_rnn", "--set", "train.epochz=3"], "did you mean 'epochs'"),
        (["--preset", "sine_rnn", "--set", "train.seq_len=900"], "longer than the training split"),
        (["--preset", "sine_rnn", "--set", "model.hidden_size=0"], "model.hidden_size must be in [1, 4096]"),
        (["--preset", "sine_rnn", "--set", "system.name=kdv"], "is a field"),
        ([], "needs --preset"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, words):
    out = tmp_path / "bad"
    p = rnn_tui("train", *args, "--out", str(out))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and lines[0].startswith("rnn-tui: error:")
    assert not out.exists()


def test_broken_toml_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[model]\narch = 'lstm\n")
    p = rnn_tui("train", "--config", str(bad), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and "broken.toml" in p.stderr and "line 2" in p.stderr
    assert "Traceback" not in p.stderr


def test_presets_lists_one_line_each():
    p = rnn_tui("presets")
    assert p.returncode == 0
    lines = p.stdout.strip().splitlines()
    assert len(lines) >= 11 and any(l.startswith("lorenz63_rk4") for l in lines)
