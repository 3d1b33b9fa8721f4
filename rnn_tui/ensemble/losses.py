"""Each member's loss, as core/losses.py gives it for one model: the training loss on each member's
own batch (differentiable), and the mean validation loss of every member on the same windows."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.losses import MAX_EVAL_WINDOWS
from rnn_tui.core.rollout import roll


def member_losses(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool) -> torch.Tensor:
    """(K,) MSE of each member on its own windows: starts (K, B), row j member j's batch (the same
    loss as core.losses.window_loss, member by member)."""
    L, k = prep.seq_len, prep.horizon_k
    flat = starts.reshape(-1)
    x = gather_windows(series, flat, L)  # (K * B, L, D), member-major
    if k == 1:
        if seq_loss and getattr(model, "has_seq", False):
            pred, target = model.forward_seq(x), gather_windows(series, flat + 1, L)
        else:
            pred, target = model(x), series[flat + L]
    else:
        pred, target = roll(model, x, k), gather_windows(series, flat + L, k)
    return ((pred - target) ** 2).reshape(starts.shape[0], -1).mean(dim=1)


@torch.no_grad()
def member_mean_losses(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, chunk: int = 1024) -> np.ndarray:
    """(K,) each member's mean loss over the same windows `starts` (S,), subsampled as
    core.losses.mean_loss does for one model, in chunks of about `chunk` windows of all members
    together; NaN where there are none."""
    if len(starts) == 0:
        return np.full(model.k, np.nan)
    if len(starts) > MAX_EVAL_WINDOWS:
        starts = starts[torch.linspace(0, len(starts) - 1, MAX_EVAL_WINDOWS, device=starts.device).round().long()]
    was = model.training
    model.eval()
    total = np.zeros(model.k)
    per_member = max(1, chunk // model.k)
    for i in range(0, len(starts), per_member):
        part = starts[i : i + per_member]
        losses = member_losses(model, prep, part.expand(model.k, len(part)), series, False)
        total += losses.double().cpu().numpy() * len(part)
    model.train(was)
    return total / len(starts)
