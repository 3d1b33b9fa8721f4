"""Score a trained model on the held-out test split (the validation split when there is no test
split): RMSE by horizon over many starting points, and the valid prediction time for chaotic systems."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.core import metrics
from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.results import VPT, Evaluation, Spread
from rnn_tui.errors import Stopped
from rnn_tui.core.rollout import free_run, mean_of

MAX_STARTS = 200
MIN_STARTS = 100


def plan(prep: Prepared, horizon: int, split: str = "auto") -> tuple[str | None, np.ndarray, int]:
    """(split scored, the first predicted sample of each forecast, steps per forecast): up to
    MAX_STARTS starts in the held-out split; split None where no split is long enough."""
    T = prep.clean.shape[0]
    L = prep.seq_len
    if split == "validation":
        if prep.n_val < 2:
            return None, np.zeros(0, dtype=int), 0
        split, seg_start = "validation", prep.n_train
    elif prep.n_test >= 2:
        split, seg_start = "test", T - prep.n_test
    elif prep.n_val >= 2:
        split, seg_start = "validation", prep.n_train
    else:
        return None, np.zeros(0, dtype=int), 0
    n_seg = T - seg_start if split == "test" else prep.n_val
    # Leave room for at least MIN_STARTS starting points where the segment allows it.
    H = min(horizon, max(8, n_seg - MIN_STARTS + 1), n_seg)
    n_possible = n_seg - H + 1
    first = np.unique(np.linspace(seg_start, seg_start + n_possible - 1, min(MAX_STARTS, n_possible)).round().astype(int))
    return split, first[first >= L], int(H)  # the input window must be true data before the start


def score(pred: np.ndarray, prep: Prepared, first: np.ndarray, split: str, lyapunov: float | None,
          threshold: float = metrics.VPT_THRESHOLD, truth_time: float | None = None) -> Evaluation:
    """The Evaluation of free runs `pred` (S, H, D), in data units, from the starts `first`; the VPT
    at `threshold`, beside the valid ground-truth time `truth_time` (time units) where measured."""
    H = pred.shape[1]
    idx = first[:, None] + np.arange(H)[None, :]
    truth = prep.traj.values[idx]  # (S, H, D)
    # A forecast that blows up (inf or NaN from some lead on) makes the RMSE NaN from that lead on
    # only, and counts as past the threshold in the VPT: the leads before it are still measured.
    with np.errstate(over="ignore", invalid="ignore"):
        curve = metrics.rmse_by_horizon(pred, truth)
    curve = np.where(np.isfinite(curve), curve, np.nan)
    vpt = None
    if lyapunov is not None:
        scale = prep.traj.values.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        steps, never = metrics.valid_prediction_steps(pred, truth, scale, threshold)
        vpt = VPT(Spread.of(steps * prep.traj.dt), float(threshold), float(never.mean()), float(lyapunov), truth_time)
    return Evaluation(split, int(len(first)), int(H), tuple(float(v) for v in curve), vpt)


def evaluate(model, prep: Prepared, horizon: int, lyapunov: float | None, chunk: int = 100, mode: str = "auto",
             stop=None, split: str = "auto", threshold: float = metrics.VPT_THRESHOLD,
             truth_time: float | None = None, use: np.ndarray | None = None, work=None) -> Evaluation | None:
    """Free-running forecasts from up to MAX_STARTS starts in the held-out split; errors in data units.
    None when `stop` (a threading.Event) is set between chunks of starts (stop means stop).
    split="validation" scores the validation split (what a sweep may choose settings on). For K > 1
    members, the members' mean forecast (over `use`) is scored. `work` (rnn_tui.work.Work), where
    given, hears the phase "scoring the SPLIT forecasts", chunk by chunk."""
    out = evaluate_members(model, prep, horizon, lyapunov, chunk, mode, stop, split, threshold, truth_time, use, work)
    return None if out is None else out[0]


def evaluate_members(model, prep: Prepared, horizon: int, lyapunov: float | None, chunk: int = 100, mode: str = "auto",
                     stop=None, split: str = "auto", threshold: float = metrics.VPT_THRESHOLD,
                     truth_time: float | None = None, use: np.ndarray | None = None,
                     work=None) -> tuple[Evaluation, list[Evaluation]] | None:
    """(the mean forecast's Evaluation, each member's) from the same starts, for K >= 1 members (one
    model: its own Evaluation and no member list). None when stopped."""
    L, k = prep.seq_len, model.k
    split, first, H = plan(prep, horizon, split)
    if split is None or len(first) == 0:
        empty = Evaluation(split)
        return empty, [empty] * k if k > 1 else []
    parts = []
    phase = work.phase(f"scoring the {split} forecasts", len(first), "forecasts") if work is not None else None
    for i in range(0, len(first), chunk):
        if stop is not None and stop.is_set():
            return None
        if phase is not None:
            phase.tick(i, force=True)
        starts = torch.as_tensor(first[i : i + chunk] - L, device=prep.clean.device)
        windows = model.tile(gather_windows(prep.clean, starts, L))
        try:
            parts.append(model.split_members(free_run(model, windows, H, mode, stop)).double().cpu().numpy())
        except Stopped:
            return None
    if phase is not None:
        phase.tick(len(first), force=True)
    preds = prep.denormalise(np.concatenate(parts, axis=1))  # (K, S, H, D)
    members = [score(preds[j], prep, first, split, lyapunov, threshold, truth_time) for j in range(k)] if k > 1 else []
    return score(mean_of(preds, use), prep, first, split, lyapunov, threshold, truth_time), members
