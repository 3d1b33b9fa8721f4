"""What every dynamical system provides: typed parameters with defaults, and a true trajectory."""

from __future__ import annotations

import contextvars
import math
import time
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from rnn_tui.errors import UserError, closest
from rnn_tui.systems import cache

Kind = Literal["flow", "map", "field", "data"]
MAX_STEPS = 10_000_000  # samples of one trajectory (80 MB a component in float64)
MAX_DT = 1e6  # sample step in time units


@dataclass(frozen=True)
class Param:
    """One parameter of a system: its name, default, one-line doc, type and allowed range."""

    name: str
    default: float | int | str
    doc: str
    type: type = float
    min: float | None = None  # inclusive lower bound
    max: float | None = None  # inclusive upper bound
    min_exclusive: bool = False  # True: value must be strictly above `min`

    def parse(self, raw, system: str) -> float | int | str:
        """Convert and validate a value (from a CLI string, TOML or a widget); raise UserError."""
        if self.type is str:
            if not isinstance(raw, str) or not raw:
                raise UserError(f"{system}: parameter {self.name!r} needs a non-empty string, got {raw!r}")
            return raw
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = self.type(float(raw)) if self.type is int else float(raw)
            if self.type is int and float(raw) != int(float(raw)):
                raise ValueError
        except (TypeError, ValueError):
            kind = "an integer" if self.type is int else "a number"
            raise UserError(f"{system}: parameter {self.name!r} needs {kind}, got {raw!r}") from None
        if not math.isfinite(value):
            raise UserError(f"{system}: parameter {self.name!r} must be finite, got {raw!r}")
        if self.min is not None and (value < self.min or (self.min_exclusive and value == self.min)):
            op = ">" if self.min_exclusive else ">="
            raise UserError(f"{system}: parameter {self.name!r} must be {op} {self.min:g}, got {value:g}")
        if self.max is not None and value > self.max:
            raise UserError(f"{system}: parameter {self.name!r} must be <= {self.max:g}, got {value:g}")
        return value


@dataclass(frozen=True)
class Trajectory:
    """A sampled trajectory. `values` is (T, D): D components, or N grid points for a field."""

    t: np.ndarray  # (T,) sample times (for a map: the iteration index times dt)
    values: np.ndarray  # (T, D) float64
    names: tuple[str, ...]  # D component names (for a field: "u[0]", "u[1]", ...)
    kind: Kind
    dt: float  # sample step
    x: np.ndarray | None = None  # (N,) grid for a field, else None

    def __post_init__(self):
        if self.values.ndim != 2 or self.values.shape[0] != self.t.shape[0]:
            raise ValueError(f"values {self.values.shape} do not match t {self.t.shape}")
        if self.values.shape[1] != len(self.names):
            raise ValueError(f"{self.values.shape[1]} components but {len(self.names)} names")


