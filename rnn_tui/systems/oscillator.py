"""The driven damped oscillator x'' + η x' + x = F0 cos(ωt), as in the notes' script (2γ = 0.4).
Integrated with DOP853 at rtol = atol = 1e-12 and read off at the sample times (dense output).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory, integrate_flow


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    eta, f0, omega = params["eta"], params["F0"], params["omega"]

    def rhs(t, s):
        x, v = s
        return (v, f0 * math.cos(omega * t) - eta * v - x)

    t = np.arange(steps, dtype=np.float64) * dt
    values = integrate_flow(rhs, (params["x0"], params["v0"]), t, "oscillator")
    return Trajectory(t=t, values=values, names=("x", "v"), kind="flow", dt=dt)


class Params(SystemParams):
    """oscillator's parameters."""

    eta: Float = Field(0.4, ge=0.0, description="damping coefficient η (= 2γ in the notes), >= 0")
    F0: Float = Field(1.0, description="amplitude F0 of the driving force")
    omega: Float = Field(0.5, description="angular frequency ω of the driving force")
    x0: Float = Field(1.0, description="starting position x(0)")
    v0: Float = Field(0.0, description="starting velocity x'(0)")


SYSTEM = System(
    name="oscillator",
    kind="flow",
    doc="driven damped oscillator x'' + η x' + x = F0 cos(ωt) (notes 004; their script uses 2γ = η = 0.4)",
    params=Params,
    steps=2000,
    dt=0.05,
    generate=generate,
    period=2 * math.pi / 0.5,  # the driving period: the steady state repeats with it
    components=("x", "v"),
    phase=(0, 1),
)
