"""Memoryless baseline: an MLP on the flattened window (batch, seq_len * D) -> D (hyperparameters:
rnn_tui.models.mlp).

`num_layers` hidden layers of width `hidden_size` with `activation`, then a linear output; plus the
last input when `residual`. Rollout uses the base class's window buffer.
"""

from __future__ import annotations

import torch
from torch import nn

from rnn_tui.models.base import Forecaster, ModelSpec, with_residual
from rnn_tui.models.mlp import MLPConfig

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


class MLP(Forecaster):
    def __init__(self, spec: ModelSpec, cfg: MLPConfig):
        super().__init__(spec)
        self.residual = bool(cfg.residual)
        layers: list[nn.Module] = []
        width = spec.seq_len * spec.dim
        for _ in range(cfg.num_layers):
            layers += [nn.Linear(width, cfg.hidden_size), ACTIVATIONS[cfg.activation]()]
            width = cfg.hidden_size
        layers.append(nn.Linear(width, spec.dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Uses the last `seq_len` steps of the window (a longer window is allowed, a shorter is not)."""
        n = self.spec.seq_len
        if x.shape[1] < n:
            raise ValueError(f"mlp needs windows of at least seq_len = {n} steps, got {x.shape[1]}")
        x = x[:, -n:]
        return with_residual(self.net(x.reshape(x.shape[0], -1)), x[:, -1], self.residual)

    def warmup(self, x: torch.Tensor):
        """The base window buffer, trimmed to the last `seq_len` steps (all the MLP looks at)."""
        return super().warmup(x[:, -self.spec.seq_len :])
