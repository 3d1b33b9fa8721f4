"""Typed results that cross from the core to the front ends: the forecast shown (`Forecast`), the
test-split scores (`Evaluation`) and the run's `Summary`. JSON and CSV only at the edge: `to_dict`
gives the summary.json shape (every key written before is kept), `from_dict` reads it back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from rnn_tui.climate.result import Climate
from rnn_tui.core import metrics
from rnn_tui.inside.results import InspectSummary


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
    # train.ensemble > 1: (K, H, D) each member's free run; `prediction` and `one_step` are then the
    # members' mean (of those that did not diverge), the forecast the summary's scores are for.
    members: np.ndarray | None = None

    def rmse_by_step(self) -> np.ndarray:
        """(H,) RMSE over components at each step of this one forecast (NaN where it is not finite)."""
        return self.rollout().rmse_by_step()

    def rollout(self) -> Rollout:
        """What rollout.csv keeps of it."""
        return Rollout(tuple(self.names), np.asarray(self.t, float), np.asarray(self.truth, float), np.asarray(self.prediction, float))


@dataclass(frozen=True)
class Rollout:
    """A run's kept forecast (rollout.csv): the times, the truth and the model's free run of each
    component, in data units. (H,) times and (H, D) values."""

    names: tuple[str, ...]
    t: np.ndarray
    truth: np.ndarray  # the true trajectory (integrated ground truth)
    prediction: np.ndarray  # the model's free run

    def rmse_by_step(self) -> np.ndarray:
        """(H,) RMSE over components at each step (NaN where it is not finite)."""
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
    truth_time: float | None = None  # the valid ground-truth time (systems/truth.py), time units; None: not measured

    @property
    def lyapunov(self) -> Spread:
        return self.time.scaled(self.lyapunov_exponent)

    @property
    def horizon_limited(self) -> bool:
        """Half or more of the forecasts never left the threshold: the median is the horizon's, a
        lower bound, not a measured value."""
        return self.censored_fraction >= 0.5

    @property
    def truth_lyapunov(self) -> float | None:
        return None if self.truth_time is None else self.truth_time * self.lyapunov_exponent

    @property
    def beyond_truth(self) -> bool:
        """The median VPT is longer than the truth itself can be trusted: it means nothing."""
        return self.truth_time is not None and self.time.median > self.truth_time

    def text(self) -> str:
        """'median VPT 10.27 Lyapunov times (threshold 0.4; truth valid to 26.7)'; '≥ …' and
        'horizon-limited' where it is a lower bound; a VPT beyond the truth's limit says so."""
        m = self.lyapunov.median
        value = f"≥ {m:.2f}" if self.horizon_limited else f"{m:.2f}"
        notes = [f"threshold {self.threshold:g}"]
        if self.horizon_limited:
            notes.insert(0, "horizon-limited")
        if self.beyond_truth:
            notes.append(f"beyond the valid ground-truth time {self.truth_lyapunov:.1f}: not meaningful")
        elif self.truth_lyapunov is not None:
            notes.append(f"truth valid to {self.truth_lyapunov:.1f}")
        return f"median VPT {value} Lyapunov times ({'; '.join(notes)})"


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
            out["vpt"] = {**_spread(v.time), "threshold": v.threshold, "censored_fraction": v.censored_fraction, "units": "time",
                          "horizon_limited": v.horizon_limited, "truth_valid_time": v.truth_time, "beyond_truth": v.beyond_truth}
            out["vpt_lyapunov"] = {**_spread(v.lyapunov), "lyapunov_exponent": v.lyapunov_exponent,
                                   "horizon_limited": v.horizon_limited, "truth_valid": v.truth_lyapunov}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Evaluation | None:
        if "split" not in d:
            return None
        vpt = None
        if isinstance(d.get("vpt"), dict) and isinstance(d.get("vpt_lyapunov"), dict):
            v, vl = d["vpt"], d["vpt_lyapunov"]
            truth = v.get("truth_valid_time")
            vpt = VPT(Spread(_num(v["median"]), _num(v["q25"]), _num(v["q75"])), _num(v.get("threshold")),
                      _num(v.get("censored_fraction")), _num(vl.get("lyapunov_exponent")),
                      _num(truth) if truth is not None else None)
        curve = tuple(_num(x) for x in d.get("rmse_curve") or ())
        return cls(d["split"], int(d.get("n_starts") or 0), int(d.get("horizon_steps") or len(curve)), curve, vpt)


