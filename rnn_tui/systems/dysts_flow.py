"""A flow of the dysts catalogue as an rnn-tui System named `dysts:NAME`: the catalogue's parameters as
typed fields, its right-hand side (dysts' own `rhs`, imported only when a trajectory is made)
integrated by rnn-tui's integrator (systems/base.py: integrate_flow, DOP853 at 1e-12), sampled at
dysts' own granularity (period / 100), and the catalogue's largest Lyapunov exponent as the VPT unit.
"""

from __future__ import annotations

import functools
import warnings
from typing import Callable

import numpy as np
from pydantic import Field, create_model

from rnn_tui.errors import UserError
from rnn_tui.settings import Float
from rnn_tui.systems.base import System, SystemParams, Trajectory, integrate_flow
from rnn_tui.systems.dysts_catalogue import EXTRA, LYAPUNOV_SOURCE, Entry, entry

PTS_PER_PERIOD = 100  # dysts' make_trajectory samples its series at period / pts_per_period (its default: 100)
STEPS = 20_000  # default samples: 200 dominant periods
BLOW_UP = 1e3  # a state further than this many catalogue stds from the catalogue's mean has left the attractor


def dysts_flow(e: Entry, params: dict):
    """dysts' own object for flow `e` with `params` (the scalar ones; array parameters stay the
    catalogue's). UserError naming the extra where dysts cannot be imported."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Numba not installed": dysts then runs its plain Python right-hand sides
            import dysts.flows as flows
    except ImportError as exc:
        raise UserError(f"{e.system_name} needs the dysts package and its dependencies ({exc}): {EXTRA}") from None
    return getattr(flows, e.name)(parameters={k: (params[k] if k in params else v) for k, v in e.parameters.items()})


def rhs_of(e: Entry, params: dict) -> Callable[[float, np.ndarray], np.ndarray]:
    """y' = f(t, y) of catalogue flow `e` with `params`, evaluated by dysts' own right-hand side."""
    flow = dysts_flow(e, params)

    def f(t: float, y: np.ndarray) -> np.ndarray:
        return np.asarray(flow.rhs(y, t), dtype=np.float64)

    return f


def batch_rhs_of(e: Entry, params: dict) -> Callable[[np.ndarray], np.ndarray]:
    """f on a batch of states (B, D) -> (B, D), for systems/lyapunov.py: dysts' component-wise `_rhs` on
    the whole batch where it takes arrays (checked against its rows on the catalogue's start), else its
    `rhs` row by row (a class that overrides `rhs`, or an `_rhs` written for scalars, e.g. with max())."""
    from dysts.base import DynSys

    flow = dysts_flow(e, params)

    def rows(x: np.ndarray) -> np.ndarray:
        return np.array([np.asarray(flow.rhs(row, 0.0), dtype=np.float64) for row in x])

    def whole(x: np.ndarray) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*flow._rhs(*x.T, 0.0, *flow.param_list)), axis=-1).astype(np.float64)

    if type(flow).rhs is not DynSys.rhs:
        return rows
    probe = np.array([e.start, np.asarray(e.start) * 1.01 + 0.01])
    try:
        with np.errstate(all="ignore"):
            ok = np.array_equal(whole(probe), rows(probe))
    except (ValueError, TypeError):
        ok = False
    return whole if ok else rows


def _check_bounded(e: Entry, values: np.ndarray) -> None:
    """A trajectory that runs off far beyond the catalogue's attractor is refused here, before training."""
    if len(e.mean) != values.shape[1] or len(e.std) != values.shape[1]:
        return
    mean, std = np.asarray(e.mean), np.maximum(np.asarray(e.std), 1e-12)
    far = np.max(np.abs(values - mean) / std)
    if not np.isfinite(far) or far > BLOW_UP:
        raise UserError(f"{e.system_name}: the trajectory blows up with these parameters (a state {far:.3g} catalogue "
                        f"standard deviations from the attractor's mean); it is refused before training")


def _generate(e: Entry) -> Callable[[dict, int, float, int], Trajectory]:
    def generate(params: dict, steps: int, dt: float, seed: int, method: str = "DOP853") -> Trajectory:
        reason = e.refusal()
        if reason:
            raise UserError(f"{e.system_name} is not supported: {reason}")
        rhs = rhs_of(e, params)
        start = np.array(e.start, dtype=np.float64)
        if params["spinup"] > 0:
            start = integrate_flow(rhs, start, np.array([0.0, params["spinup"]]), e.system_name)[-1]
        t = np.arange(steps, dtype=np.float64) * dt
        values = integrate_flow(rhs, start, t, e.system_name, method)
        _check_bounded(e, values)
        names = tuple(f"x{i}" for i in range(values.shape[1]))
        return Trajectory(t=t, values=values, names=names, kind="flow", dt=dt)

    return generate


def scalar_parameters(e: Entry) -> dict[str, float]:
    """The catalogue's parameters that are numbers (the editable ones), as floats."""
    return {k: float(v) for k, v in e.parameters.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def params_model(e: Entry) -> type[SystemParams]:
    """The typed parameters of flow `e`: one float field per scalar catalogue parameter (dysts gives no
    bounds, so none are set: a value that breaks the flow is refused when it is integrated), and the spin-up."""
    fields = {k: (Float, Field(v, description=f"dysts parameter {k} (catalogue value {v:g}; dysts gives no bounds)"))
              for k, v in scalar_parameters(e).items()}
    fields["spinup"] = (Float, Field(0.0, ge=0.0, le=1e6, description="time units integrated from the catalogue's start and "
                                     "discarded before sampling (0: the catalogue's start is on the attractor)"))
    return create_model(f"Dysts{e.name}Params", __base__=SystemParams, __doc__=f"{e.system_name}'s parameters.", **fields)


def doc(e: Entry) -> str:
    """One line: what it is, where it comes from, its exponent and why it is refused, if it is."""
    arrays = [k for k, v in e.parameters.items() if k not in scalar_parameters(e)]
    fixed = f"; array parameters {', '.join(arrays)} fixed at the catalogue's" if arrays else ""
    refused = f"; NOT SUPPORTED: {e.refusal()}" if e.refusal() else ""
    spectrum = ", ".join(f"{v:.3g}" for v in e.spectrum)
    dims = "".join(f", {label} {v:.3g}" for label, v in (("Kaplan–Yorke dimension", e.kaplan_yorke),
                                                         ("correlation dimension", e.correlation_dimension)) if v is not None)
    return (f"{e.description.rstrip('., ;')}. Source: {e.citation.rstrip('., ;')}. Dimension {e.dimension}, λ1 = {e.lyapunov:.4g} "
            f"({LYAPUNOV_SOURCE}; the catalogue's spectrum [{spectrum}]{dims}), sampled at period / {PTS_PER_PERIOD} "
            f"as dysts samples its own series{fixed}{refused}")


@functools.lru_cache(maxsize=None)
def system(name: str) -> System:
    """The System `dysts:NAME` (built once). UserError: dysts absent (naming the extra), or an unknown
    name (with the closest ones)."""
    e = entry(name)
    return System(
        flow=True,
        name=e.system_name, kind="flow", doc=doc(e), params=params_model(e), steps=STEPS, dt=e.period / PTS_PER_PERIOD,
        generate=_generate(e), lyapunov=e.lyapunov, lyapunov_params=tuple(scalar_parameters(e)),
        lyapunov_source=LYAPUNOV_SOURCE, period=e.period, components=tuple(f"x{i}" for i in range(e.dimension)),
        phase=(0, 1) if e.dimension >= 2 else None)


def benettin(name: str, params: dict | None = None, starts: int = 8, lyapunov_times: float = 100.0,
             steps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Our estimate of the largest Lyapunov exponent of `dysts:NAME`'s truth (systems/lyapunov.py,
    Benettin: DOP853 at 1e-10, renormalised every period / 10) from `starts` states of its trajectory
    (`steps` samples, the later half), averaged over about `lyapunov_times` of the catalogue's Lyapunov
    times after a tenth as many of alignment: (mean over the starts, its standard error)."""
    from rnn_tui.systems import get_system
    from rnn_tui.systems.lyapunov import largest_exponent, ode

    system, e = get_system(name), entry(name)
    resolved = system.resolve(params)
    values = system.trajectory(resolved, steps=steps).values
    picks = values[np.linspace(len(values) // 2, len(values) - 1, starts).astype(int)]  # (starts, D) on the attractor
    interval = e.period / 10
    count = max(10, int(np.ceil(lyapunov_times / (e.lyapunov * interval))))
    with np.errstate(all="ignore"):
        each = largest_exponent(ode(batch_rhs_of(e, resolved), interval), picks, interval, count, discard=count // 10, seed=seed)
    return float(np.mean(each)), float(np.std(each, ddof=1) / np.sqrt(len(each))) if len(each) > 1 else float("nan")
