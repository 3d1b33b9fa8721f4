"""The Lotka–Volterra predator–prey system x' = αx − βxy, y' = δxy − γy.
Closed orbits (the first integral δx − γ ln x + βy − α ln y is constant); DOP853 at 1e-12.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.systems.base import Param, System, Trajectory, integrate_flow

# Period of the orbit through (10, 5) at the default rates, measured from a DOP853 run at
# rtol = atol = 1e-13 (time between successive upward crossings of x = γ/δ); see the tests.
PERIOD = 4.297074


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    a, b, g, d = params["alpha"], params["beta"], params["gamma"], params["delta"]

    def rhs(t, s):
        x, y = s
        return (a * x - b * x * y, d * x * y - g * y)

    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, (params["x0"], params["y0"]), t, "lotka_volterra")
    return Trajectory(t=t, values=values, names=("x", "y"), kind="flow", dt=dt)


SYSTEM = System(
    name="lotka_volterra",
    kind="flow",
    doc="Lotka–Volterra predator–prey x' = αx − βxy, y' = δxy − γy (closed orbits; notes 000)",
    params=(
        Param("alpha", 1.5, "prey growth rate α", min=0.0, min_exclusive=True),
        Param("beta", 1.0, "predation rate β", min=0.0, min_exclusive=True),
        Param("gamma", 3.0, "predator death rate γ", min=0.0, min_exclusive=True),
        Param("delta", 1.0, "predator growth per prey eaten δ", min=0.0, min_exclusive=True),
        Param("x0", 10.0, "starting prey population x(0) > 0", min=0.0, min_exclusive=True),
        Param("y0", 5.0, "starting predator population y(0) > 0", min=0.0, min_exclusive=True),
    ),
    steps=2500,
    dt=0.02,
    generate=generate,
    period=PERIOD,
    components=("x", "y"),
    phase=(0, 1),
)
