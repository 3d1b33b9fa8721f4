"""What became of a long free run: it stayed bounded on an attractor, blew up (at which step), fell
onto a fixed point, or onto a periodic orbit (with its period). Read on the run in the truth's
normalised units (each component less the truth's mean, over the truth's spread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

FateName = Literal["bounded", "blew_up", "fixed_point", "periodic"]
BLOW_UP = 1e3  # a state this many truth spreads from the truth's mean has left any attractor of the truth's
FIXED = 1e-3  # spread of the run's last half, in truth spreads, below which it has stopped
PERIODIC = 0.02  # largest gap between the run and itself one period later (truth spreads), within which it repeats


@dataclass(frozen=True)
class Fate:
    name: FateName
    step: int | None = None  # blew_up: the first step past BLOW_UP or not finite
    period: float | None = None  # periodic: the period in time units

    def text(self) -> str:
        if self.name == "blew_up":
            return f"blew up at step {self.step:,}"
        if self.name == "periodic":
            return f"periodic orbit, period {self.period:.4g}"
        return {"bounded": "bounded", "fixed_point": "fixed point"}[self.name]


def fate(run: np.ndarray, dt: float, continuous: bool = True) -> Fate:
    """The Fate of a long run (T, D), already in normalised units; `continuous`: sampled from a flow
    (a period need not be a whole number of steps), not a map."""
    bad = ~np.all(np.isfinite(run), axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        bad |= np.max(np.abs(np.where(np.isfinite(run), run, 0.0)), axis=1) > BLOW_UP
    if bad.any():
        return Fate("blew_up", step=int(np.argmax(bad)) + 1)
    tail = run[len(run) // 2 :]
    if float(np.max(tail.std(axis=0))) < FIXED:
        return Fate("fixed_point")
    p = period_steps(tail, continuous=continuous)
    return Fate("periodic", period=p * dt) if p is not None else Fate("bounded")


def period_steps(tail: np.ndarray, tol: float = PERIODIC, continuous: bool = True) -> int | None:
    """The smallest shift p (steps) with |tail[t + p] − tail[t]| within an allowance over the last
    max(5p, 200) samples (that fit twice), where the run went away from its last state in between (four
    allowances or more); None where there is none (a chaotic run). The allowance is tol, plus for a
    flow the longest step (a period need not be a whole number of steps)."""
    n = len(tail)
    speed = float(np.max(np.linalg.norm(np.diff(tail, axis=0), axis=1))) if continuous and n > 1 else 0.0
    allow = tol + speed
    gap = np.linalg.norm(tail - tail[-1], axis=1)
    away = np.maximum.accumulate(gap[::-1])[::-1]  # away[i]: the farthest the run got from its last state after i
    for idx in np.nonzero((gap[:-1] < allow) & (away[:-1] > 4 * allow))[0][::-1]:  # returns, nearest first
        p = n - 1 - int(idx)
        span = min(max(5 * p, 200), n - p)
        if span < 2 * p:
            break
        seg, back = tail[n - span :], tail[n - span - p : n - p]
        if float(np.max(np.linalg.norm(seg - back, axis=1))) <= allow:
            return p
    return None
