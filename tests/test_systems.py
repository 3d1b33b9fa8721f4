"""Ground truth of the ODE and map systems: closed forms, first integrals, an independent integrator
and the Lyapunov exponent; plus the registry, parameter validation and the cheap import."""

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from rnn_tui.errors import UserError
from rnn_tui.systems import SYSTEMS, get_system
from rnn_tui.systems import lotka_volterra

NAMES = ["sine", "noisy_sine", "oscillator", "lotka_volterra", "lorenz63", "logistic", "kdv", "lorenz96", "ks", "csv"]


def test_registry_lists_every_system_in_order():
    assert list(SYSTEMS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_system_documents_itself(name):
    s = SYSTEMS[name]
    assert s.doc and "\n" not in s.doc
    assert s.steps >= 2 and s.dt > 0
    for name, info in s.fields.items():
        assert info.description and "\n" not in info.description, name
        assert s.resolve({})[name] == info.default
    module = sys.modules[s.generate.__module__]
    assert module.__doc__ and 1 <= len(module.__doc__.strip().splitlines()) <= 2


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("csv", "kdv", "lorenz63", "lorenz96", "ks")])  # fields: their own tests
def test_default_trajectory_is_float64_and_starts_at_zero(name):
    s = SYSTEMS[name]
    traj = s.trajectory()
    assert traj.values.dtype == np.float64 and traj.values.shape == (s.steps, len(s.components))
    assert traj.names == s.components and traj.kind == s.kind
    assert traj.t[0] == 0.0 and np.allclose(np.diff(traj.t), s.dt, rtol=1e-12, atol=0)
    assert np.all(np.isfinite(traj.values))


def test_importing_the_systems_is_cheap():
    code = "import sys, rnn_tui.systems; print(' '.join(m for m in ('scipy', 'torch', 'textual') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- parameter validation ---------------------------------------------------------------------


def test_unknown_system_names_the_valid_ones():
    with pytest.raises(UserError, match=r"unknown system 'lorenz' \(did you mean 'lorenz(63|96)'\?\); valid: sine, noisy_sine"):
        get_system("lorenz")


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(UserError, match=r"unknown parameter 'rh' for system 'lorenz63'.*valid: sigma, rho, beta, x0, y0, z0, spinup"):
        SYSTEMS["lorenz63"].trajectory({"rh": 28})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", float("nan"), float("inf")])
def test_non_finite_parameter_is_refused(value):
    with pytest.raises(UserError, match="'rho' must be finite"):
        SYSTEMS["lorenz63"].resolve({"rho": value})


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("oscillator", {"eta": "fast"}, "'eta' needs a number"),
        ("oscillator", {"eta": -0.1}, "'eta' must be >= 0"),
        ("logistic", {"r": 4.5}, "'r' must be <= 4"),
        ("lotka_volterra", {"x0": 0}, "'x0' must be > 0"),
        ("kdv", {"n": 100.5}, "'n' needs an integer"),
        ("kdv", {"kappa1": 0.6}, "kappa1 and kappa2 must differ"),
        ("csv", {}, "set the file with --param path="),
    ],
)
def test_bad_parameter_values_are_refused(name, params, message):
    with pytest.raises(UserError, match=message):
        SYSTEMS[name].trajectory(params, steps=4)


def test_a_runaway_integration_is_stopped_with_a_user_error(monkeypatch):
    from rnn_tui.systems import base

    monkeypatch.setattr(base, "MAX_EVALUATIONS", 1000)
    with pytest.raises(UserError, match="lotka_volterra: the integration needs too many steps"):
        SYSTEMS["lotka_volterra"].trajectory({"alpha": 1000, "x0": 1e6}, steps=10, dt=1.0)


@pytest.mark.parametrize("steps, dt", [(1, None), (0, None), (2.5, None), (None, 0.0), (None, -1.0), (None, float("nan"))])
def test_bad_steps_or_dt_are_refused(steps, dt):
    with pytest.raises(UserError):
        SYSTEMS["sine"].trajectory(steps=steps, dt=dt)


# --- sine, noisy sine, logistic ---------------------------------------------------------------


