"""The largest Lyapunov exponent of any system that can advance a batch of states: Benettin's
two-trajectory method, a reference and a nearby copy renormalised to the same small distance."""

from __future__ import annotations

from typing import Callable

import numpy as np

Advance = Callable[[np.ndarray], np.ndarray]  # states (B, D) -> the states `interval` time units later


def rk4(rhs: Callable[[np.ndarray], np.ndarray], h: float, steps: int) -> Advance:
    """An Advance for an ODE x' = rhs(x) (rhs on a batch (B, D)): `steps` classical RK4 steps of h."""

    def advance(x: np.ndarray) -> np.ndarray:
        for _ in range(steps):
            k1 = rhs(x)
            k2 = rhs(x + h / 2 * k1)
            k3 = rhs(x + h / 2 * k2)
            k4 = rhs(x + h * k3)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return x

    return advance


def ode(rhs: Callable[[np.ndarray], np.ndarray], interval: float, rtol: float = 1e-10) -> Advance:
    """An Advance for an ODE x' = rhs(x) (rhs on a batch (B, D)): DOP853 with its own adaptive steps
    over `interval`, the batch as one system (a stiff or fast flow needs no step chosen by hand)."""
    from scipy.integrate import solve_ivp

    def advance(x: np.ndarray) -> np.ndarray:
        shape = x.shape
        sol = solve_ivp(lambda t, y: rhs(y.reshape(shape)).ravel(), (0.0, interval), x.ravel(), method="DOP853",
                        rtol=rtol, atol=rtol, t_eval=(interval,))
        if not sol.success:
            raise FloatingPointError(f"the integration failed: {sol.message}")
        return sol.y[:, -1].reshape(shape)

    return advance


def largest_exponent(advance: Advance, starts: np.ndarray, interval: float, count: int, discard: int = 0,
                     eps: float = 1e-8, seed: int = 0) -> np.ndarray:
    """Benettin's estimate of the largest Lyapunov exponent from each start, (B,) per time unit.

    Each start (a row of `starts`, (B, D), best taken on the attractor) gets a copy displaced by
    eps·|x| in a random direction. Both advance together `count` times by `interval`; each time the
    log of the distance's growth is summed and the copy is pulled back to the distance eps·|x|
    along the same direction, so the separation stays linear and turns towards the most unstable
    direction. The first `discard` intervals only align it and are not counted. The mean over the
    starts is the estimate; their spread says how far the averaging time is from the limit.
    """
    x = np.array(starts, dtype=np.float64, ndmin=2)
    b = x.shape[0]
    direction = np.random.default_rng(seed).standard_normal(x.shape)
    scale = eps * np.linalg.norm(x, axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, eps)
    y = x + scale * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    total = np.zeros(b)
    for i in range(discard + count):
        both = advance(np.concatenate([x, y]))  # one call advances the references and their copies
        x, y = both[:b], both[b:]
        gap = y - x
        dist = np.linalg.norm(gap, axis=1, keepdims=True)
        if i >= discard:
            total += np.log(dist[:, 0] / scale[:, 0])
        y = x + gap * (scale / dist)
    return total / (count * interval)