@dataclass(frozen=True)
class MemberResult:
    """One member of an ensemble (train.ensemble): what its own run, with train.seed = `seed`, reports."""

    seed: int
    status: str  # finished, diverged or cancelled
    message: str  # why it stopped ("non-finite loss at epoch 3, step 2 (train.lr = 0.1)", "early stop at ...")
    epochs_run: int
    steps: int
    final_train_loss: float | None
    final_val_loss: float | None
    best_val_loss: float
    evaluation: Evaluation | None = None  # its own free runs from the same test starts

    def vpt_lyapunov(self) -> float:
        """Median valid prediction time in Lyapunov times (NaN where there is none)."""
        e = self.evaluation
        return e.vpt.lyapunov.median if e is not None and e.vpt is not None else float("nan")

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "evaluation"}
        if self.evaluation is not None:
            out.update(self.evaluation.to_dict())
        return out

    @classmethod
    def from_dict(cls, d: dict) -> MemberResult:
        return cls(int(d["seed"]), d["status"], d.get("message", ""), int(d.get("epochs_run", 0)), int(d.get("steps", 0)),
                   _opt(d.get("final_train_loss")), _opt(d.get("final_val_loss")), _num(d.get("best_val_loss")),
                   Evaluation.from_dict(d))


@dataclass(frozen=True)
class EnsembleResult:
    """The members of an ensemble run. The summary's own scores (evaluation, losses) are the
    ensemble's: the mean forecast's RMSE and VPT, the median member's losses."""

    members: tuple[MemberResult, ...]
    averaged: int  # members in the mean forecast: those that did not diverge
    dt: float  # the sample step (to place valid prediction times on a step axis)

    @property
    def size(self) -> int:
        return len(self.members)

    def diverged(self) -> list[int]:
        return [m.seed for m in self.members if m.status == "diverged"]

    def vpts(self) -> np.ndarray:
        """(K,) each member's median VPT in Lyapunov times (NaN where it has none)."""
        return np.array([m.vpt_lyapunov() for m in self.members], dtype=float)

    def rmse_at(self, step: str) -> np.ndarray:
        """(K,) each member's RMSE at lead step `step` ("8"), NaN where it has none."""
        return np.array([m.evaluation.rmse_at_steps.get(step, np.nan) if m.evaluation is not None and m.evaluation.rmse_curve
                         else np.nan for m in self.members], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "averaged": self.averaged, "dt": self.dt,
                "scores": "the top-level evaluation keys score the mean forecast of the members that did not diverge",
                "members": [m.to_dict() for m in self.members]}

    @classmethod
    def from_dict(cls, d: dict) -> EnsembleResult:
        return cls(tuple(MemberResult.from_dict(m) for m in d["members"]), int(d.get("averaged", 0)), _num(d.get("dt")))


def _band(values: np.ndarray) -> str:
    """'median (10-90%: a-b)' of the finite values."""
    v = values[np.isfinite(values)]
    lo, mid, hi = np.percentile(v, [10, 50, 90])
    return f"{mid:.3g} (10–90%: {lo:.3g}–{hi:.3g})"


