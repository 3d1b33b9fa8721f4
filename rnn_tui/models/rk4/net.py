"""Bilinear residual network (Fablet et al. 2018; hyperparameters: rnn_tui.models.rk4): learn the
vector field dX/dt = F(X), predict with one integration step of size spec.dt (or `substeps` steps
of spec.dt / substeps).

    F(X) = W_out concat[L(X), B1(X) * B2(X)] + b      (L, B1, B2: linear layers of width hidden_size)
    rk4:   X + dt/6 (k1 + 2 k2 + 2 k3 + k4);   euler: X + dt F(X)

F is linear + quadratic, so it can represent any quadratic vector field (Lorenz-63) exactly; the
data normalisation is affine, which keeps a quadratic field quadratic. Only the last state of the
window is used, and the rollout state is just that state.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnn_tui.models.base import Forecaster, ModelSpec
from rnn_tui.models.probe import window_probe
from rnn_tui.models.rk4 import RK4Config


class BilinearField(nn.Module):
    """F(X) = W_out concat[L(X), B1(X) * B2(X)] + b."""

    def __init__(self, dim: int, width: int):
        super().__init__()
        self.linear = nn.Linear(dim, width)
        self.bilinear1 = nn.Linear(dim, width)
        self.bilinear2 = nn.Linear(dim, width)
        self.out = nn.Linear(2 * width, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.linear(x), self.bilinear1(x) * self.bilinear2(x)], dim=-1))


class RK4Net(Forecaster):
    def __init__(self, spec: ModelSpec, cfg: RK4Config):
        super().__init__(spec)
        self.scheme = cfg.scheme
        self.substeps = cfg.substeps
        self.dt = float(spec.dt) / self.substeps
        self.field = BilinearField(spec.dim, cfg.hidden_size)

    def integrate(self, x: torch.Tensor) -> torch.Tensor:
        """One sample step from states x (..., D): `substeps` steps of the scheme."""
        for _ in range(self.substeps):
            x = self._substep(x)
        return x

    def _substep(self, x: torch.Tensor) -> torch.Tensor:
        f, dt = self.field, self.dt
        k1 = f(x)
        if self.scheme == "euler":
            return x + dt * k1
        k2 = f(x + 0.5 * dt * k1)
        k3 = f(x + 0.5 * dt * k2)
        k4 = f(x + dt * k3)
        return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.integrate(x[:, -1])

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        return self.integrate(x[:, -1]), x[:, -1]

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return self.integrate(y), y

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """Forecaster.probe: the spectrum of the learned step's Jacobian at the last state (its state is one state)."""
        return window_probe(self, window, 1)
