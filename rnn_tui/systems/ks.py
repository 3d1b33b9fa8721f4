"""The Kuramoto–Sivashinsky equation u_t + u u_x + u_xx + u_xxxx = 0 on a periodic domain [0, L), chaotic at L = 22.
Fourier pseudo-spectral in x, ETDRK4 in time (Kassam–Trefethen); a spin-up from a small seeded start reaches the attractor.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float, Int
from rnn_tui.systems.base import Cost, System, SystemParams, Trajectory, heaviest, integrating
from rnn_tui.systems.etdrk4 import ETDRK4

# Internal ETDRK4 step, at most. Over 20 time units on the attractor (L = 22, 64 points) the field
# differs from a run with 1/256 by 9e-6 of its maximum at 1/16, 7e-7 at 1/32 (fourth order); at
# 1/32 the data part from a run at 1/128 by the VPT threshold (0.4) after 10.8 Lyapunov times
# (systems/truth.py measures it: the valid ground-truth time, shown beside every KS VPT).
MAX_STEP = 1 / 32
# The spin-up only has to reach the attractor, not follow one trajectory closely: it steps at 1/4
# (the step of Kassam & Trefethen and of most KS forecasting papers), eight times cheaper.
SPINUP_STEP = 0.25

# Largest Lyapunov exponent at L = 22 (64 points), per time unit, measured once with
# systems/lyapunov.py (Benettin, ETDRK4 h = 0.25, renormalised every time unit; 64 starts on the
# attractor, 100 time units of alignment then 20,000 of averaging): 0.0485, standard error 0.0002
# over the starts (41 s; 16 starts at h = 1/16 give 0.047 ± 0.001). Published for L = 22: 0.048
# (Cvitanović, Davidchack & Siminos 2010, SIAM J. Appl. Dyn. Syst. 9:1) and 0.043 (Vlachas et al.
# 2018, Proc. R. Soc. A 474:20170844). tests/test_ks.py checks a short estimate against it.
LYAPUNOV = 0.0485


def wavenumbers(n: int, length: float) -> np.ndarray:
    """The wavenumbers 2πm/L, m = 0 .. n/2, of numpy's real FFT on n points."""
    return 2 * np.pi / length * np.arange(n // 2 + 1)


def scheme(n: int, length: float, h: float, dealias: bool = True) -> ETDRK4:
    """The ETDRK4 step of size h in Fourier space: linear symbol k² − k⁴, nonlinear term −(u²)_x / 2."""
    k = wavenumbers(n, length)
    deriv = -0.5j * k  # −½ ∂/∂x applied to u²
    if n % 2 == 0:
        deriv[-1] = 0.0  # the Nyquist mode has no odd derivative on a real grid
    if dealias:
        deriv[np.arange(k.size) > n // 3] = 0.0  # the 2/3 rule, as for KdV

    def nonlinear(vh):
        u = np.fft.irfft(vh, n)
        return deriv * np.fft.rfft(u * u)

    return ETDRK4(k**2 - k**4, h, nonlinear)


def solve(u0: np.ndarray, length: float, dt: float, samples: int, substeps: int | None = None, dealias: bool = True,
          phase=None) -> np.ndarray:
    """Integrate from u0 (..., n) (periodic on n points; a batch of fields advances together) and
    return (samples, ..., n), the first being u0. `substeps` ETDRK4 steps per sample (default: the
    fewest that keep the step at most MAX_STEP). `phase` (a work.Phase) counts the steps: progress,
    and errors.Stopped once its stop flag is set."""
    u0 = np.asarray(u0, dtype=np.float64)
    n = u0.shape[-1]
    substeps = substeps or max(1, math.ceil(dt / MAX_STEP - 1e-9))
    step = scheme(n, length, dt / substeps, dealias).step
    out = np.empty((samples,) + u0.shape)
    out[0] = u0
    v = np.fft.rfft(u0)
    for i in range(1, samples):
        for _ in range(substeps):
            v = step(v)
        out[i] = np.fft.irfft(v, n)
        if phase is not None:
            phase.tick(phase.done + substeps)
    return out


def seeded_start(n: int, length: float, amplitude: float, seed: int) -> np.ndarray:
    """A small smooth zero-mean start: the four longest waves with seeded normal amplitudes."""
    rng = np.random.default_rng(seed)
    x = length / n * np.arange(n)
    phase = 2 * np.pi / length * x
    waves = [rng.standard_normal() * np.cos(m * phase) + rng.standard_normal() * np.sin(m * phase) for m in range(1, 5)]
    return amplitude * np.sum(waves, axis=0)


def spinup_steps(params: dict) -> int:
    return max(1, math.ceil(params["spinup"] / SPINUP_STEP - 1e-9)) if params["spinup"] > 0 else 0


def first_state(params: dict, seed: int, phase=None) -> np.ndarray:
    """The first sampled field: the seeded start after the spin-up."""
    n, length = int(params["n"]), float(params["length"])
    u0 = seeded_start(n, length, params["perturbation"], seed)
    if params["spinup"] > 0:  # one "sample", spin on
        u0 = solve(u0, length, params["spinup"], 2, substeps=spinup_steps(params), phase=phase)[-1]
    return u0


def cost(params: dict, steps: int, dt: float) -> Cost:
    """The ETDRK4 steps of the spin-up and of the samples, on n points."""
    substeps = max(1, math.ceil(dt / MAX_STEP - 1e-9))
    spin, sampled = spinup_steps(params), (steps - 1) * substeps
    key = "system.params.spinup" if spin > sampled else heaviest({"system.steps": steps / SYSTEM.steps, "system.dt": dt / SYSTEM.dt})
    return Cost(spin + sampled, int(params["n"]), key)


# The second integration of the valid ground-truth time (systems/truth.py): the same first field,
# ETDRK4 at a quarter of the step (4^4 = 256 times smaller error), so the two part where the
# data's own step error has grown to the VPT threshold.
REFINE = 4


def finer(params: dict, steps: int, dt: float, seed: int) -> tuple[np.ndarray, str]:
    substeps = max(1, math.ceil(dt / MAX_STEP - 1e-9))
    with integrating("ks (the finer second integration)", spinup_steps(params) + (steps - 1) * REFINE * substeps) as phase:
        u = solve(first_state(params, seed, phase), float(params["length"]), dt, steps, substeps=REFINE * substeps, phase=phase)
    return u, f"ETDRK4 at step {dt / substeps:g} against {dt / substeps / REFINE:g}"


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    n, length = int(params["n"]), float(params["length"])
    with integrating("ks", cost(params, steps, dt).steps) as phase:
        u = solve(first_state(params, seed, phase), length, dt, steps, phase=phase)
    t = np.arange(steps, dtype=np.float64) * dt
    names = tuple(f"u[{i}]" for i in range(n))
    return Trajectory(t=t, values=u, names=names, kind="field", dt=dt, x=length / n * np.arange(n))


class Params(SystemParams):
    """ks's parameters."""

    length: Float = Field(22.0, ge=1.0, le=1000.0, description="length L of the periodic domain [0, L) (22: chaotic, a few unstable waves)")
    n: Int = Field(64, ge=8, le=4096, description="grid points (Fourier modes kept after dealiasing: n/3)")
    perturbation: Float = Field(0.1, ge=0.0, description="size of the seeded start (its four longest waves) before the spin-up")
    spinup: Float = Field(500.0, ge=0.0, description="time units integrated and discarded before sampling (reaches the attractor)")


SYSTEM = System(
    name="ks",
    kind="field",
    doc="Kuramoto–Sivashinsky u_t + uu_x + u_xx + u_xxxx = 0, periodic on [0, L), L = 22, 64 points, dt = 0.25; chaotic",
    params=Params,
    steps=10000,
    dt=0.25,
    generate=generate,
    lyapunov=LYAPUNOV,
    lyapunov_params=("length",),  # the grid only resolves it (64 points are converged at L = 22)
    second_integration=finer,
    cost=cost,
)
