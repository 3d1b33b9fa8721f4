"""The members of an ensemble as the trainer keeps them: each one's own run so far (status, steps,
losses, early-stopping record), and the run's status from theirs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnn_tui.core.results import Evaluation, MemberResult


@dataclass
class Member:
    """One member's own run, as far as it has gone."""

    seed: int
    status: str = "training"  # then finished, diverged or cancelled
    message: str = ""
    steps: int = 0  # optimisation steps taken
    epochs_run: int = 0
    final_train: float | None = None
    final_val: float | None = None
    best_val: float = math.inf
    since_best: int = 0
    has_best: bool = False  # its best weights are kept (early stopping on)
    epoch_losses: list[float] = field(default_factory=list)  # this epoch's good steps
    epoch_norms: list[float] = field(default_factory=list)

    @property
    def training(self) -> bool:
        return self.status == "training"

    def result(self, evaluation: Evaluation | None) -> MemberResult:
        return MemberResult(self.seed, self.status, self.message, self.epochs_run, self.steps, self.final_train,
                            self.final_val, self.best_val, evaluation)


def run_status(members: list[Member], cancelled: bool) -> tuple[str, str]:
    """(status, message) of the whole run: cancelled, diverged only when every member diverged,
    else finished, with the members that diverged or stopped early named."""
    k = len(members)
    diverged = [m.seed for m in members if m.status == "diverged"]
    early = sum(m.message.startswith("early stop") for m in members)
    if cancelled:
        return "cancelled", ""
    if len(diverged) == k:
        return "diverged", (f"every member diverged ({members[0].message}, …); the last finite weights are kept. "
                            "Try a lower train.lr or set train.clip_grad_norm (e.g. 1.0)")
    parts = []
    if diverged:
        parts.append(f"{len(diverged)} of {k} members diverged (seeds {', '.join(map(str, diverged))}): "
                     "the mean forecast leaves them out")
    if early:
        parts.append(f"{early} of {k} members stopped early")
    return "finished", "; ".join(parts)


def median(values) -> float:
    """The median of the finite values (NaN when there are none)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan
