"""Free-running and one-step forecasts. The free run is O(horizon): the window is consumed once and
each further step feeds the model its own prediction, carrying the hidden state where it has one."""

from __future__ import annotations

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.results import Forecast
from rnn_tui.errors import check_stop


def roll(model, windows: torch.Tensor, horizon: int, mode: str = "auto", stop=None) -> torch.Tensor:
    """windows (B, L, D) of true states -> (B, horizon, D) predictions of the states that follow
    (differentiable; the trainer's multi-step loss uses it too).

    mode "carry": consume the window once, then one step per prediction with the hidden state
    carried (O(horizon)). mode "window": re-run the model on the last L states for every
    prediction, as the notes do (O(horizon * L)); a net trained only on L-step windows from a zero
    state forecasts far better this way, since that is all it has seen (a sine RNN: RMSE 0.05 over
    the validation period re-fed, 45 carried). "auto" picks per model (`carry_matches_training`).
    errors.Stopped once `stop` (a threading.Event) is set: a long free run is not waited for.
    """
    if mode == "auto":
        mode = "carry" if getattr(model, "carry_matches_training", True) else "window"
    if mode == "window":
        out, w = [], windows
        for t in range(horizon):
            check_stop(stop, t + 1)
            y = model(w)
            out.append(y)
            w = torch.cat([w[:, 1:], y.unsqueeze(1)], dim=1)
        return torch.stack(out, dim=1)
    fast = getattr(model, "carry_run", None)
    if fast is not None:
        run = fast(windows, horizon, stop)
        if run is not None:
            return run
    y, state = model.warmup(windows)
    out = [y]
    for t in range(1, horizon):
        check_stop(stop, t)
        y, state = model.step(y, state)
        out.append(y)
    return torch.stack(out, dim=1)


@torch.no_grad()
def free_run(model, windows: torch.Tensor, horizon: int, mode: str = "auto", stop=None) -> torch.Tensor:
    """`roll` in evaluation mode without gradients: the forecast shown and scored."""
    was_training = model.training
    model.eval()
    try:
        return roll(model, windows, horizon, mode, stop)
    finally:
        model.train(was_training)


def member_runs(model, windows: torch.Tensor, horizon: int, mode: str = "auto", stop=None) -> torch.Tensor:
    """windows (B, L, D), normalised -> (K, B, horizon, D): each member's free run from every window
    (one model: K = 1). The shown forecast and `rnn_tui.Run.forecast_from` both go through here."""
    return model.split_members(free_run(model, model.tile(windows), horizon, mode, stop))


def mean_of(values: np.ndarray, use: np.ndarray | None) -> np.ndarray:
    """Mean over the members in `use` (K,) of values (K, ...); over all members where `use` is None or
    selects none (an ensemble's forecast is its members' mean; one model's is its own)."""
    chosen = values[use] if use is not None and use.any() else values
    with np.errstate(all="ignore"):  # diverged members' overflowing runs: the scores say "not finite"
        return chosen.mean(axis=0)


def display_forecast(model, prep: Prepared, horizon: int, mode: str = "auto", epoch: int = 0,
                     use: np.ndarray | None = None) -> Forecast:
    """The forecast shown to the user: from the first held-out sample, over up to `horizon` steps,
    in data units, with some true history before the start (so the plot shows where prediction begins).
    K > 1 members (train.ensemble): each member's free run from the same window is kept (`members`),
    and the prediction is their mean over `use` (the members that did not diverge)."""
    L = prep.seq_len
    start = prep.n_train  # first sample the model never trained on
    T = prep.clean.shape[0]
    H = max(1, min(horizon, T - start))
    window = prep.clean[start - L : start].unsqueeze(0)  # (1, L, D)
    runs = member_runs(model, window, H, mode)[:, 0]  # (K, H, D)
    starts = torch.arange(start - L, start - L + H, device=prep.clean.device)
    easy = _members_one_step(model, prep.clean, starts, L)  # (K, H, D)
    members = prep.denormalise(runs.double().cpu().numpy())
    traj = prep.traj
    p = min(start, max(L, H // 3))
    return Forecast(
        epoch=epoch,
        names=tuple(traj.names),
        t=traj.t[start : start + H],
        truth=traj.values[start : start + H],
        prediction=mean_of(members, use),
        one_step=mean_of(prep.denormalise(easy.double().cpu().numpy()), use),
        history_t=traj.t[start - p : start],
        history=traj.values[start - p : start],
        members=members if model.k > 1 else None,
    )


@torch.no_grad()
def _members_one_step(model, series: torch.Tensor, starts: torch.Tensor, seq_len: int, chunk: int = 1024) -> torch.Tensor:
    """(K, S, D) every member's prediction of series[s + seq_len] from the true window at each start
    s (the "easy test"), in chunks of windows that every member sees (the batch stays member-major)."""
    was = model.training
    model.eval()
    try:
        step = max(1, chunk // model.k)
        parts = [model.split_members(model(model.tile(gather_windows(series, starts[i : i + step], seq_len))))
                 for i in range(0, len(starts), step)]
        return torch.cat(parts, dim=1)
    finally:
        model.train(was)
