"""Score a trained model on the held-out test split (the validation split when there is no test
split): RMSE by horizon over many starting points, and the valid prediction time for chaotic systems."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.core import metrics
from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.results import VPT, Evaluation, Spread
from rnn_tui.errors import Stopped
from rnn_tui.core.rollout import free_run

MAX_STARTS = 200
MIN_STARTS = 100


def evaluate(model, prep: Prepared, horizon: int, lyapunov: float | None, chunk: int = 100, mode: str = "auto",
             stop=None) -> Evaluation | None:
    """Free-running forecasts from up to MAX_STARTS starts in the held-out split; errors in data units.
    None when `stop` (a threading.Event) is set between chunks of starts (stop means stop)."""
    T = prep.clean.shape[0]
    L = prep.seq_len
    if prep.n_test >= 2:
        split, seg_start = "test", T - prep.n_test
    elif prep.n_val >= 2:
        split, seg_start = "validation", prep.n_train
    else:
        return Evaluation(None)
    n_seg = T - seg_start if split == "test" else prep.n_val
    # Leave room for at least MIN_STARTS starting points where the segment allows it.
    H = min(horizon, max(8, n_seg - MIN_STARTS + 1), n_seg)
    n_possible = n_seg - H + 1
    first = np.unique(np.linspace(seg_start, seg_start + n_possible - 1, min(MAX_STARTS, n_possible)).round().astype(int))
    first = first[first >= L]  # the input window must be true data before the start
    if len(first) == 0:
        return Evaluation(split)
    preds = []
    for i in range(0, len(first), chunk):
        if stop is not None and stop.is_set():
            return None
        starts = torch.as_tensor(first[i : i + chunk] - L, device=prep.clean.device)
        try:
            preds.append(free_run(model, gather_windows(prep.clean, starts, L), H, mode, stop).double().cpu().numpy())
        except Stopped:
            return None
    pred = prep.denormalise(np.concatenate(preds, axis=0))  # (S, H, D)
    idx = first[:, None] + np.arange(H)[None, :]
    truth = prep.traj.values[idx]  # (S, H, D)
    finite = bool(np.all(np.isfinite(pred)))
    curve = metrics.rmse_by_horizon(pred, truth) if finite else np.full(H, np.nan)
    vpt = None
    if lyapunov is not None and finite:
        scale = prep.traj.values.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        steps, never = metrics.valid_prediction_steps(pred, truth, scale)
        vpt = VPT(Spread.of(steps * prep.traj.dt), metrics.VPT_THRESHOLD, float(never.mean()), float(lyapunov))
    return Evaluation(split, int(len(first)), int(H), tuple(float(v) for v in curve), vpt)
