"""Next-generation reservoir computing (model.arch = "ngrc"): its feature vector by hand, the ridge
readout against numpy, exact fits and rollouts of maps it can represent, stop, the configuration's
errors, and the paper's set-up in presets/lorenz63_ngrc.toml."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import pytest
import torch

from rnn_tui import config
from rnn_tui.core import events as ev
from rnn_tui.core.control import Control
from rnn_tui.core.rollout import free_run
from rnn_tui.core.trainer import train
from rnn_tui.errors import UserError
from rnn_tui.models import registry
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.ngrc import feature_count


def make(dim: int, seq_len: int = 8, **kw):
    return registry.build(ModelSpec(dim=dim, seq_len=seq_len), config.model_config("ngrc", **kw)).double()


def numpy_features(lin: np.ndarray, order: int, constant: bool) -> np.ndarray:
    """(rows, n) -> the constant, lin and its unique monomials i <= j (<= l), in lexicographic order:
    written independently of the model (products over index tuples)."""
    cols = [np.ones(len(lin))] if constant else []
    cols += [lin[:, i] for i in range(lin.shape[1])]
    for d in range(2, order + 1):
        cols += [np.prod(lin[:, list(c)], axis=1) for c in itertools.combinations_with_replacement(range(lin.shape[1]), d)]
    return np.stack(cols, axis=1)


# ---------------------------------------------------------------------------------------------
# The feature vector


def test_features_of_a_hand_computed_window():
    # one component, k = 2, s = 1: the window ..., 2, 3 gives lin = [x_t, x_{t-1}] = [3, 2]
    model = make(1, delays=2, skip=1, order=2)
    x = torch.tensor([[[7.0], [2.0], [3.0]]], dtype=torch.float64)
    lin = model.linear(x)
    assert lin.tolist() == [[3.0, 2.0]]
    assert model.features(lin).tolist() == [[1.0, 3.0, 2.0, 9.0, 6.0, 4.0]]  # 1, x_t, x_{t-1}, x_t^2, x_t x_{t-1}, x_{t-1}^2
    cubic = make(1, delays=2, skip=1, order=3, constant=False)
    assert cubic.features(lin).tolist() == [[3.0, 2.0, 9.0, 6.0, 4.0, 27.0, 18.0, 12.0, 8.0]]


def test_delayed_copies_are_taken_every_s_steps():
    # two components, k = 2, s = 2: lin = [x_t, x_{t-2}] = [3, -1, 1, 2]
    model = make(2, delays=2, skip=2)
    x = torch.tensor([[[1.0, 2.0], [5.0, 7.0], [3.0, -1.0]]], dtype=torch.float64)
    lin = model.linear(x)
    assert lin.tolist() == [[3.0, -1.0, 1.0, 2.0]]
    quadratic = [9.0, -3.0, 3.0, 6.0, 1.0, -1.0, -2.0, 1.0, 2.0, 4.0]  # (0,0), (0,1), ..., (3,3)
    assert model.features(lin).tolist() == [[1.0, 3.0, -1.0, 1.0, 2.0, *quadratic]]
    with pytest.raises(ValueError, match="at least 3 states"):
        model(x[:, 1:])


@pytest.mark.parametrize("dim,delays,order,constant", [(1, 1, 2, True), (3, 2, 2, True), (3, 4, 3, True), (2, 3, 3, False), (5, 2, 2, False)])
def test_feature_count_and_values_against_numpy(dim, delays, order, constant):
    D = delays * dim
    expected = int(constant) + D + D * (D + 1) // 2 + (D * (D + 1) * (D + 2) // 6 if order == 3 else 0)
    assert feature_count(D, order, constant) == expected
    model = make(dim, delays=delays, skip=1, order=order, constant=constant)
    assert model.n_features == expected and model.readout_w.shape == (dim, expected)
    lin = torch.randn(6, D, dtype=torch.float64, generator=torch.Generator().manual_seed(dim + delays))
    got = model.features(lin).numpy()
    np.testing.assert_allclose(got, numpy_features(lin.numpy(), order, constant), rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------------------------
# The readout


def lorenz_like(steps: int = 600) -> torch.Tensor:
    """A short Lorenz-63 trajectory by RK4 at dt = 0.01, normalised: a realistic, full-rank series."""
    def f(s):
        x, y, z = s
        return np.array([10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z])

    s, h, out = np.array([-5.0, -6.0, 22.0]), 0.01, []
    for _ in range(steps):
        k1 = f(s); k2 = f(s + h / 2 * k1); k3 = f(s + h / 2 * k2); k4 = f(s + h * k3)  # noqa: E702
        s = s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(s)
    a = np.array(out)
    return torch.as_tensor((a - a.mean(0)) / a.std(0))


@pytest.mark.parametrize("ridge", [1e-3, 2.5e-6])
def test_ridge_readout_equals_numpy(ridge):
    delays, skip = 2, 3
    model = make(3, delays=delays, skip=skip, order=2, ridge=ridge)
    series = lorenz_like()
    assert model.fit_closed_form(series)

    u = series.numpy()
    t = np.arange((delays - 1) * skip, len(u) - 1)  # every t with a full delay buffer
    lin = np.concatenate([u[t], u[t - skip]], axis=1)  # [x_t, x_{t-s}]
    a, y = numpy_features(lin, 2, True), u[t + 1] - u[t]
    assert a.shape == (len(u) - 1 - (delays - 1) * skip, 1 + 6 + 21)
    got = model.readout_w.numpy().T  # (features, D)
    normal = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
    aug = np.linalg.lstsq(np.concatenate([a, math.sqrt(ridge) * np.eye(a.shape[1])]),
                          np.concatenate([y, np.zeros((a.shape[1], 3))]), rcond=None)[0]
    assert np.abs(got - aug).max() <= 1e-8 * np.abs(aug).max()
    assert np.abs(got - normal).max() <= 1e-5 * np.abs(normal).max()  # the normal equations lose digits


def test_zero_ridge_is_least_squares():
    # random states: well-conditioned features, so the solution is unique to many digits
    model = make(3, delays=2, skip=1, order=2, ridge=0)
    series = torch.randn(400, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model.fit_closed_form(series)
    u = series.numpy()
    lin = np.concatenate([u[1:-1], u[:-2]], axis=1)
    want = np.linalg.lstsq(numpy_features(lin, 2, True), u[2:] - u[1:-1], rcond=None)[0]
    np.testing.assert_allclose(model.readout_w.numpy().T, want, rtol=0, atol=1e-9 * np.abs(want).max())


# ---------------------------------------------------------------------------------------------
# Maps it can represent exactly: fitted to machine precision, rolled out exactly


def test_a_linear_map_is_fitted_and_rolled_out_exactly():
    # x_{t+1} = A x_t (a decaying rotation and a decay): the increment (A - I) x_t is linear in the
    # features, the monomials (nonzero, linearly independent along this orbit) get no weight.
    c, s = math.cos(0.1), math.sin(0.1)
    A = np.array([[0.999 * c, -0.999 * s, 0.0], [0.999 * s, 0.999 * c, 0.0], [0.0, 0.0, 0.997]])
    x = [np.array([1.0, -0.5, 2.0])]
    for _ in range(799):
        x.append(A @ x[-1])
    series = torch.as_tensor(np.array(x))
    model = make(3, seq_len=1, delays=1, order=2, ridge=0)
    model.fit_closed_form(series[:400])
    w = model.readout_w.numpy()  # (3, 1 + 3 + 6)
    np.testing.assert_allclose(w[:, 1:4], A - np.eye(3), rtol=0, atol=1e-10)
    assert np.abs(w[:, 0]).max() < 1e-10 and np.abs(w[:, 4:]).max() < 1e-9
    pred = free_run(model, series[None, 399:400], 400)[0]
    assert (pred - series[400:]).abs().max() < 1e-11


@pytest.mark.parametrize("skip", [1, 3])
def test_a_sine_is_fitted_and_rolled_out_exactly_from_its_delay_buffer(skip):
    # x_t = sin(h t): x_{t+1} = a x_t + b x_{t-s} with a, b from sin(h(t+1)) = a sin(ht) + b sin(h(t-s)),
    # so the increment x_{t+1} - x_t is linear in the delayed states. No constant: x_t^2 - ... is then
    # not a combination of the other features (with it, sin^2 + cos^2 = 1 would make it one).
    h = 0.05
    series = torch.sin(h * torch.arange(1500, dtype=torch.float64)).unsqueeze(1)
    model = make(1, seq_len=skip + 1, delays=2, skip=skip, order=2, constant=False, ridge=0)
    model.fit_closed_form(series[:500])
    a = math.sin((skip + 1) * h) / math.sin(skip * h)
    b = -math.sin(h) / math.sin(skip * h)
    w = model.readout_w[0].numpy()  # [x_t, x_{t-s}, x_t^2, x_t x_{t-s}, x_{t-s}^2]
    np.testing.assert_allclose(w[:2], [a - 1, b], rtol=0, atol=1e-9)
    assert np.abs(w[2:]).max() < 1e-8
    lin, target = model.training_pairs(series[:500])
    assert (model.features(lin) @ model.readout_w.T - target).abs().max() < 1e-13  # the fit: to rounding
    start = 500
    pred = free_run(model, series[None, start - skip - 1 : start], 1000)[0]  # 1000 steps = 8 periods
    assert (pred - series[start:]).abs().max() < 1e-9


# ---------------------------------------------------------------------------------------------
# The trainer: stop, set-up errors, saved weights


def test_stop_is_honoured_before_the_fit():
    model = make(3)
    stop = threading.Event()
    stop.set()
    assert model.fit_closed_form(lorenz_like(100), stop) is False
    assert not model.readout_w.any()  # nothing fitted

    control = Control()
    cfg = config.load("lorenz63_ngrc", overrides=["train.threads=1"])
    seen = []

    def on_event(e):
        seen.append(e)
        if isinstance(e, ev.Started):  # the fit is the run's one step: stop before it
            control.request_stop()

    result = train(cfg, on_event, control)
    assert result.status == "cancelled" and result.summary.evaluation is None
    assert not any(isinstance(e, ev.EpochEnd) for e in seen)
    assert not result.model.readout_w.any()


@pytest.mark.parametrize("override,message", [
    ("model.delays=0", "model.delays must be in [1, 100], got 0"),
    ("model.skip=0", "model.skip must be in [1, 10000], got 0"),
    ("model.order=4", "model.order must be in [2, 3], got 4"),
    ("model.ridge=-1", "model.ridge must be a number in [0, 1e+06] or \"auto\", got -1"),
    ("model.ridge=often", "model.ridge must be a number in [0, 1e+06] or \"auto\", got 'often'"),
    ("model.hidden_size=8", "model.hidden_size does not apply to model.arch 'ngrc'"),
])
def test_bad_settings_are_one_line_errors_naming_the_key(override, message):
    with pytest.raises(UserError) as err:
        config.load("lorenz63_ngrc", overrides=[override])
    text = str(err.value)
    assert message in text and "\n" not in text
    assert err.value.key == override.split("=")[0]


def test_a_feature_vector_too_large_for_memory_names_the_delays():
    # k = 100 delayed copies of 3 components, cubic: 4.6 million features, a readout of 3 x that
    with pytest.raises(UserError, match="lower model.delays") as err:
        config.load("lorenz63_ngrc", overrides=["model.delays=100", "model.order=3", "train.seq_len=100"])
    assert err.value.key == "model.delays"


class StopAfter:
    """A stop flag that is raised once it has been looked at `n` times (a stop during a fit)."""

    def __init__(self, n: int) -> None:
        self.left = n

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_stop_is_honoured_during_the_fit():
    series = torch.sin(0.01 * torch.arange(20_000, dtype=torch.float64)).unsqueeze(1)  # five blocks of rows
    model = make(1, delays=2)
    stop = StopAfter(2)
    assert model.fit_closed_form(series, stop) is False
    assert stop.left == -1  # it was looked at between blocks, and the fit gave up there
    assert not model.readout_w.any()
    assert make(1, delays=2).fit_closed_form(series, StopAfter(100)) is True


def test_a_window_shorter_than_the_delay_buffer_is_a_set_up_error():
    cfg = config.load("lorenz63_ngrc", overrides=["model.delays=3", "model.skip=2", "train.threads=1"])
    with pytest.raises(UserError, match=r"needs a window of \(k-1\)s\+1 = 5 states, but train.seq_len is 2") as err:
        train(cfg)
    assert err.value.key == "train.seq_len"
    with pytest.raises(UserError, match="model.delays and model.skip need more than") as err:
        make(1, seq_len=5, delays=3, skip=2).fit_closed_form(torch.zeros(5, 1, dtype=torch.float64))


def test_weights_round_trip_through_the_state_dict():
    model = make(3, delays=2, skip=2, order=3)
    model.fit_closed_form(lorenz_like(300))
    assert set(model.state_dict()) == {"readout_w"}  # the monomial tables follow from the configuration
    other = make(3, delays=2, skip=2, order=3)
    other.load_state_dict(model.state_dict())
    x = lorenz_like(8)[None]
    torch.testing.assert_close(other(x), model(x), atol=0, rtol=0)
    assert model.num_params() == 3 * model.n_features


# ---------------------------------------------------------------------------------------------
# The paper's set-up


def test_the_paper_preset_trains_on_exactly_400_points():
    cfg = config.load("lorenz63_ngrc", overrides=["train.threads=1"])
    assert (cfg.system.dt, cfg.model.delays, cfg.model.skip, cfg.model.ridge) == (0.025, 2, 1, 2.5e-6)
    result = train(cfg)
    assert result.status == "finished", result.message
    prep = result.prep
    lin, target = result.model.training_pairs(prep.inputs[: prep.n_train].double())
    assert lin.shape == (400, 6) and target.shape == (400, 3)
    # the 10 training time units start 5 time units after the paper's initial state
    assert prep.traj.dt * (prep.n_train - 1) == pytest.approx(10.025)
    vpt = result.summary.evaluation.vpt
    assert vpt is not None and vpt.censored_fraction < 0.5