@dataclass(frozen=True)
class System:
    """A registered system. `generate(params, steps, dt, seed)` returns its true Trajectory."""

    name: str
    kind: Kind
    doc: str  # one line: what it is and where it comes from in the notes
    params: tuple[Param, ...]
    steps: int  # default number of samples
    dt: float  # default sample step
    generate: Callable[[dict, int, float, int], Trajectory]
    lyapunov: float | None = None  # largest Lyapunov exponent, for chaotic systems (per time unit)
    lyapunov_params: tuple[str, ...] = ()  # parameters `lyapunov` was measured at (their defaults)
    period: float | None = None  # a characteristic period in time units, where one is known
    components: tuple[str, ...] = ()  # component names where fixed (empty for fields and CSV)
    phase: tuple[int, int] | None = None  # components for a phase portrait (e.g. x–z for Lorenz-63)
    # For a system with a fixed-step scheme of its own (not integrate_flow): (params, steps, dt, seed)
    # -> (the trajectory's values integrated a second, finer way, what that way is); systems/truth.py
    # reads the valid ground-truth time off the two.
    second_integration: Callable[[dict, int, float, int], tuple[np.ndarray, str]] | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        valid = ", ".join(p.name for p in self.params) or "none"
        raise UserError(
            f"unknown parameter {name!r} for system {self.name!r}"
            f"{closest(name, [p.name for p in self.params])}; valid: {valid}"
        )

    def lyapunov_for(self, given: dict | None = None) -> float | None:
        """`lyapunov` where the parameters it depends on keep their defaults; None where they do not
        (it was measured at the defaults, and e.g. a longer Kuramoto–Sivashinsky domain is more chaotic)."""
        if self.lyapunov is None or not self.lyapunov_params:
            return self.lyapunov
        chosen, defaults = self.resolve(given), self.resolve()
        return self.lyapunov if all(chosen[p] == defaults[p] for p in self.lyapunov_params) else None

    def resolve(self, given: dict | None = None) -> dict:
        """Defaults overlaid with `given` (validated). Raises UserError naming a bad key or value."""
        out = {p.name: p.default for p in self.params}
        for key, raw in (given or {}).items():
            out[key] = self.param(key).parse(raw, self.name)
        return out

    def trajectory(self, params: dict | None = None, steps: int | None = None, dt: float | None = None, seed: int = 0) -> Trajectory:
        """Validated entry point: resolves parameters, checks steps and dt, and generates."""
        steps = self.steps if steps is None else steps
        dt = self.dt if dt is None else dt
        if isinstance(steps, bool) or int(steps) != steps or not 2 <= steps <= MAX_STEPS:
            raise UserError(f"steps must be an integer in [2, {MAX_STEPS}], got {steps!r}")
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and 0 < dt <= MAX_DT):
            raise UserError(f"dt must be a number in (0, {MAX_DT:g}], got {dt!r}")
        resolved = self.resolve(params)
        use_cache = SHADOW.get() is None  # systems/truth.py needs the integration itself
        if use_cache:
            cached = cache.load(self.name, resolved, int(steps), float(dt), int(seed))
            if cached is not None:
                return cached
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):  # an overflow is reported below, in one line, not as warnings
            traj = self.generate(resolved, int(steps), float(dt), int(seed))
        if not np.all(np.isfinite(traj.values)):
            raise UserError(f"{self.name}: the trajectory is not finite with these parameters")
        if use_cache:
            cache.store(self.name, resolved, int(steps), float(dt), int(seed), traj, time.perf_counter() - t0)
        return traj


# Set by systems/truth.py to {"method": "LSODA"}: integrate_flow then also integrates each call with
# that method and leaves the last call's states in ["values"].
SHADOW: contextvars.ContextVar[dict | None] = contextvars.ContextVar("rnn_tui_shadow_integration", default=None)


class _TooManyEvaluations(Exception):
    pass


MAX_EVALUATIONS = 1_000_000  # integrate_flow's budget of right-hand-side calls, plus 100 per sample


def integrate_flow(rhs, start, t: np.ndarray, system: str) -> np.ndarray:
    """Integrate y' = rhs(t, y) from `start` at t = 0 and return the states at the times `t`, (T, D).

    DOP853 at rtol = atol = 1e-12 with its own adaptive steps; the samples are read off its dense
    output (t_eval), so the sample step is never the integration step. A run that needs more than
    1,000,000 + 100·T evaluations (a stiff or exploding choice of parameters) or fails is a UserError.
    """
    from scipy.integrate import solve_ivp

    budget = MAX_EVALUATIONS + 100 * len(t)
    count = 0

    def counted(time, y):
        nonlocal count
        count += 1
        if count > budget:
            raise _TooManyEvaluations
        return rhs(time, y)

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            sol = solve_ivp(counted, (0.0, float(t[-1])), start, method="DOP853", t_eval=t, rtol=1e-12, atol=1e-12)
    except _TooManyEvaluations:
        raise UserError(f"{system}: the integration needs too many steps with these parameters (stiff or exploding)") from None
    if not sol.success or sol.y.shape[1] != len(t):
        raise UserError(f"{system}: the integration failed with these parameters ({sol.message})")
    shadow = SHADOW.get()
    if shadow is not None:  # systems/truth.py: a second, independent integration of the same start
        with np.errstate(over="ignore", invalid="ignore"):
            alt = solve_ivp(rhs, (0.0, float(t[-1])), start, method=shadow["method"], t_eval=t, rtol=1e-12, atol=1e-12)
        shadow["values"] = np.ascontiguousarray(alt.y.T) if alt.success and alt.y.shape[1] == len(t) else None
    return np.ascontiguousarray(sol.y.T)
