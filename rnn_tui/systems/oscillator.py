"""The driven damped oscillator x'' + η x' + x = F0 cos(ωt), as in the notes' script (2γ = 0.4).

Integrated with DOP853 at rtol = atol = 1e-12 and read off at the sample times (dense output).
"""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.systems.base import Param, System, Trajectory


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    from scipy.integrate import solve_ivp

    eta, f0, omega = params["eta"], params["F0"], params["omega"]

    def rhs(t, s):
        x, v = s
        return (v, f0 * math.cos(omega * t) - eta * v - x)

    t = np.arange(steps, dtype=np.float64) * dt
    sol = solve_ivp(rhs, (0.0, t[-1]), (params["x0"], params["v0"]), method="DOP853", t_eval=t, rtol=1e-12, atol=1e-12)
    if not sol.success or sol.y.shape[1] != steps:
        raise UserError(f"oscillator: the integration failed with these parameters ({sol.message})")
    return Trajectory(t=t, values=np.ascontiguousarray(sol.y.T), names=("x", "v"), kind="flow", dt=dt)


SYSTEM = System(
    name="oscillator",
    kind="flow",
    doc="driven damped oscillator x'' + η x' + x = F0 cos(ωt) (notes script, 2γ = η = 0.4)",
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
