"""The Inside of the ConvLSTM (models/convlstm/net.py): the hidden channels at one site of the field
over a warm-up and a free run, the gates there, and the gradient by lag of the whole hidden field."""

from __future__ import annotations

import torch

from rnn_tui.inside.gates import LSTM_GATES, saturation
from rnn_tui.inside.grad import grad_by_lag
from rnn_tui.inside.heat import heatmap
from rnn_tui.inside.results import Gates, Inside
from rnn_tui.models.base import with_residual


def _step(net, u: torch.Tensor, state, gates: dict | None):
    """One cell step (as ConvLSTMCell1d), keeping its sigmoid gates (B, F, N) in `gates`."""
    h, c = state
    i, f, o, g = net.cell.conv(torch.cat([u.unsqueeze(1), h], dim=1)).chunk(4, dim=1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    if gates is not None:
        for name, v in zip(LSTM_GATES, (i, f, o)):
            gates.setdefault(name, []).append(v.detach())
    c = f * c + i * torch.tanh(g)
    return o * torch.tanh(c), c


def probe(net, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int) -> Inside:
    was = net.training
    net.eval()
    try:
        with torch.enable_grad():
            state, hs, gates = net._initial_state(x), [], {}
            for t in range(x.shape[1]):
                state = _step(net, x[:, t], state, gates)
                hs.append(state[0])
            loss = torch.mean((with_residual(net._decode(state[0]), x[:, -1], net.residual) - y) ** 2)
            grad = grad_by_lag(loss, hs, "the hidden field h")
        with torch.no_grad():
            site = window.shape[-1] // 2
            states, shown = _trace(net, window, horizon, site)
    finally:
        net.train(was)
    sat = {name: saturation(torch.stack(v).cpu().numpy()) for name, v in gates.items()}
    return Inside(heatmap=heatmap(states, window.shape[1], f"channels at site {site}"), gates=Gates(LSTM_GATES, shown, sat),
                  grad=grad, why={"spectrum": "the recurrence is a convolution over the field: no recurrent matrix is shown",
                                  "readout": "trained by gradient: no closed-form readout"})


def _trace(net, window: torch.Tensor, horizon: int, site: int):
    """The channels (steps, F) and gates (steps, F) at `site` over the warm-up and the free run."""
    state, hs, gates = net._initial_state(window), [], {}
    for t in range(window.shape[1]):
        state = _step(net, window[:, t], state, gates)
        hs.append(state[0][0, :, site])
    y = with_residual(net._decode(state[0]), window[:, -1], net.residual)
    for _ in range(horizon):
        state = _step(net, y, state, gates)
        hs.append(state[0][0, :, site])
        y = with_residual(net._decode(state[0]), y, net.residual)
    shown = {name: torch.stack([g[0, :, site] for g in v]).double().cpu().numpy() for name, v in gates.items()}
    return torch.stack(hs).double().cpu().numpy(), shown
