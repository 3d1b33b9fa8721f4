"""The forecasts of an ensemble: every member's free run from the same true window (the app draws
their spread), their mean (the ensemble's forecast), and the test-split scores of each member and of
the mean forecast, from the same starts as core/evaluate.py uses for one model."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.evaluate import plan, score
from rnn_tui.core.metrics import VPT_THRESHOLD
from rnn_tui.core.results import Evaluation, Forecast
from rnn_tui.core.rollout import free_run
from rnn_tui.errors import Stopped


def mean_of(values: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Mean over the members in `use` (K,) of values (K, ...); over all members where none is."""
    chosen = values[use] if use.any() else values
    with np.errstate(all="ignore"):  # diverged members' overflowing runs: the scores say "not finite"
        return chosen.mean(axis=0)


def member_forecast(model, prep: Prepared, horizon: int, mode: str, epoch: int, use: np.ndarray) -> Forecast:
    """core.rollout.display_forecast for every member: the members' free runs (K, H, D), and as
    `prediction` their mean over `use` (the members that did not diverge)."""
    L = prep.seq_len
    start = prep.n_train
    H = max(1, min(horizon, prep.clean.shape[0] - start))
    window = prep.clean[start - L : start].unsqueeze(0)  # (1, L, D)
    runs = model.split_members(free_run(model, model.tile(window), H, mode))[:, 0]  # (K, H, D)
    easy = _one_step(model, prep, torch.arange(start - L, start - L + H, device=prep.clean.device))
    members = prep.denormalise(runs.double().cpu().numpy())
    traj = prep.traj
    p = min(start, max(L, H // 3))
    return Forecast(
        epoch=epoch, names=tuple(traj.names), t=traj.t[start : start + H], truth=traj.values[start : start + H],
        prediction=mean_of(members, use), one_step=mean_of(prep.denormalise(easy.double().cpu().numpy()), use),
        history_t=traj.t[start - p : start], history=traj.values[start - p : start], members=members,
    )


@torch.no_grad()
def _one_step(model, prep: Prepared, starts: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """(K, S, D) every member's prediction after each true window (core.rollout.one_step), in chunks
    of windows that every member sees (the batch must stay member-major)."""
    was = model.training
    model.eval()
    try:
        step = max(1, chunk // model.k)
        parts = [model.split_members(model(model.tile(gather_windows(prep.clean, starts[i : i + step], prep.seq_len))))
                 for i in range(0, len(starts), step)]
        return torch.cat(parts, dim=1)
    finally:
        model.train(was)


def evaluate_members(model, prep: Prepared, horizon: int, lyapunov: float | None, use: np.ndarray, mode: str = "auto",
                     stop=None, chunk: int = 100, threshold: float = VPT_THRESHOLD,
                     truth_time: float | None = None) -> tuple[Evaluation, list[Evaluation]] | None:
    """(the mean forecast's Evaluation, each member's) from the starts core.evaluate.evaluate would
    score one model on; the mean is over `use`. None when `stop` is set (stop means stop)."""
    L, k = prep.seq_len, model.k
    split, first, H = plan(prep, horizon)
    if split is None or len(first) == 0:
        empty = Evaluation(split)
        return empty, [empty] * k
    parts = []
    for i in range(0, len(first), chunk):
        if stop is not None and stop.is_set():
            return None
        starts = torch.as_tensor(first[i : i + chunk] - L, device=prep.clean.device)
        windows = model.tile(gather_windows(prep.clean, starts, L))
        try:
            parts.append(model.split_members(free_run(model, windows, H, mode, stop)).double().cpu().numpy())
        except Stopped:
            return None
    preds = prep.denormalise(np.concatenate(parts, axis=1))  # (K, S, H, D)
    members = [score(preds[j], prep, first, split, lyapunov, threshold, truth_time) for j in range(k)]
    return score(mean_of(preds, use), prep, first, split, lyapunov, threshold, truth_time), members
