"""The losses the trainer optimises and reports: MSE in normalised units over windows, for one model
or for each of K members at once (train.ensemble), and its conversion to an RMSE in data units."""

from __future__ import annotations

import math

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.rollout import roll

MAX_EVAL_WINDOWS = 4096  # validation and closed-form training losses use at most this many windows


def _pred_target(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool):
    """(prediction, target) on the windows at `starts` (any shape, flattened in order).

    Inputs and targets come from `series`: the observed series in training (noisy in the training
    split when system.noise > 0, as in Fablet et al. 2018's noisy experiment), the clean one in
    validation. With rollout_steps k > 1 the model runs free for k steps and every step is scored;
    with `seq_loss`, a recurrent model is scored after every position of the window.
    """
    L, k = prep.seq_len, prep.horizon_k
    flat = starts.reshape(-1)
    x = gather_windows(series, flat, L)  # (N, L, D)
    if k > 1:
        return roll(model, x, k), gather_windows(series, flat + L, k)  # (N, k, D), fed as the forecasts shown are
    if seq_loss and getattr(model, "has_seq", False):
        return model.forward_seq(x), gather_windows(series, flat + 1, L)  # (N, L, D)
    return model(x), series[flat + L]  # (N, D)


def window_loss(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool) -> torch.Tensor:
    """MSE (normalised units) of one model on the windows at `starts` (B,): a scalar."""
    pred, target = _pred_target(model, prep, starts, series, seq_loss)
    return torch.mean((pred - target) ** 2)


def member_losses(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool) -> torch.Tensor:
    """(K,) MSE of each member on its own windows: starts (K, B), row j member j's batch (member-major,
    as models/stacked.py lays the members out along the batch); window_loss member by member."""
    pred, target = _pred_target(model, prep, starts, series, seq_loss)
    return ((pred - target) ** 2).reshape(starts.shape[0], -1).mean(dim=1)


@torch.no_grad()
def mean_losses(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, chunk: int = 1024) -> np.ndarray:
    """(K,) each member's mean loss over the same windows `starts` (S,) (K = 1 for one model): at most
    MAX_EVAL_WINDOWS of them, evenly spaced, in chunks of about `chunk` windows of all members
    together; NaN where there are none."""
    k = model.k
    if len(starts) == 0:
        return np.full(k, np.nan)
    if len(starts) > MAX_EVAL_WINDOWS:
        starts = starts[torch.linspace(0, len(starts) - 1, MAX_EVAL_WINDOWS, device=starts.device).round().long()]
    was = model.training
    model.eval()
    total = np.zeros(k)
    per_member = max(1, chunk // k)
    for i in range(0, len(starts), per_member):
        part = starts[i : i + per_member]
        losses = member_losses(model, prep, part.expand(k, len(part)), series, False)
        total += losses.double().cpu().numpy() * len(part)
    model.train(was)
    return total / len(starts)


def mean_loss(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor) -> float:
    """One model's mean loss over the windows at `starts` (mean_losses of its one member)."""
    return float(mean_losses(model, prep, starts, series)[0])


def units_rmse(loss: float, prep: Prepared) -> float:
    """RMSE in data units from an MSE in normalised units (per-component scales averaged)."""
    if not math.isfinite(loss):
        return float("nan")
    return float(math.sqrt(loss * float(np.mean(prep.std**2))))
