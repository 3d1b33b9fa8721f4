"""The sine wave x = A sin(ωt + φ), sampled on [0, 4π] with 1000 points as in the notes.
The simplest series to forecast: one frequency, no noise, exactly periodic.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory

STEPS = 1000
DT = 4 * math.pi / (STEPS - 1)  # so that the default grid is linspace(0, 4π, 1000)


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    t = np.arange(steps, dtype=np.float64) * dt
    x = params["amplitude"] * np.sin(params["frequency"] * t + params["phase"])
    return Trajectory(t=t, values=x[:, None], names=("x",), kind="flow", dt=dt)


class Params(SystemParams):
    """sine's parameters."""

    frequency: Float = Field(1.0, description="angular frequency ω (radians per time unit)")
    amplitude: Float = Field(1.0, description="amplitude A")
    phase: Float = Field(0.0, description="phase φ at t = 0 (radians)")


SYSTEM = System(
    name="sine",
    kind="flow",
    doc="sine wave x = A sin(ωt + φ) on [0, 4π] with 1000 samples (notes 004)",
    params=Params,
    steps=STEPS,
    dt=DT,
    generate=generate,
    period=2 * math.pi,
    components=("x",),
)
