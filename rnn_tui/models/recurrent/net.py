"""Recurrent forecasters: rnn, lstm, gru, dense_gru and irnn, one class behind the Forecaster interface
(hyperparameters: rnn_tui.models.recurrent).

Window (batch, L, D) -> [dense_gru: two per-step ReLU layers] -> stacked recurrent core (dropout
between layers) -> output head on the last hidden state (optional ReLU layer of `head_size`) -> D,
plus the last input when `residual`. `warmup`/`step` carry the hidden state: one cell step per call.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from rnn_tui.errors import check_stop
from rnn_tui.kernels import fused_rnn, np_carry
from rnn_tui.models.base import Forecaster, ModelSpec, with_residual
from rnn_tui.models.heads import output_head
from rnn_tui.models.recurrent import DenseGRUConfig, RecurrentConfig, RNNConfig
from rnn_tui.models.recurrent import probe as inside_probe

KINDS = ("rnn", "lstm", "gru", "dense_gru", "irnn")

# Le et al. 2015: identity recurrent weights, zero biases, input weights from N(0, IRNN_INPUT_STD^2).
IRNN_INPUT_STD = 1e-3


class ElmanRNN(nn.Module):
    """A stacked Elman RNN with any elementwise activation (for sigmoid, which nn.RNN lacks).

    Same calling convention and parameter names as nn.RNN(batch_first=True):
    (x (B, T, In), h0 (layers, B, H) or None) -> (outputs (B, T, H), h_n (layers, B, H)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0, activation=torch.sigmoid):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.activation = activation
        bound = 1.0 / math.sqrt(hidden_size)
        for k in range(num_layers):
            n_in = input_size if k == 0 else hidden_size
            for name, shape in (("weight_ih", (hidden_size, n_in)), ("weight_hh", (hidden_size, hidden_size)), ("bias_ih", (hidden_size,)), ("bias_hh", (hidden_size,))):
                p = nn.Parameter(torch.empty(shape))
                nn.init.uniform_(p, -bound, bound)
                self.register_parameter(f"{name}_l{k}", p)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        batch, steps, _ = x.shape
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, batch, self.hidden_size)
        layer_in = x
        h_n = []
        for k in range(self.num_layers):
            if k > 0 and self.dropout > 0:
                layer_in = nn.functional.dropout(layer_in, self.dropout, self.training)
            w_hh = getattr(self, f"weight_hh_l{k}")
            b_hh = getattr(self, f"bias_hh_l{k}")
            drive = nn.functional.linear(layer_in, getattr(self, f"weight_ih_l{k}"), getattr(self, f"bias_ih_l{k}"))
            h = h0[k]
            outs = []
            for t in range(steps):
                h = self.activation(drive[:, t] + nn.functional.linear(h, w_hh, b_hh))
                outs.append(h)
            layer_in = torch.stack(outs, dim=1)
            h_n.append(h)
        return layer_in, torch.stack(h_n, dim=0)


