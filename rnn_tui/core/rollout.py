"""Free-running and one-step forecasts. The free run is O(horizon): the window is consumed once and
each further step feeds the model its own prediction, carrying the hidden state where it has one."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows


@torch.no_grad()
def free_run(model, windows: torch.Tensor, horizon: int) -> torch.Tensor:
    """windows (B, L, D) of true states -> (B, horizon, D) predictions of the states that follow."""
    was_training = model.training
    model.eval()
    try:
        y, state = model.warmup(windows)
        out = [y]
        for _ in range(horizon - 1):
            y, state = model.step(y, state)
            out.append(y)
        return torch.stack(out, dim=1)
    finally:
        model.train(was_training)


@torch.no_grad()
def one_step(model, series: torch.Tensor, starts: torch.Tensor, seq_len: int, chunk: int = 1024) -> torch.Tensor:
    """Predictions of series[s + seq_len] from the true window at each start s: (B, D)."""
    was_training = model.training
    model.eval()
    try:
        parts = [model(gather_windows(series, starts[i : i + chunk], seq_len)) for i in range(0, len(starts), chunk)]
        return torch.cat(parts, dim=0)
    finally:
        model.train(was_training)


def display_rollout(model, prep: Prepared, horizon: int) -> dict:
    """The forecast shown to the user: from the first held-out sample, over up to `horizon` steps.

    Returns numpy arrays in data units: t, truth, prediction, one_step, and some true history
    before the start (so the plot shows where prediction begins).
    """
    L = prep.seq_len
    start = prep.n_train  # first sample the model never trained on
    T = prep.clean.shape[0]
    H = max(1, min(horizon, T - start))
    window = prep.clean[start - L : start].unsqueeze(0)  # (1, L, D)
    pred = free_run(model, window, H)[0]
    starts = torch.arange(start - L, start - L + H, device=prep.clean.device)
    easy = one_step(model, prep.clean, starts, L)
    traj = prep.traj
    p = min(start, max(L, H // 3))
    return {
        "t": traj.t[start : start + H],
        "truth": traj.values[start : start + H],
        "prediction": prep.denormalise(pred.double().cpu().numpy()),
        "one_step": prep.denormalise(easy.double().cpu().numpy()),
        "history_t": traj.t[start - p : start],
        "history": traj.values[start - p : start],
    }
