"""`Run`: one run folder read back for Python (a notebook, a report): its configuration, summary,
metrics and kept forecast as typed values and numpy arrays, its model rebuilt from model.pt, and
new forecasts from a starting window of one's own. Every file is read through core/runio."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_tui.config import Config
from rnn_tui.core import runio
from rnn_tui.core.results import Rollout, Summary
from rnn_tui.errors import UserError

if TYPE_CHECKING:  # torch only when a model is asked for
    import torch


class Run:
    """A run folder written by `rnn-tui train`, `rnn_tui.train` or the app. Each property reads its
    file when first asked for (a missing or foreign file is a one-line UserError naming it).

    >>> import rnn_tui
    >>> run = rnn_tui.open_run("runs/20261206-101500-lorenz63_lstm")   # doctest: +SKIP
    >>> run.summary.status, run.summary.best_val_loss                    # doctest: +SKIP
    ('finished', 0.0012)
    >>> t, truth, pred = run.forecast.t, run.forecast.truth, run.forecast.prediction   # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and self.path.resolve() == other.path.resolve()

    def __hash__(self) -> int:
        return hash(self.path.resolve())

    @property
    def id(self) -> str:
        """The run's id: its folder's name (what `rnn-tui runs` lists)."""
        return self.path.name

    @property
    def status(self) -> str:
        """finished, diverged or cancelled; "running" for a run without results yet (or one killed)."""
        status = runio.read_status(self.path)
        return "running" if isinstance(status, runio.Running) else status.status

    @cached_property
    def config(self) -> Config:
        """The run's own resolved configuration (config.toml) as a typed `Config`.

        >>> run.config.model.arch, run.config.train.epochs   # doctest: +SKIP
        ('lstm', 20)
        """
        return runio.read_config(self.path)

    @property
    def summary(self) -> Summary:
        """What the run ended with (summary.json) as the typed `Summary`: status, losses, the test
        scores (`summary.evaluation.rmse_curve`, `summary.evaluation.vpt`), timings.

        >>> run.summary.evaluation.vpt.lyapunov.median   # doctest: +SKIP
        4.2
        """
        return runio.read_summary(self.path / "summary.json")

    @property
    def metrics(self) -> list[runio.EpochRow]:
        """One `EpochRow` per epoch (metrics.jsonl): train and validation loss (MSE, normalised
        units), gradient norm, learning rate, elapsed seconds.

        >>> [row.val_loss for row in run.metrics]   # doctest: +SKIP
        [0.31, 0.12, 0.05]
        """
        return runio.read_metrics(self.path)

    @cached_property
    def forecast(self) -> Rollout:
        """The kept free-running forecast (rollout.csv) in data units: `.t` (H,) times, `.truth` and
        `.prediction` (H, D), `.names` the D components.

        >>> f = run.forecast; float(abs(f.prediction - f.truth).max())   # doctest: +SKIP
        3.1
        """
        return runio.read_rollout(self.path)

    @cached_property
    def _saved(self) -> tuple[Any, Config, np.ndarray, np.ndarray]:
        return runio.load_model(self.path / "model.pt")

    @property
    def model(self) -> torch.nn.Module:
        """The trained network (a torch module in evaluation mode, on the CPU), rebuilt from model.pt:
        the weights the run ended with, those of its best epoch. Imports torch.

        >>> sum(p.numel() for p in run.model.parameters())   # doctest: +SKIP
        443
        """
        return self._saved[0]

    @cached_property
    def start_window(self) -> np.ndarray:
        """(seq_len, D) the true states just before the kept forecast starts (the last window of the
        training split), in data units: `forecast_from(run.start_window, H)` repeats the kept
        forecast.

        >>> run.start_window.shape   # doctest: +SKIP
        (20, 3)
        """
        from rnn_tui.core.data import make_trajectory, split_sizes  # torch: core.data holds tensors

        cfg = self.config
        traj = make_trajectory(cfg)
        n_train, _, _ = split_sizes(traj.values.shape[0], cfg.train.val_fraction, cfg.train.test_fraction)
        return traj.values[n_train - cfg.train.seq_len : n_train].copy()

    def forecast_from(self, window: Any, steps: int) -> np.ndarray:
        """The model's free run of `steps` states after `window`, a (seq_len, D) array of states in
        data units (or (B, seq_len, D) for B windows at once); returns (steps, D) (or (B, steps, D)),
        in data units. An ensemble's forecast is its members' mean (those that did not diverge), as
        the run's own forecast is.

        >>> run.forecast_from(run.start_window, 200).shape   # doctest: +SKIP
        (200, 3)
        """
        import torch  # only when a forecast is asked for

        from rnn_tui.core.rollout import mean_of, member_runs  # torch

        model, cfg, mean, std = self._saved
        w = self._check_window(window, cfg, len(mean))
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise UserError(f"steps must be a whole number >= 1, got {steps!r}")
        dtype = torch.float64 if cfg.train.dtype == "float64" else torch.float32
        x = torch.as_tensor((w - mean) / std, dtype=dtype)  # normalised as the run's data were
        runs = member_runs(model, x, int(steps), cfg.rollout.mode)  # (K, B, steps, D)
        members = runs.double().numpy() * std + mean
        out = mean_of(members, self._use(model.k))
        return out[0] if np.asarray(window).ndim == 2 else out

    @staticmethod
    def _check_window(window: Any, cfg: Config, dim: int) -> np.ndarray:
        w = np.asarray(window, dtype=float)
        if w.ndim == 2:
            w = w[None]
        L = cfg.train.seq_len
        if w.ndim != 3 or w.shape[1:] != (L, dim):
            raise UserError(f"window must be ({L}, {dim}) states (train.seq_len, components) or (B, {L}, {dim}); got shape {np.shape(window)}")
        if not np.all(np.isfinite(w)):
            raise UserError("window has values that are not finite")
        return w

    def _use(self, k: int) -> np.ndarray | None:
        """The members in an ensemble's mean forecast: those that did not diverge."""
        if k == 1:
            return None
        ensemble = self.summary.ensemble
        return None if ensemble is None else np.array([m.status != "diverged" for m in ensemble.members])
