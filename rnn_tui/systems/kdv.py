"""The Korteweg–de Vries equation u_t − 6uu_x + u_xxx = 0 on a periodic domain: two solitons colliding.
Starts from the exact two-soliton solution; Fourier pseudo-spectral in x, ETDRK4 in time (Kassam–Trefethen).
"""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.errors import UserError
from pydantic import Field

from rnn_tui.settings import Float, Int
from rnn_tui.systems.base import Cost, System, SystemParams, Trajectory, heaviest, integrating
from rnn_tui.systems.etdrk4 import ETDRK4

# Resolution of the solver, from convergence runs against the exact solution (tests/test_kdv.py):
# the internal grid spacing is at most DX_KAPPA / κ_max (Fourier tails of sech² below 1e-13), the
# internal step at most STEP_KAPPA / κ_max³ (relative L2 error about 1e-8 over the default
# collision; it falls as step⁴), and the step times the fastest explicit rate |6u|·k_max of the
# dealiased nonlinear term is at most STABLE_RATE (ETDRK4 was still stable at 3.8).
DX_KAPPA = 0.1
STEP_KAPPA = 8e-4
STABLE_RATE = 2.0


def two_soliton(x, t: float, kappa1: float, kappa2: float, x1: float, x2: float, length: float | None = None) -> np.ndarray:
    """The exact two-soliton solution of u_t − 6uu_x + u_xxx = 0 at time t, on the points x.

    Each soliton alone is u = −2κ² sech²(κ(x − 4κ²t − x0)): a trough of depth 2κ² moving right at
    speed 4κ². The two together are u = −2 ∂²/∂x² log τ with the Hirota τ-function
    τ = 1 + e^{η_L} + e^{η_R}/A + e^{η_L + η_R},  η_i = 2κ_i (x − 4κ_i² t − x_i),  A = ((κ1 − κ2)/(κ1 + κ2))²,
    where L and R are the soliton starting on the left and on the right: with this phase convention
    each soliton sits at its x_i at t = 0 when the two are well apart (the interaction shifts them
    later). Computed stably as u = −2 Var(s) of the slopes s = (0, 2κ_L, 2κ_R, 2κ_L + 2κ_R) under
    the softmax weights of the four exponents, so nothing overflows. κ1 ≠ κ2 is required.

    With `length` set, x is periodic with that period and each point is mapped into the window of
    that length centred between the two freely moving solitons (x_i + 4κ_i² t), which is the
    periodic solution as long as the tails are negligible at the window's edges.
    """
    k1, k2 = float(kappa1), float(kappa2)
    if not (k1 > 0 and k2 > 0) or k1 == k2:
        raise ValueError("two_soliton needs kappa1 > 0, kappa2 > 0 and kappa1 != kappa2")
    x = np.asarray(x, dtype=np.float64)
    if length is not None:
        centre = 0.5 * (x1 + 4 * k1**2 * t + x2 + 4 * k2**2 * t)
        x = centre + np.mod(x - centre + 0.5 * length, length) - 0.5 * length
    if x1 <= x2:
        (kl, xl), (kr, xr) = (k1, x1), (k2, x2)
    else:
        (kl, xl), (kr, xr) = (k2, x2), (k1, x1)
    log_a = 2.0 * math.log(abs(k1 - k2) / (k1 + k2))
    eta_l = 2 * kl * (x - 4 * kl**2 * t - xl)
    eta_r = 2 * kr * (x - 4 * kr**2 * t - xr)
    expo = np.stack([np.zeros_like(x), eta_l, eta_r - log_a, eta_l + eta_r])
    slope = np.array([0.0, 2 * kl, 2 * kr, 2 * (kl + kr)]).reshape((4,) + (1,) * x.ndim)
    w = np.exp(expo - expo.max(axis=0))
    w /= w.sum(axis=0)
    mean = (w * slope).sum(axis=0)
    return -2.0 * (w * (slope - mean) ** 2).sum(axis=0)