class RecurrentForecaster(Forecaster):
    """rnn / lstm / gru / dense_gru / irnn. See the module docstring."""

    carry_matches_training = False  # trained on windows from a zero state
    has_seq = True

    def __init__(self, spec: ModelSpec, cfg: RecurrentConfig):
        super().__init__(spec)
        kind = cfg.arch
        if kind not in KINDS:
            raise ValueError(f"unknown recurrent architecture {kind!r}; expected one of {', '.join(KINDS)}")
        self.kind = kind
        self.residual = bool(cfg.residual)
        dim, hidden, layers = spec.dim, cfg.hidden_size, cfg.num_layers
        dropout = float(cfg.dropout) if layers > 1 else 0.0  # only between stacked layers
        self.hidden_size, self.num_layers = hidden, layers

        core_in = dim
        if isinstance(cfg, DenseGRUConfig):
            self.pre: nn.Module = nn.Sequential(
                nn.Linear(dim, cfg.dense_size), nn.ReLU(), nn.Linear(cfg.dense_size, cfg.dense_size), nn.ReLU()
            )
            core_in = cfg.dense_size
        else:
            self.pre = nn.Identity()

        if kind == "lstm":
            self.core: nn.Module = nn.LSTM(core_in, hidden, layers, batch_first=True, dropout=dropout)
        elif kind in ("gru", "dense_gru"):
            self.core = nn.GRU(core_in, hidden, layers, batch_first=True, dropout=dropout)
        elif kind == "irnn":
            self.core = nn.RNN(core_in, hidden, layers, nonlinearity="relu", batch_first=True, dropout=dropout)
            self._identity_init()
        else:  # rnn
            assert isinstance(cfg, RNNConfig)
            act = cfg.activation
            if act in ("tanh", "relu"):
                self.core = nn.RNN(core_in, hidden, layers, nonlinearity=act, batch_first=True, dropout=dropout)
            elif act == "sigmoid":
                self.core = ElmanRNN(core_in, hidden, layers, dropout=dropout, activation=torch.sigmoid)
            else:
                raise ValueError(f"rnn activation must be tanh, relu or sigmoid, got {act!r}")
            if cfg.init_radius > 0:
                self._rescale_radius(cfg.init_radius)

        self.is_lstm = kind == "lstm"
        if cfg.learn_h0:
            self.h0 = nn.Parameter(torch.zeros(layers, 1, hidden))
            self.c0 = nn.Parameter(torch.zeros(layers, 1, hidden)) if self.is_lstm else None
        else:
            self.h0 = None
            self.c0 = None
        self.head = output_head(hidden, dim, cfg.head_size)

    def _identity_init(self) -> None:
        with torch.no_grad():
            for k in range(self.core.num_layers):
                getattr(self.core, f"weight_hh_l{k}").copy_(torch.eye(self.core.hidden_size))
                getattr(self.core, f"bias_hh_l{k}").zero_()
                getattr(self.core, f"weight_ih_l{k}").normal_(0.0, IRNN_INPUT_STD)
                getattr(self.core, f"bias_ih_l{k}").zero_()

    def _rescale_radius(self, radius: float) -> None:
        """Each layer's W_hh times radius / its spectral radius (model.init_radius)."""
        with torch.no_grad():
            for k in range(self.core.num_layers):
                w = getattr(self.core, f"weight_hh_l{k}")
                rho = float(torch.linalg.eigvals(w.double()).abs().max())
                if rho > 0:
                    w.mul_(radius / rho)

    def initial_state(self, batch: int) -> Any:
        """The hidden state before the first input: zeros (None) or the learned h0 (and c0)."""
        if self.h0 is None:
            return None
        shape = (self.num_layers, batch, self.hidden_size)
        h = self.h0.expand(shape).contiguous()
        if self.is_lstm:
            return (h, self.c0.expand(shape).contiguous())
        return h

    def _run(self, x: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """(batch, T, D) and a state -> (last-layer hidden states (batch, T, H), new state)."""
        x = self.pre(x)
        if fused_rnn.applies(self.core, x):
            return fused_rnn.elman(self.core, x, state)
        return self.core(x, state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self._run(x, self.initial_state(x.shape[0]))
        return with_residual(self.head(out[:, -1]), x[:, -1], self.residual)

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self._run(x, self.initial_state(x.shape[0]))
        return with_residual(self.head(out), x, self.residual)

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        out, state = self._run(x, self.initial_state(x.shape[0]))
        return with_residual(self.head(out[:, -1]), x[:, -1], self.residual), state

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        cell = _cell_for(self.core)
        if cell is None or (self.training and self.core.dropout > 0):
            out, state = self._run(y.unsqueeze(1), state)
            return with_residual(self.head(out[:, -1]), y, self.residual), state
        # Fast path: one fused cell call per layer, no sequence machinery (a rollout step costs
        # a few kernels, so carrying the state is far cheaper than re-running the window).
        layers = _per_layer(state, self.is_lstm, self.num_layers, y, self.hidden_size)
        h = self.pre(y)
        new = []
        for k in range(self.num_layers):
            weights = [getattr(self.core, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            s = cell(h, layers[k], *weights)
            new.append(s)
            h = s[0] if self.is_lstm else s
        return with_residual(self.head(h), y, self.residual), _PerLayer(new)

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """Forecaster.probe: the recurrent layers' Inside (models/recurrent/probe.py)."""
        return inside_probe.probe(self, x, y, window, horizon)

    def carry_run(self, x: torch.Tensor, horizon: int, stop=None) -> torch.Tensor | None:
        """The carried-state free run as one tight loop (weights fetched once, fused cells, no
        module calls per step): what makes an O(horizon) rollout cheap. None where no fused cell fits."""
        cell = _cell_for(self.core)
        if self.training and self.core.dropout > 0:
            return None
        forecast = np_carry.ENABLED and x.device.type == "cpu" and not (
            torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()))
        if cell is None and not forecast:
            return None
        y, state = self.warmup(x)
        layers = list(_per_layer(state, self.is_lstm, self.num_layers, y, self.hidden_size))
        if forecast:  # not a loss (no gradient): numpy's per-step cost is a fraction of torch's
            run = np_carry.carry_run(self, y, layers, horizon, stop)
            if run is not None:
                return run
        if cell is None:
            return None
        weights = [[getattr(self.core, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")] for k in range(self.num_layers)]
        head = self.head
        if isinstance(head, nn.Linear):
            hw, hb = head.weight, head.bias
            head = lambda h: torch.nn.functional.linear(h, hw, hb)  # noqa: E731 - skips Module.__call__
        pre = None if isinstance(self.pre, nn.Identity) else self.pre
        lstm, residual, n_layers = self.is_lstm, self.residual, self.num_layers
        out = [y]
        for t in range(1, horizon):
            check_stop(stop, t)
            h = y if pre is None else pre(y)
            for k in range(n_layers):
                s = cell(h, layers[k], *weights[k])
                layers[k] = s
                h = s[0] if lstm else s
            o = head(h)
            y = y + o if residual else o
            out.append(y)
        return torch.stack(out, dim=1)


class _PerLayer(list):
    """A rollout state kept per layer (cheaper to step than the stacked (layers, B, H) form)."""


def _lstm_cell(x, hc, w_ih, w_hh, b_ih, b_hh):
    return torch.lstm_cell(x, hc, w_ih, w_hh, b_ih, b_hh)


def _per_layer(state: Any, is_lstm: bool, layers: int, y: torch.Tensor, hidden: int) -> list:
    """Any state (None, stacked tensors from nn.RNN/LSTM/GRU, or _PerLayer) as a per-layer list."""
    if isinstance(state, _PerLayer):
        return state
    if state is None:
        z = y.new_zeros(y.shape[0], hidden)
        return [(z, z) if is_lstm else z for _ in range(layers)]
    if is_lstm:
        h, c = state
        return [(h[k], c[k]) for k in range(layers)]
    return [state[k] for k in range(layers)]


def _cell_for(core: nn.Module):
    """The fused single-step op matching a torch recurrent layer (None for the custom ElmanRNN)."""
    if isinstance(core, nn.LSTM):
        return _lstm_cell
    if isinstance(core, nn.GRU):
        return torch.gru_cell
    if isinstance(core, nn.RNN):
        return torch.rnn_tanh_cell if core.nonlinearity == "tanh" else torch.rnn_relu_cell
    return None

