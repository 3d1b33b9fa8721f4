"""K MLP forecasters as one batched network (train.ensemble): the same layers as net.MLP, each a
batched product over the members, on windows (K * B, L, D) -> (K * B, D)."""

from __future__ import annotations

import torch
from torch import nn

from rnn_tui.models.mlp.net import MLP
from rnn_tui.models.stacked import StackedForecaster, linear

ACTIVATIONS = {nn.Tanh: torch.tanh, nn.ReLU: torch.relu, nn.Sigmoid: torch.sigmoid}


class StackedMLP(StackedForecaster):
    def __init__(self, members: list[MLP]) -> None:
        super().__init__(members)
        first = members[0]
        self.residual = first.residual
        mods = list(first.net)
        self.linears = [i for i, m in enumerate(mods) if isinstance(m, nn.Linear)]  # indices in net
        self.act = ACTIVATIONS[type(mods[1])]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.spec.seq_len
        if x.shape[1] < n:
            raise ValueError(f"mlp needs windows of at least seq_len = {n} steps, got {x.shape[1]}")
        x = x[:, -n:]
        w = self.weights()
        h = x.reshape(self.k, -1, n * x.shape[2])  # (K, B, L * D)
        for j, i in enumerate(self.linears):
            h = linear(h, w[f"net.{i}.weight"], w[f"net.{i}.bias"])
            if j + 1 < len(self.linears):
                h = self.act(h)
        y = h.reshape(-1, x.shape[2])
        return x[:, -1] + y if self.residual else y

    def warmup(self, x: torch.Tensor):
        """The base window buffer, trimmed to the last `seq_len` steps (all the MLP looks at)."""
        return super().warmup(x[:, -self.spec.seq_len :])
