"""`rnn-tui inspect RUN ...`: what a probed run's inside ended as (train.inspect; docs/inspect.md):
the spectral radius, the gradient's fitted decay per step and its size at chosen lags relative to lag
0, and the gates' saturation, one row a run."""

from __future__ import annotations

import json
import math
from pathlib import Path

from rnn_tui.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("inspect", help="a probed run's spectral radius, gradient by lag and gate saturation (train.inspect)",
                       description="One row a run, from its summary.json `inspect` object and inspect.npz (docs/inspect.md).")
    p.add_argument("runs_given", nargs="+", metavar="RUN", help="a run id in the runs folder, or a run folder")
    p.add_argument("--runs", metavar="DIR", help="the runs folder (default: $RNN_TUI_RUNS or ./runs)")
    p.add_argument("--lags", default="1,10,20,40", metavar="K,K", help="lags at which to give ‖∂L/∂h_{t−k}‖ / ‖∂L/∂h_t‖ (default 1,10,20,40)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of the table")
    p.set_defaults(func=run)


def _lags(text: str) -> list[int]:
    try:
        lags = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        lags = []
    if not lags or min(lags) < 0:
        raise UserError(f"--lags must be a comma-separated list of lags >= 0, got {text!r}")
    return lags


def folders(given: list[str], runs: str | None) -> list[Path]:
    from rnn_tui.core import library

    root = library.runs_root(runs)
    return [Path(g) if Path(g).is_dir() else library.find(root, [g])[0] for g in given]


def row(folder: Path, lags: list[int]) -> dict:
    """One run's figures: the summary's `inspect` object and the last probe's gradient at `lags`."""
    from rnn_tui.core import runio

    summary = runio.read_summary(folder / "summary.json")
    record = runio.read_inspect(folder)
    out = {"run": folder.name, "arch": summary.arch, **summary.inspect.to_dict(), "probes": record.epochs if record else 0}
    norms = record["grad_norm_by_lag"][-1] if record is not None and record.epochs and record["grad_norm_by_lag"].size else None
    for k in lags:
        ok = norms is not None and k < len(norms) and norms[0] > 0 and math.isfinite(norms[k])
        out[f"grad_lag_{k}"] = float(norms[k] / norms[0]) if ok else None
    return out


def table(rows: list[dict], lags: list[int]) -> str:
    from rnn_tui.core.library import text

    head = ["run", "arch", "ρ", "grad/step", *(f"lag {k}" for k in lags), "gates saturated"]
    cells = [head]
    for r in rows:
        sat = r["gate_saturation"]
        gates = " ".join(f"{name} {text(v)}" for name, v in sat.items()) if sat else "–"
        cells.append([r["run"], r["arch"], text(r["spectral_radius"]), text(r["grad_decay_per_step"]),
                      *(text(r[f"grad_lag_{k}"]) for k in lags), gates])
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
    note = "ρ: spectral radius of the matrix the Inside view shows first; grad/step: fitted decay of ‖∂L/∂h_{t−k}‖ per step; lag k: ‖∂L/∂h_{t−k}‖ / ‖∂L/∂h_t‖"
    return "\n".join([*lines, "", note])


def run(args) -> int:
    lags = _lags(args.lags)
    rows = [row(f, lags) for f in folders(args.runs_given, args.runs)]
    if not any(r["probes"] for r in rows):
        raise UserError("no run given was probed: train with --set train.inspect=true")
    print(json.dumps(rows, indent=1) if args.json else table(rows, lags))
    return 0
