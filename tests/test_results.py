"""Typed results between the core and the front ends, and the summary.json they become at the edge."""

import json

import numpy as np
import pytest

from rnn_tui import config
from rnn_tui.core import runio
from rnn_tui.core.results import VPT, Evaluation, Forecast, Spread, Summary
from rnn_tui.core.trainer import train

# Every key summary.json had before the results were typed (rnn-tui 0.1): run folders written then
# must still read, and tools reading new ones must find the same keys.
KEYS_01 = {"status", "message", "system", "arch", "epochs_run", "steps", "final_train_loss", "final_val_loss", "best_val_loss",
           "final_val_rmse_units", "n_params", "device", "step_mode", "dtype", "threads", "n_train_windows", "n_val_windows",
           "split_samples", "rmse_units", "wall_time_s", "train_time_s"}
EVAL_KEYS = {"split", "n_starts", "horizon_steps", "rmse_at_steps", "rmse_curve", "one_step_rmse"}
CHAOS_KEYS = {"vpt", "vpt_lyapunov"}


def _summary(**kw) -> Summary:
    base = dict(status="finished", message="", system="lorenz63", arch="lstm", epochs_run=3, steps=30, final_train_loss=1e-3,
                final_val_loss=float("nan"), best_val_loss=2e-3, final_val_rmse_units=None, n_params=100, device="cpu",
                step_mode="eager (not on CUDA)", dtype="float32", threads=1, n_train_windows=10, n_val_windows=0,
                split_samples={"train": 10, "val": 0, "test": 5}, wall_time_s=1.5, train_time_s=1.0)
    base.update(kw)
    return Summary(**base)


def test_evaluation_derives_steps_and_one_step_from_its_curve():
    e = Evaluation("test", 100, 9, tuple(float(v) for v in range(1, 10)))
    assert e.rmse_at_steps == {"1": 1.0, "2": 2.0, "4": 4.0, "8": 8.0}
    assert e.one_step_rmse == 1.0


def test_summary_json_has_every_earlier_key_and_reads_back(tmp_path):
    vpt = VPT(Spread(2.0, 1.0, 3.0), 0.4, 0.25, 0.906)
    s = _summary(evaluation=Evaluation("test", 120, 16, tuple(np.linspace(0.1, 1.6, 16)), vpt))
    runio.write_summary(tmp_path, s)
    d = json.loads((tmp_path / "summary.json").read_text())
    assert KEYS_01 | EVAL_KEYS | CHAOS_KEYS <= set(d)
    assert d["final_val_loss"] is None  # NaN is written as null
    assert d["vpt_lyapunov"]["median"] == pytest.approx(2.0 * 0.906) and d["vpt"]["censored_fraction"] == 0.25
    back = runio.read_summary(tmp_path / "summary.json")
    assert back.evaluation.vpt.lyapunov.median == pytest.approx(2.0 * 0.906)
    assert back.evaluation.rmse_curve == pytest.approx(s.evaluation.rmse_curve)
    assert back.to_dict().keys() == d.keys()
    assert s.vpt_text() == "median VPT 1.81 Lyapunov times (threshold 0.4)"


def test_a_horizon_limited_vpt_is_a_lower_bound_and_a_vpt_past_the_truth_is_flagged(tmp_path):
    censored = VPT(Spread(5.0, 5.0, 5.0), 0.4, 0.5, 0.906, truth_time=29.46)
    assert censored.horizon_limited
    assert censored.text() == "median VPT ≥ 4.53 Lyapunov times (horizon-limited; threshold 0.4; truth valid to 26.7)"
    measured = VPT(Spread(5.0, 4.0, 6.0), 0.3, 0.49, 0.906, truth_time=29.46)
    assert not measured.horizon_limited and not measured.beyond_truth
    assert measured.text() == "median VPT 4.53 Lyapunov times (threshold 0.3; truth valid to 26.7)"
    beyond = VPT(Spread(31.0, 30.0, 32.0), 0.4, 0.0, 0.906, truth_time=29.46)
    assert beyond.beyond_truth and "beyond the valid ground-truth time 26.7: not meaningful" in beyond.text()
    s = _summary(evaluation=Evaluation("test", 120, 16, tuple(np.linspace(0.1, 1.6, 16)), censored))
    runio.write_summary(tmp_path, s)
    d = json.loads((tmp_path / "summary.json").read_text())
    assert d["vpt"]["horizon_limited"] is True and d["vpt_lyapunov"]["horizon_limited"] is True
    assert d["vpt"]["truth_valid_time"] == 29.46 and d["vpt_lyapunov"]["truth_valid"] == pytest.approx(26.69076)
    back = runio.read_summary(tmp_path / "summary.json").evaluation.vpt
    assert back.horizon_limited and back.truth_time == 29.46


def test_skipped_and_failed_evaluations_keep_their_old_keys():
    assert _summary(evaluation_note="skipped: the run was cancelled").to_dict()["evaluation"].startswith("skipped")
    failed = _summary(evaluation_note="boom").to_dict()
    assert failed["evaluation_error"] == "boom" and "split" not in failed


def test_a_file_that_is_not_a_summary_is_a_one_line_error(tmp_path):
    from rnn_tui.errors import UserError

    (tmp_path / "summary.json").write_text('{"status": "finished"}')
    with pytest.raises(UserError, match="not a run summary"):
        runio.read_summary(tmp_path / "summary.json")


def test_a_real_run_gives_typed_results_that_match_its_files(tmp_path):
    cfg = config.load("sine_rnn", overrides=["system.steps=400", "model.hidden_size=8", "train.epochs=2", "train.threads=1",
                                             "rollout.horizon=30", "train.test_fraction=0.2"])
    result = train(cfg)
    f = result.forecast
    assert isinstance(f, Forecast) and f.epoch == 2 and f.truth.shape == f.prediction.shape == (30, 1)
    assert f.rmse_by_step()[0] == pytest.approx(abs(f.prediction[0, 0] - f.truth[0, 0]))
    assert result.summary.evaluation.split == "test" and result.summary.epochs_run == 2
    runio.write_results(tmp_path, result)
    d = json.loads((tmp_path / "summary.json").read_text())
    assert d == json.loads(json.dumps(runio._clean(result.summary.to_dict())))
    rows = np.loadtxt(tmp_path / "rollout.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(rows[:, 2], f.prediction[:, 0])  # full precision, as the data CSV
