"""The Lorenz-63 system x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz (notes 001), chaotic.
A spin-up is integrated and discarded so that sampling starts on the attractor; DOP853 at 1e-12.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.systems.base import Param, System, Trajectory, integrate_flow

LYAPUNOV = 0.906  # largest Lyapunov exponent at σ = 10, ρ = 28, β = 8/3 (checked in the tests)


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    sigma, rho, beta = params["sigma"], params["rho"], params["beta"]

    def rhs(t, s):
        x, y, z = s
        return (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)

    start = np.array([params["x0"], params["y0"], params["z0"]], dtype=np.float64)
    if params["spinup"] > 0:
        start = integrate_flow(rhs, start, np.array([0.0, params["spinup"]]), "lorenz63")[-1]
    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, start, t, "lorenz63")
    return Trajectory(t=t, values=values, names=("x", "y", "z"), kind="flow", dt=dt)


SYSTEM = System(
    name="lorenz63",
    kind="flow",
    doc="Lorenz-63 x' = σ(y−x), y' = x(ρ−z) − y, z' = xy − βz, dt = 0.01 (notes 001); chaotic",
    params=(
        Param("sigma", 10.0, "Prandtl number σ"),
        Param("rho", 28.0, "Rayleigh number ρ (28: chaotic)"),
        Param("beta", 8.0 / 3.0, "geometric factor β"),
        Param("x0", 1.0, "x at the start of the spin-up"),
        Param("y0", 1.0, "y at the start of the spin-up"),
        Param("z0", 1.0, "z at the start of the spin-up"),
        Param("spinup", 10.0, "time units integrated and discarded before sampling (reaches the attractor)", min=0.0),
    ),
    steps=20000,
    dt=0.01,
    generate=generate,
    lyapunov=LYAPUNOV,
    components=("x", "y", "z"),
    phase=(0, 2),
)
