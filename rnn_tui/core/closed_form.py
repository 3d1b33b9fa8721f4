"""The closed-form run of a reservoir model (ESN, NG-RC): fit the readout, score it along the ridge
path on the validation split (model.ridge = "auto" keeps the best), and the run's training and
validation losses, all from one pass over each split's windows.

The ridge path is scored by the validation loss at every ridge (one product each), and, for a chaotic
system, by the validation VPT (PATH_STARTS free runs per ridge, each stopped once past the threshold):
"auto" keeps the ridge of best validation VPT there, of lowest validation loss elsewhere. The loss
alone picks badly on a field: on ks_esn it falls to ridge 1e-9, where the validation VPT is 0.63
against 2.65 at 1e-6.

The losses are the trainer's (core/losses.py: the next-step error after the full window, normalised
MSE, the model run from its zero state over each window), on CLOSED_FORM_WINDOWS windows evenly
spaced over each split instead of MAX_EVAL_WINDOWS: a reservoir's window costs seq_len reservoir
steps, and the readout's state after a window does not depend on the readout, so every window's
state is computed once and the loss at any ridge is one product. On lorenz63_esn, 512 windows
instead of 4,096 (evenly spaced over 41,800 training and 8,800 validation steps, whose
autocorrelation spans ~100 steps) give the same losses to within a few percent (see docs/skill.md).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.core.evaluate import plan
from rnn_tui.core.losses import mean_loss
from rnn_tui.core.results import ReadoutReport
from rnn_tui.errors import Stopped, UserError
from rnn_tui.models.readout import RIDGE_GRID, RidgePath, path_losses
from rnn_tui.work import Work

CLOSED_FORM_WINDOWS = 512  # windows per split for a closed-form model's losses (evenly spaced)
PATH_STARTS = 50  # validation forecasts per ridge for the path's VPT (evenly spaced over the split)
CHUNK = 128  # windows driven at once (the transposed states of 128 x 800 units stay in cache)


def spaced(starts: torch.Tensor, n: int) -> torch.Tensor:
    """At most n of `starts`, evenly spaced (the rule of core/losses.py: mean_loss)."""
    if len(starts) <= n:
        return starts
    return starts[torch.linspace(0, len(starts) - 1, n, device=starts.device).round().long()]


def window_design(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, work: Work,
                  name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(design rows (B, F), base (B, D), targets (B, D)) of the windows at `starts` of `series`: the
    prediction after window i is base_i + design_i @ W for a readout W (model.window_design)."""
    L = prep.seq_len
    designs, bases = [], []
    with torch.no_grad(), work.phase(name, len(starts), "windows") as phase:
        for i in range(0, len(starts), CHUNK):
            a, b = model.window_design(gather_windows(series, starts[i : i + CHUNK], L))
            designs.append(a)
            bases.append(b)
            phase.tick(i + len(a))
    target = series[starts + L]  # (B, D); a field model's rows are its sites: (B D, 1)
    design = torch.cat(designs)
    return design, torch.cat(bases), target if len(design) == len(target) else target.reshape(-1, 1)


def _loss(design: torch.Tensor, base: torch.Tensor, target: torch.Tensor, sol: torch.Tensor) -> float:
    err = base.double() + design.double() @ sol - target.double()
    return float(torch.mean(err * err)) if len(err) else math.nan


