"""Stop poor trials early: a median rule on the validation loss each trial reports per epoch.

Optuna's MedianPruner compares intermediate values in the study's direction; a sweep that maximises
VPT still reports a loss (lower is better) while it trains, so the rule is written here for losses:
after `warmup` epochs and once `startup` trials have finished, a trial whose best loss so far is
worse than the median of the other trials' best losses by the same epoch is stopped."""

from __future__ import annotations

import math
import statistics

import optuna
from optuna.trial import TrialState


class LossMedianPruner(optuna.pruners.BasePruner):
    def __init__(self, startup: int = 4, warmup: int = 5) -> None:
        self.startup = startup
        self.warmup = warmup

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step < self.warmup:
            return False
        mine = _best_by(trial.intermediate_values, step)
        if mine is None:
            return False
        if math.isnan(mine):
            return True
        others = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        values = [v for t in others if t.number != trial.number and (v := _best_by(t.intermediate_values, step)) is not None]
        values = [v for v in values if not math.isnan(v)]
        if len(values) < self.startup:
            return False
        return mine > statistics.median(values)


def _best_by(values: dict[int, float], step: int) -> float | None:
    """The lowest loss reported up to `step` (reports may be sparse); NaN if all are NaN."""
    seen = [v for s, v in values.items() if s <= step]
    if not seen:
        return None
    finite = [v for v in seen if not math.isnan(v)]
    return min(finite) if finite else math.nan
