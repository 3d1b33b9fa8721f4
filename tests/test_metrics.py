"""Forecast metrics against hand-computed cases."""

import numpy as np
import pytest

from rnn_tui.core import metrics


def test_rmse_by_horizon_hand_computed():
    truth = np.zeros((2, 3, 2))
    pred = np.zeros((2, 3, 2))
    pred[0, 0] = [3.0, 4.0]  # step 1: errors 3, 4 (start 0) and 0, 0 (start 1)
    pred[1, 2] = [1.0, 1.0]  # step 3: errors 1, 1 on start 1
    curve = metrics.rmse_by_horizon(pred, truth)
    assert curve[0] == pytest.approx(np.sqrt((9 + 16) / 4))
    assert curve[1] == 0.0
    assert curve[2] == pytest.approx(np.sqrt(2 / 4))


def test_rmse_at_steps_keys_are_powers_of_two_within_the_curve():
    curve = np.arange(1, 11, dtype=float)
    assert metrics.rmse_at_steps(curve) == {"1": 1.0, "2": 2.0, "4": 4.0, "8": 8.0}


def test_valid_prediction_time_hand_computed():
    # one component with scale 2: normalised error = |err| / 2; threshold 0.4 -> |err| > 0.8
    truth = np.zeros((3, 5, 1))
    pred = np.zeros((3, 5, 1))
    pred[0, :, 0] = [0.1, 0.5, 0.9, 2.0, 0.0]  # first exceeds at index 2 -> 2 valid steps
    pred[1, :, 0] = [1.0, 0.0, 0.0, 0.0, 0.0]  # exceeds at once -> 0 valid steps
    pred[2, :, 0] = [0.1, 0.1, 0.1, 0.1, 0.1]  # never exceeds -> censored at 5
    steps, never = metrics.valid_prediction_steps(pred, truth, np.array([2.0]))
    assert steps.tolist() == [2, 0, 5]
    assert never.tolist() == [False, False, True]


def test_a_forecast_that_blows_up_fails_from_that_lead_only():
    """One of three forecasts overflows at lead 4 (inf, then NaN): the RMSE is measured up to lead 3
    and NaN after, and that start's VPT ends where it blew up; the others keep theirs."""
    from rnn_tui.core.evaluate import score

    truth = np.zeros((3, 6, 1))
    pred = np.full((3, 6, 1), 0.1)
    pred[1, 3:, 0] = [np.inf, np.nan, np.nan]
    pred[2, 5, 0] = 2.0  # past the threshold at lead 6
    steps, never = metrics.valid_prediction_steps(pred, truth, np.array([1.0]))
    assert steps.tolist() == [6, 3, 5] and never.tolist() == [True, False, False]

    class Prep:  # what score() reads: the true series and its sample step
        traj = type("T", (), {"values": np.zeros((10, 1)), "dt": 0.5})()

    ev = score(pred, Prep(), np.array([0, 1, 2]), "test", lyapunov=1.0)
    assert np.allclose(ev.rmse_curve[:3], 0.1) and all(np.isnan(ev.rmse_curve[3:]))
    assert ev.vpt is not None and ev.vpt.time.median == 2.5  # steps 6, 3, 5 -> median 5 steps of 0.5


def test_normalised_error_uses_each_component_scale():
    truth = np.zeros((1, 1, 2))
    pred = np.array([[[1.0, 10.0]]])
    e = metrics.normalised_error(pred, truth, np.array([1.0, 10.0]))
    assert e[0, 0] == pytest.approx(1.0)


def test_spread_quartiles():
    s = metrics.spread(np.arange(1, 6))
    assert s == {"median": 3.0, "q25": 2.0, "q75": 4.0}
