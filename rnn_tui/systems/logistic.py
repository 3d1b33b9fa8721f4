"""The logistic map x_{n+1} = r x_n (1 − x_n) (notes 002): a period-4 cycle at r = 3.5, chaos at 3.9.
Iterated exactly in float64, one Python float at a time, so the series is reproducible bit for bit.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory


def generate(params: dict, steps: int, dt: float, seed: int) -> Trajectory:
    r = float(params["r"])
    x = float(params["x0"])
    out = [x]
    for _ in range(steps - 1):
        x = r * x * (1.0 - x)
        out.append(x)
    t = np.arange(steps, dtype=np.float64) * dt
    return Trajectory(t=t, values=np.array(out, dtype=np.float64)[:, None], names=("x",), kind="map", dt=dt)


class Params(SystemParams):
    """logistic's parameters."""

    r: Float = Field(3.5, ge=0.0, le=4.0, description="growth rate r, in [0, 4] (3.5: period-4 cycle; 3.9: chaos)")
    x0: Float = Field(0.2, ge=0.0, le=1.0, description="starting value x_0, in [0, 1]")


SYSTEM = System(
    name="logistic",
    kind="map",
    doc="logistic map x ← r x (1 − x) (notes 002): period 4 at r = 3.5, chaotic at r = 3.9",
    params=Params,
    steps=1000,
    dt=1.0,
    generate=generate,
    period=4.0,
    components=("x",),
)
