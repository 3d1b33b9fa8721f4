"""Learned dynamics (rnn_tui/climate/): the Lyapunov spectrum by Benettin's QR method against known
spectra, the Kaplan–Yorke dimension, the fate of a long run, and D_stsp and D_H against their
truth-against-truth floor."""

import math

import numpy as np
import pytest
import torch

from rnn_tui.climate import fate, stats
from rnn_tui.climate.lyapunov import kaplan_yorke, spectrum
from rnn_tui.systems.lyapunov import largest_exponent, rk4

H = 0.01


def lorenz_rhs(s):
    x, y, z = s[:, 0], s[:, 1], s[:, 2]
    return torch.stack([10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z], 1)


def lorenz_step(s):
    """The exact RK4 step of Lorenz-63 at dt 0.01, as a "model" of a batch of states (B, 3)."""
    k1 = lorenz_rhs(s)
    k2 = lorenz_rhs(s + H / 2 * k1)
    k3 = lorenz_rhs(s + H / 2 * k2)
    k4 = lorenz_rhs(s + H * k3)
    return s + H / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def np_lorenz(s):
    x, y, z = s[:, 0], s[:, 1], s[:, 2]
    return np.stack([10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z], 1)


def lorenz_run(steps, start=(1.0, 1.0, 1.0), spinup=2000):
    advance = rk4(np_lorenz, H, 1)
    x = np.array([start], float)
    for _ in range(spinup):
        x = advance(x)
    out = np.empty((steps, 3))
    for i in range(steps):
        x = advance(x)
        out[i] = x[0]
    return out


def attractor_starts(n, gap=1000):
    """n states on the Lorenz attractor, `gap` steps (10 time units) apart."""
    return torch.from_numpy(lorenz_run(n * gap)[::gap].copy())


@pytest.mark.parametrize("starts, tol", [pytest.param(64, 0.04, id="quick"), pytest.param(512, 0.01, marks=pytest.mark.heavy, id="full")])
def test_lorenz63_rk4_step_gives_sprotts_spectrum(starts, tol):
    """Starts on the attractor, 50 time units each after 5 that align the tangent vectors: the method
    gives Sprott's 0.9056, 0, −14.5723 within 0.01, 0.01, 0.1 from 512 starts (25,600 time units in
    all; heavy), within 0.04 from 64 (the largest exponent's spread is about 1.1/sqrt(time units))."""
    sp = spectrum(lorenz_step, attractor_starts(starts), 3, 5000, H, every=10, transient=500, method="finite differences")
    l1, l2, l3 = sp.exponents
    assert abs(l1 - 0.9056) < tol and abs(l2) < 0.01 and abs(l3 + 14.5723) < 10 * tol, sp
    assert abs(sum(sp.exponents) + 13 + 2 / 3) < 1e-3  # the divergence of the flow, −(σ + 1 + β), exactly
    assert abs(kaplan_yorke(sp.exponents) - (2 + 0.9056 / 14.5723)) < tol / 10
    assert max(sp.errors) < tol


def test_jvp_and_finite_differences_push_the_same_tangents():
    s = attractor_starts(4)
    a = spectrum(lorenz_step, s, 3, 100, H, every=10, method="jvp")
    b = spectrum(lorenz_step, s, 3, 100, H, every=10, method="finite differences")
    assert a.method == "jvp" and b.method == "finite differences"
    np.testing.assert_allclose(a.exponents, b.exponents, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ["jvp", "finite differences"])
def test_a_linear_map_has_the_log_moduli_of_its_eigenvalues(method):
    """A non-normal map with eigenvalues 1.5, −0.9, 0.5, −0.8 and 0.2: once the tangent vectors are
    aligned the exponents are the log-moduli, to rounding."""
    rng = np.random.default_rng(0)
    block = np.diag([1.5, -0.9, 0.5, -0.8, 0.2]) + np.triu(rng.standard_normal((5, 5)), 1)
    basis = rng.standard_normal((5, 5))
    a = torch.tensor(basis @ block @ np.linalg.inv(basis))
    sp = spectrum(lambda x: x @ a.T, torch.ones(1, 5, dtype=torch.float64), 5, 100, 1.0, every=1, transient=300, blocks=1, method=method)
    expect = sorted(np.log([1.5, 0.9, 0.5, 0.8, 0.2]), reverse=True)
    np.testing.assert_allclose(sp.exponents, expect, atol=1e-9)


def test_kaplan_yorke():
    assert kaplan_yorke([0.9056, 0.0, -14.5723]) == pytest.approx(2 + 0.9056 / 14.5723)
    assert kaplan_yorke([-0.1, -1.0]) == 0.0  # a stable fixed point
    assert kaplan_yorke([0.5, 0.1]) is None  # too short a spectrum to say
    assert kaplan_yorke([0.0, -1.0]) == pytest.approx(1.0)  # a limit cycle


