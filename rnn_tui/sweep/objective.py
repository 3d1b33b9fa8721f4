"""What a sweep optimises, scored on the validation split (never the test split: choosing
settings on the test split makes its figure optimistic).

- `val_loss`: the run's best validation loss (MSE, normalised units); lower is better.
- `rmse@K`: the free-running forecast's RMSE at lead step K over the validation split, data units.
- `vpt`: the median valid prediction time over the validation split (Lyapunov times); chaotic
  systems only; higher is better.
- `lyap`: |λ1(model) − λ1(truth)| / λ1(truth), the model's own largest Lyapunov exponent from
  validation windows ([climate], core/climate.py) against the truth's; chaotic systems only; lower is better.
- `dstsp`, `dh`: D_stsp and D_H of the model's long run from the validation split against a long
  true run ([climate]); lower is better."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rnn_tui.errors import UserError

FORMS = "val_loss, rmse@K (K a lead step, e.g. rmse@10), vpt, lyap, dstsp or dh"
CLIMATE = ("lyap", "dstsp", "dh")  # scored on the long run (core/climate.py)
CHAOTIC = ("vpt", "lyap")  # need the truth's Lyapunov exponent


@dataclass(frozen=True)
class Objective:
    name: str  # as given: "val_loss", "rmse@10", "vpt"
    direction: str  # "minimize" or "maximize"
    lead: int = 0  # K of rmse@K

    @property
    def needs_forecast(self) -> bool:
        return self.name != "val_loss"

    def check(self, cfg) -> None:
        """Reject an objective the configuration cannot score, before any trial runs."""
        from rnn_tui.systems import get_system

        if self.name in CHAOTIC and get_system(cfg.system.name).lyapunov_for(cfg.system.params) is None:
            raise UserError(f"--objective {self.name} needs a chaotic system (one with a known Lyapunov exponent); "
                            f"{cfg.system.name!r} has none here: use val_loss, rmse@K, dstsp or dh")
        if self.lead > cfg.rollout.horizon:
            raise UserError(f"--objective {self.name}: K = {self.lead} is beyond rollout.horizon = {cfg.rollout.horizon}")

    def score(self, result) -> float:
        """The trial's value from a finished run (`RunResult`); NaN when it cannot be scored."""
        if self.name == "val_loss":
            return float(result.summary.best_val_loss)
        if self.name in CLIMATE:
            return climate_score(self.name, result)
        from rnn_tui.core.evaluate import evaluate
        from rnn_tui.core.scoring import scoring

        cfg = result.config
        # the run's own scoring (horizon of ~25 Lyapunov times, threshold), as its summary scores the test split
        sc = scoring(cfg, result.prep.traj.dt, truth=False)
        ev = evaluate(result.model, result.prep, sc.horizon, sc.lyapunov, mode=cfg.rollout.mode, split="validation",
                      threshold=sc.threshold)
        if ev is None or not ev.rmse_curve:
            return math.nan
        if self.name == "vpt":
            return float(ev.vpt.lyapunov.median) if ev.vpt is not None else math.nan
        if self.lead > len(ev.rmse_curve):
            raise UserError(f"--objective {self.name}: the validation split allows a forecast of {len(ev.rmse_curve)} steps only")
        return float(ev.rmse_curve[self.lead - 1])


def climate_score(name: str, result) -> float:
    """lyap, dstsp or dh of a finished run, its long run started in the validation split."""
    from rnn_tui.core.climate import evaluate_climate
    from rnn_tui.work import IDLE

    cfg = result.config
    only = {"lyapunov": True, "exponents": 1} if name == "lyap" else {"lyapunov": False}
    cfg = cfg.model_copy(update={"climate": cfg.climate.model_copy(update=only)})
    out = evaluate_climate(result.model, result.prep, cfg, IDLE, split="validation")
    c = out.climate if out is not None else None
    if c is None:
        return math.nan
    if name == "lyap":
        if c.lambda1 is None or not c.lyapunov_truth:
            return math.nan
        return abs(c.lambda1 - c.lyapunov_truth[0]) / abs(c.lyapunov_truth[0])
    value = c.d_stsp if name == "dstsp" else c.d_h
    return math.nan if value is None else float(value)


def parse(text: str) -> Objective:
    if text in ("val_loss", *CLIMATE):
        return Objective(text, "minimize")
    if text == "vpt":
        return Objective(text, "maximize")
    m = re.fullmatch(r"rmse@(\d+)", text)
    if m and int(m.group(1)) >= 1:
        return Objective(text, "minimize", int(m.group(1)))
    raise UserError(f"--objective must be {FORMS}; got {text!r}")