@dataclass(frozen=True)
class ReadoutReport:
    """A closed-form readout's fit (ESN, NG-RC; core/closed_form.py): the ridge kept, the ridge path
    (validation loss at each ridge of models/readout.py: RIDGE_GRID), and the losses it ended with."""

    ridge: float  # the ridge of the readout kept (chosen on validation when `auto`)
    auto: bool  # model.ridge = "auto"
    path: tuple[tuple[float, float, float], ...]  # (ridge, validation loss, validation VPT or NaN) along the ridge path
    condition: float  # the feature matrix's condition number (largest / smallest singular value)
    fit_s: float  # the fit alone: driving the reservoir and solving the readout
    train_loss: float  # the trainer's losses (next step after the full window, normalised MSE)...
    val_loss: float
    windows: tuple[int, int]  # ...over this many training and validation windows, evenly spaced
    chosen_by: str = ""  # "validation VPT" or "validation loss" (what "auto" minimised or maximised)

    def to_dict(self) -> dict[str, Any]:
        """The summary.json keys: ridge_chosen, ridge_auto, ridge_chosen_by, ridge_path (ridge, val_loss,
        val_vpt_lyapunov where scored), readout_condition, loss_windows."""
        return {"ridge_chosen": self.ridge, "ridge_auto": self.auto, "ridge_chosen_by": self.chosen_by if self.auto else "",
                "ridge_path": [{"ridge": r, "val_loss": _finite(v), "val_vpt_lyapunov": _finite(t)} for r, v, t in self.path],
                "readout_condition": _finite(self.condition),
                "loss_windows": {"train": self.windows[0], "val": self.windows[1]}}

    @classmethod
    def from_dict(cls, d: dict) -> ReadoutReport | None:
        if "ridge_chosen" not in d:
            return None
        windows = d.get("loss_windows") or {}
        return cls(float(d["ridge_chosen"]), bool(d.get("ridge_auto", False)),
                   tuple((float(p["ridge"]), _num(p.get("val_loss")), _num(p.get("val_vpt_lyapunov"))) for p in d.get("ridge_path") or []),
                   _num(d.get("readout_condition")), _num(d.get("fit_time_s")), _num(d.get("final_train_loss")),
                   _num(d.get("final_val_loss")), (int(windows.get("train", 0)), int(windows.get("val", 0))),
                   str(d.get("ridge_chosen_by", "")))


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


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
    ensemble: EnsembleResult | None = None  # train.ensemble > 1: every member's own figures
    fit_time_s: float | None = None  # closed-form models (ESN, NG-RC): seconds of the readout's fit alone
    readout: ReadoutReport | None = None  # closed-form models: the ridge kept and the ridge path
    inspect: InspectSummary = field(default_factory=InspectSummary)  # the last probe (train.inspect); all None without
    climate: Climate | None = None  # [climate] enabled: the long run's fate, exponents, D_stsp and D_H

    def to_dict(self) -> dict[str, Any]:
        """The summary.json object (the same keys as every earlier version wrote)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in ("evaluation", "evaluation_note", "wall_time_s", "train_time_s", "ensemble", "fit_time_s", "readout", "inspect", "climate"):
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
        if self.fit_time_s is not None:
            out["fit_time_s"] = self.fit_time_s
        if self.readout is not None:
            out.update(self.readout.to_dict())
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble.to_dict()
        out["inspect"] = self.inspect.to_dict()
        if self.climate is not None:
            out["climate"] = self.climate.to_dict()
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
            ensemble=EnsembleResult.from_dict(d["ensemble"]) if isinstance(d.get("ensemble"), dict) else None,
            fit_time_s=_opt(d.get("fit_time_s")), readout=ReadoutReport.from_dict(d),
            inspect=InspectSummary.from_dict(d.get("inspect")),
            climate=Climate.from_dict(d["climate"]) if isinstance(d.get("climate"), dict) else None,
        )

    def vpt_text(self) -> str:
        """'VPT 4.20 Lyapunov times (threshold 0.4)' for chaotic systems (VPT.text), else ''."""
        e = self.evaluation
        if e is None or e.vpt is None or not math.isfinite(e.vpt.time.median):
            return ""
        return e.vpt.text()

    def ensemble_text(self) -> str:
        """The ensemble's figures in one phrase ('' for a single model): the mean forecast's VPT (or
        RMSE at 8 steps) against the members', and which members diverged. The mean of several
        forecasts often stays valid longer than any one of them: said when it does."""
        ens = self.ensemble
        if ens is None:
            return ""
        parts = [f"ensemble of {ens.size}"]
        e = self.evaluation
        vpts = ens.vpts()
        if e is not None and e.vpt is not None and np.isfinite(vpts).any():
            mean = e.vpt.lyapunov.median
            parts.append(f"mean forecast VPT {mean:.2f}, members {_band(vpts)} Lyapunov times")
            if mean > np.nanmax(vpts):
                parts.append("the mean forecast outlasts every member")
        elif e is not None and e.rmse_curve and np.isfinite(ens.rmse_at("8")).any():
            parts.append(f"mean forecast RMSE at 8 steps {e.rmse_at_steps.get('8', float('nan')):.3g}, members {_band(ens.rmse_at('8'))}")
        if ens.diverged():
            parts.append(f"{len(ens.diverged())} diverged (seeds {', '.join(map(str, ens.diverged()))})")
        return "; ".join(parts)


def _spread(s: Spread) -> dict[str, float]:
    return {"median": s.median, "q25": s.q25, "q75": s.q75}


def _num(v) -> float:
    """A JSON number that may have been written as null (non-finite)."""
    return float("nan") if v is None else float(v)


def _opt(v) -> float | None:
    return None if v is None else float(v)
