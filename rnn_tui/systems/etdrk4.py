"""Exponential time differencing RK4 (Cox & Matthews 2002) for stiff semilinear equations
v' = L v + N(v) in Fourier space, with Kassam & Trefethen's (2005) contour-integral coefficients.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

CONTOUR_POINTS = 64  # points on the contour that evaluates the coefficients


class ETDRK4:
    """One ETDRK4 step of size h for v' = lin * v + nonlinear(v), lin diagonal (one value per mode).

    `step` works on any array whose last axis is the modes, so a batch of states (several
    trajectories, or a trajectory and its perturbed copy) advances in one call.
    """

    def __init__(self, lin: np.ndarray, h: float, nonlinear: Callable[[np.ndarray], np.ndarray], m: int = CONTOUR_POINTS):
        # Each coefficient f(z), z = hL, is the mean of f over m points on the unit circle around z,
        # which avoids the cancellation of the closed formulas near z = 0.
        z = h * np.asarray(lin)
        roots = np.exp(2j * np.pi * (np.arange(1, m + 1) - 0.5) / m)
        zz = z[:, None] + roots[None, :]
        ez = np.exp(zz)
        self.e, self.e2 = np.exp(z), np.exp(z / 2)
        self.q = h * np.mean((np.exp(zz / 2) - 1) / zz, axis=1)
        self.f1 = h * np.mean((-4 - zz + ez * (4 - 3 * zz + zz**2)) / zz**3, axis=1)
        self.f2 = h * np.mean((2 + zz + ez * (zz - 2)) / zz**3, axis=1)
        self.f3 = h * np.mean((-4 - 3 * zz - zz**2 + ez * (4 - zz)) / zz**3, axis=1)
        if np.isrealobj(lin):  # a real symbol (diffusion, KS) keeps the coefficients real: cheaper steps
            self.q, self.f1, self.f2, self.f3 = (c.real for c in (self.q, self.f1, self.f2, self.f3))
        self.nonlinear = nonlinear

    def step(self, v: np.ndarray) -> np.ndarray:
        """v (..., modes) at t -> v at t + h."""
        nv = self.nonlinear(v)
        a = self.e2 * v + self.q * nv
        na = self.nonlinear(a)
        b = self.e2 * v + self.q * na
        nb = self.nonlinear(b)
        c = self.e2 * a + self.q * (2 * nb - nv)
        nc = self.nonlinear(c)
        return self.e * v + self.f1 * nv + 2 * self.f2 * (na + nb) + self.f3 * nc
