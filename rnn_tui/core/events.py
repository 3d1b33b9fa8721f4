"""What the trainer reports while it runs: small frozen dataclasses passed to an `on_event` callback."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Started:
    """Training is set up: data split, model built, about to run the first epoch."""

    device: str
    n_params: int
    n_train: int  # training windows
    n_val: int  # validation windows
    epochs: int
    steps_per_epoch: int
    step_mode: str = "eager"  # "cuda-graph" when the training step is captured and replayed


@dataclass(frozen=True)
class EpochEnd:
    """One epoch finished. Losses are MSE in normalised units; `*_units` are RMSE in data units."""

    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_loss: float  # NaN when there is no validation split
    train_rmse_units: float
    val_rmse_units: float
    grad_norm: float  # mean pre-clipping gradient norm over the epoch's steps
    grad_norms: tuple[float, ...]  # per-step gradient norms of this epoch
    lr: float
    elapsed_s: float  # seconds since training started
    samples_per_s: float  # training windows per second in this epoch
    step: int  # optimisation steps so far
    best_val_loss: float

    def row(self) -> dict:
        """The metrics.jsonl record of this epoch (non-finite values become null when written)."""
        return {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "train_rmse_units": self.train_rmse_units,
            "val_rmse_units": self.val_rmse_units,
            "grad_norm": self.grad_norm,
            "lr": self.lr,
            "elapsed_s": round(self.elapsed_s, 4),
            "samples_per_s": round(self.samples_per_s, 1),
            "step": self.step,
        }


@dataclass(frozen=True)
class RolloutReady:
    """A free-running forecast from a true window, with the truth to compare and one-step predictions."""

    epoch: int
    t: np.ndarray  # (H,) times of the predicted samples
    truth: np.ndarray  # (H, D) true trajectory, data units
    prediction: np.ndarray  # (H, D) free-running prediction, data units
    one_step: np.ndarray  # (H, D) one-step ("easy test") predictions from true windows, data units
    names: tuple[str, ...]
    history_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) truth before the start
    history: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (P, D)


@dataclass(frozen=True)
class Finished:
    """The run ended. `status` is finished, diverged or cancelled; `summary` is what summary.json holds."""

    status: str
    summary: dict
    message: str = ""


@dataclass(frozen=True)
class Failed:
    """The run could not go on (bad input found at set-up, or an unexpected error)."""

    message: str


Event = Started | EpochEnd | RolloutReady | Finished | Failed
