"""The Lorenz-63 system x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz (notes 001), chaotic.
A spin-up is integrated and discarded so that sampling starts on the attractor; DOP853 at 1e-12.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory, integrate_flow

LYAPUNOV = 0.906  # largest Lyapunov exponent at σ = 10, ρ = 28, β = 8/3 (checked in the tests)


def generate(params: dict, steps: int, dt: float, seed: int, method: str = "DOP853") -> Trajectory:
    sigma, rho, beta = params["sigma"], params["rho"], params["beta"]

    def rhs(t, s):
        x, y, z = s
        return (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)

    start = np.array([params["x0"], params["y0"], params["z0"]], dtype=np.float64)
    if params["spinup"] > 0:
        start = integrate_flow(rhs, start, np.array([0.0, params["spinup"]]), "lorenz63")[-1]
    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, start, t, "lorenz63", method)
    return Trajectory(t=t, values=values, names=("x", "y", "z"), kind="flow", dt=dt)


class Params(SystemParams):
    """lorenz63's parameters."""

    sigma: Float = Field(10.0, description="Prandtl number σ")
    rho: Float = Field(28.0, description="Rayleigh number ρ (28: chaotic)")
    beta: Float = Field(8.0 / 3.0, description="geometric factor β")
    x0: Float = Field(1.0, description="x at the start of the spin-up")
    y0: Float = Field(1.0, description="y at the start of the spin-up")
    z0: Float = Field(1.0, description="z at the start of the spin-up")
    spinup: Float = Field(10.0, ge=0.0, description="time units integrated and discarded before sampling (reaches the attractor)")


SYSTEM = System(
    flow=True,
    name="lorenz63",
    kind="flow",
    doc="Lorenz-63 x' = σ(y−x), y' = x(ρ−z) − y, z' = xy − βz, dt = 0.01 (notes 001); chaotic",
    params=Params,
    steps=20000,
    dt=0.01,
    generate=generate,
    lyapunov=LYAPUNOV,
    components=("x", "y", "z"),
    phase=(0, 2),
)
