"""The Python API (rnn_tui/api/): the same runs as the CLI to the last digit, run folders read back
as typed values, forecasts from a window of one's own, and one-line errors."""

import json
import math
import signal

import numpy as np
import pytest
import torch

import rnn_tui
from rnn_tui.errors import UserError

from conftest import TINY_LORENZ


def _same(a, b) -> bool:
    """Equal to the last digit, NaN equal to NaN."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


TIMES = ("wall_time_s", "train_time_s", "fit_time_s")


def test_train_equals_the_cli_run_to_the_last_digit(lorenz_run, tmp_path):
    seen = []
    cfg = rnn_tui.load_config("lorenz63_lstm", overrides=TINY_LORENZ)
    run = rnn_tui.train(cfg, out=tmp_path / "api", on_epoch=seen.append)
    cli = rnn_tui.open_run(lorenz_run)
    assert [e.epoch for e in seen] == [1, 2] and type(seen[0]).__name__ == "EpochEnd"
    assert [e.train_loss for e in seen] == [r.train_loss for r in run.metrics]
    strip = lambda rows: [{k: v for k, v in vars(r).items() if k != "elapsed_s"} for r in rows]  # noqa: E731
    assert _same(strip(run.metrics), strip(cli.metrics))
    a, b = (dict(r.summary.to_dict()) for r in (run, cli))
    for k in TIMES:
        a.pop(k, None), b.pop(k, None)
    assert a["status"] == "finished" and a["threads"] == 1
    assert _same(a, b)
    assert np.array_equal(run.forecast.prediction, cli.forecast.prediction)
    assert np.array_equal(run.forecast.truth, cli.forecast.truth)
    sa, sb = run.model.state_dict(), cli.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert run.config == cli.config


def test_open_run_reads_the_cli_folder(lorenz_run):
    run = rnn_tui.open_run(lorenz_run)
    written = json.loads((lorenz_run / "summary.json").read_text())
    s = run.summary
    assert (s.status, s.system, s.arch, s.epochs_run) == ("finished", "lorenz63", "lstm", 2)
    assert s.best_val_loss == written["best_val_loss"]
    assert list(s.evaluation.rmse_curve) == written["rmse_curve"]
    assert s.evaluation.vpt.lyapunov.median == written["vpt_lyapunov"]["median"]
    assert run.config.model.hidden_size == 8 and run.config.train.epochs == 2
    assert [r.epoch for r in run.metrics] == [1, 2]
    f = run.forecast
    assert f.names == ("x", "y", "z") and f.t.shape == (100,) and f.truth.shape == f.prediction.shape == (100, 3)
    t, x = rnn_tui.systems.trajectory("lorenz63", 1000)
    i = int(np.searchsorted(t, f.t[0]))
    assert np.array_equal(f.truth, x[i : i + 100])  # the kept truth is the system's trajectory


def test_forecast_from_the_runs_own_window_reproduces_the_kept_forecast(lorenz_run):
    run = rnn_tui.open_run(lorenz_run)
    kept = run.forecast
    assert run.start_window.shape == (run.config.train.seq_len, 3)
    again = run.forecast_from(run.start_window, len(kept.t))
    assert again.shape == kept.prediction.shape
    assert np.array_equal(again, kept.prediction)
    two = run.forecast_from(np.stack([run.start_window, run.start_window]), 5)  # windows in a batch
    assert two.shape == (2, 5, 3)  # float32 in a batch of two: the same forecast to rounding
    np.testing.assert_allclose(two[1], kept.prediction[:5], rtol=1e-5)
    with pytest.raises(UserError, match=r"window must be \(20, 3\)"):
        run.forecast_from(np.zeros((7, 3)), 5)
    with pytest.raises(UserError, match="steps must be"):
        run.forecast_from(run.start_window, 0)


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    for path, words in ((tmp_path / "empty", "not a run folder"), (tmp_path / "nope" / "x", "no such run folder")):
        with pytest.raises(UserError, match=words) as err:
            rnn_tui.open_run(path)
        assert "\n" not in str(err.value)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.json").write_text("{}")
    with pytest.raises(UserError, match="not a run summary"):
        rnn_tui.open_run(tmp_path / "bad")
    with pytest.raises(UserError, match="no run 'lorenz'"):
        rnn_tui.open_run("lorenz")  # an id, looked up in the (empty) runs folder


def test_runs_lists_the_run_library(lorenz_run, tmp_path):
    found = rnn_tui.runs(lorenz_run.parent)
    assert found == [rnn_tui.Run(lorenz_run)]
    assert rnn_tui.runs(lorenz_run.parent, system="ks") == []
    assert rnn_tui.runs(tmp_path / "none") == []


def test_load_config_errors_are_the_clis(tmp_path):
    with pytest.raises(UserError, match="did you mean 'epochs'"):
        rnn_tui.load_config("sine_rnn", overrides={"train.epoch": 3})
    with pytest.raises(UserError, match="must be dotted"):
        rnn_tui.load_config("sine_rnn", overrides={"epochs": 3})
    with pytest.raises(UserError, match="did you mean 'sine_rnn'"):
        rnn_tui.load_config("sine_rn")
    with pytest.raises(UserError, match="not both"):
        rnn_tui.load_config("sine_rnn", path=tmp_path / "x.toml")
    with pytest.raises(UserError, match="configuration file not found"):
        rnn_tui.load_config(path=tmp_path / "x.toml")
    assert rnn_tui.load_config(overrides={"train.lr": 0.01}).train.lr == 0.01  # the defaults


def test_ctrl_c_stops_the_run_cleanly(tmp_path):
    """The first SIGINT (a notebook's interrupt) asks the run to stop: it ends as cancelled, with its
    files, and the handler before it is back."""
    before = signal.getsignal(signal.SIGINT)
    tiny = {"train.epochs": 50, "model.hidden_size": 4, "system.steps": 400, "train.threads": 1}

    def interrupt(epoch) -> None:
        if epoch.epoch == 1:
            signal.raise_signal(signal.SIGINT)

    run = rnn_tui.train(rnn_tui.load_config("sine_rnn", overrides=tiny), out=tmp_path / "r", on_epoch=interrupt)
    assert run.summary.status == "cancelled"
    assert 1 <= len(run.metrics) <= 2
    assert run.forecast.prediction.shape[1] == 1
    assert signal.getsignal(signal.SIGINT) is before


def test_train_refuses_a_taken_folder_before_any_work(lorenz_run):
    with pytest.raises(UserError, match="not empty"):
        rnn_tui.train("sine_rnn", out=lorenz_run)


@pytest.mark.parametrize("module", ["rnn_tui.api.training", "rnn_tui.api.run", "rnn_tui.systems"])
def test_the_docstring_examples_run(module):
    """The examples that need no run folder run as written (the others are marked to skip)."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_public_name_has_a_docstring_with_an_example():
    for name in ("load_config", "train", "open_run", "runs", "Run"):
        assert ">>> " in getattr(rnn_tui, name).__doc__, name
    assert ">>> " in rnn_tui.systems.trajectory.__doc__
    for prop in ("config", "summary", "metrics", "forecast", "model", "start_window", "forecast_from"):
        attr = getattr(rnn_tui.Run, prop)
        doc = (attr.func if hasattr(attr, "func") else attr.fget if isinstance(attr, property) else attr).__doc__
        assert ">>> " in doc, prop
