"""1-D ConvLSTM for fields (KdV, notes 000; hyperparameters: rnn_tui.models.convlstm).

Each step's field (batch, N) is a 1-channel image of width N. The cell computes its four gates with a
Conv1d over concat[input, hidden] (`filters` hidden channels, odd `kernel_size`, circular padding
since the field is periodic); then optional BatchNorm1d, then a linear Conv1d(filters -> 1, kernel 3,
circular) gives the next field (plus the last field when `residual`). With circular padding and no
batch norm the model is equivariant under circular shifts of the grid.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnn_tui.models.base import Forecaster, ModelSpec, with_residual
from rnn_tui.models.convlstm import ConvLSTMConfig
from rnn_tui.models.convlstm import probe as inside_probe


class ConvLSTMCell1d(nn.Module):
    """One ConvLSTM step: (x (B, C_in, N), (h, c) (B, F, N)) -> (h, c)."""

    def __init__(self, in_channels: int, filters: int, kernel_size: int):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"convlstm kernel_size must be odd and >= 1, got {kernel_size}")
        self.filters = filters
        self.conv = nn.Conv1d(in_channels + filters, 4 * filters, kernel_size, padding=kernel_size // 2, padding_mode="circular")

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        i, f, o, g = self.conv(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class ConvLSTM(Forecaster):
    carry_matches_training = False  # trained on windows from a zero state
    has_seq = True

    def __init__(self, spec: ModelSpec, cfg: ConvLSTMConfig):
        super().__init__(spec)
        self.residual = bool(cfg.residual)
        self.filters = cfg.filters
        self.cell = ConvLSTMCell1d(1, cfg.filters, cfg.kernel_size)
        self.norm: nn.Module = nn.BatchNorm1d(cfg.filters) if cfg.batch_norm else nn.Identity()
        self.out = nn.Conv1d(cfg.filters, 1, 3, padding=1, padding_mode="circular")

    def _initial_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = x.new_zeros(x.shape[0], self.filters, x.shape[-1])
        return z, z

    def _decode(self, h: torch.Tensor) -> torch.Tensor:
        """Hidden channels (B, F, N) -> field (B, N)."""
        return self.out(self.norm(h))[:, 0]

    def _run(self, x: torch.Tensor, state) -> tuple[list[torch.Tensor], Any]:
        hs = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t].unsqueeze(1), state)
            hs.append(state[0])
        return hs, state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self._run(x, self._initial_state(x))
        return with_residual(self._decode(h), x[:, -1], self.residual)

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        hs, _ = self._run(x, self._initial_state(x))
        batch, steps, n = x.shape
        h = torch.stack(hs, dim=1).reshape(batch * steps, self.filters, n)
        return with_residual(self._decode(h).reshape(batch, steps, n), x, self.residual)

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        _, state = self._run(x, self._initial_state(x))
        return with_residual(self._decode(state[0]), x[:, -1], self.residual), state

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        state = self.cell(y.unsqueeze(1), state)
        return with_residual(self._decode(state[0]), y, self.residual), state

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """Forecaster.probe: the hidden channels at one site, the gates and the gradient by lag (models/convlstm/probe.py)."""
        return inside_probe.probe(self, x, y, window, horizon)
