"""The Lorenz-96 ring dX_i/dt = (X_{i+1} − X_{i−2}) X_{i−1} − X_i + F (Lorenz 1996), chaotic at F = 8.
A field of N sites: a spin-up is integrated and discarded so that sampling starts on the attractor; DOP853 at 1e-12.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float, Int
from rnn_tui.systems.base import System, SystemParams, Trajectory, integrate_flow

# Largest Lyapunov exponent at N = 40, F = 8, per time unit, measured once with systems/lyapunov.py
# (Benettin, RK4 h = 0.01, renormalised every 0.1; 64 starts on the attractor, 20 time units of
# alignment then 1,000 of averaging): 1.686, standard error 0.002 over the starts (18 s). Published:
# 1.68 (Vlachas et al. 2020, Neural Networks 126:191, for N = 40, F = 8); Lorenz & Emanuel 1998
# (J. Atmos. Sci. 55:399) give an error-doubling time of about 0.42 time units, λ ≈ ln 2 / 0.42 ≈ 1.65.
# tests/test_lorenz96.py checks a short estimate against both.
LYAPUNOV = 1.686


def tendency(n: int, forcing: float) -> Callable[[np.ndarray], np.ndarray]:
    """dX/dt as a function of states x (..., n): site i couples to i+1, i−1 and i−2 around the ring."""
    ahead, back2, back1 = (np.roll(np.arange(n), shift) for shift in (-1, 2, 1))  # roll(a, s)[i] = a[i − s]

    def f(x: np.ndarray) -> np.ndarray:
        return (x[..., ahead] - x[..., back2]) * x[..., back1] - x + forcing

    return f


def generate(params: dict, steps: int, dt: float, seed: int, method: str = "DOP853") -> Trajectory:
    n, forcing = int(params["n"]), float(params["forcing"])
    f = tendency(n, forcing)

    def rhs(t, x):
        return f(x)

    # The rest state X_i = F is unstable for F > 8/9; a small seeded kick leaves it (Lorenz 1996
    # kicked one site by 0.01; a kick on every site makes the seed matter).
    kick = np.random.default_rng(seed).standard_normal(n)
    start = forcing + params["perturbation"] * kick
    if params["spinup"] > 0:
        start = integrate_flow(rhs, start, np.array([0.0, params["spinup"]]), "lorenz96")[-1]
    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, start, t, "lorenz96", method)
    names = tuple(f"X[{i}]" for i in range(n))
    return Trajectory(t=t, values=values, names=names, kind="field", dt=dt, x=np.arange(n, dtype=np.float64))


class Params(SystemParams):
    """lorenz96's parameters."""

    n: Int = Field(40, ge=4, le=1000, description="sites on the ring")
    forcing: Float = Field(8.0, ge=-100.0, le=100.0, description="forcing F (8: chaotic; below about 0.9 every state decays to X_i = F)")
    perturbation: Float = Field(0.01, ge=0.0, description="standard deviation of the seeded kick away from the rest state X_i = F")
    spinup: Float = Field(50.0, ge=0.0, description="time units integrated and discarded before sampling (reaches the attractor)")


SYSTEM = System(
    flow=True,
    name="lorenz96",
    kind="field",
    doc="Lorenz-96 ring dX_i/dt = (X_{i+1} − X_{i−2}) X_{i−1} − X_i + F, N = 40 sites, F = 8, dt = 0.01; chaotic",
    params=Params,
    steps=20000,
    dt=0.01,
    generate=generate,
    lyapunov=LYAPUNOV,
    lyapunov_params=("n", "forcing"),
)
