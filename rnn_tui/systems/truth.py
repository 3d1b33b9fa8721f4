"""The valid ground-truth time: how long a computed "true" trajectory can itself be trusted.

A chaotic flow amplifies every error, the integrator's included, by about e^{λt}: two tight
integrations of the same initial state part after a finite time. A model's forecast that stays
valid longer than that is scored against numbers that are no longer the trajectory of its start
(arXiv 2508.06730), so a VPT beyond this time means nothing. Measured here by integrating the
sampled segment twice from the same state, with DOP853 (the system's own integrator) and LSODA,
both at rtol = atol = 1e-12, and finding when their normalised difference first exceeds the VPT
threshold (the same measure as the VPT: RMS over components of the error over each component's std).

A system integrated by a fixed-step scheme of its own (Kuramoto–Sivashinsky: ETDRK4) gives its own
second integration (`System.second_integration`: the same scheme at a quarter of the step), and the
time is read off the two the same way. The span is shorter for them (SPAN_LYAPUNOV_TIMES_FIXED_STEP):
they part sooner, and each integration takes seconds."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.systems import cache

SECOND_METHOD = "LSODA"
SPAN_LYAPUNOV_TIMES = 80.0  # integrate this far: well past the parting time of 1e-12 integrations (≈ 30)
SPAN_LYAPUNOV_TIMES_FIXED_STEP = 30.0  # KS at L = 22 parts at ~11


@dataclass(frozen=True)
class TruthTime:
    time: float  # time units until the two integrations part by `threshold` (the span, if they never do)
    lyapunov_times: float
    threshold: float
    censored: bool  # they did not part within the span: the time is a lower bound
    method: str  # the two integrations


def valid_time(system, params: dict, dt: float, threshold: float) -> TruthTime | None:
    """The valid ground-truth time of `system` with `params` sampled every `dt`; None where the system
    is not a chaotic ODE integrated by integrate_flow."""
    if system.lyapunov_for(params) is None or system.kind not in ("flow", "field"):
        return None
    key = cache.key(system.name, system.resolve(params), 0, float(dt), 0) + f" threshold {float(threshold)!r}"
    known = cache.load_record("truth", key)
    if known is not None:
        return TruthTime(**known)
    pair = _pair(system.name, json.dumps(system.resolve(params), sort_keys=True), float(dt))
    if pair is None:
        return None
    first, second, method = pair
    lyapunov = system.lyapunov_for(params)
    scale = first.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    err = np.sqrt(np.mean(((first - second) / scale) ** 2, axis=1))  # (T,)
    over = np.flatnonzero(err > threshold)
    censored = len(over) == 0
    t = float((len(first) - 1) * dt if censored else over[0] * dt)
    result = TruthTime(t, t * lyapunov, threshold, censored, method)
    cache.store_record("truth", key, dataclasses.asdict(result))  # two integrations: seconds, every run
    return result


@functools.lru_cache(maxsize=16)
def _pair(name: str, params_json: str, dt: float) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The two integrations of the sampled segment, (T, D) each, and how they were made; None where
    there is no second."""
    from rnn_tui.systems import get_system

    system, params = get_system(name), json.loads(params_json)
    fixed_step = system.second_integration is not None
    span = SPAN_LYAPUNOV_TIMES_FIXED_STEP if fixed_step else SPAN_LYAPUNOV_TIMES
    steps = max(2, int(math.ceil(span / system.lyapunov_for(params) / dt)) + 1)
    if fixed_step:
        first = system.trajectory(params, steps, dt).values
        second, method = system.second_integration(system.resolve(params), steps, dt, 0)
        return first, second, method
    if not system.flow:
        return None  # no ODE integrated through integrate_flow: nothing to integrate a second way
    first = system.trajectory(params, steps, dt)  # DOP853 (from the cache when it holds it: the same values)
    try:
        second = system.generate(system.resolve(params), steps, dt, 0, method=SECOND_METHOD).values
    except UserError:
        return None  # the second integration failed
    if second.shape != first.values.shape:
        return None
    return first.values, second, f"DOP853 vs {SECOND_METHOD}, rtol = atol = 1e-12"


