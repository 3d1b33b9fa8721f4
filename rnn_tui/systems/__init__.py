"""The dynamical systems, by name. Each module under rnn_tui/systems/ defines one `SYSTEM`.

Importing this package is cheap: scipy is imported inside the generators, when a trajectory is made.
"""

from __future__ import annotations

import importlib

from rnn_tui.errors import UserError, closest
from rnn_tui.systems.base import System, SystemParams, Trajectory

# Module names, in the order they are listed to the user. A new system is one module and one name.
_MODULES = ("sine", "noisy_sine", "oscillator", "lotka_volterra", "lorenz63", "logistic", "kdv", "lorenz96", "ks", "csv_data")

SYSTEMS: dict[str, System] = {}
for _name in _MODULES:
    _system = importlib.import_module(f"rnn_tui.systems.{_name}").SYSTEM
    SYSTEMS[_system.name] = _system


def get_system(name: str) -> System:
    """The registered system called `name`; a UserError naming the valid ones otherwise."""
    try:
        return SYSTEMS[name]
    except KeyError:
        raise UserError(f"unknown system {name!r}{closest(name, SYSTEMS)}; valid: {', '.join(SYSTEMS)}") from None


__all__ = ["SystemParams", "System", "Trajectory", "SYSTEMS", "get_system"]


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
