"""The dysts catalogue (Gilpin 2021, NeurIPS Datasets and Benchmarks; `pip install 'rnn-tui[dysts]'`):
its 135 chaotic flows as entries, read from dysts' own `chaotic_attractors.json` without importing
dysts (whose package pulls gluonts and pandas). Which of them rnn-tui can integrate, and why not.

dysts is optional: nothing here imports it; a name is checked against the catalogue only when a
`dysts:NAME` system is asked for, and a missing dysts is one line naming the extra.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from dataclasses import dataclass
from pathlib import Path

from rnn_tui.errors import UserError

PREFIX = "dysts:"
EXTRA = "pip install 'rnn-tui[dysts]'"
VERSION = "0.96"  # the catalogue the tests and docs/dysts.md were measured on (constraints.txt pins it)
LYAPUNOV_SOURCE = f"dysts {VERSION} catalogue, maximum_lyapunov_estimated"

# Flows found too stiff for integrate_flow by scripts/dysts_survey.py (DOP853 at rtol = atol = 1e-12
# from the catalogue's start, 2,000 samples of period / 100): name -> why. The survey of dysts 0.96
# found none: all 110 autonomous, bounded ODE flows integrate (MacArthur, the slowest, in 7.5 s).
STIFF: dict[str, str] = {}


@dataclass(frozen=True)
class Entry:
    """One flow of the catalogue, as `chaotic_attractors.json` gives it."""

    name: str  # dysts' class name ("Lorenz")
    description: str
    citation: str
    parameters: dict  # name -> value (a number, or a list for an array parameter)
    start: tuple[float, ...]  # initial_conditions: a point on the attractor
    integration_dt: float  # the catalogue's "dt": the step of dysts' own fixed-step integration
    period: float  # the dominant period (dysts samples its own series at period / 100)
    lyapunov: float  # maximum_lyapunov_estimated
    spectrum: tuple[float, ...]  # lyapunov_spectrum_estimated (its first element is a second estimate of λ1)
    kaplan_yorke: float | None
    correlation_dimension: float | None
    mean: tuple[float, ...]
    std: tuple[float, ...]
    delay: bool
    nonautonomous: bool
    unbounded: tuple[int, ...]  # unbounded_indices: angles or a clock that dysts maps by postprocessing

    @property
    def system_name(self) -> str:
        return PREFIX + self.name

    @property
    def dimension(self) -> int:
        return len(self.start)

    def refusal(self) -> str:
        """Why rnn-tui cannot train on it ('' if it can): one clause, for a one-line error."""
        if self.delay:
            return "a delay differential equation (its state is a history), and rnn-tui integrates ordinary ones"
        if self.nonautonomous:
            return "non-autonomous (forced in time; dysts carries the clock as an unbounded coordinate)"
        if self.unbounded:
            return (f"its coordinates {list(self.unbounded)} grow without bound (angles or a clock, which dysts maps "
                    "through a postprocessing step), so a normalised series of them has no attractor to learn")
        return STIFF.get(self.name, "")


def installed() -> bool:
    """Whether dysts can be found (its catalogue is read without importing it)."""
    try:
        return importlib.util.find_spec("dysts") is not None
    except (ImportError, ValueError):
        return False


def _data_path() -> Path:
    spec = importlib.util.find_spec("dysts") if installed() else None
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the dysts systems need the dysts package: {EXTRA}")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "chaotic_attractors.json"


def _opt(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Entry]:
    """Every flow of the catalogue by its dysts name. UserError naming the extra if dysts is absent."""
    path = _data_path()
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the dysts catalogue {path}: {exc}") from None
    out = {}
    for name, d in sorted(raw.items()):
        out[name] = Entry(
            name=name, description=" ".join(str(d.get("description", "")).split()), citation=" ".join(str(d.get("citation", "")).split()),
            parameters=dict(d.get("parameters") or {}), start=tuple(float(v) for v in d["initial_conditions"]),
            integration_dt=float(d["dt"]), period=float(d["period"]), lyapunov=float(d["maximum_lyapunov_estimated"]),
            spectrum=tuple(float(v) for v in d.get("lyapunov_spectrum_estimated") or ()),
            kaplan_yorke=_opt(d.get("kaplan_yorke_dimension")), correlation_dimension=_opt(d.get("correlation_dimension")),
            mean=tuple(float(v) for v in d.get("mean") or ()), std=tuple(float(v) for v in d.get("std") or ()),
            delay=bool(d.get("delay")), nonautonomous=bool(d.get("nonautonomous")),
            unbounded=tuple(int(i) for i in d.get("unbounded_indices") or ()))
    return out


def names(usable_only: bool = False) -> list[str]:
    """`dysts:NAME` for every flow of the catalogue (only those rnn-tui integrates if `usable_only`);
    [] where dysts is not installed."""
    if not installed():
        return []
    try:
        entries = catalogue().values()
    except UserError:
        return []
    return [e.system_name for e in entries if not (usable_only and e.refusal())]


def entry(system_name: str) -> Entry:
    """The catalogue's entry for `dysts:NAME`; a UserError with the closest names otherwise."""
    short = system_name[len(PREFIX):] if system_name.startswith(PREFIX) else system_name
    entries = catalogue()
    if short not in entries:
        raise UserError(f"unknown dysts system {system_name!r}{did_you_mean(short, entries)}; "
                        f"`rnn-tui data --list --dysts` lists the {len(entries)}")
    return entries[short]


def did_you_mean(short: str, entries) -> str:
    """' (did you mean 'dysts:A', 'dysts:B'?)' with up to three closest names, case ignored; '' if none is close."""
    import difflib

    by_lower = {n.lower(): n for n in entries}
    close = difflib.get_close_matches(short.lower(), list(by_lower), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(PREFIX + by_lower[c]) for c in close)}?)" if close else ""
