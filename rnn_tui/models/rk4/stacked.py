"""K bilinear RK4 networks as one batched network (train.ensemble): the same learned field and
integration as net.RK4Net, the field's layers batched products over the members."""

from __future__ import annotations

from typing import Any

import torch

from rnn_tui.models.rk4.net import RK4Net
from rnn_tui.models.stacked import StackedForecaster, linear


class StackedRK4(StackedForecaster):
    def __init__(self, members: list[RK4Net]) -> None:
        super().__init__(members)
        first = members[0]
        self.scheme, self.substeps, self.dt = first.scheme, first.substeps, first.dt

    def field(self, w: dict, x: torch.Tensor) -> torch.Tensor:
        """F(X) = W_out concat[L(X), B1(X) * B2(X)] + b on states (K, B, D)."""
        lin = linear(x, w["field.linear.weight"], w["field.linear.bias"])
        prod = linear(x, w["field.bilinear1.weight"], w["field.bilinear1.bias"]) * linear(x, w["field.bilinear2.weight"], w["field.bilinear2.bias"])
        return linear(torch.cat([lin, prod], dim=-1), w["field.out.weight"], w["field.out.bias"])

    def integrate(self, x: torch.Tensor) -> torch.Tensor:
        """One sample step from states (K * B, D)."""
        w = self.weights()
        s = x.view(self.k, -1, x.shape[-1])
        dt = self.dt
        for _ in range(self.substeps):
            k1 = self.field(w, s)
            if self.scheme == "euler":
                s = s + dt * k1
                continue
            k2 = self.field(w, s + 0.5 * dt * k1)
            k3 = self.field(w, s + 0.5 * dt * k2)
            k4 = self.field(w, s + dt * k3)
            s = s + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return s.reshape(x.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.integrate(x[:, -1])

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        return self.integrate(x[:, -1]), x[:, -1]

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return self.integrate(y), y
