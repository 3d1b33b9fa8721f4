"""Typed results that cross from the core to the front ends: the forecast shown (`Forecast`), the
test-split scores (`Evaluation`) and the run's `Summary`. JSON and CSV only at the edge: `to_dict`
gives the summary.json shape (every key written before is kept), `from_dict` reads it back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from rnn_tui.core import metrics


@dataclass(frozen=True)
class Forecast:
    """A free-running forecast from a true window, with the truth and the one-step predictions.
    All arrays are in data units; (H,) times and (H, D) values, D components or grid points."""

    epoch: int  # the epoch after which it was made
    names: tuple[str, ...]  # component names
    t: np.ndarray  # (H,) times of the predicted samples
    truth: np.ndarray  # (H, D) the true trajectory (integrated ground truth)
    prediction: np.ndarray  # (H, D) the model's free run
    one_step: np.ndarray  # (H, D) one-step ("easy test") predictions from true windows
    history_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) truth before the start
    history: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (P, D)

    def rmse_by_step(self) -> np.ndarray:
        """(H,) RMSE over components at each step of this one forecast (NaN where it is not finite)."""
        err = np.asarray(self.prediction, float) - np.asarray(self.truth, float)
        with np.errstate(all="ignore"):
            return np.sqrt(np.mean(err**2, axis=1))


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of a sample (valid prediction times over the test starts)."""

    median: float
    q25: float
    q75: float

    @classmethod
    def of(cls, values: np.ndarray) -> Spread:
        return cls(**metrics.spread(values))

    def scaled(self, k: float) -> Spread:
        return Spread(self.median * k, self.q25 * k, self.q75 * k)


@dataclass(frozen=True)
class VPT:
    """Valid prediction time over the test starts: in time units, and in Lyapunov times."""

    time: Spread
    threshold: float  # normalised error at which a forecast stops being valid
    censored_fraction: float  # starts whose forecast never crossed the threshold within the horizon
    lyapunov_exponent: float

    @property
    def lyapunov(self) -> Spread:
        return self.time.scaled(self.lyapunov_exponent)


@dataclass(frozen=True)
class Evaluation:
    """Free-running forecasts from many starts in the held-out split; every error in data units."""

    split: str | None  # "test", "validation", or None when neither is long enough
    n_starts: int = 0
    horizon_steps: int = 0
    rmse_curve: tuple[float, ...] = ()  # (horizon_steps,) RMSE at each lead step
    vpt: VPT | None = None  # chaotic systems only

    @property
    def rmse_at_steps(self) -> dict[str, float]:
        """RMSE at lead steps 1, 2, 4, 8, ... keyed by the step as a string."""
        return metrics.rmse_at_steps(np.asarray(self.rmse_curve))

    @property
    def one_step_rmse(self) -> float:
        return float(self.rmse_curve[0]) if self.rmse_curve else float("nan")

    def to_dict(self) -> dict[str, Any]:
        if self.split is None or not self.rmse_curve:
            return {"split": self.split}
        out: dict[str, Any] = {
            "split": self.split,
            "n_starts": self.n_starts,
            "horizon_steps": self.horizon_steps,
            "rmse_at_steps": self.rmse_at_steps,
            "rmse_curve": list(self.rmse_curve),
            "one_step_rmse": self.one_step_rmse,
        }
        if self.vpt is not None:
            v = self.vpt
            out["vpt"] = {**_spread(v.time), "threshold": v.threshold, "censored_fraction": v.censored_fraction, "units": "time"}
            out["vpt_lyapunov"] = {**_spread(v.lyapunov), "lyapunov_exponent": v.lyapunov_exponent}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Evaluation | None:
        if "split" not in d:
            return None
        vpt = None
        if isinstance(d.get("vpt"), dict) and isinstance(d.get("vpt_lyapunov"), dict):
            v, vl = d["vpt"], d["vpt_lyapunov"]
            vpt = VPT(Spread(_num(v["median"]), _num(v["q25"]), _num(v["q75"])), _num(v.get("threshold")),
                      _num(v.get("censored_fraction")), _num(vl.get("lyapunov_exponent")))
        curve = tuple(_num(x) for x in d.get("rmse_curve") or ())
        return cls(d["split"], int(d.get("n_starts") or 0), int(d.get("horizon_steps") or len(curve)), curve, vpt)


