"""A sampled true trajectory: what every system makes and the cache keeps (its own module, so that
systems/cache.py and systems/base.py need not import each other)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["flow", "map", "field", "data"]


@dataclass(frozen=True)
class Trajectory:
    """A sampled trajectory. `values` is (T, D): D components, or N grid points for a field."""

    t: np.ndarray  # (T,) sample times (for a map: the iteration index times dt)
    values: np.ndarray  # (T, D) float64
    names: tuple[str, ...]  # D component names (for a field: "u[0]", "u[1]", ...)
    kind: Kind
    dt: float  # sample step
    x: np.ndarray | None = None  # (N,) grid for a field, else None

    def __post_init__(self):
        if self.values.ndim != 2 or self.values.shape[0] != self.t.shape[0]:
            raise ValueError(f"values {self.values.shape} do not match t {self.t.shape}")
        if self.values.shape[1] != len(self.names):
            raise ValueError(f"{self.values.shape[1]} components but {len(self.names)} names")