def test_sine_default_grid_is_linspace_0_4pi_1000():
    traj = SYSTEMS["sine"].trajectory()
    np.testing.assert_allclose(traj.t, np.linspace(0, 4 * math.pi, 1000), rtol=0, atol=1e-14)
    np.testing.assert_allclose(traj.values[:, 0], np.sin(traj.t), rtol=0, atol=1e-15)


def test_sine_equals_its_formula():
    traj = SYSTEMS["sine"].trajectory({"frequency": 2.5, "amplitude": 0.3, "phase": 1.1}, steps=500, dt=0.013)
    t = 0.013 * np.arange(500)
    np.testing.assert_allclose(traj.values[:, 0], 0.3 * np.sin(2.5 * t + 1.1), rtol=0, atol=1e-15)


def test_noisy_sine_is_fixed_by_its_seed():
    s = SYSTEMS["noisy_sine"]
    a, b, c = s.trajectory(seed=7), s.trajectory(seed=7), s.trajectory(seed=8)
    assert np.array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    noise = a.values[:, 0] - np.sin(0.02 * np.arange(1000))
    assert noise.min() >= 0 and noise.max() < 2.0 and abs(noise.mean() - 1.0) < 0.1


@pytest.mark.parametrize("r, x0", [(3.5, 0.2), (3.9, 0.2), (2.8, 0.7)])
def test_logistic_map_iterates_exactly(r, x0):
    traj = SYSTEMS["logistic"].trajectory({"r": r, "x0": x0}, steps=1000)
    x, expected = x0, [x0]
    for _ in range(999):
        x = r * x * (1 - x)
        expected.append(x)
    assert traj.values[:, 0].tolist() == expected  # bit for bit
    assert traj.kind == "map"


def test_logistic_default_settles_on_a_period_4_cycle():
    x = SYSTEMS["logistic"].trajectory().values[:, 0]
    tail = x[-40:]
    np.testing.assert_allclose(tail[4:], tail[:-4], rtol=0, atol=1e-12)
    assert abs(tail[1] - tail[0]) > 0.01 and abs(tail[2] - tail[0]) > 0.01  # not period 1 or 2


# --- oscillator against its closed form ---------------------------------------------------------


def oscillator_exact(t, eta, f0, w, x0, v0):
    """Underdamped x'' + η x' + x = F0 cos(ωt): steady state A cos ωt + B sin ωt plus the decaying
    homogeneous part e^{−ηt/2}(C1 cos ω_d t + C2 sin ω_d t), ω_d = sqrt(1 − η²/4), fitted to x0, v0."""
    d = (1 - w**2) ** 2 + (eta * w) ** 2
    a, b = f0 * (1 - w**2) / d, f0 * eta * w / d
    wd = math.sqrt(1 - eta**2 / 4)
    c1 = x0 - a
    c2 = (v0 - b * w + eta / 2 * c1) / wd
    e, cs, sn = np.exp(-eta * t / 2), np.cos(wd * t), np.sin(wd * t)
    x = e * (c1 * cs + c2 * sn) + a * np.cos(w * t) + b * np.sin(w * t)
    v = e * (-eta / 2 * (c1 * cs + c2 * sn) + wd * (-c1 * sn + c2 * cs)) - a * w * np.sin(w * t) + b * w * np.cos(w * t)
    return x, v


@pytest.mark.parametrize(
    "params",
    [
        {},  # the default forced case: η = 0.4, F0 = 1, ω = 0.5
        {"F0": 0.0},  # free damped oscillation
        {"F0": 0.0, "eta": 0.0, "x0": 0.3, "v0": -1.2},  # undamped
        {"eta": 0.1, "F0": 2.0, "omega": 1.3, "x0": -0.5, "v0": 0.7},
    ],
)
def test_oscillator_matches_the_closed_form(params):
    s = SYSTEMS["oscillator"]
    p = s.resolve(params)
    traj = s.trajectory(params)
    x, v = oscillator_exact(traj.t, p["eta"], p["F0"], p["omega"], p["x0"], p["v0"])
    err_x = np.abs(traj.values[:, 0] - x).max()
    err_v = np.abs(traj.values[:, 1] - v).max()
    assert err_x <= 1e-9 and err_v <= 1e-9, (err_x, err_v)  # measured about 2e-11