class TinyLSTM(torch.nn.Module):
    """A closed-loop LSTM forecaster: y, (h, c) -> next y, (h', c') (the shape of models/recurrent)."""

    def __init__(self, seed=3, dim=2, hidden=6):
        super().__init__()
        torch.manual_seed(seed)
        self.cell = torch.nn.LSTMCell(dim, hidden).double()
        self.head = torch.nn.Linear(hidden, dim).double()
        with torch.no_grad():
            for p in self.parameters():
                p.mul_(4.0)

    def step(self, y, state):
        h, c = self.cell(y, state)
        return torch.tanh(self.head(h)), (h, c)


def test_the_hidden_state_is_part_of_the_tangent_space():
    """An LSTM's largest exponent with its memory in the tangent space equals the two-trajectory
    Benettin estimate on the whole state (systems/lyapunov.py); holding the memory out of the tangent
    space (perturbing the prediction only, the hidden state carried as if it were not a variable) gives
    another number."""
    net = TinyLSTM()
    y = torch.full((1, 2), 0.3, dtype=torch.float64)
    state = (torch.zeros(1, 6, dtype=torch.float64), torch.zeros(1, 6, dtype=torch.float64))
    with torch.no_grad():
        for _ in range(500):  # onto the net's own attractor
            y, state = net.step(y, state)
    full = spectrum(lambda s: net.step(s[0], s[1]), (y, state), 1, 600, 1.0, every=1, transient=200, method="jvp")
    assert full.state_size == 2 + 12

    def advance(x):
        t = torch.from_numpy(x)
        out, (h, c) = net.step(t[:, :2], (t[:, 2:8], t[:, 8:]))
        return torch.cat([out, h, c], 1).numpy()

    start = torch.cat([y, *state], 1).numpy()
    with torch.no_grad():
        two = float(largest_exponent(advance, start, 1.0, 600, discard=200)[0])
    assert full.exponents[0] == pytest.approx(two, abs=3 * full.errors[0] + 1e-3)

    memory = [state]

    def prediction_only(y_):
        with torch.no_grad():  # the memory is advanced outside the map: no tangent reaches it
            _, nxt = net.step(y_.detach()[:1], memory[0])
        out, _ = net.step(y_, tuple(s.expand(len(y_), -1) for s in memory[0]))
        memory[0] = nxt
        return out

    left_out = spectrum(prediction_only, y, 1, 600, 1.0, every=1, transient=200, method="jvp")
    assert abs(left_out.exponents[0] - full.exponents[0]) > 5 * (full.errors[0] + left_out.errors[0])


def normalised(run, truth):
    return (run - truth.mean(0)) / truth.std(0)


def test_two_truth_runs_are_near_zero_and_a_fixed_point_is_far():
    a = lorenz_run(20000)
    b = lorenz_run(20000, start=(-3.0, 5.0, 20.0))
    ta, tb = normalised(a, a), normalised(b, a)
    floor_kl, floor_h = stats.d_stsp(ta, tb), stats.d_h(ta, tb)[0]
    assert floor_kl < 0.3 and floor_h < 0.15, (floor_kl, floor_h)
    # a run resting at the fixed point C+ = (√(β(ρ−1)), √(β(ρ−1)), ρ−1)
    c = math.sqrt(8 / 3 * 27)
    rest = normalised(np.tile([c, c, 27.0], (20000, 1)), a)
    assert stats.d_stsp(ta, rest) > 10 * floor_kl
    assert stats.d_h(ta, rest)[0] == pytest.approx(1.0)  # no power at all: no overlap
    assert fate.fate(rest, H).name == "fixed_point"
    assert fate.fate(tb, H).name == "bounded"


def test_gaussian_mixture_divergence_in_higher_dimension():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3000, 8)), rng.standard_normal((3000, 8))
    shifted = y + 3.0
    same, apart = stats.d_stsp(x, y), stats.d_stsp(x, shifted)
    assert abs(same) < 0.05 and apart > 1.0


def test_a_blown_up_run_is_named_with_its_step():
    run = np.zeros((1000, 3))
    run[:, 0] = np.sin(np.arange(1000) * 0.37)
    run[700:] = np.inf
    f = fate.fate(run, 0.1)
    assert (f.name, f.step) == ("blew_up", 701)
    assert f.text() == "blew up at step 701"
    run[650:] = 1e6  # finite but far off
    assert fate.fate(run, 0.1).step == 651


def test_a_periodic_run_is_named_with_its_period():
    t = np.arange(20000) * 0.01
    run = np.stack([np.sin(2 * np.pi * t / 1.5), np.cos(2 * np.pi * t / 1.5)], 1)
    f = fate.fate(run, 0.01)
    assert f.name == "periodic" and f.period == pytest.approx(1.5, abs=0.011)
    period4 = np.tile([[0.1], [0.5], [0.9], [0.3]], (500, 1))
    g = fate.fate(period4, 1.0, continuous=False)
    assert (g.name, g.period) == ("periodic", 4.0)