@dataclass(frozen=True)
class Summary:
    """What a run ended with (summary.json). Losses are MSE in normalised units; RMSEs in data units."""

    status: str  # finished, diverged or cancelled
    message: str
    system: str
    arch: str
    epochs_run: int
    steps: int  # optimisation steps taken
    final_train_loss: float | None
    final_val_loss: float | None
    best_val_loss: float
    final_val_rmse_units: float | None
    n_params: int
    device: str
    step_mode: str  # "cuda-graph", "eager (reason)" or "closed form"
    dtype: str
    threads: int | None  # CPU threads the run used (None on a GPU)
    n_train_windows: int
    n_val_windows: int
    split_samples: dict[str, int]
    wall_time_s: float
    train_time_s: float
    threads_reason: str = ""  # why that many: "train.threads", "small model", "large step", "1 core free"
    evaluation: Evaluation | None = None  # None when it was skipped or failed (see evaluation_note)
    evaluation_note: str = ""  # why there is no evaluation ("skipped: …" or the error)

    def to_dict(self) -> dict[str, Any]:
        """The summary.json object (the same keys as every earlier version wrote)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in ("evaluation", "evaluation_note", "wall_time_s", "train_time_s"):
                out[f.name] = getattr(self, f.name)
        out["rmse_units"] = "data units"
        if self.evaluation_note.startswith("skipped"):
            out["evaluation"] = self.evaluation_note
        elif self.evaluation_note:
            out["evaluation_error"] = self.evaluation_note
        if self.evaluation is not None:
            out.update(self.evaluation.to_dict())
        out["wall_time_s"] = self.wall_time_s
        out["train_time_s"] = self.train_time_s
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Summary:
        """Read a summary.json object (KeyError or TypeError where it is not one)."""
        note = d.get("evaluation") if isinstance(d.get("evaluation"), str) else d.get("evaluation_error", "")
        return cls(
            status=d["status"], message=d.get("message", ""), system=d["system"], arch=d["arch"],
            epochs_run=int(d["epochs_run"]), steps=int(d.get("steps", 0)),
            final_train_loss=_opt(d.get("final_train_loss")), final_val_loss=_opt(d.get("final_val_loss")),
            best_val_loss=_num(d.get("best_val_loss")), final_val_rmse_units=_opt(d.get("final_val_rmse_units")),
            n_params=int(d.get("n_params", 0)), device=d.get("device", ""), step_mode=d.get("step_mode", ""),
            dtype=d.get("dtype", "float32"), threads=d.get("threads"), n_train_windows=int(d.get("n_train_windows", 0)),
            n_val_windows=int(d.get("n_val_windows", 0)), split_samples=dict(d.get("split_samples") or {}),
            wall_time_s=_num(d.get("wall_time_s")), train_time_s=_num(d.get("train_time_s")),
            threads_reason=d.get("threads_reason", ""),
            evaluation=Evaluation.from_dict(d), evaluation_note=note or "",
        )

    def vpt_text(self) -> str:
        """'VPT 4.20 Lyapunov times' for chaotic systems, else ''."""
        e = self.evaluation
        if e is None or e.vpt is None or not math.isfinite(e.vpt.time.median):
            return ""
        return f"VPT {e.vpt.lyapunov.median:.2f} Lyapunov times"


def _spread(s: Spread) -> dict[str, float]:
    return {"median": s.median, "q25": s.q25, "q75": s.q75}


def _num(v) -> float:
    """A JSON number that may have been written as null (non-finite)."""
    return float("nan") if v is None else float(v)


def _opt(v) -> float | None:
    return None if v is None else float(v)
