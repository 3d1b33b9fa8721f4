"""The run library: every run folder under a runs folder (`./runs`, `--runs DIR` or $RNN_TUI_RUNS),
read back (through core/runio's typed readers) as one row each for listing, sorting and comparing,
and the rows' cells as the CLI and the Runs screen show them. Folders that are not runs, half-written
ones and those of older versions are listed as unreadable with the reason, never a crash."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnn_tui.config import Config, to_dict
from rnn_tui.core import runio
from rnn_tui.core.results import Summary
from rnn_tui.errors import UserError, closest

SORT_KEYS = ("when", "id", "system", "arch", "status", "trial", "epochs", "train_s", "best_val", "rmse_1", "rmse_4", "rmse_8", "vpt",
             "radius", "grad_decay", "lam1", "d_stsp", "d_h", "fate")
LOWER_IS_BETTER = {"train_s": True, "best_val": True, "rmse_1": True, "rmse_4": True, "rmse_8": True, "vpt": False,
                   "d_stsp": True, "d_h": True}


def runs_root(given: str | None = None) -> Path:
    return Path(given or os.environ.get("RNN_TUI_RUNS") or "runs")


def checked_root(given: str | None = None) -> Path:
    """runs_root, refused in one line (before anything is done) where it names something other than a
    folder; a folder that does not exist yet is fine (the first run makes it)."""
    root = runs_root(given)
    if (root.exists() or root.is_symlink()) and not root.is_dir():
        source = "--runs" if given else "$RNN_TUI_RUNS" if os.environ.get("RNN_TUI_RUNS") else "the runs folder"
        what = "a file" if root.is_file() else "a broken link" if not root.exists() else "not a folder"
        raise UserError(f"{source} {root}: {what}, not a folder of runs")
    return root


@dataclass
class RunRow:
    """One run as the library lists it. Errors in data units; `vpt` in Lyapunov times where the system
    has an exponent (`vpt_units` says which)."""

    id: str
    path: str
    when: str = ""  # when the run ended (or started, while running), local time
    system: str = ""
    arch: str = ""
    params: str = ""  # a few hyperparameters, "hidden_size=64 num_layers=1"
    status: str = ""  # finished, diverged, cancelled, running, or unreadable
    epochs: int | None = None
    train_s: float | None = None
    best_val: float | None = None  # best validation loss (MSE, normalised units)
    rmse_1: float | None = None
    rmse_4: float | None = None
    rmse_8: float | None = None
    vpt: float | None = None  # median valid prediction time
    vpt_units: str = ""
    vpt_bound: bool = False  # horizon-limited: the median VPT is a lower bound ("≥")
    radius: float | None = None  # the last probe's spectral radius (train.inspect; summary.json inspect)
    grad_decay: float | None = None  # the last probe's fitted gradient decay per step back in time
    lam1: float | None = None  # [climate]: the model's own largest Lyapunov exponent (per time unit)
    d_stsp: float | None = None  # [climate]: KL divergence of the long run's state-space density from the truth's
    d_h: float | None = None  # [climate]: Hellinger distance of the long run's power spectra from the truth's
    fate: str = ""  # [climate]: bounded, blew_up, fixed_point or periodic
    reason: str = ""  # why a folder is unreadable
    seed: int | None = None
    study: str = ""  # the sweep study this run is a trial of (sweep.json), if any
    trial: int | None = None  # its trial number in that study
    objective: str = ""  # the study's objective (val_loss, rmse@K, vpt), scored on the validation split
    score: float | None = None  # this trial's value of it (complete trials only)
    data_key: str = field(default="", repr=False)  # runs with equal keys forecast the same truth

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("data_key")
        return out


def read_run(folder: Path) -> RunRow:
    row = RunRow(id=folder.name, path=str(folder))
    _read_sweep(row, folder)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        row.status, row.reason = "unreadable", "no summary.json (not a run folder, or one from before it was written)"
        return row
    row.when = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary_path.stat().st_mtime))
    try:
        status = runio.read_status(folder)
    except UserError as exc:
        row.status, row.reason = "unreadable", str(exc).removeprefix(f"{summary_path}: ")
        return row
    if isinstance(status, runio.Running):
        row.status, row.system, row.arch = "running", status.system, status.arch
        row.reason = "no results yet (still running, or stopped before it could write them)"
        return row
    _fill(row, status)
    try:
        fill_config(row, runio.read_config(folder))
    except UserError:
        pass  # the row keeps what the summary says
    return row


def _fill(row: RunRow, s: Summary) -> None:
    row.system, row.arch, row.status, row.epochs = s.system, s.arch, s.status, s.epochs_run
    row.train_s = s.train_time_s if math.isfinite(s.train_time_s) else None
    row.best_val = s.best_val_loss if math.isfinite(s.best_val_loss) else None
    e = s.evaluation
    if e is not None and e.rmse_curve:
        rmse = e.rmse_at_steps
        row.rmse_1, row.rmse_4, row.rmse_8 = (_finite(rmse.get(k)) for k in ("1", "4", "8"))
    if e is not None and e.vpt is not None:
        row.vpt, row.vpt_units = _finite(e.vpt.lyapunov.median), "Lyapunov times"
        row.vpt_bound = e.vpt.horizon_limited
    row.radius, row.grad_decay = s.inspect.spectral_radius, s.inspect.grad_decay_per_step
    c = s.climate
    if c is not None:
        row.lam1, row.d_stsp, row.d_h, row.fate = c.lambda1, c.d_stsp, c.d_h, c.fate


def fill_config(row: RunRow, cfg: Config) -> None:
    """What a row shows of a run's configuration: the hyperparameters its architecture names, the
    seed, and the key of its data."""
    row.params = cfg.model.shown_params()
    row.seed = cfg.train.seed
    row.data_key = data_key(cfg)


def _read_sweep(row: RunRow, folder: Path) -> None:
    """A sweep's trial carries its study and number in sweep.json."""
    tag = runio.read_sweep_tag(folder)
    if tag is None:
        return
    row.study, row.trial, row.objective = tag.study, tag.trial, tag.objective
    row.score = _finite(tag.value)


