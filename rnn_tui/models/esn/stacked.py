"""K echo state networks as one batched network (train.ensemble): K reservoirs (each drawn from its
own seed, as net.ESN draws one) run side by side, and their K ridge readouts are one batched solve.

The equations are net.ESN's, member by member; the reservoir step is one batched product over the
members. Nothing is trained by gradient descent (`trainable` is False).
"""

from __future__ import annotations

from typing import Any

import torch

from rnn_tui.errors import Stopped, UserError, check_stop
from rnn_tui.models.esn.net import ESN, _Ticking
from rnn_tui.models.readout import RidgePath, as_work, row_blocks
from rnn_tui.models.stacked import StackedForecaster


class StackedESN(StackedForecaster):
    def __init__(self, members: list[ESN]) -> None:
        super().__init__(members)
        first = members[0]
        self.leak_rate, self.washout, self.ridge = first.leak_rate, first.washout, first.ridge
        self.quadratic, self.residual = first.quadratic, first.residual
        self.check_training_data = first.check_training_data  # the same rule for every member
        if self.ridge == "auto":
            raise UserError('model.ridge = "auto" picks one ridge on validation for one model; with train.ensemble > 1 '
                            "give a number (run one member with \"auto\" to find it)", key="model.ridge")

    def _leak(self, r: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        a = self.leak_rate
        return pre if a == 1.0 else (1 - a) * r + a * pre

    def run_reservoir(self, x: torch.Tensor, r: torch.Tensor | None = None, stop=None,
                      keep: bool = True) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Drive with x (K * B, T, D) from r (K, B, N), zeros if None: (states (K, B, T, N), last r);
        keep=False keeps only the last r (states None)."""
        w, w_in, b = (self.stacked_buffer(n) for n in ("w", "w_in", "b"))
        k, steps, dim = self.k, x.shape[1], x.shape[2]
        batch = x.shape[0] // k
        if r is None:
            r = x.new_zeros(k, batch, w.shape[1])
        drive = torch.baddbmm(b.unsqueeze(1), x.reshape(k, batch * steps, dim), w_in.transpose(1, 2)).view(k, batch, steps, -1)
        w_t = w.transpose(1, 2)
        states = []
        for t in range(steps):
            check_stop(stop, t)
            r = self._leak(r, torch.tanh(torch.baddbmm(drive[:, :, t], r, w_t)))
            if keep:
                states.append(r)
        return (torch.stack(states, dim=2) if keep else None), r

    def features(self, r: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.feature_parts(r), dim=-1)

    def feature_parts(self, r: torch.Tensor) -> list[torch.Tensor]:
        return [r, r * r] if self.quadratic else [r]

    def readout(self, r: torch.Tensor) -> torch.Tensor:
        """r (K, ..., N) -> (K, ..., D)."""
        w, b = self.stacked_buffer("readout_w"), self.stacked_buffer("readout_b")
        feats = self.features(r)
        flat = feats.reshape(self.k, -1, feats.shape[-1])
        return torch.baddbmm(b.unsqueeze(1), flat, w.transpose(1, 2)).view(*feats.shape[:-1], -1)

    def _predict(self, r: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Readout of r (K, B, N) as (K * B, D), plus u (K * B, D) when residual."""
        y = self.readout(r).reshape(u.shape)
        return u + y if self.residual else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, r = self.run_reservoir(x, keep=False)
        return self._predict(r, x[:, -1])

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.run_reservoir(x)
        y = self.readout(states).reshape(x.shape)
        return x + y if self.residual else y

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        _, r = self.run_reservoir(x, keep=False)
        return self._predict(r, x[:, -1]), r

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        _, r = self.run_reservoir(y.unsqueeze(1), state, keep=False)
        return self._predict(r, y), r

    def num_params(self) -> int:
        return self.stacked_buffer("readout_w")[0].numel() * self.k + self.stacked_buffer("readout_b").numel()

    def fit_closed_form(self, series: torch.Tensor, work=None) -> bool:
        """Every member's ridge readout from the same training series (ESN.fit_closed_form for each
        member, by the SVD of its own features: rnn_tui.models.readout). The reservoirs run as one batch.
        False (nothing fitted) when `work`'s stop flag is set during the fit."""
        work = as_work(work)
        w = self.stacked_buffer("w")
        series = series.to(w.device, w.dtype)
        self.check_training_data(series.shape[0])
        x = self.tile(series[:-1].unsqueeze(0))
        try:
            with torch.no_grad(), work.phase("driving the reservoirs", x.shape[1]) as phase:
                states, _ = self.run_reservoir(x, stop=_Ticking(phase))
            states = states[:, 0, self.washout :]  # (K, T', N)
            target = (series[1:] - series[:-1] if self.residual else series[1:])[self.washout :].double()
            n, sols = states.shape[1], []
            for k in range(self.k):
                design = lambda r: torch.cat(self.feature_parts(r) + [r.new_ones(r.shape[0], 1)], dim=-1)  # noqa: E731
                blocks = ((design(states[k, i:j].double()), target[i:j])
                          for i, j in row_blocks(n, self.stacked_buffer("readout_w").shape[2] + 1 + target.shape[1]))
                sols.append(RidgePath.of_blocks(blocks, work, n).solve(self.ridge))
        except Stopped:
            return False
        sol = torch.stack(sols)  # (K, F + 1, D)
        with torch.no_grad():
            out_w, out_b = self.stacked_buffer("readout_w"), self.stacked_buffer("readout_b")
            out_w.copy_(sol[:, :-1].transpose(1, 2).to(out_w.device, out_w.dtype))
            out_b.copy_(sol[:, -1].to(out_b.device, out_b.dtype))
        return True
