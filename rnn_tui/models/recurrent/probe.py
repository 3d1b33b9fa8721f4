"""The Inside of rnn / lstm / gru / dense_gru / irnn (models/recurrent/net.py): the recurrent layers
unrolled one cell step at a time (so each step's hidden state is a tensor of the graph), the top
layer's hidden state over a warm-up and a free run, its gates (LSTM, GRU), the spectrum of each
layer's recurrent matrix (of each gate's block for LSTM and GRU) and the gradient by lag."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.inside.gates import GRU_GATES, LSTM_GATES, gru_gates, lstm_gates, saturation
from rnn_tui.inside.grad import grad_by_lag
from rnn_tui.inside.heat import heatmap
from rnn_tui.inside.results import Gates, Inside
from rnn_tui.inside.spectrum import spectrum
from rnn_tui.models.base import with_residual

# The blocks of weight_hh in torch's row order, and the one shown first (and summarised): the block
# that feeds the new hidden state, the counterpart of a plain RNN's W_hh.
BLOCKS = {"lstm": ("input", "forget", "cell", "output"), "gru": ("reset", "update", "candidate")}
FIRST = {"lstm": "cell", "gru": "candidate"}


def family(net) -> str:
    return "lstm" if net.is_lstm else ("gru" if net.kind in ("gru", "dense_gru") else "rnn")


def _weights(net, k: int) -> list[torch.Tensor]:
    return [getattr(net.core, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _cell(net, inp, state, w):
    """One step of layer with weights w from `state` (h, or (h, c) for the LSTM)."""
    fam = family(net)
    if fam == "lstm":
        return torch.lstm_cell(inp, state, *w)
    if fam == "gru":
        return torch.gru_cell(inp, state, *w)
    act = getattr(net.core, "activation", None)
    if act is not None:  # the custom ElmanRNN (sigmoid)
        return act(inp @ w[0].T + w[2] + state @ w[1].T + w[3])
    return (torch.rnn_tanh_cell if net.core.nonlinearity == "tanh" else torch.rnn_relu_cell)(inp, state, *w)


class Unroll:
    """The stacked layers advanced one input at a time, keeping the top layer's states and gates."""

    def __init__(self, net, batch: int, ref: torch.Tensor, gates: bool):
        self.net, self.fam, self.gates = net, family(net), gates
        self.layers = _initial(net, batch, ref)
        self.weights = [_weights(net, k) for k in range(net.num_layers)]
        self.hs: list[torch.Tensor] = []  # the top layer's h after each input, (B, H)
        self.gate_values: dict[str, list[torch.Tensor]] = {}

    def feed(self, y: torch.Tensor) -> torch.Tensor:
        """Advance every layer by one input y (B, D); returns the top layer's h."""
        h = self.net.pre(y)
        top = len(self.layers) - 1
        for k, w in enumerate(self.weights):
            if k == top and self.gates and self.fam != "rnn":
                prev = self.layers[k][0] if self.fam == "lstm" else self.layers[k]
                g = (lstm_gates if self.fam == "lstm" else gru_gates)(h, prev, *w)
                for name in LSTM_GATES if self.fam == "lstm" else GRU_GATES:
                    self.gate_values.setdefault(name, []).append(g[name].detach())
            self.layers[k] = _cell(self.net, h, self.layers[k], w)
            h = self.layers[k][0] if self.fam == "lstm" else self.layers[k]
        self.hs.append(h)
        return h

    def predict(self, h: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        return with_residual(self.net.head(h), last, self.net.residual)


def _initial(net, batch: int, ref: torch.Tensor) -> list:
    """Each layer's state before the first input: zeros, or the learned h0 (and c0)."""
    state = net.initial_state(batch)
    if state is None:
        z = ref.new_zeros(batch, net.hidden_size)
        return [(z, z) if net.is_lstm else z for _ in range(net.num_layers)]
    if net.is_lstm:
        return [(state[0][k], state[1][k]) for k in range(net.num_layers)]
    return [state[k] for k in range(net.num_layers)]


def spectra(net) -> tuple[tuple, tuple]:
    """(the spectrum shown first, computed: layer 1's W_hh, or its cell / candidate block for LSTM and
    GRU; the further matrices, (what, matrix), whose spectra the panel computes when asked: each
    other block and layer)."""
    fam, matrices = family(net), []
    for k in range(net.num_layers):
        w_hh = getattr(net.core, f"weight_hh_l{k}").detach()
        layer = f" of layer {k + 1}" if net.num_layers > 1 else ""
        if fam == "rnn":
            matrices.append((f"W_hh{layer}", w_hh))
            continue
        names = BLOCKS[fam]
        blocks = dict(zip(names, w_hh.chunk(len(names), dim=0)))
        for name in [FIRST[fam]] + [n for n in names if n != FIRST[fam]]:
            matrices.append((f"W_h{name[0]} ({name} block of W_hh){layer}", blocks[name]))
    first = spectrum(matrices[0][1], matrices[0][0])
    return (first,), tuple((of, m.double().cpu().numpy()) for of, m in matrices[1:])


def probe(net, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int) -> Inside:
    """See the module docstring; x (B, L, D) and y (B, D) for the gradient and the gates' saturation,
    window (1, L, D) and `horizon` free-run steps for the heatmap and the gates shown."""
    was = net.training
    net.eval()
    try:
        with torch.enable_grad():
            run = Unroll(net, x.shape[0], x[:, 0], gates=True)
            for t in range(x.shape[1]):
                h = run.feed(x[:, t])
            loss = torch.mean((run.predict(h, x[:, -1]) - y) ** 2)
            layer = f" of layer {net.num_layers}" if net.num_layers > 1 else ""
            grad = grad_by_lag(loss, run.hs, f"h{layer}")
        sat = {name: saturation(torch.stack(v).cpu().numpy()) for name, v in run.gate_values.items()}
        with torch.no_grad():
            states, shown = trace(net, window, horizon)
    finally:
        net.train(was)
    gates = Gates(tuple(shown), shown, sat) if shown else None
    why = {"readout": "trained by gradient: no closed-form readout"}
    if gates is None:
        why["gates"] = "a plain RNN has no gates (the LSTM and GRU do)"
    heat = heatmap(states, window.shape[1], f"h{layer}")
    first, more = spectra(net)
    return Inside(heatmap=heat, gates=gates, spectra=first, more=more, grad=grad, why=why)


def trace(net, window: torch.Tensor, horizon: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The top layer's h (steps, H) over the warm-up on `window` (1, L, D) and a carried free run of
    `horizon` steps after it (the first prediction is the warm-up's), and the gates over the same steps."""
    run = Unroll(net, 1, window[:, 0], gates=True)
    for t in range(window.shape[1]):
        h = run.feed(window[:, t])
    y = run.predict(h, window[:, -1])
    for _ in range(horizon):
        y = run.predict(run.feed(y), y)
    states = torch.cat(run.hs).double().cpu().numpy()
    shown = {name: torch.cat(v).double().cpu().numpy() for name, v in run.gate_values.items()}
    return states, shown
