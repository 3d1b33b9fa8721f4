"""The default probe of a forecaster (models/base.py: Forecaster.probe), and pieces the architectures'
own probes share: the spectrum of the one-step map's Jacobian for models whose state is a window of
inputs (MLP, RK4 net, NG-RC), and the readout's weight by feature group for closed-form models."""

from __future__ import annotations

import torch

from rnn_tui.inside.results import Inside, ReadoutGroups
from rnn_tui.inside.spectrum import spectrum

MAX_JACOBIAN = 1024  # the one-step map's Jacobian is computed for states of at most this many values

NO_STATE = "no hidden state is carried through time: the model sees its window of inputs at once"
NOT_GRADIENT = "the readout is solved in closed form: no gradient flows through time"
NO_GATES = "only the LSTM, GRU and ConvLSTM have gates"


def window_map_spectrum(net, window: torch.Tensor, memory: int):
    """The eigenvalues of the Jacobian of the free run's one-step map at the last `memory` states of
    `window` (1, L, D): the state is those states, the map drops the oldest and appends the prediction
    (companion form; its nonzero eigenvalues are what makes a free run grow or decay). A Spectrum, or a
    string saying why not."""
    w = window[:, -memory:].detach()
    m, d = w.shape[1], w.shape[2]
    if m * d > MAX_JACOBIAN:
        return f"the one-step map's state has {m * d} values (Jacobian computed up to {MAX_JACOBIAN})"

    def one_step(z: torch.Tensor) -> torch.Tensor:
        zz = z.reshape(1, m, d)
        return torch.cat([zz[0, 1:], net(zz)], dim=0).reshape(-1)

    was = net.training
    net.eval()
    try:
        if net.trainable:
            with torch.enable_grad():
                jac = torch.autograd.functional.jacobian(one_step, w.reshape(-1), vectorize=True)
        else:  # closed-form models build their features in place (out=): not differentiable
            with torch.no_grad():
                jac = differences(one_step, w.reshape(-1))
    finally:
        net.train(was)
    where = "the last state" if m == 1 else f"the last {m} states"
    return spectrum(jac, f"Jacobian of the one-step map at {where}")


def differences(fn, z: torch.Tensor) -> torch.Tensor:
    """The Jacobian of fn at z (n,) by central differences, all n columns in one batch of calls."""
    step = 1e-6 if z.dtype == torch.float64 else 1e-3
    eye = torch.eye(z.numel(), dtype=z.dtype, device=z.device) * step
    cols = [(fn(z + e) - fn(z - e)) / (2 * step) for e in eye]
    return torch.stack(cols, dim=1)


def window_probe(net, window: torch.Tensor, memory: int, trained: bool = True, readout: ReadoutGroups | None = None) -> Inside:
    """The Inside of a model whose state is its last `memory` inputs."""
    spec = window_map_spectrum(net, window, memory)
    why = {"heatmap": NO_STATE, "gates": NO_GATES,
           "grad": NO_STATE if trained else NOT_GRADIENT, "readout": "trained by gradient: no closed-form readout"}
    if isinstance(spec, str):
        why["spectrum"] = spec
    if readout is not None:
        why.pop("readout")
    return Inside(spectra=() if isinstance(spec, str) else (spec,), readout=readout, why=why)


def readout_groups(weights: torch.Tensor, groups: list[tuple[str, slice]], path, ridge) -> ReadoutGroups:
    """RMS of the readout weights (D, F) over each named group of feature columns, and the ridge's
    effective degrees of freedom sum s^2 / (s^2 + ridge) over the fit's singular values (None where
    no fit is kept, or the ridge is not a number)."""
    w = weights.detach().double().cpu()
    names, rms, count = [], [], []
    for name, cols in groups:
        part = w[:, cols]
        if part.numel():
            names.append(name)
            rms.append(float(part.pow(2).mean().sqrt()))
            count.append(int(part.shape[1]))
    dof = None
    if path is not None and not isinstance(ridge, str):
        s2 = path.s.double() ** 2
        dof = float((s2 / (s2 + float(ridge))).sum()) if ridge > 0 else float((path.s > path.cutoff()).sum())
    return ReadoutGroups(tuple(names), tuple(rms), tuple(count), dof)
