"""What the trainer reports while it runs: small frozen dataclasses passed to an `on_event` callback."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tui.core.results import Forecast, Summary
from rnn_tui.inside.results import Inside
from rnn_tui.work import Progress  # a long phase outside the epochs (integration, a reservoir's drive, a readout's solve, scoring)


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
    threads: int | None = None  # CPU threads of this run (None on a GPU)
    ensemble: int = 1  # members trained at once (train.ensemble); n_params counts them all


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
    # An ensemble (train.ensemble = K): each member's losses this epoch, NaN for a member that no
    # longer trains (diverged or stopped early). The losses above are then the median of those
    # that train, best_val_loss the best member's, samples_per_s all members' windows together.
    members_train_loss: tuple[float, ...] = ()
    members_val_loss: tuple[float, ...] = ()

    def row(self) -> dict:
        """The metrics.jsonl record of this epoch (non-finite values become null when written)."""
        members = {"members_train_loss": list(self.members_train_loss), "members_val_loss": list(self.members_val_loss)}
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
            **(members if self.members_train_loss else {}),
        }


@dataclass(frozen=True)
class ForecastReady:
    """A free-running forecast from a true window, with the truth to compare (see results.Forecast)."""

    forecast: Forecast


@dataclass(frozen=True)
class InsideReady:
    """A probe of the model after an epoch (train.inspect, or the app's Inside view shown): K > 1 members,
    member 0's (the one with train.seed)."""

    epoch: int
    inside: Inside


@dataclass(frozen=True)
class Finished:
    """The run ended: `summary.status` is finished, diverged or cancelled."""

    summary: Summary

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def message(self) -> str:
        return self.summary.message


Event = Started | EpochEnd | ForecastReady | InsideReady | Finished | Progress
