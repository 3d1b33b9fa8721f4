"""`rnn-tui train --resume`: a run goes on where it ended, into its own folder."""

import json

import pytest

from rnn_tui.cli import main

BASE = ["--preset", "lorenz63_lstm", "--set", "system.steps=1500", "--set", "model.hidden_size=8", "--set", "train.threads=1",
        "--set", "rollout.every=0", "--set", "rollout.horizon=30", "--quiet"]


def _losses(folder):
    return [(r["epoch"], r["train_loss"], r["val_loss"]) for r in map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())]


@pytest.mark.parametrize("schedule", ["none", "plateau"])
def test_five_plus_five_epochs_equal_ten_in_one_go_to_the_last_digit(tmp_path, schedule):
    extra = ["--set", f"train.schedule={schedule}", "--set", "model.dropout=0.2", "--set", "model.num_layers=2"]  # dropout: the random state counts
    assert main(["train", *BASE, *extra, "--set", "train.epochs=10", "--out", str(tmp_path / "once")]) == 0
    assert main(["train", *BASE, *extra, "--set", "train.epochs=5", "--out", str(tmp_path / "parts")]) == 0
    assert main(["train", "--resume", str(tmp_path / "parts"), "--set", "train.epochs=10", "--quiet"]) == 0
    once, parts = _losses(tmp_path / "once"), _losses(tmp_path / "parts")
    assert [e for e, _, _ in parts] == list(range(1, 11))
    assert parts == once  # every loss, to the last digit
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("once", "parts"))
    assert a["steps"] == b["steps"] and a["epochs_run"] == b["epochs_run"] == 10 and a["rmse_at_steps"] == b["rmse_at_steps"]


@pytest.mark.parametrize("schedule", ["none", "plateau"])
def test_an_ensemble_resumed_equals_one_run_to_the_last_digit(tmp_path, schedule):
    """Three members, 2 epochs then resumed to 4, against 4 in one go: every member's losses, its
    steps and the mean forecast's scores agree to the last digit (plateau: each member's own schedule)."""
    extra = ["--set", "train.ensemble=3", "--set", f"train.schedule={schedule}", "--set", "train.early_stop_patience=3"]
    assert main(["train", *BASE, *extra, "--set", "train.epochs=4", "--out", str(tmp_path / "once")]) == 0
    assert main(["train", *BASE, *extra, "--set", "train.epochs=2", "--out", str(tmp_path / "parts")]) == 0
    assert main(["train", "--resume", str(tmp_path / "parts"), "--set", "train.epochs=4", "--quiet"]) == 0

    def rows(folder):
        return [(r["epoch"], r["members_train_loss"], r["members_val_loss"])
                for r in map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())]

    once, parts = rows(tmp_path / "once"), rows(tmp_path / "parts")
    assert [e for e, _, _ in parts] == [1, 2, 3, 4] and parts == once
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("once", "parts"))
    assert a["rmse_at_steps"] == b["rmse_at_steps"] and a["steps"] == b["steps"]
    assert [(m["steps"], m["best_val_loss"]) for m in a["ensemble"]["members"]] == [(m["steps"], m["best_val_loss"]) for m in b["ensemble"]["members"]]


def test_resume_refuses_what_it_cannot_do(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", *BASE, "--set", "train.epochs=2", "--out", str(run)]) == 0
    cases = [
        (["--resume", str(run)], "2 epochs already"),
        (["--resume", str(run), "--set", "train.epochs=4", "--set", "model.hidden_size=16"], "model.hidden_size cannot change"),
        (["--resume", str(tmp_path / "nope"), "--set", "train.epochs=4"], "no such run folder"),
        (["--resume", str(run), "--preset", "sine_rnn"], "drop --preset"),
    ]
    for args, words in cases:
        assert main(["train", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    (run / "state.pt").unlink()
    assert main(["train", "--resume", str(run), "--set", "train.epochs=4"]) == 2
    assert "no state.pt" in capsys.readouterr().err
    assert len(_losses(run)) == 2  # nothing was written to the run


@pytest.mark.parametrize("kind", ["single", "ensemble"])
def test_a_state_written_before_the_trainers_were_one_still_resumes(tmp_path, kind):
    """tests/data/old_state/: two epochs of a small Lorenz-63 LSTM (one model, and an ensemble of 2)
    written by rnn-tui before state-2 (the formats rnn-tui/state-1 and rnn-tui/ensemble-state-1, with
    early stopping's best weights); resumed to 4, they equal 4 epochs in one go to the last digit."""
    import shutil
    from pathlib import Path

    import torch

    old = tmp_path / "old"
    shutil.copytree(Path(__file__).parent / "data" / "old_state" / kind, old)
    fmt = torch.load(old / "state.pt", weights_only=True)["format"]
    assert fmt == ("rnn-tui/state-1" if kind == "single" else "rnn-tui/ensemble-state-1")
    assert main(["train", "--resume", str(old), "--set", "train.epochs=4", "--quiet"]) == 0
    assert main(["train", "--config", str(old / "config.toml"), "--set", "train.epochs=4", "--out", str(tmp_path / "once"), "--quiet"]) == 0
    key = "members_train_loss" if kind == "ensemble" else "train_loss"

    def rows(folder):
        return [(r["epoch"], r[key], r["val_loss"]) for r in map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())]

    # The fixture's two epochs were computed on another CPU, whose float32 kernels round differently
    # (1e-8 relative): the resumed run keeps them as written, and goes on where one run in one go goes.
    fixture = [(r["epoch"], r[key], r["val_loss"]) for r in map(json.loads, (Path(__file__).parent / "data" / "old_state" / kind / "metrics.jsonl").read_text().splitlines())]
    assert rows(old)[:2] == fixture and len(rows(old)) == 4 and len(rows(tmp_path / "once")) == 4
    assert _flat(rows(old)) == pytest.approx(_flat(rows(tmp_path / "once")), rel=1e-5)
    a, b = (json.loads((d / "summary.json").read_text()) for d in (old, tmp_path / "once"))
    assert a["steps"] == b["steps"] and a["best_val_loss"] == pytest.approx(b["best_val_loss"], rel=1e-5)
    assert a["rmse_at_steps"].keys() == b["rmse_at_steps"].keys()
    assert list(a["rmse_at_steps"].values()) == pytest.approx(list(b["rmse_at_steps"].values()), rel=1e-3)


def _flat(rows):
    return [float(v) for row in rows for x in row for v in (x if isinstance(x, list) else [x])]
