"""The truth's side of the comparison: its Lyapunov spectrum where it is known, and two long true
runs from different points of the attractor (the second gives the truth-against-truth noise floor
of D_stsp and D_H). The runs come through `System.trajectory`, so they are cached like every
trajectory (systems/cache.py)."""

from __future__ import annotations

import numpy as np

from rnn_tui.systems.base import System

# Whole spectra per time unit, largest first, at the parameters `System.lyapunov_for` holds for.
# Lorenz-63 (σ = 10, ρ = 28, β = 8/3): Sprott, "Chaos and Time-Series Analysis" (2003), 0.9056, 0,
# −14.5723 (the sum is −(σ + 1 + β) = −13.6667 exactly); tests/test_climate.py reproduces them with
# climate/lyapunov.py on the RK4 step. Elsewhere only the largest exponent is known (the system's own).
SPECTRA: dict[str, tuple[float, ...]] = {"lorenz63": (0.9056, 0.0, -14.5723)}


def spectrum(system: System, params: dict | None) -> tuple[float, ...]:
    """The truth's exponents known at these parameters, largest first (empty where none is)."""
    if system.lyapunov_for(params) is None:
        return ()
    return SPECTRA.get(system.name, (float(system.lyapunov),))


def long_runs(system: System, params: dict | None, dt: float, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two true runs of `steps` samples, (steps, D) each: the first and the second half of one
    trajectory twice as long (the second starts where the first ends: another point of the attractor,
    many Lyapunov times on)."""
    values = system.trajectory(params, steps=2 * steps, dt=dt, seed=seed).values
    return values[:steps], values[steps:]
