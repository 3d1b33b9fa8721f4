"""Lorenz-96 ground truth: the quadratic term conserves energy, so without forcing the energy decays
exactly as e^{-2t} and with it follows dE/dt = -2E + F·ΣX_i; and the largest Lyapunov exponent at
N = 40, F = 8 is the published one."""

import numpy as np
import pytest

from rnn_tui.systems import SYSTEMS, lorenz96
from rnn_tui.systems.lyapunov import largest_exponent, rk4

PUBLISHED = 1.68  # N = 40, F = 8: Vlachas et al. 2020 (Neural Networks 126:191); see systems/lorenz96.py


@pytest.fixture(scope="module")
def traj():
    return SYSTEMS["lorenz96"].trajectory(steps=8001, dt=0.01)  # 80 time units on the attractor


def test_trajectory_is_a_ring_field(traj):
    assert traj.kind == "field" and traj.values.shape == (8001, 40)
    assert traj.names[0] == "X[0]" and traj.names[-1] == "X[39]"
    np.testing.assert_array_equal(traj.x, np.arange(40.0))
    # on the attractor: the climatology of N = 40, F = 8 (mean ≈ 2.3, std ≈ 3.6; Lorenz & Emanuel 1998)
    assert 2.0 < traj.values.mean() < 2.7 and 3.3 < traj.values.std() < 3.9


def test_tendency_is_the_ring_equation():
    x = np.random.default_rng(3).standard_normal(7)
    f = lorenz96.tendency(7, 8.0)(x)
    expected = [(x[(i + 1) % 7] - x[i - 2]) * x[i - 1] - x[i] + 8.0 for i in range(7)]
    np.testing.assert_allclose(f, expected, rtol=0, atol=1e-14)


def test_unforced_energy_decays_as_exp_minus_2t():
    """F = 0: Σ X_i (X_{i+1} − X_{i−2}) X_{i−1} = 0 around the ring, so d(½ΣX²)/dt = −ΣX² exactly."""
    traj = SYSTEMS["lorenz96"].trajectory({"forcing": 0.0, "perturbation": 2.0, "spinup": 0.0}, steps=501, dt=0.01)
    energy = 0.5 * (traj.values**2).sum(axis=1)
    np.testing.assert_allclose(energy, energy[0] * np.exp(-2 * traj.t), rtol=1e-9, atol=0)
    # and the states themselves do not just decay: the quadratic term moves energy between sites
    assert np.abs(traj.values - traj.values[0] * np.exp(-traj.t)[:, None]).max() > 0.5


def test_energy_budget_along_the_attractor(traj):
    """E = ½ΣX_i²: dE/dt = −2E + F·ΣX_i. dE/dt from the samples by a fourth-order central difference."""
    h, x = traj.dt, traj.values[:1001]
    energy = 0.5 * (x**2).sum(axis=1)
    de = (energy[:-4] - 8 * energy[1:-3] + 8 * energy[3:-1] - energy[4:]) / (12 * h)
    budget = -2 * energy[2:-2] + 8.0 * x[2:-2].sum(axis=1)
    scale = np.sqrt(np.mean(de**2))
    assert np.abs(de - budget).max() <= 1e-4 * scale, np.abs(de - budget).max() / scale  # measured ~1e-6
    # the budget is not trivially zero or trivially matched by the decay alone
    assert np.abs(de + 2 * energy[2:-2]).max() > 0.1 * scale


def test_largest_lyapunov_exponent(traj):
    """Benettin (two trajectories, RK4 h = 0.01, renormalised every 0.1) from 16 points 5 time units
    apart: 10 time units of alignment, 80 of averaging. Over the 16 starts the estimates spread with
    a standard deviation of ~0.08 (measured), so their mean has a standard error of ~0.02; 0.08 is
    four of them. The stored exponent (1.686, from 64 × 1,000 time units) and the published 1.68 are
    both checked at that tolerance."""
    starts = traj.values[::500][:16]
    advance = rk4(lorenz96.tendency(40, 8.0), 0.01, 10)
    estimate = float(np.mean(largest_exponent(advance, starts, 0.1, count=800, discard=100)))
    assert abs(estimate - SYSTEMS["lorenz96"].lyapunov) <= 0.08, estimate
    assert abs(estimate - PUBLISHED) <= 0.08, estimate


def test_exponent_applies_only_where_it_was_measured():
    s = SYSTEMS["lorenz96"]
    assert s.lyapunov_for({}) == s.lyapunov == lorenz96.LYAPUNOV
    assert s.lyapunov_for({"spinup": 10.0, "perturbation": 0.1}) == s.lyapunov  # same system
    assert s.lyapunov_for({"forcing": 10.0}) is None
    assert s.lyapunov_for({"n": 36}) is None
