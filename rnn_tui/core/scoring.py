"""How a run's forecasts are scored, from its configuration: the horizon of each scored forecast, the
VPT threshold, and the valid ground-truth time it is read against.

Chaotic systems are scored over about SCORE_LYAPUNOV_TIMES Lyapunov times by default, whatever the
display horizon: a median VPT is only a value where most forecasts leave the threshold within the
horizon (otherwise it is a lower bound set by the horizon, and said so)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnn_tui.systems import get_system
from rnn_tui.systems.truth import TruthTime, valid_time

SCORE_LYAPUNOV_TIMES = 25.0


@dataclass(frozen=True)
class Scoring:
    horizon: int  # steps of each scored forecast
    lyapunov: float | None  # largest Lyapunov exponent (None: not a chaotic system, or away from where it was measured)
    threshold: float  # the VPT threshold
    truth: TruthTime | None  # the valid ground-truth time (None where not measured)


def scoring(cfg, dt: float, truth: bool = True) -> Scoring:
    """The Scoring of a run (`dt`: its sample step). truth=False skips the ground-truth measurement
    (two tight integrations, about a second for Lorenz-63)."""
    system = get_system(cfg.system.name)
    lyapunov = system.lyapunov_for(cfg.system.params)
    r = cfg.rollout
    if r.score_horizon:
        horizon = r.score_horizon
    elif lyapunov is not None:
        horizon = int(math.ceil(SCORE_LYAPUNOV_TIMES / (lyapunov * dt)))
    else:
        horizon = r.horizon
    measured = valid_time(system, cfg.system.params, dt, r.vpt_threshold) if truth and lyapunov is not None else None
    return Scoring(horizon, lyapunov, r.vpt_threshold, measured)
