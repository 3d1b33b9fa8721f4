"""The valid ground-truth time (systems/truth.py) and the scoring horizon (core/scoring.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_tui import config as C
from rnn_tui.core.scoring import SCORE_LYAPUNOV_TIMES, scoring
from rnn_tui.systems import get_system
from rnn_tui.systems.truth import valid_time


def test_two_tight_integrations_of_lorenz63_part_after_tens_of_lyapunov_times():
    lorenz = get_system("lorenz63")
    v = valid_time(lorenz, {}, 0.01, 0.4)
    # 1e-12 tolerances, an error growing like e^{0.906 t}: the two part near ln(0.4 / 1e-12) ≈ 27
    # Lyapunov times; a wide band, since one pair of integrations is one sample of that growth.
    assert not v.censored and 18 < v.lyapunov_times < 36
    assert v.lyapunov_times == pytest.approx(v.time * 0.906)
    # a looser threshold is crossed no earlier
    assert valid_time(lorenz, {}, 0.01, 0.8).time >= valid_time(lorenz, {}, 0.01, 0.2).time


def test_a_system_that_is_not_chaotic_has_none():
    assert valid_time(get_system("oscillator"), {}, get_system("oscillator").dt, 0.4) is None
    assert valid_time(get_system("kdv"), {}, get_system("kdv").dt, 0.4) is None  # a soliton: not chaotic


def test_kuramoto_sivashinsky_truth_is_its_etdrk4_step_against_a_quarter_of_it(monkeypatch, tmp_path):
    """ETDRK4 (fourth order) at the data's step 1/32 against 1/128 from the same field: they agree
    at first to ~1e-6 of the field and part by the threshold once that error has grown by e^{λt}
    to 0.4 (measured: 10.8 Lyapunov times); a looser threshold is crossed no earlier. (Integrated
    over 16 Lyapunov times here rather than 30, to keep the test short; measured afresh.)"""
    from rnn_tui.systems import ks, truth

    monkeypatch.setattr(truth, "SPAN_LYAPUNOV_TIMES_FIXED_STEP", 16.0)
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path))
    truth._pair.cache_clear()
    system = get_system("ks")
    v = valid_time(system, {}, 0.25, 0.4)
    assert not v.censored and 6 < v.lyapunov_times < 20 and v.method == "ETDRK4 at step 0.03125 against 0.0078125"
    assert valid_time(system, {}, 0.25, 0.8).time >= v.time
    first = system.trajectory({}, 41, 0.25).values
    second, _ = ks.finer(system.resolve({}), 41, 0.25, 0)
    assert np.array_equal(first[0], second[0])
    assert 0 < np.abs(first - second).max() < 1e-4 * np.abs(first).max()  # 10 time units: still close
    truth._pair.cache_clear()  # measured over the shortened span: not for later tests


def test_chaotic_systems_are_scored_over_about_25_lyapunov_times_whatever_the_display():
    cfg = C.load("lorenz63_lstm", None, ["rollout.horizon=50"])
    sc = scoring(cfg, 0.01, truth=False)
    assert sc.horizon == math.ceil(SCORE_LYAPUNOV_TIMES / (0.906 * 0.01)) and sc.threshold == 0.4
    assert scoring(C.load("lorenz63_lstm", None, ["rollout.score_horizon=700"]), 0.01, truth=False).horizon == 700
    sine = C.load("sine_rnn")
    assert scoring(sine, 0.01, truth=False).horizon == sine.rollout.horizon and scoring(sine, 0.01).truth is None


def test_the_threshold_is_a_setting_and_changes_the_vpt():
    from rnn_tui.core import metrics

    truth = np.zeros((1, 10, 1))
    pred = np.linspace(0, 1, 10).reshape(1, 10, 1)
    steps_lo, _ = metrics.valid_prediction_steps(pred, truth, np.ones(1), 0.3)
    steps_hi, _ = metrics.valid_prediction_steps(pred, truth, np.ones(1), 0.5)
    assert steps_lo[0] < steps_hi[0]
    with pytest.raises(Exception, match="rollout.vpt_threshold"):
        C.load(None, None, ["rollout.vpt_threshold=0"])
