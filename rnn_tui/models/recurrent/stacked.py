"""K recurrent forecasters (rnn, irnn, lstm, gru, dense_gru) as one batched network, for
train.ensemble: the same equations as net.RecurrentForecaster, member by member, with every
layer's time loop run for all members at once (kernels/stacked_rnn.py).

Windows (K * B, L, D) -> [dense_gru: two ReLU layers] -> stacked recurrent layers -> head on the
last hidden state -> (K * B, D), plus the last input when `residual`. No dropout (config refuses it
with an ensemble). `warmup`/`step` carry each layer's state, (K, B, H) per member stack.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnn_tui.kernels import stacked_rnn
from rnn_tui.models.recurrent.net import ElmanRNN, RecurrentForecaster
from rnn_tui.models.stacked import StackedForecaster, head, linear


def _activation(member: RecurrentForecaster) -> str:
    core = member.core
    if isinstance(core, ElmanRNN):
        return "sigmoid"
    if isinstance(core, nn.RNN):
        return core.nonlinearity
    return ""


# Inputs up to this wide (a system's components: 1 for a sine, 3 for Lorenz-63) are projected by
# kernels/stacked_rnn.narrow_projection, wider ones (a second layer, dense_gru) by a batched product.
NARROW_INPUT = 4
# batch x hidden from which an LSTM or GRU ensemble trains member by member on the CPU (see
# StackedRecurrent._member_by_member): the sine RNN (32 x 64) batches, the Lorenz-63 LSTM preset
# (128 x 64) does not.
MEMBER_BY_MEMBER_FROM = 4096


class StackedRecurrent(StackedForecaster):
    def __init__(self, members: list[RecurrentForecaster]) -> None:
        super().__init__(members)
        first = members[0]
        self.kind, self.residual = first.kind, first.residual
        self.hidden_size, self.num_layers, self.is_lstm = first.hidden_size, first.num_layers, first.is_lstm
        self.is_gru = isinstance(first.core, nn.GRU)
        self.act = _activation(first)
        self.dense = isinstance(first.pre, nn.Sequential)
        self.learn_h0 = first.h0 is not None

    def _initial(self, w: dict, batch: int) -> list:
        """Per layer: None (zeros) or the learned h0 (and c0) of each member, (K, B, H)."""
        if not self.learn_h0:
            return [None] * self.num_layers
        shape = (self.k, batch, self.hidden_size)
        out = []
        for layer in range(self.num_layers):
            h = w["h0"][:, layer].expand(shape).contiguous()  # h0: (K, layers, 1, H)
            out.append((h, w["c0"][:, layer].expand(shape).contiguous()) if self.is_lstm else h)
        return out

    def _run(self, w: dict, x: torch.Tensor, state: list | None) -> tuple[torch.Tensor, list]:
        """Weights (`weights()`), x (K * B, L, D), a per-layer state or None (the initial one) ->
        (the last layer's hidden states (L, K, B, H), the per-layer state after the window)."""
        k, steps, dim = self.k, x.shape[1], x.shape[2]
        batch = x.shape[0] // k
        if state is None:
            state = self._initial(w, batch)
        layer_in = x.reshape(k, batch * steps, dim)  # member-major, rows in (batch, time) order
        if self.dense:
            layer_in = torch.relu(linear(layer_in, w["pre.0.weight"], w["pre.0.bias"]))
            layer_in = torch.relu(linear(layer_in, w["pre.2.weight"], w["pre.2.bias"]))
        if self._member_by_member(x, batch):
            return self._run_members(w, layer_in.view(k, batch, steps, -1), state)
        time_inner = True  # rows in (batch, time) order; after a layer they are in (time, batch) order
        new_state = []
        for layer in range(self.num_layers):
            w_ih, w_hh = w[f"core.weight_ih_l{layer}"], w[f"core.weight_hh_l{layer}"]
            b_ih, b_hh = w[f"core.bias_ih_l{layer}"], w[f"core.bias_hh_l{layer}"]
            bias = b_ih if self.is_gru else b_ih + b_hh
            if layer_in.shape[-1] <= NARROW_INPUT:
                pre = stacked_rnn.narrow_projection(layer_in.view(k, batch, steps, -1).permute(2, 0, 1, 3), w_ih, bias)
            else:
                proj = linear(layer_in, w_ih, bias)  # (K, N, G)
                gates = proj.shape[-1]
                if time_inner:
                    pre = proj.view(k, batch, steps, gates).permute(2, 0, 1, 3)  # (L, K, B, G), a view
                else:
                    pre = proj.view(k, steps, batch, gates).transpose(0, 1)
            s = state[layer]
            if self.is_lstm:
                h0, c0 = s if s is not None else (None, None)
                hs, c_n = stacked_rnn.lstm(pre, h0, c0, w_hh)
                new_state.append((hs[-1], c_n))
            elif self.is_gru:
                hs = stacked_rnn.gru(pre, s, w_hh, b_hh)
                new_state.append(hs[-1])
            else:
                hs = stacked_rnn.elman(pre, s, w_hh, self.act)
                new_state.append(hs[-1])
            if layer + 1 < self.num_layers:
                layer_in = hs.transpose(0, 1).reshape(k, steps * batch, self.hidden_size)
                time_inner = False
        return hs, new_state

    def _member_by_member(self, x: torch.Tensor, batch: int) -> bool:
        """On the CPU, an LSTM or GRU step this large is arithmetic, not overhead: torch's own fused
        kernel (oneDNN) run once per member beats the batched cells, whose elementwise passes over all
        members at once leave the cache (measured: docs/benchmarks.md, "Many models at once")."""
        return x.device.type == "cpu" and (self.is_lstm or self.is_gru) and batch * self.hidden_size >= MEMBER_BY_MEMBER_FROM

    def _run_members(self, w: dict, x: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """_run with torch's fused layer for each member in turn (the exact computation of the
        member's own nn.LSTM / nn.GRU); x (K, B, L, I)."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        layers, k, batch = self.num_layers, self.k, x.shape[1]
        zeros = x.new_zeros(layers, batch, self.hidden_size)
        outs, h_n, c_n = [], [], []
        for j in range(k):
            weights = [w[f"core.{n}_l{layer}"][j] for layer in range(layers) for n in names]
            if self.is_lstm:
                h0 = torch.stack([s[0][j] for s in state]) if state[0] is not None else zeros
                c0 = torch.stack([s[1][j] for s in state]) if state[0] is not None else zeros
                out, h, c = torch._VF.lstm(x[j], (h0, c0), weights, True, layers, 0.0, self.training, False, True)
                c_n.append(c)
            else:
                h0 = torch.stack([s[j] for s in state]) if state[0] is not None else zeros
                out, h = torch._VF.gru(x[j], h0, weights, True, layers, 0.0, self.training, False, True)
            outs.append(out)  # (B, L, H)
            h_n.append(h)
        hs = torch.stack(outs).permute(2, 0, 1, 3)  # (L, K, B, H), a view
        h_n = torch.stack(h_n, dim=1)  # (layers, K, B, H)
        if self.is_lstm:
            c_n = torch.stack(c_n, dim=1)
            return hs, [(h_n[layer], c_n[layer]) for layer in range(layers)]
        return hs, [h_n[layer] for layer in range(layers)]

    def _out(self, w: dict, h: torch.Tensor, x_last: torch.Tensor) -> torch.Tensor:
        """Head on the last hidden states (K, B, H) -> predictions (K * B, D)."""
        y = head(w, "head", h).reshape(-1, self.spec.dim)
        return x_last + y if self.residual else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weights()
        hs, _ = self._run(w, x, None)
        return self._out(w, hs[-1], x[:, -1])

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weights()
        hs, _ = self._run(w, x, None)
        steps, k, batch, hidden = hs.shape
        flat = hs.transpose(0, 1).reshape(k, steps * batch, hidden)
        y = head(w, "head", flat).view(k, steps, batch, -1).transpose(1, 2).reshape(k * batch, steps, -1)
        return x + y if self.residual else y

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        w = self.weights()
        hs, state = self._run(w, x, None)
        return self._out(w, hs[-1], x[:, -1]), state

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        w = self.weights()
        hs, state = self._run(w, y.unsqueeze(1), state)
        return self._out(w, hs[-1], y), state