def solve(u0: np.ndarray, length: float, dt: float, samples: int, substeps: int, dealias: bool = True, phase=None) -> np.ndarray:
    """Integrate u_t = −u_xxx + 3(u²)_x from u0 (periodic, on len(u0) points) and return (samples, N).

    Pseudo-spectral in x with numpy's real FFT; ETDRK4 in time with `substeps` steps per sample.
    The nonlinear term is dealiased with the 2/3 rule when `dealias` is set. `phase` (a work.Phase)
    counts the steps: progress, and errors.Stopped once its stop flag is set.
    """
    n = u0.shape[0]
    k = 2 * np.pi / length * np.arange(n // 2 + 1)
    lin = 1j * k**3  # Fourier symbol of −∂³/∂x³
    deriv = 3j * k  # 3 ∂/∂x applied to u²
    if n % 2 == 0:
        deriv[-1] = 0.0  # the Nyquist mode has no odd derivative on a real grid
    if dealias:
        deriv[np.arange(k.size) > n // 3] = 0.0

    def nonlinear(vh):
        u = np.fft.irfft(vh, n)
        return deriv * np.fft.rfft(u * u)

    scheme = ETDRK4(lin, dt / substeps, nonlinear)
    out = np.empty((samples, n))
    out[0] = u0
    v = np.fft.rfft(u0)
    for i in range(1, samples):
        for _ in range(substeps):
            v = scheme.step(v)
        out[i] = np.fft.irfft(v, n)
        if phase is not None:
            phase.tick(phase.done + substeps)
    return out


def resolution(params: dict, dt: float) -> tuple[int, int]:
    """(refine, substeps): the internal grid has `refine` times the output points; `substeps` ETDRK4 steps per sample."""
    n, length = int(params["n"]), float(params["length"])
    kmax = max(params["kappa1"], params["kappa2"])
    refine = max(1, math.ceil(length / n / (DX_KAPPA / kmax)))
    dx = length / (n * refine)
    rate = 6 * 2 * kmax**2 * (2.0 / 3.0) * math.pi / dx  # |6u| k at the largest kept wavenumber
    substeps = max(1, math.ceil(dt * kmax**3 / STEP_KAPPA), math.ceil(dt * rate / STABLE_RATE))
    return refine, substeps


def cost(params: dict, steps: int, dt: float) -> Cost:
    """The ETDRK4 steps of the samples on the refined grid."""
    refine, substeps = resolution(params, dt)
    ratios = {"system.steps": steps / SYSTEM.steps, "system.dt": dt / SYSTEM.dt,
              "system.params.length": float(params["length"]) / Params.model_fields["length"].default}
    return Cost((steps - 1) * substeps, int(params["n"]) * refine, heaviest(ratios))


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    k1, k2 = params["kappa1"], params["kappa2"]
    if abs(k1 - k2) <= 1e-9 * max(k1, k2):
        raise UserError("kdv: kappa1 and kappa2 must differ (equal wavenumbers make a single soliton)")
    n, length = int(params["n"]), float(params["length"])
    refine, substeps = resolution(params, dt)
    fine = -length / 2 + length / (n * refine) * np.arange(n * refine)
    u0 = two_soliton(fine, 0.0, k1, k2, params["x1"], params["x2"], length=length)
    with integrating("kdv", (steps - 1) * substeps) as phase:
        u = solve(u0, length, dt, steps, substeps, phase=phase)[:, ::refine]
    grid = fine[::refine]
    t = np.arange(steps, dtype=np.float64) * dt
    names = tuple(f"u[{i}]" for i in range(n))
    return Trajectory(t=t, values=np.ascontiguousarray(u), names=names, kind="field", dt=dt, x=grid)


class Params(SystemParams):
    """kdv's parameters."""

    length: Float = Field(64.0, ge=1.0, description="length of the periodic domain [−L/2, L/2)")
    n: Int = Field(256, ge=8, le=4096, description="grid points written out (the solver refines the grid internally as needed)")
    kappa1: Float = Field(1.0, gt=0.0, le=2.0, description="wavenumber κ1 of soliton 1: depth 2κ1², speed 4κ1²")
    kappa2: Float = Field(0.6, gt=0.0, le=2.0, description="wavenumber κ2 of soliton 2: depth 2κ2², speed 4κ2²")
    x1: Float = Field(-20.0, description="position of soliton 1 at t = 0")
    x2: Float = Field(-12.0, description="position of soliton 2 at t = 0")


SYSTEM = System(
    name="kdv",
    kind="field",
    doc="KdV u_t − 6uu_x + u_xxx = 0, periodic: exact two-soliton start, the fast soliton overtakes the slow (notes 000)",
    params=Params,
    steps=240,
    dt=0.025,
    generate=generate,
    cost=cost,
)
