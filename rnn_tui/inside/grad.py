"""Gradient through time: ‖∂L/∂h_{t−k}‖ against the lag k, and its fitted decay per step."""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.inside.results import GradByLag


def grad_by_lag(loss, states: list, of: str) -> GradByLag:
    """`states` are the hidden states h_0 .. h_{T-1} (tensors in the graph of `loss`, each (batch, ...));
    the norm of the loss's total derivative with respect to each, by lag k = T-1-t (one backward)."""
    import torch

    grads = torch.autograd.grad(loss, states, allow_unused=True)
    norms = [0.0 if g is None else float(g.detach().double().norm()) for g in grads]
    lagged = np.array(norms[::-1], dtype=np.float64)  # lag 0 first
    return GradByLag(lagged, fit_decay(lagged), of)


def fit_decay(norms: np.ndarray) -> float:
    """exp of the least-squares slope of log norm against lag: the factor the gradient is multiplied
    by per step back in time (< 1 vanishes, > 1 explodes); NaN with fewer than two positive norms."""
    lags = np.arange(len(norms), dtype=np.float64)
    keep = np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        return math.nan
    slope = np.polyfit(lags[keep], np.log(norms[keep]), 1)[0]
    return float(np.exp(slope))