# --- Lotka-Volterra ---------------------------------------------------------------------------


def test_lotka_volterra_conserves_its_first_integral():
    s = SYSTEMS["lotka_volterra"]
    traj = s.trajectory(steps=10000)  # 200 time units, about 46 periods
    a, b, g, d = 1.5, 1.0, 3.0, 1.0
    x, y = traj.values.T
    v = d * x - g * np.log(x) + b * y - a * np.log(y)
    drift = np.abs(v - v[0]).max() / abs(v[0])
    assert drift <= 1e-8, drift


def test_lotka_volterra_period_is_right():
    period = lotka_volterra.PERIOD
    traj = SYSTEMS["lotka_volterra"].trajectory(steps=1001, dt=period / 200)
    vals = traj.values
    for k in range(1, 6):
        np.testing.assert_allclose(vals[200 * k], vals[0], rtol=0, atol=1e-4 * np.abs(vals).max())
    assert np.abs(vals[100] - vals[0]).max() > 1.0  # half a period away it is elsewhere


# --- Lorenz-63 ----------------------------------------------------------------------------------


def _lorenz_rhs(t, s, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = s
    return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]


def _lorenz_jac(t, s, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = s
    return [[-sigma, sigma, 0.0], [rho - z, -1.0, -x], [y, x, -beta]]


def _independent(start, t):
    """LSODA (Adams/BDF, a different family from DOP853) at rtol = atol = 1e-13."""
    sol = solve_ivp(_lorenz_rhs, (0.0, t[-1]), start, method="LSODA", jac=_lorenz_jac, t_eval=t, rtol=1e-13, atol=1e-13)
    return sol.y.T


@pytest.mark.parametrize("spinup", [0.0, 10.0])
def test_lorenz_agrees_with_an_independent_integrator(spinup):
    traj = SYSTEMS["lorenz63"].trajectory({"spinup": spinup}, steps=201, dt=0.01)  # t <= 2
    start = [1.0, 1.0, 1.0] if spinup == 0 else traj.values[0]
    ref = _independent(start, traj.t)
    err = np.abs(traj.values - ref).max() / np.abs(ref).max()
    assert err <= 1e-9, err


def test_lorenz_spinup_reaches_the_attractor_from_the_start_point():
    traj = SYSTEMS["lorenz63"].trajectory(steps=2, dt=0.01)
    ref = _independent([1.0, 1.0, 1.0], np.array([0.0, 10.0]))[-1]
    np.testing.assert_allclose(traj.values[0], ref, rtol=0, atol=1e-6)
    assert traj.t[0] == 0.0


def test_lorenz_largest_lyapunov_exponent():
    """Benettin: 16 points on the attractor carry a tangent vector along the true equations and
    their variational equations (RK4, h = 0.01, renormalised every 0.1), 5 time units of alignment
    then 100 of averaging log growth."""
    s = SYSTEMS["lorenz63"]
    starts = s.trajectory(steps=2001, dt=0.05).values[::125][:16]
    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0

    def f(state, tangent):
        x, y, z = state
        u, v, w = tangent
        d_state = np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])
        d_tangent = np.stack([sigma * (v - u), (rho - z) * u - v - x * w, y * u + x * v - beta * w])
        return d_state, d_tangent

    state, tangent = starts.T.copy(), np.full((3, len(starts)), 1 / math.sqrt(3))
    h, align, total = 0.01, 500, 10500
    growth = np.zeros(len(starts))
    for i in range(total):
        k1 = f(state, tangent)
        k2 = f(state + h / 2 * k1[0], tangent + h / 2 * k1[1])
        k3 = f(state + h / 2 * k2[0], tangent + h / 2 * k2[1])
        k4 = f(state + h * k3[0], tangent + h * k3[1])
        state = state + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        tangent = tangent + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        if i % 10 == 9:
            norm = np.linalg.norm(tangent, axis=0)
            tangent /= norm
            if i >= align:
                growth += np.log(norm)
    estimate = float(np.mean(growth / ((total - align) * h)))
    assert abs(estimate - s.lyapunov) <= 0.05, estimate
