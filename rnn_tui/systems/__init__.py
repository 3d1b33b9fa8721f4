"""The dynamical systems, by name. Each module under rnn_tui/systems/ defines one `SYSTEM`.

Importing this package is cheap: scipy is imported inside the generators, when a trajectory is made.
"""

from __future__ import annotations

import importlib

from rnn_tui.errors import UserError, closest
from rnn_tui.systems import dysts_catalogue, dysts_flow
from rnn_tui.systems.base import System, SystemParams, Trajectory
from rnn_tui.systems.dysts_catalogue import PREFIX

# Module names, in the order they are listed to the user. A new system is one module and one name.
_MODULES = ("sine", "noisy_sine", "oscillator", "lotka_volterra", "lorenz63", "logistic", "kdv", "lorenz96", "ks", "csv_data")

SYSTEMS: dict[str, System] = {}
for _name in _MODULES:
    _system = importlib.import_module(f"rnn_tui.systems.{_name}").SYSTEM
    SYSTEMS[_system.name] = _system


def get_system(name: str) -> System:
    """The registered system called `name`, or the dysts catalogue's flow `dysts:NAME`; a UserError
    naming the valid ones, the closest catalogue names, the extra to install, or why a flow is refused."""
    if isinstance(name, str) and name.startswith(PREFIX):
        system = dysts_flow.system(name)
        reason = dysts_catalogue.entry(name).refusal()
        if reason:
            raise UserError(f"{name} is not supported: {reason}")
        return system
    try:
        return SYSTEMS[name]
    except KeyError:
        hint = closest(name, SYSTEMS) or (dysts_catalogue.did_you_mean(str(name), dysts_catalogue.catalogue())
                                          if dysts_catalogue.names() else "")
        raise UserError(f"unknown system {name!r}{hint}; valid: {', '.join(SYSTEMS)}, "
                        f"or {PREFIX}NAME from the dysts catalogue") from None


def system_docs() -> dict[str, str]:
    """Each name of system_names() with a line saying what it is (without building the dysts systems)."""
    docs = {name: s.doc for name, s in SYSTEMS.items()}
    for name in dysts_catalogue.names(usable_only=True):
        e = dysts_catalogue.entry(name)
        docs[name] = f"{e.description} (dysts catalogue, dimension {e.dimension}, λ1 = {e.lyapunov:.3g})"
    return docs


def system_names() -> list[str]:
    """Every system a run can name: the registered ones, then the dysts flows rnn-tui integrates (where
    dysts is installed)."""
    return [*SYSTEMS, *dysts_catalogue.names(usable_only=True)]


__all__ = ["SystemParams", "System", "Trajectory", "SYSTEMS", "get_system", "system_names", "system_docs"]


def trajectory(name: str, steps: int | None = None, *, dt: float | None = None, seed: int = 0, **params):
    """The true trajectory of system `name` as arrays `(t, x)`: (T,) times and (T, D) states, float64,
    from the trajectory cache when it holds it (the same arrays a run trains on). `steps` and `dt`
    default to the system's own; `params` are its parameters (see `rnn-tui data --list`); a bad name,
    parameter or value is a one-line UserError.

    >>> from rnn_tui.systems import trajectory
    >>> t, x = trajectory("lorenz63", steps=500, rho=28.0)
    >>> x.shape
    (500, 3)
    """
    traj = get_system(name).trajectory(params, steps, dt, seed)
    return traj.t, traj.values


__all__ += ["trajectory"]
