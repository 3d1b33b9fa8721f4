"""What every dynamical system provides: typed parameters (a pydantic model with defaults, descriptions
and bounds), and a true trajectory."""

from __future__ import annotations

import contextvars
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pydantic import ValidationError

from rnn_tui.errors import UserError, closest
from rnn_tui.settings import Section, got
from rnn_tui.systems import cache
from rnn_tui.systems.trajectory import Kind, Trajectory  # noqa: F401 (Trajectory: importable from here too)
from rnn_tui.work import IDLE, Phase, Work

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


# The time partner of the memory estimate (rnn_tui/budget.py): an integration's work is its internal
# steps times the values each step advances, plus a fixed cost a step (the numpy calls of a small
# ETDRK4 step: ~60 us, what ~1,500 values cost). Measured on one core (ETDRK4, n = 64 to 16,384):
# about 20 million values a second. A trajectory whose estimate is beyond MAX_WORK (~5 minutes at that
# rate) is refused before it starts, naming the setting to lower.
STEP_OVERHEAD = 1500  # values' worth of a step's fixed cost
VALUES_PER_S = 20e6
MAX_WORK = int(300 * VALUES_PER_S)


@dataclass(frozen=True)
class Cost:
    """An integration's work, estimated before it starts."""

    steps: int  # the scheme's internal steps (spin-up included)
    size: int  # values each step advances (a field's internal grid)
    key: str  # the setting whose lowering helps most ("system.dt", "system.steps", "system.params.spinup", …)

    @property
    def work(self) -> int:
        return self.steps * (self.size + STEP_OVERHEAD)

    @property
    def seconds(self) -> float:
        return self.work / VALUES_PER_S


def heaviest(ratios: dict[str, float]) -> str:
    """The key whose value is furthest above its default (ratio: value / default)."""
    return max(ratios, key=ratios.get)


# Set by System.trajectory for the integration it runs: where its phase reports and whose stop
# flag it reads (systems/ks.py and kdv.py tick it each sample; integrate_flow each evaluation).
WORK: contextvars.ContextVar[Work] = contextvars.ContextVar("rnn_tui_system_work", default=IDLE)


def integrating(system: str, total: int, unit: str = "steps") -> Phase:
    """The phase "integrating SYSTEM" of the current work: `total` internal steps (or samples). It
    reads the stop flag from the start and is shown once it has taken a second."""
    return WORK.get().phase(f"integrating {system}", total, unit, after_s=1.0)


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
    # True where `generate` integrates an ODE through integrate_flow and takes `method=` for its sampled
    # segment: systems/truth.py integrates it a second time with another method, explicitly.
    flow: bool = False
    # (resolved params, steps, dt) -> the integration's Cost, for a system whose scheme's work can be
    # told in advance (the fields' ETDRK4); None: bounded otherwise (integrate_flow's evaluation budget)
    cost: Callable[[dict, int, float], Cost] | None = None

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

    def check_work(self, params: dict | None, steps: int, dt: float, as_flags: bool = False) -> Cost | None:
        """The integration's Cost; UserError (key: the setting to lower) where it is beyond MAX_WORK.
        `as_flags`: name the setting as `rnn-tui data` takes it (--dt, --param spinup=…)."""
        if self.cost is None:
            return None
        cost = self.cost(self.resolve(params), int(steps), float(dt))
        if cost.work <= MAX_WORK:
            return cost
        key = cost.key
        if as_flags:
            key = f"--param {key.removeprefix('system.params.')}" if key.startswith("system.params.") else f"--{key.removeprefix('system.')}"
        raise UserError(f"{self.name}: this integration would take about {cost.steps:,} internal steps of {cost.size:,} values "
                        f"(~{_duration(cost.seconds)} on one core), more than the limit of ~{_duration(MAX_WORK / VALUES_PER_S)}; "
                        f"lower {key}", key=cost.key)

    def trajectory(self, params: dict | None = None, steps: int | None = None, dt: float | None = None, seed: int = 0,
                   work: Work | None = None) -> Trajectory:
        """Validated entry point: resolves parameters, checks steps, dt and the integration's work,
        and generates (reporting to `work` and stopped by its flag: errors.Stopped)."""
        steps = self.steps if steps is None else steps
        dt = self.dt if dt is None else dt
        if isinstance(steps, bool) or int(steps) != steps or not 2 <= steps <= MAX_STEPS:
            raise UserError(f"steps must be an integer in [2, {MAX_STEPS}], got {steps!r}")
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and 0 < dt <= MAX_DT):
            raise UserError(f"dt must be a number in (0, {MAX_DT:g}], got {dt!r}")
        resolved = self.resolve(params)
        self.check_work(resolved, int(steps), float(dt))
        token = WORK.set(work or WORK.get())
        try:
            return self._generate(resolved, int(steps), float(dt), int(seed))
        finally:
            WORK.reset(token)

    def _generate(self, resolved: dict, steps: int, dt: float, seed: int) -> Trajectory:
        cached = cache.load(self.name, resolved, int(steps), float(dt), int(seed))
        if cached is not None:
            return cached
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):  # an overflow is reported below, in one line, not as warnings
            traj = self.generate(resolved, int(steps), float(dt), int(seed))
        if not np.all(np.isfinite(traj.values)):
            raise UserError(f"{self.name}: the trajectory is not finite with these parameters")
        cache.store(self.name, resolved, int(steps), float(dt), int(seed), traj, time.perf_counter() - t0)
        return traj


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:,.0f} hours"


class _TooManyEvaluations(Exception):
    pass


MAX_EVALUATIONS = 1_000_000  # integrate_flow's budget of right-hand-side calls, plus 100 per sample


def integrate_flow(rhs, start, t: np.ndarray, system: str, method: str = "DOP853") -> np.ndarray:
    """Integrate y' = rhs(t, y) from `start` at t = 0 and return the states at the times `t`, (T, D).

    DOP853 (or `method`: systems/truth.py's second integration) at rtol = atol = 1e-12 with its own adaptive steps; the samples are read off its dense
    output (t_eval), so the sample step is never the integration step. A run that needs more than
    1,000,000 + 100·T evaluations (a stiff or exploding choice of parameters) or fails is a UserError.
    """
    from scipy.integrate import solve_ivp

    budget = MAX_EVALUATIONS + 100 * len(t)
    count = 0
    span, samples = float(t[-1]), len(t)
    phase = integrating(system, samples, "samples")  # progress in samples passed; its stop flag ends the integration

    def counted(time, y):
        nonlocal count
        count += 1
        if count > budget:
            raise _TooManyEvaluations
        if count % 64 == 0:
            phase.tick(min(samples, int(time / span * samples)) if span > 0 else 0)
        return rhs(time, y)

    try:
        with np.errstate(over="ignore", invalid="ignore"), phase:
            sol = solve_ivp(counted, (0.0, span), start, method=method, t_eval=t, rtol=1e-12, atol=1e-12)
    except _TooManyEvaluations:
        raise UserError(f"{system}: the integration needs too many steps with these parameters (stiff or exploding)") from None
    if not sol.success or sol.y.shape[1] != len(t):
        raise UserError(f"{system}: the integration failed with these parameters ({sol.message})")
    return np.ascontiguousarray(sol.y.T)
