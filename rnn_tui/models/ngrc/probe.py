"""The Inside of NG-RC (models/ngrc/net.py): no hidden state, so the spectrum of its one-step map's
Jacobian on the delay buffer, and what the readout learned: weight by feature group (the constant,
the linear terms of each delay, the monomials of each order)."""

from __future__ import annotations

from math import comb

from rnn_tui.inside.results import Inside
from rnn_tui.models.probe import readout_groups, window_probe


def groups(net, dim: int) -> list[tuple[str, slice]]:
    """The feature columns of each group, in the order features_t lays them out."""
    out, at = [], 0
    if net.constant:
        out.append(("constant", slice(0, 1)))
        at = 1
    for j in range(net.delays):
        out.append((f"delay {j * net.skip}", slice(at + j * dim, at + (j + 1) * dim)))
    at += net.n_lin
    for d in net.tails:  # the degrees above one, in order
        count = comb(net.n_lin + d - 1, d)  # monomials of degree d of n_lin values
        out.append((f"order {d}", slice(at, at + count)))
        at += count
    return out


def probe(net, window) -> Inside:
    readout = readout_groups(net.readout_w, groups(net, net.spec.dim), net.path, net.ridge)
    return window_probe(net, window, net.span, trained=False, readout=readout)
