"""The Lotka–Volterra predator–prey system x' = αx − βxy, y' = δxy − γy.
Closed orbits (the first integral δx − γ ln x + βy − α ln y is constant); DOP853 at 1e-12.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory, integrate_flow

# Period of the orbit through (10, 5) at the default rates, measured from a DOP853 run at
# rtol = atol = 1e-13 (time between successive upward crossings of x = γ/δ); see the tests.
PERIOD = 4.297074


def generate(params: dict, steps: int, dt: float, seed: int, method: str = "DOP853") -> Trajectory:
    a, b, g, d = params["alpha"], params["beta"], params["gamma"], params["delta"]

    def rhs(t, s):
        x, y = s
        return (a * x - b * x * y, d * x * y - g * y)

    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, (params["x0"], params["y0"]), t, "lotka_volterra", method)
    return Trajectory(t=t, values=values, names=("x", "y"), kind="flow", dt=dt)


class Params(SystemParams):
    """lotka_volterra's parameters."""

    alpha: Float = Field(1.5, gt=0.0, description="prey growth rate α")
    beta: Float = Field(1.0, gt=0.0, description="predation rate β")
    gamma: Float = Field(3.0, gt=0.0, description="predator death rate γ")
    delta: Float = Field(1.0, gt=0.0, description="predator growth per prey eaten δ")
    x0: Float = Field(10.0, gt=0.0, description="starting prey population x(0) > 0")
    y0: Float = Field(5.0, gt=0.0, description="starting predator population y(0) > 0")


SYSTEM = System(
    flow=True,
    name="lotka_volterra",
    kind="flow",
    doc="Lotka–Volterra predator–prey x' = αx − βxy, y' = δxy − γy (closed orbits; notes 000)",
    params=Params,
    steps=2500,
    dt=0.02,
    generate=generate,
    period=PERIOD,
    components=("x", "y"),
    phase=(0, 1),
)
