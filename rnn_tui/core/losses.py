"""The losses the trainer optimises and reports: MSE in normalised units over windows, and its
conversion to an RMSE in data units."""

from __future__ import annotations

import math

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.rollout import roll

MAX_EVAL_WINDOWS = 4096  # validation and closed-form training losses use at most this many windows


def window_loss(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool) -> torch.Tensor:
    """MSE (normalised units) of the model on the windows at `starts`.

    Inputs and targets come from `series`: the observed series in training (noisy in the training
    split when system.noise > 0, as in Fablet et al. 2018's noisy experiment), the clean one in
    validation. With rollout_steps k > 1 the model runs free for k steps and every step is scored;
    with `seq_loss`, a recurrent model is scored after every position of the window.
    """
    L, k = prep.seq_len, prep.horizon_k
    x = gather_windows(series, starts, L)  # (B, L, D)
    if k == 1:
        if seq_loss and getattr(model, "has_seq", False):
            pred = model.forward_seq(x)  # (B, L, D)
            target = gather_windows(series, starts + 1, L)
        else:
            pred = model(x)  # (B, D)
            target = series[starts + L]
        return torch.mean((pred - target) ** 2)
    pred = roll(model, x, k)  # (B, k, D), fed the same way as the forecasts that are shown
    target = gather_windows(series, starts + L, k)
    return torch.mean((pred - target) ** 2)


@torch.no_grad()
def mean_loss(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool = False, chunk: int = 1024) -> float:
    """Mean loss over the windows at `starts` (at most MAX_EVAL_WINDOWS of them, evenly spaced)."""
    if len(starts) == 0:
        return float("nan")
    if len(starts) > MAX_EVAL_WINDOWS:
        starts = starts[torch.linspace(0, len(starts) - 1, MAX_EVAL_WINDOWS, device=starts.device).round().long()]
    was = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(starts), chunk):
        part = starts[i : i + chunk]
        total += float(window_loss(model, prep, part, series, seq_loss)) * len(part)
    model.train(was)
    return total / len(starts)


def units_rmse(loss: float, prep: Prepared) -> float:
    """RMSE in data units from an MSE in normalised units (per-component scales averaged)."""
    if not math.isfinite(loss):
        return float("nan")
    return float(math.sqrt(loss * float(np.mean(prep.std**2))))
