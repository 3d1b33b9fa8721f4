"""Turn a true trajectory into device-resident training data: contiguous splits, normalisation from
the training split alone, and windows addressed by their start index (batches are index selections).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnn_tui.config import Config
from rnn_tui.errors import UserError
from rnn_tui.systems import Trajectory, get_system


@dataclass
class Prepared:
    """The data of one run. Series are normalised (T, D) tensors on the training device."""

    traj: Trajectory
    mean: np.ndarray  # (D,) per component (a single repeated value for a field)
    std: np.ndarray  # (D,)
    n_train: int  # samples in each contiguous split
    n_val: int
    n_test: int
    clean: torch.Tensor  # (T, D) normalised true series
    inputs: torch.Tensor  # (T, D) what the model is trained on: `clean` plus observation noise in the training split
    train_starts: torch.Tensor  # (n_train_windows,) start index of each training window
    val_starts: torch.Tensor  # (n_val_windows,)
    seq_len: int
    horizon_k: int  # targets per window (train.rollout_steps)

    @property
    def dim(self) -> int:
        return int(self.clean.shape[1])

    def denormalise(self, values: np.ndarray) -> np.ndarray:
        return values * self.std + self.mean


def make_trajectory(cfg: Config, work=None) -> Trajectory:
    """The true trajectory of `cfg.system`; a long integration reports to `work` and stops with its flag."""
    s = cfg.system
    system = get_system(s.name)
    return system.trajectory(s.params, s.steps or None, s.dt or None, s.seed, work=work)


def split_sizes(T: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    n_test = int(round(T * test_fraction))
    n_val = int(round(T * val_fraction))
    return T - n_val - n_test, n_val, n_test


def prepare(cfg: Config, device: torch.device, dtype: torch.dtype, traj: Trajectory | None = None, work=None) -> Prepared:
    """Split, normalise and window the trajectory of `cfg.system`; UserError if it does not fit."""
    traj = make_trajectory(cfg, work) if traj is None else traj
    t = cfg.train
    L, k = t.seq_len, t.rollout_steps
    T = traj.values.shape[0]
    n_train, n_val, n_test = split_sizes(T, t.val_fraction, t.test_fraction)
    n_train_windows = n_train - L - k + 1
    if n_train_windows < 1:
        raise UserError(
            f"train.seq_len ({L}) + train.rollout_steps ({k}) is longer than the training split "
            f"({n_train} of {T} samples); shorten the window or use more system.steps"
        )
    n_val_windows = n_val - L - k + 1 if n_val > 0 else 0
    if n_val > 0 and n_val_windows < 1:
        raise UserError(
            f"the validation split ({n_val} samples) is shorter than train.seq_len + train.rollout_steps "
            f"({L + k}); raise train.val_fraction or system.steps, or set train.val_fraction = 0"
        )

    train_values = traj.values[:n_train]
    rng = np.random.default_rng(cfg.system.seed + 1)
    noisy = traj.values.copy()
    if cfg.system.noise > 0:
        # Observation noise on the training split only (Fablet et al. 2018's noisy experiment): the
        # model is fitted to noisy observations and judged against the clean truth.
        noisy[:n_train] += rng.normal(0.0, cfg.system.noise, size=train_values.shape)
    basis = noisy[:n_train]
    if traj.kind == "field":
        # One scale for the whole field keeps its spatial shape.
        mean = np.full(traj.values.shape[1], basis.mean())
        std = np.full(traj.values.shape[1], basis.std())
    else:
        mean, std = basis.mean(axis=0), basis.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((a - mean) / std, dtype=dtype, device=device)

    return Prepared(
        traj=traj,
        mean=mean,
        std=std,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        clean=tensor(traj.values),
        inputs=tensor(noisy),
        train_starts=torch.arange(0, n_train_windows, device=device),
        val_starts=torch.arange(n_train, n_train + max(n_val_windows, 0), device=device),
        seq_len=L,
        horizon_k=k,
    )


def gather_windows(series: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
    """series (T, D), starts (B,) -> (B, length, D): an index selection, no Python loop."""
    idx = starts.unsqueeze(1) + torch.arange(length, device=series.device)
    return series[idx]
