"""KdV ground truth: the two-soliton formula solves u_t − 6uu_x + u_xxx = 0, and the ETDRK4 solver
follows it through the collision while conserving mass and momentum."""

import math

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.systems import SYSTEMS, kdv

K1, K2, X1, X2, L = 1.0, 0.6, -20.0, -12.0, 64.0  # the defaults


@pytest.fixture(scope="module")
def traj():
    return SYSTEMS["kdv"].trajectory()


def _spectral_derivatives(u, length):
    k = 2 * np.pi / length * np.fft.rfftfreq(u.size, 1.0 / u.size)
    uh = np.fft.rfft(u)
    return np.fft.irfft(1j * k * uh, u.size), np.fft.irfft(-1j * k**3 * uh, u.size)


def test_defaults_match_the_exact_solution_constants():
    p = SYSTEMS["kdv"].resolve({})
    assert (p["kappa1"], p["kappa2"], p["x1"], p["x2"], p["length"]) == (K1, K2, X1, X2, L)


def test_one_soliton_alone_is_the_sech2_trough():
    x = np.linspace(-30, 30, 2001)
    u = kdv.two_soliton(x, 0.0, K1, 0.5, -10.0, 200.0)  # the second soliton is far away
    np.testing.assert_allclose(u, -2 * K1**2 / np.cosh(K1 * (x + 10.0)) ** 2, rtol=0, atol=1e-12)
    u = kdv.two_soliton(x, 0.5, 2.0, K2, -300.0, 3.0)  # the first is far away; t = 0.5
    np.testing.assert_allclose(u, -2 * K2**2 / np.cosh(K2 * (x - 3.0 - 4 * K2**2 * 0.5)) ** 2, rtol=0, atol=1e-12)


def test_two_soliton_formula_solves_the_equation():
    """Residual u_t − 6uu_x + u_xxx of the formula, with spectral x-derivatives on a fine grid and a
    fourth-order central difference in t, at a time during the collision."""
    n = 2048
    x = -L / 2 + L / n * np.arange(n)
    t, h = 2.5, 1e-3
    u = lambda s: kdv.two_soliton(x, s, K1, K2, X1, X2, length=L)  # noqa: E731
    ut = (-u(t + 2 * h) + 8 * u(t + h) - 8 * u(t - h) + u(t - 2 * h)) / (12 * h)
    ux, uxxx = _spectral_derivatives(u(t), L)
    residual = ut - 6 * u(t) * ux + uxxx
    assert np.abs(residual).max() < 1e-8 * np.abs(ut).max(), np.abs(residual).max()
    # and with the opposite sign of the nonlinear term it is far from a solution
    assert np.abs(ut + 6 * u(t) * ux + uxxx).max() > 0.1


def test_periodic_form_repeats_with_the_length():
    x = np.linspace(-40, 40, 801)
    a = kdv.two_soliton(x, 1.3, K1, K2, X1, X2, length=L)
    b = kdv.two_soliton(x + L, 1.3, K1, K2, X1, X2, length=L)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_trajectory_is_a_field_on_the_grid(traj):
    p = SYSTEMS["kdv"].resolve({})
    assert traj.kind == "field" and traj.values.shape == (240, p["n"])
    assert traj.names[0] == "u[0]" and traj.names[-1] == f"u[{p['n'] - 1}]"
    np.testing.assert_allclose(traj.x, -L / 2 + L / p["n"] * np.arange(p["n"]), rtol=0, atol=1e-13)
    assert traj.t[0] == 0.0


def _minima(u, x):
    """(position, depth) of the local minima deeper than 0.1, sorted by position."""
    i = np.flatnonzero((u < np.roll(u, 1)) & (u < np.roll(u, -1)) & (u < -0.1))
    return [(x[j], u[j]) for j in i]


def test_the_fast_soliton_overtakes_the_slow_one_in_the_window(traj):
    first, last = _minima(traj.values[0], traj.x), _minima(traj.values[-1], traj.x)
    assert len(first) == 2 and len(last) == 2
    # the deep (fast) trough starts on the left and ends on the right
    assert first[0][1] < first[1][1] and last[1][1] < last[0][1]
    # and neither wrapped around the periodic domain
    assert all(-L / 2 + 5 < pos < L / 2 - 5 for pos, _ in first + last)


def test_solver_follows_the_exact_solution_through_the_collision(traj):
    errors = {}
    for i in range(0, traj.t.size, 4):
        exact = kdv.two_soliton(traj.x, traj.t[i], K1, K2, X1, X2, length=L)
        errors[traj.t[i]] = np.linalg.norm(traj.values[i] - exact) / np.linalg.norm(exact)
    # during the collision the deepest trough is at its shallowest (the two troughs share depth)
    i_collision = int(np.argmax(traj.values.min(axis=1)))
    t_collision = traj.t[i_collision]
    exact = kdv.two_soliton(traj.x, t_collision, K1, K2, X1, X2, length=L)
    errors[t_collision] = np.linalg.norm(traj.values[i_collision] - exact) / np.linalg.norm(exact)
    assert 1.0 < t_collision < traj.t[-1] - 1.0
    assert errors[t_collision] <= 1e-7
    worst = max(errors.values())
    assert worst <= 1e-7, worst  # measured about 8e-9


def test_mass_and_momentum_are_conserved(traj):
    dx = traj.x[1] - traj.x[0]
    mass = traj.values.sum(axis=1) * dx
    momentum = (traj.values**2).sum(axis=1) * dx
    assert np.abs(mass - mass[0]).max() <= 1e-12 * abs(mass[0])
    assert np.abs(momentum - momentum[0]).max() <= 1e-8 * momentum[0]
    # and they are the exact two-soliton values: ∫u = −4(κ1 + κ2), ∫u² = 16/3 (κ1³ + κ2³)
    assert abs(mass[0] + 4 * (K1 + K2)) <= 1e-10
    assert abs(momentum[0] - 16 / 3 * (K1**3 + K2**3)) <= 1e-10


def test_undealiased_solver_agrees_and_steps_converge_at_fourth_order():
    n, length = 512, 48.0
    x = -length / 2 + length / n * np.arange(n)
    args = (K1, K2, -14.0, -6.0)
    u0 = kdv.two_soliton(x, 0.0, *args, length=length)
    exact = kdv.two_soliton(x, 1.0, *args, length=length)
    err = {}
    for sub, dealias in [(5, True), (10, True), (10, False)]:
        u = kdv.solve(u0, length, 0.1, 11, sub, dealias=dealias)[-1]
        err[sub, dealias] = np.linalg.norm(u - exact) / np.linalg.norm(exact)
    assert err[5, True] / err[10, True] > 10  # fourth order: 16 in the limit
    assert abs(err[10, False] - err[10, True]) < 0.1 * err[10, True]


def test_equal_wavenumbers_are_refused():
    with pytest.raises(UserError, match="kappa1 and kappa2 must differ"):
        SYSTEMS["kdv"].trajectory({"kappa1": 0.8, "kappa2": 0.8}, steps=2)


def test_a_soliton_across_the_seam_starts_periodic():
    """A soliton placed on the domain's edge is split across the seam, not cut off."""
    traj = SYSTEMS["kdv"].trajectory({"x1": 31.9, "x2": 10.0}, steps=2)
    u = traj.values[0]
    assert u[0] < -1.9 or u[-1] < -1.9
    assert math.isclose(u.sum() * (traj.x[1] - traj.x[0]), -4 * (K1 + K2), rel_tol=1e-10)
