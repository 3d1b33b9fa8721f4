"""train.ensemble = K: every member trains exactly as the ordinary run with its seed (train.seed + j)
would, in float64: weights, losses epoch by epoch, steps, early stopping, divergence, the L-BFGS
polish, its forecast and its test scores; a diverging member is frozen while the others go on; the
run's files and the CLI report members and the mean forecast; what cannot batch is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_tui import budget
from rnn_tui import config as C
from rnn_tui.cli import main as cli_main
from rnn_tui.core import events as ev
from rnn_tui.core.results import Summary
from rnn_tui.core.runio import load_model
from rnn_tui.core.trainer import train
from rnn_tui.errors import UserError

TINY = ["system.steps=160", "train.seq_len=5", "train.batch_size=16", "train.epochs=3", "rollout.every=2", "rollout.horizon=12",
        "train.dtype=float64", "train.threads=1", "model.hidden_size=6", "train.lr=0.01"]
LORENZ = ["system.name=lorenz63", "system.steps=400"]
CASES = {  # each case also exercises training options whose per-member handling must match one run
    "rnn-sgd-seq_loss": ["model.arch=rnn", "model.activation=sigmoid", "train.optimizer=sgd", "train.seq_loss=true"],
    "irnn-clip-cosine": ["model.arch=irnn", "train.clip_grad_norm=0.5", "train.schedule=cosine"],
    "lstm-2layers-h0-decay": ["model.arch=lstm", "model.num_layers=2", "model.learn_h0=true", "train.weight_decay=0.01"],
    "gru-plateau-early_stop": ["model.arch=gru", "train.schedule=plateau", "train.early_stop_patience=1", "train.epochs=8", "train.lr=0.05"],
    "dense_gru-head-rmsprop": ["model.arch=dense_gru", "model.head_size=4", "train.optimizer=rmsprop"],
    "mlp-rollout_steps": ["model.arch=mlp", "model.num_layers=2", "train.rollout_steps=2"],
    "rk4-lbfgs": LORENZ + ["model.arch=rk4", "model.hidden_size=3", "train.seq_len=1", "train.lbfgs_steps=5"],
    "esn-closed_form": LORENZ + ["model.arch=esn", "model.hidden_size=20", "model.washout=10"],
}


def _run(overrides: list[str], **train_fields):
    cfg = C.load(None, overrides=TINY + overrides + [f"train.{k}={v}" for k, v in train_fields.items()])
    seen: list = []
    return train(cfg, seen.append), [e for e in seen if isinstance(e, ev.EpochEnd)]


def _close(a, b, rtol=1e-9) -> None:
    """Equal to float64 rounding, relative to the size of the values (a diverged run's are huge)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert np.array_equal(np.isfinite(a), np.isfinite(b))
    ok = np.isfinite(b)
    assert np.all(np.abs(a[ok] - b[ok]) <= rtol * np.maximum(1.0, np.abs(b[ok]))), np.max(np.abs(a[ok] - b[ok]))


def _assert_member_is_its_run(ens, ens_epochs, j: int, overrides: list[str], rtol: float = 1e-9) -> None:
    seed = ens.config.train.seed + j
    one, epochs = _run(overrides, seed=seed)
    member = ens.summary.ensemble.members[j]
    assert member.seed == seed
    assert (member.status, member.steps, member.epochs_run) == (one.summary.status, one.summary.steps, one.summary.epochs_run)
    assert one.summary.message.startswith(member.message)  # one run adds its advice to the same words
    state, ref = ens.model.member_state(j), one.model.state_dict()
    for name in ref:
        _close(state[name], ref[name], rtol)
    assert len(epochs) == sum(np.isfinite(e.members_train_loss[j]) for e in ens_epochs)
    _close([e.members_train_loss[j] for e in ens_epochs[: len(epochs)]], [e.train_loss for e in epochs], rtol)
    _close([e.members_val_loss[j] for e in ens_epochs[: len(epochs)]], [e.val_loss for e in epochs], rtol)
    if one.forecast is not None:
        _close(ens.forecast.members[j], one.forecast.prediction, rtol)
    if one.summary.evaluation is not None and one.summary.evaluation.rmse_curve:
        _close(member.evaluation.rmse_curve, one.summary.evaluation.rmse_curve, rtol)


@pytest.mark.parametrize("case", list(CASES))
def test_each_member_trains_as_its_own_run(case):
    overrides = CASES[case]
    k = 2 if case.startswith("esn") else 3
    ens, epochs = _run(overrides, ensemble=k)
    assert len(ens.summary.ensemble.members) == k and all(len(e.members_train_loss) == k for e in epochs)
    # The ESN's readout is a solve of normal equations (condition ~1e7): rounding grows to ~1e-8 there.
    for j in range(k):
        _assert_member_is_its_run(ens, epochs, j, overrides, rtol=1e-6 if case.startswith("esn") else 1e-9)
    # the forecast shown and scored is the members' mean; the epoch's losses are the median member's
    np.testing.assert_allclose(ens.forecast.prediction, ens.forecast.members.mean(axis=0), rtol=1e-12)
    trained = [v for v in epochs[0].members_train_loss if np.isfinite(v)]
    assert epochs[0].train_loss == pytest.approx(float(np.median(trained)))


@pytest.mark.parametrize("case", ["lstm-2layers-h0-decay", "dense_gru-head-rmsprop"])
def test_large_lstm_and_gru_steps_train_member_by_member_as_their_own_runs(case, monkeypatch):
    from rnn_tui.models.recurrent import stacked

    monkeypatch.setattr(stacked, "MEMBER_BY_MEMBER_FROM", 0)  # torch's fused layer per member, at any size
    ens, epochs = _run(CASES[case], ensemble=2)
    for j in range(2):
        _assert_member_is_its_run(ens, epochs, j, CASES[case])


def test_a_diverging_member_is_frozen_reported_and_left_out_of_the_mean():
    # SGD with momentum at lr 0.3 on a ReLU MLP: the member with seed 4 blows up in epoch 2, the others do not.
    overrides = ["model.arch=mlp", "model.activation=relu", "train.optimizer=sgd", "train.momentum=0.9", "train.lr=0.3",
                 "rollout.every=0"]
    ens, epochs = _run(overrides, ensemble=6)
    members = ens.summary.ensemble.members
    assert [m.status for m in members] == ["finished"] * 4 + ["diverged", "finished"]
    assert ens.summary.status == "finished" and "seeds 4" in ens.summary.message
    assert members[4].message.startswith("non-finite") and members[4].epochs_run >= 1
    for j in (4, 5):  # the diverged member stopped where its own run stops; the one after it went on unharmed
        _assert_member_is_its_run(ens, epochs, j, overrides)
    assert np.isnan(epochs[-1].members_train_loss[4]) and np.isfinite(epochs[-1].members_train_loss[5])
    keep = [j for j in range(6) if j != 4]
    assert ens.summary.ensemble.averaged == 5
    np.testing.assert_allclose(ens.forecast.prediction, ens.forecast.members[keep].mean(axis=0), rtol=1e-12)
    assert "1 diverged (seeds 4)" in ens.summary.ensemble_text()


def test_every_member_diverging_is_a_diverged_run():
    ens, _ = _run(["model.arch=mlp", "model.activation=relu", "train.optimizer=sgd", "train.momentum=0.9", "train.lr=3",
                   "rollout.every=0"], ensemble=3)
    assert ens.summary.status == "diverged" and ens.summary.message.startswith("every member diverged")
    assert all(m.status == "diverged" for m in ens.summary.ensemble.members)


def test_cli_run_writes_members_and_mean_and_goes_on_when_resumed(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli_main(["train", "--preset", "lorenz63_rk4", "--out", str(out), "--set", "train.ensemble=3", "--set", "train.epochs=2",
                     "--set", "system.steps=600", "--set", "train.lbfgs_steps=0", "--set", "train.threads=1", "--set", "rollout.horizon=50"])
    assert code == 0
    end = [line for line in capsys.readouterr().err.splitlines() if line.startswith("finished")][0]
    assert "ensemble of 3; mean forecast VPT" in end and "members" in end
    data = json.loads((out / "summary.json").read_text())
    assert [m["seed"] for m in data["ensemble"]["members"]] == [0, 1, 2]
    assert all("rmse_curve" in m and "vpt" in m for m in data["ensemble"]["members"])
    summary = Summary.from_dict(data)
    assert summary.ensemble.size == 3 and summary.to_dict() == json.loads(json.dumps(summary.to_dict()))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [len(r["members_train_loss"]) for r in rows] == [3, 3] and rows[-1]["train_loss"] == pytest.approx(np.median(rows[-1]["members_train_loss"]))
    model, cfg, _, _ = load_model(out / "model.pt")
    assert model.k == 3 and cfg.train.ensemble == 3
    assert (out / "state.pt").exists()
    assert cli_main(["train", "--resume", str(out), "--set", "train.epochs=4", "--quiet"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4] and all(len(r["members_train_loss"]) == 3 for r in rows)
    assert [m["epochs_run"] for m in json.loads((out / "summary.json").read_text())["ensemble"]["members"]] == [4, 4, 4]


@pytest.mark.parametrize("overrides,needle", [
    (['system.name="kdv"', 'model.arch="convlstm"', "train.ensemble=2"], "needs an architecture that trains batched"),
    (["model.arch=lstm", "model.num_layers=2", "model.dropout=0.2", "train.ensemble=2"], "cannot use model.dropout"),
    (["train.ensemble=0"], "train.ensemble must be in [1, 64], got 0"),
    (["train.ensemble=65"], "train.ensemble must be in [1, 64], got 65"),
])
def test_an_ensemble_that_cannot_be_trained_is_one_line_naming_the_key(overrides, needle):
    with pytest.raises(UserError) as err:
        C.load(None, overrides=overrides)
    assert needle in str(err.value) and "\n" not in str(err.value) and err.value.key == "train.ensemble"


def test_memory_estimate_counts_every_member_and_names_the_ensemble(monkeypatch):
    one = C.load(None, overrides=["model.hidden_size=512"])
    many = C.load(None, overrides=["model.hidden_size=512", "train.ensemble=16"])
    a, b = budget.estimate(one).parts, budget.estimate(many).parts
    assert b["batch"] == 16 * a["batch"] and b["evaluation"] == 16 * a["evaluation"] and b["model"] > 16 * a["model"]
    monkeypatch.setattr(budget, "machine_memory", lambda: 4 * budget.estimate(one).total)  # one member fits, 16 do not
    with pytest.raises(UserError) as err:
        C.load(None, overrides=["model.hidden_size=512", "train.ensemble=16"])
    assert err.value.key == "train.ensemble" and "lower train.ensemble" in str(err.value)
