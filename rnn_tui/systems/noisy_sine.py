"""A sine wave plus uniform noise, x_n = sin(ω n dt) + a·U(0, 1), as in notes 003.
The noise comes from numpy's default generator seeded with the run's seed: one seed, one series.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64) * dt
    x = np.sin(params["omega"] * t) + params["amplitude"] * rng.random(steps)
    return Trajectory(t=t, values=x[:, None], names=("x",), kind="flow", dt=dt)


class Params(SystemParams):
    """noisy_sine's parameters."""

    omega: Float = Field(0.02, description="angular frequency ω of the sine (radians per time unit)")
    amplitude: Float = Field(2.0, ge=0.0, description="noise amplitude a: each sample adds a·U(0, 1)")


SYSTEM = System(
    name="noisy_sine",
    kind="flow",
    doc="sin(ωt) plus uniform noise a·U(0,1), t = 0..999 (notes 003); the seed fixes the noise",
    params=Params,
    steps=1000,
    dt=1.0,
    generate=generate,
    period=2 * math.pi / 0.02,
    components=("x",),
)
