"""The driven damped oscillator x'' + η x' + x = F0 cos(ωt), as in the notes' script (2γ = 0.4).
Integrated with DOP853 at rtol = atol = 1e-12 and read off at the sample times (dense output).
"""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.systems.base import Param, System, Trajectory, integrate_flow


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    eta, f0, omega = params["eta"], params["F0"], params["omega"]

    def rhs(t, s):
        x, v = s
        return (v, f0 * math.cos(omega * t) - eta * v - x)

    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, (params["x0"], params["v0"]), t, "oscillator")
    return Trajectory(t=t, values=values, names=("x", "v"), kind="flow", dt=dt)


SYSTEM = System(
    name="oscillator",
    kind="flow",
    doc="driven damped oscillator x'' + η x' + x = F0 cos(ωt) (notes 004; their script uses 2γ = η = 0.4)",
    params=(
        Param("eta", 0.4, "damping coefficient η (= 2γ in the notes), >= 0", min=0.0),
        Param("F0", 1.0, "amplitude F0 of the driving force"),
        Param("omega", 0.5, "angular frequency ω of the driving force"),
        Param("x0", 1.0, "starting position x(0)"),
        Param("v0", 0.0, "starting velocity x'(0)"),
    ),
    steps=2000,
    dt=0.05,
    generate=generate,
    period=2 * math.pi / 0.5,  # the driving period: the steady state repeats with it
    components=("x", "v"),
    phase=(0, 1),
)
