"""What every dynamical system provides: typed parameters (a pydantic model with defaults, descriptions
and bounds), and a true trajectory."""

from __future__ import annotations

import contextvars
import math
import time
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from pydantic import ValidationError

from rnn_tui.errors import UserError, closest
from rnn_tui.settings import Section, got
from rnn_tui.systems import cache

Kind = Literal["flow", "map", "field", "data"]
MAX_STEPS = 10_000_000  # samples of one trajectory (80 MB a component in float64)
MAX_DT = 1e6  # sample step in time units


class SystemParams(Section):
    """A system's parameters: a subclass beside each system declares one typed field each, with its
    default, a description and its bounds (`Field(1.0, ge=0, description=...)`), which the app's
    panel, `rnn-tui data --list` and the error messages read."""


# pydantic's error types -> the words of a one-line message (bounds are said from the field's own)
_NEEDS = {"float_parsing": "needs a number", "float_type": "needs a number", "int_parsing": "needs an integer",
          "int_from_float": "needs an integer", "int_type": "needs an integer", "string_type": "needs a non-empty string",
          "string_too_short": "needs a non-empty string", "finite_number": "must be finite"}
_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def _param_error(system: str, fields: dict, err: dict) -> UserError:
    """One pydantic error of a system's parameters as the one line a user reads."""
    name, typ, raw = str(err["loc"][0]) if err["loc"] else "", err["type"], err.get("input")
    if typ == "extra_forbidden":
        valid = ", ".join(fields) or "none"
        return UserError(f"unknown parameter {name!r} for system {system!r}{closest(name, fields)}; valid: {valid}")
    if typ in _NEEDS:
        return UserError(f"{system}: parameter {name!r} {_NEEDS[typ]}, got {raw!r}")
    if typ in _BOUNDS:
        op, key = _BOUNDS[typ]
        return UserError(f"{system}: parameter {name!r} must be {op} {got((err.get('ctx') or {}).get(key))}, got {got(raw)}")
    return UserError(f"{system}: parameter {name!r}: {' '.join(str(err.get('msg', typ)).split())}")  # pragma: no cover


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
    params: type[SystemParams]  # its parameters: typed, documented, bounded
    steps: int  # default number of samples
    dt: float  # default sample step
    generate: Callable[[dict, int, float, int], Trajectory]
    lyapunov: float | None = None  # largest Lyapunov exponent, for chaotic systems (per time unit)
    lyapunov_params: tuple[str, ...] = ()  # parameters `lyapunov` was measured at (their defaults)
    lyapunov_source: str = ""  # where `lyapunov` comes from, where not measured here (a published catalogue)
    period: float | None = None  # a characteristic period in time units, where one is known
    components: tuple[str, ...] = ()  # component names where fixed (empty for fields and CSV)
    phase: tuple[int, int] | None = None  # components for a phase portrait (e.g. x–z for Lorenz-63)
    # For a system with a fixed-step scheme of its own (not integrate_flow): (params, steps, dt, seed)
    # -> (the trajectory's values integrated a second, finer way, what that way is); systems/truth.py
    # reads the valid ground-truth time off the two.
    second_integration: Callable[[dict, int, float, int], tuple[np.ndarray, str]] | None = None

    @property
    def fields(self) -> dict:
        """Parameter name -> its pydantic FieldInfo (default, description, bounds), in order."""
        return self.params.model_fields

    def defaults(self) -> dict:
        return {name: info.default for name, info in self.fields.items()}

    def check(self, name: str, raw):
        """One parameter's value (a string from a form, a TOML value) converted and checked: its value,
        or a UserError naming the parameter and what is wrong."""
        if name not in self.fields:
            raise _param_error(self.name, self.fields, {"loc": (name,), "type": "extra_forbidden"})
        return self.resolve({name: raw})[name]

    def lyapunov_for(self, given: dict | None = None) -> float | None:
        """`lyapunov` where the parameters it depends on keep their defaults; None where they do not
        (it was measured at the defaults, and e.g. a longer Kuramoto–Sivashinsky domain is more chaotic)."""
        if self.lyapunov is None or not self.lyapunov_params:
            return self.lyapunov
        chosen, defaults = self.resolve(given), self.resolve()
        return self.lyapunov if all(chosen[p] == defaults[p] for p in self.lyapunov_params) else None

    def resolve(self, given: dict | None = None) -> dict:
        """Defaults overlaid with `given`, validated by the system's parameter model. Raises UserError
        naming a bad key or value."""
        try:
            return self.params.model_validate(given or {}).model_dump()
        except ValidationError as exc:
            raise _param_error(self.name, self.fields, exc.errors(include_url=False)[0]) from None

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
