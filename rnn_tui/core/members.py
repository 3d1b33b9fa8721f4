"""The members of a run as the trainer keeps them. Every run is K >= 1 members (train.ensemble = K;
an ordinary run is K = 1): each member's own run so far (status, steps, losses, early-stopping
record), the weights kept at its best validation loss, and the run's status from theirs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnn_tui.core.results import Evaluation, MemberResult

ADVICE = "the last finite weights are kept. Try a lower train.lr or set train.clip_grad_norm (e.g. 1.0)"


@dataclass
class Member:
    """One member's own run, as far as it has gone (member j is the run with train.seed + j)."""

    seed: int
    status: str = "training"  # then finished, diverged or cancelled
    message: str = ""
    steps: int = 0  # optimisation steps taken
    epochs_run: int = 0
    final_train: float | None = None
    final_val: float | None = None
    best_val: float = math.inf
    since_best: int = 0
    epoch_losses: list[float] = field(default_factory=list)  # this epoch's good steps
    epoch_norms: list[float] = field(default_factory=list)

    TRANSIENT = ("epoch_losses", "epoch_norms")  # the epoch under way: empty between epochs (not checkpointed)

    @property
    def training(self) -> bool:
        return self.status == "training"

    def result(self, evaluation: Evaluation | None) -> MemberResult:
        return MemberResult(self.seed, self.status, self.message, self.epochs_run, self.steps, self.final_train,
                            self.final_val, self.best_val, evaluation)

    def watch(self, val_loss: float, train_loss: float) -> bool:
        """Track the best validation loss (the training loss where there is no validation split);
        True when this epoch is the best so far."""
        watched = val_loss if math.isfinite(val_loss) else train_loss
        if watched < self.best_val:
            self.best_val, self.since_best = watched, 0
            return True
        self.since_best += 1
        return False


def run_status(members: list[Member], cancelled: bool) -> tuple[str, str]:
    """(status, message) of the whole run. One member: its own, with advice where it diverged. Many:
    cancelled; diverged only when every member diverged; else finished, with the members that
    diverged or stopped early named."""
    k = len(members)
    if cancelled:
        return "cancelled", ""
    if k == 1:
        m = members[0]
        if m.status == "diverged":
            return "diverged", f"{m.message}; {ADVICE}"
        return "finished", m.message
    diverged = [m.seed for m in members if m.status == "diverged"]
    early = sum(m.message.startswith("early stop") for m in members)
    if len(diverged) == k:
        return "diverged", f"every member diverged ({members[0].message}, …); {ADVICE}"
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


class BestWeights:
    """Each member's weights at its best validation loss, for early stopping (train.early_stop_patience):
    kept when a member improves, put back when the run ends."""

    def __init__(self, model, enabled: bool) -> None:
        self.model, self.enabled = model, enabled
        self.kept: dict[int, dict] = {}  # member -> its member_state at its best

    def keep(self, members: list[int]) -> None:
        if self.enabled:
            for j in members:
                self.kept[j] = self.model.member_state(j)

    def restore(self) -> None:
        for j, state in self.kept.items():
            self.model.put_member_state(j, state)
