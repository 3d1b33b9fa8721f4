"""Kuramoto–Sivashinsky ground truth: the solver's rate of change is the equation's, a small single
wave grows or decays at its linear rate k² − k⁴, the mean is conserved, the default step and grid are
converged, and the largest Lyapunov exponent at L = 22 is the published one."""

import numpy as np
import pytest

from rnn_tui.systems import SYSTEMS, ks
from rnn_tui.systems.lyapunov import largest_exponent

L = 22.0
PUBLISHED = 0.048  # L = 22: Cvitanović, Davidchack & Siminos 2010; see systems/ks.py


@pytest.fixture(scope="module")
def on_attractor():
    """A state on the attractor: 200 time units from the seeded start, at the default step."""
    u0 = ks.seeded_start(64, L, 0.1, seed=0)
    return ks.solve(u0, L, 200.0, 2)[-1]


def test_trajectory_is_a_field_on_the_periodic_grid():
    traj = SYSTEMS["ks"].trajectory({"spinup": 100.0}, steps=41)
    assert traj.kind == "field" and traj.values.shape == (41, 64) and traj.dt == 0.25
    assert traj.names[0] == "u[0]" and traj.names[-1] == "u[63]"
    np.testing.assert_allclose(traj.x, L / 64 * np.arange(64), rtol=0, atol=1e-14)
    assert 0.8 < traj.values.std() < 1.6  # grown from the 0.1 start to the attractor's size (~1.2)
    assert np.abs(traj.values.mean(axis=1)).max() <= 1e-13  # the zero-mean start keeps a zero mean


def _spectral(u, length, order):
    k = 2 * np.pi / length * np.fft.rfftfreq(u.size, 1.0 / u.size)
    return np.fft.irfft((1j * k) ** order * np.fft.rfft(u), u.size)


def test_initial_rate_of_change_is_the_equation():
    """(u(h) − u(0)) / h against −u u_x − u_xx − u_xxxx (derivatives by FFT here): agreement to O(h)
    shows every sign and factor; the opposite sign of the nonlinear term is far off."""
    x = L / 128 * np.arange(128)
    u0 = np.cos(2 * np.pi * x / L) + 0.5 * np.sin(4 * np.pi * x / L + 0.3)
    h = 1e-5
    rate = (ks.solve(u0, L, h, 2, substeps=1)[-1] - u0) / h
    ux, uxx, uxxxx = (_spectral(u0, L, n) for n in (1, 2, 4))
    expected = -u0 * ux - uxx - uxxxx
    assert np.abs(rate - expected).max() <= 1e-4 * np.abs(expected).max()
    assert np.abs(rate - (u0 * ux - uxx - uxxxx)).max() > 0.1 * np.abs(expected).max()


@pytest.mark.parametrize("m, grows", [(2, True), (4, False)])
def test_a_small_wave_grows_or_decays_at_its_linear_rate(m, grows):
    """u = ε cos(kx), k = 2πm/L: at L = 22 the wave m = 2 (k ≈ 0.57, rate +0.22) grows and m = 4
    (k ≈ 1.14, rate −0.40) decays; ε = 1e-6 keeps the nonlinear term (ε²) out of the amplitude."""
    k = 2 * np.pi * m / L
    rate = k**2 - k**4
    assert (rate > 0) == grows
    x = L / 64 * np.arange(64)
    u = ks.solve(1e-6 * np.cos(k * x), L, 1.0, 11)
    amplitude = np.abs(np.fft.rfft(u, axis=1)[:, m]) * 2 / 64
    np.testing.assert_allclose(amplitude, 1e-6 * np.exp(rate * np.arange(11)), rtol=1e-6, atol=0)


def test_the_mean_is_conserved(on_attractor):
    u = ks.solve(on_attractor + 0.3, L, 1.0, 101)  # a Galilean shift: the mean is 0.3
    assert np.abs(u.mean(axis=1) - 0.3).max() <= 1e-12
    assert np.abs(u[-1] - u[0]).max() > 0.5  # while the field itself moved on


def test_step_and_grid_are_converged(on_attractor):
    """Over 20 time units (~1 Lyapunov time): the default step (1/32) against 1/128 differs by
    ~7e-7 of the field's maximum (measured); 128 points against 64 by ~4e-8."""
    peak = np.abs(on_attractor).max()
    default = ks.solve(on_attractor, L, 20.0, 2)[-1]
    fine_step = ks.solve(on_attractor, L, 20.0, 2, substeps=20 * 128)[-1]
    assert np.abs(default - fine_step).max() <= 5e-6 * peak
    # the same start on 128 points (its Fourier modes, zero-padded), compared on the 64 shared points
    v = np.zeros(65, dtype=complex)
    v[:33] = np.fft.rfft(on_attractor) * 2
    v[32] /= 2  # the 64-point grid's Nyquist mode splits between ±32 on 128 points
    doubled = ks.solve(np.fft.irfft(v, 128), L, 20.0, 2)[-1][::2]
    assert np.abs(default - doubled).max() <= 1e-6 * peak


def test_largest_lyapunov_exponent(on_attractor):
    """Benettin (two trajectories, ETDRK4 h = 0.25, renormalised every time unit) from 16 points
    25 time units apart: 100 time units of alignment, 1,000 of averaging. Over the 16 starts the
    estimates spread with a standard deviation of ~0.0055 (measured), so their mean has a standard
    error of ~0.0014; 0.006 is four of them. The stored exponent (0.0485, from 64 × 20,000 time
    units) and the published 0.048 are both checked at that tolerance."""
    starts = ks.solve(on_attractor, L, 25.0, 16, substeps=100)
    step = ks.scheme(64, L, 0.25).step

    def advance(u):
        v = np.fft.rfft(u)
        for _ in range(4):
            v = step(v)
        return np.fft.irfft(v, 64)

    estimate = float(np.mean(largest_exponent(advance, starts, 1.0, count=1000, discard=100)))
    assert abs(estimate - SYSTEMS["ks"].lyapunov) <= 0.006, estimate
    assert abs(estimate - PUBLISHED) <= 0.006, estimate


def test_exponent_applies_only_at_the_measured_length():
    s = SYSTEMS["ks"]
    assert s.lyapunov_for({}) == s.lyapunov == ks.LYAPUNOV
    assert s.lyapunov_for({"n": 128}) == s.lyapunov  # a finer grid of the same system
    assert s.lyapunov_for({"length": 35.0}) is None