def study_rows(rows: list[RunRow], study: str) -> list[RunRow]:
    """The trials of one study, by trial number."""
    return sorted((r for r in rows if r.study == study and r.trial is not None), key=lambda r: r.trial)


def best_trial(rows: list[RunRow]) -> RunRow | None:
    """The trial with the best score (VPT: the longest; errors and losses: the lowest)."""
    scored = [r for r in rows if r.score is not None]
    if not scored:
        return None
    sign = -1.0 if scored[0].objective == "vpt" else 1.0
    return min(scored, key=lambda r: sign * r.score)


def data_key(cfg: Config) -> str:
    """What decides a run's true trajectory and splits: runs with equal keys forecast the same truth."""
    d = to_dict(cfg)
    system, train = d["system"], d["train"]
    data = {k: system.get(k) for k in ("name", "params", "steps", "dt", "seed", "noise")}
    data.update({k: train.get(k) for k in ("val_fraction", "test_fraction")})
    return json.dumps(data, sort_keys=True, default=str)


def _finite(v) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def scan(root: Path) -> list[RunRow]:
    if not root.is_dir():
        return []
    return [read_run(p) for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")]


def select(rows: list[RunRow], system: str | None = None, arch: str | None = None, sort: str = "when",
           study: str | None = None) -> list[RunRow]:
    if sort not in SORT_KEYS:
        raise UserError(f"--sort must be one of {', '.join(SORT_KEYS)}; got {sort!r}{closest(sort, SORT_KEYS)}")
    rows = [r for r in rows if (system is None or r.system == system) and (arch is None or r.arch == arch)
            and (study is None or r.study == study)]
    worse_last = -math.inf if LOWER_IS_BETTER.get(sort) is False else math.inf

    def key(r: RunRow):
        v = getattr(r, sort)
        if v is None:
            return (1, worse_last if sort in LOWER_IS_BETTER else "")
        return (0, -v if LOWER_IS_BETTER.get(sort) is False else v)

    return sorted(rows, key=key)


def find(root: Path, ids: list[str]) -> list[Path]:
    """The folders of run ids (folder names); UserError naming an unknown one."""
    names = [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    out = []
    for i in ids:
        if i not in names:
            raise UserError(f"no run {i!r} in {root}{closest(i, names)}; see `rnn-tui runs`")
        out.append(root / i)
    return out


def best(rows: list[RunRow], name: str) -> set[str]:
    """Ids of the rows with the best value of a column (ties all marked)."""
    values = [(getattr(r, name), r.id) for r in rows if getattr(r, name) is not None]
    if not values or name not in LOWER_IS_BETTER:
        return set()
    target = (min if LOWER_IS_BETTER[name] else max)(v for v, _ in values)
    return {i for v, i in values if v == target}


# -- the rows as tables show them (`rnn-tui runs`, `runs compare`, the Runs screen) -------------------

COLUMNS = (("id", "id"), ("when", "when"), ("system", "system"), ("arch", "arch"), ("params", "params"), ("study", "study"),
           ("trial", "trial"), ("status", "status"),
           ("epochs", "epochs"), ("train_s", "train s"), ("best_val", "best val"), ("rmse_1", "rmse@1"), ("rmse_4", "rmse@4"),
           ("rmse_8", "rmse@8"), ("vpt", "VPT (λ·t)"), ("radius", "ρ"), ("grad_decay", "grad/step"),
           ("lam1", "λ1"), ("d_stsp", "D_stsp"), ("d_h", "D_H"), ("fate", "fate"))
INSPECT_COLUMNS = ("radius", "grad_decay")  # train.inspect's figures: `rnn-tui runs` shows them where some run has them


def text(v) -> str:
    """A value as a table cell: '–' for none, three significant digits."""
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"
    return str(v)


def cell(row: RunRow, name: str) -> str:
    """One cell of a run's row; a horizon-limited VPT is a lower bound and reads "≥ 4.53"."""
    value = text(getattr(row, name))
    return f"≥{value}" if name == "vpt" and row.vpt is not None and row.vpt_bound else value
