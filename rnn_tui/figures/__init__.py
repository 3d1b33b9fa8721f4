"""Publication figures of runs, drawn with matplotlib (the optional extra `rnn-tui[plot]`): the
forecast against the truth, the losses, the error by lead time, the phase portrait and the Hovmöller
diagram of a field. Several runs are overlaid in one figure, as on the Runs screen. Each figure is
made from `rnn_tui.Run`s (their files read through core/runio) and written atomically.

    fig = figures.make([run_a, run_b], "forecast")   # a matplotlib Figure (no pyplot, no screen)
    figures.save(fig, "forecast.pdf")
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from rnn_tui.api import Run
from rnn_tui.errors import UserError, closest
from rnn_tui.fsutil import atomic_write

WHAT = ("forecast", "losses", "rmse", "phase", "hovmoller")
# Which module draws each figure (they import matplotlib at their top; imported after `require`).
_DRAWN_BY = {"forecast": "series", "phase": "series", "hovmoller": "series", "losses": "curves", "rmse": "curves"}
MISSING = "figures need matplotlib, the optional extra rnn-tui[plot]: pip install 'rnn-tui[plot]'"


def available() -> bool:
    """Whether matplotlib can be imported (the app's export writes figures only then)."""
    try:
        require()
    except UserError:
        return False
    return True


def require() -> None:
    """A one-line UserError naming the extra where matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401 - only whether it is there
    except ImportError:
        raise UserError(MISSING) from None


def check_what(what: str) -> str:
    if what not in WHAT:
        raise UserError(f"--what must be one of {', '.join(WHAT)}; got {what!r}{closest(what, WHAT)}")
    return what


def check_out(path: str | Path) -> Path:
    """The figure's file: a type matplotlib writes (by its suffix), in a folder that exists."""
    require()
    from matplotlib.backend_bases import FigureCanvasBase  # matplotlib: the extra, only when a figure is made

    path = Path(path)
    types = FigureCanvasBase.get_supported_filetypes()
    kind = path.suffix.lower().lstrip(".")
    if kind not in types:
        raise UserError(f"--out {path}: matplotlib cannot write {'a .' + kind if kind else 'a file without a suffix'}; "
                        f"use one of {', '.join('.' + t for t in sorted(types))}")
    if not path.parent.is_dir():
        raise UserError(f"--out {path}: no such folder {path.parent}")
    return path


def make(runs: Sequence[Run], what: str = "forecast"):
    """The figure `what` (one of WHAT) of `runs`, overlaid: a matplotlib Figure. A figure that does
    not fit the runs (a phase portrait of one component, a Hovmöller diagram of a system that is not
    a field, runs of different truths in one forecast) is a one-line UserError."""
    require()
    check_what(what)
    if not runs:
        raise UserError("plot needs at least one run")
    module = importlib.import_module(f"rnn_tui.figures.{_DRAWN_BY[what]}")  # matplotlib: the extra, imported only now
    style = importlib.import_module("rnn_tui.figures.style")
    with style.styled():
        return getattr(module, what)(list(runs))


def save(fig, path: str | Path, dpi: int = 200) -> Path:
    """Write `fig` to `path` (its type by the suffix: .png, .pdf, .svg, ...; `dpi` for images),
    atomically; a file that cannot be written is a one-line UserError."""
    path = check_out(path)
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format=path.suffix.lower().lstrip("."), dpi=dpi, bbox_inches="tight"), mode="wb")
    except OSError as exc:
        raise UserError(f"--out {path}: cannot write it: {exc.strerror or exc}") from None
    return path


def write_all(folder: str | Path, kind: str = "png") -> list[Path]:
    """Every figure that fits the run in `folder`, as FOLDER/<what>.<kind>; those that do not fit (a
    phase portrait of a field) are left out. The app's export writes these."""
    run = Run(Path(folder))
    out = []
    for what in WHAT:
        try:
            fig = make([run], what)
        except UserError:
            continue
        out.append(save(fig, Path(folder) / f"{what}.{kind}"))
    return out
