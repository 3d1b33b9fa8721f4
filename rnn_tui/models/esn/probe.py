"""The Inside of the echo state network (models/esn/net.py): the reservoir's states over a warm-up and
a free run (the units of largest variance), the reservoir's spectrum (its radius is the setting) and
what the closed-form readout learned (weight by feature group, the ridge's degrees of freedom)."""

from __future__ import annotations

import torch

from rnn_tui.inside.heat import heatmap
from rnn_tui.inside.results import Inside
from rnn_tui.inside.spectrum import spectrum
from rnn_tui.models.base import with_residual
from rnn_tui.models.probe import NO_GATES, NOT_GRADIENT, readout_groups

SHOWN_UNITS = 32  # the heatmap shows this many reservoir units, those of largest variance


def trace(net, window: torch.Tensor, horizon: int) -> torch.Tensor:
    """The reservoir state r (steps, N) after each input of `window` (1, L, D) and of a carried free run
    of `horizon` steps after it."""
    r = window.new_zeros(1, net.w.shape[0])
    states = []
    for t in range(window.shape[1]):
        r = net.update(r, window[:, t])
        states.append(r)
    y = with_residual(net.readout(r), window[:, -1], net.residual)
    for _ in range(horizon):
        r = net.update(r, y)
        states.append(r)
        y = with_residual(net.readout(r), y, net.residual)
    return torch.cat(states)


def probe(net, window: torch.Tensor, horizon: int) -> Inside:
    with torch.no_grad():
        states = trace(net, window, horizon).double().cpu().numpy()
    n = net.w.shape[0]
    heat = heatmap(states, window.shape[1], f"reservoir r ({min(n, SHOWN_UNITS)} of {n} units)", SHOWN_UNITS)
    groups = [("r", slice(0, n))] + ([("r^2", slice(n, 2 * n))] if net.quadratic else [])
    readout = readout_groups(net.readout_w, groups, net.path, net.ridge)
    bias = float(net.readout_b.detach().double().pow(2).mean().sqrt())
    readout = type(readout)(("bias",) + readout.names, (bias,) + readout.rms, (1,) + readout.count, readout.dof)
    return Inside(heatmap=heat, spectra=(spectrum(net.w, "the reservoir W"),), readout=readout,
                  why={"gates": NO_GATES, "grad": NOT_GRADIENT})