def path_vpt(model, prep: Prepared, path: RidgePath, ridges, sc, work: Work) -> list[float]:
    """The median validation VPT in Lyapunov times of the readout at each ridge: PATH_STARTS forecasts
    from the validation split over sc.horizon steps, the VPT's own definition (core/metrics.py: the
    error normalised by each component's spread, threshold sc.threshold), all stopped once past it."""
    split, first, H = plan(prep, sc.horizon, "validation")
    if split is None or len(first) == 0:
        return [math.nan for _ in ridges]
    first = first[np.unique(np.linspace(0, len(first) - 1, min(PATH_STARTS, len(first))).round().astype(int))]
    L = prep.seq_len
    windows = gather_windows(prep.clean, torch.as_tensor(first - L, device=prep.clean.device), L)
    truth = gather_windows(prep.clean, torch.as_tensor(first, device=prep.clean.device), H)  # (S, H, D)
    scale = prep.traj.values.std(axis=0)
    factor = torch.as_tensor(prep.std / np.where(scale > 1e-12, scale, 1.0), dtype=truth.dtype, device=truth.device)
    out = []
    was = model.training
    model.eval()
    with torch.no_grad(), work.phase("scoring the ridge path (validation VPT)", len(ridges), "ridges") as phase:
        for i, ridge in enumerate(ridges):
            model.set_readout(path.solve(ridge))
            steps = torch.full((len(first),), H, dtype=torch.long)
            alive = torch.ones(len(first), dtype=torch.bool)
            y, state = model.warmup(windows)
            for t in range(H):
                e = torch.sqrt(torch.mean(((y - truth[:, t]) * factor) ** 2, dim=1))
                over = ~(e <= sc.threshold) & alive
                steps[over] = t
                alive &= ~over
                if not bool(alive.any()):
                    break
                if t % 64 == 63:
                    phase.tick(i)
                y, state = model.step(y, state)
            out.append(float(np.median(steps.numpy())) * prep.traj.dt * sc.lyapunov)
            phase.tick(i + 1)
    model.train(was)
    return out


def fit_readout(model, prep: Prepared, work: Work, sc=None) -> ReadoutReport | None:
    """Fit the readout on the training split and score it; None when stopped during the fit or the
    scoring (the readout is then whatever the fit left). The model's ridge "auto" becomes the ridge of
    RIDGE_GRID with the best validation VPT where `sc` (core/scoring.py: Scoring) has a Lyapunov
    exponent, else the lowest validation loss (ties: the larger ridge)."""
    t0 = time.perf_counter()
    if not model.fit_closed_form(prep.inputs[: prep.n_train], work):
        return None
    fit_s = time.perf_counter() - t0
    path: RidgePath = model.path
    auto = model.ridge == "auto"
    if prep.horizon_k != 1:  # a multi-step loss (train.rollout_steps > 1): not a product of the readout
        if auto:
            raise UserError('model.ridge = "auto" scores one-step losses; use train.rollout_steps = 1 or give a number',
                            key="model.ridge")
        train = mean_loss(model, prep, spaced(prep.train_starts, CLOSED_FORM_WINDOWS), prep.inputs)
        val = mean_loss(model, prep, spaced(prep.val_starts, CLOSED_FORM_WINDOWS), prep.clean)
        return ReadoutReport(float(model.ridge), False, (), path.condition, fit_s, train, val,
                             (min(len(prep.train_starts), CLOSED_FORM_WINDOWS), min(len(prep.val_starts), CLOSED_FORM_WINDOWS)))
    try:
        tr = window_design(model, prep, spaced(prep.train_starts, CLOSED_FORM_WINDOWS), prep.inputs, work, "scoring the training windows")
        va = window_design(model, prep, spaced(prep.val_starts, CLOSED_FORM_WINDOWS), prep.clean, work, "scoring the validation windows")
        points = path_losses(path, *va, RIDGE_GRID) if len(va[0]) else []
        by_vpt = auto and sc is not None and sc.lyapunov is not None and len(va[0]) > 0
        vpts = path_vpt(model, prep, path, RIDGE_GRID, sc, work) if by_vpt else [math.nan] * len(points)
    except Stopped:
        return None
    ridge = float(model.ridge) if not auto else 0.0
    if auto and points:
        scored = [(p.ridge, -v if by_vpt else p.val_loss) for p, v in zip(points, vpts)]
        finite = [(r, x) for r, x in scored if math.isfinite(x)]
        if finite:
            best = min(x for _, x in finite)
            ridge = max(r for r, x in finite if x == best)
    sol = path.solve(ridge)
    model.set_readout(sol)
    return ReadoutReport(ridge, auto, tuple((p.ridge, p.val_loss, v) for p, v in zip(points, vpts)), path.condition, fit_s,
                         _loss(*tr, sol), _loss(*va, sol), (len(tr[0]), len(va[0])), "validation VPT" if by_vpt else "validation loss")
