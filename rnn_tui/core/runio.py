"""The files of a run, written the same way by headless mode and the app's export (config.toml,
metrics.jsonl, summary.json, rollout.csv, model.pt, state.pt; all atomic where it matters), and
read back as typed values: the one place that parses them (the run library, the CLI, the Runs
screen, sweeps and lessons all read runs through here). A file that is missing or not what rnn-tui
writes is a UserError naming the file and what is wrong."""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_tui.config import Config, dumps, from_dict, read_toml
from rnn_tui.core.results import Forecast, Rollout, Summary
from rnn_tui.csvio import write_csv_atomic
from rnn_tui.errors import UserError
from rnn_tui.fsutil import atomic_write


def new_run_dir(label: str, root: str | Path = "runs") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{stamp}-{label}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}")
    return path


def prepare_dir(out: str | Path) -> Path:
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {path}: {exc.strerror}") from None
    return path


MARKER = ".rnn-tui-run"  # in every folder rnn-tui makes as a run: `runs rm` removes only folders with it
MARKER_FORMAT = "rnn-tui/run-1"


def mark_run(out: Path) -> None:
    """Mark `out` as a folder rnn-tui made as a run (what `rnn-tui runs rm` asks before removing it)."""
    write_json(Path(out) / MARKER, {"format": MARKER_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})


def is_marked(folder: Path) -> bool:
    """Whether rnn-tui marked `folder` as a run (a regular file, not a link, with rnn-tui's format)."""
    path = Path(folder) / MARKER
    if path.is_symlink() or not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == MARKER_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def write_config(out: Path, cfg: Config, header: str = "") -> None:
    atomic_write(out / "config.toml", lambda fh: fh.write(dumps(cfg, header)))


def _clean(obj):
    """JSON-safe: non-finite floats become null, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class MetricsLog:
    """metrics.jsonl: one JSON object per epoch, appended and flushed as each epoch ends."""

    def __init__(self, out: Path, append: bool = False):
        self.path = out / "metrics.jsonl"
        if not append:  # a resumed run adds its epochs to those already there
            self.path.write_text("")

    def append(self, epoch) -> None:
        """An EpochEnd event (its `row()`) or a row dict."""
        row = epoch if isinstance(epoch, dict) else epoch.row()
        with self.path.open("a") as fh:
            fh.write(json.dumps(_clean(row)) + "\n")


def write_json(path: Path, data) -> None:
    """JSON with non-finite numbers as null, written atomically."""
    atomic_write(Path(path), lambda fh: json.dump(_clean(data), fh, indent=2))


def write_summary(out: Path, summary: Summary) -> None:
    write_json(out / "summary.json", summary.to_dict())


def read_summary(path: Path) -> Summary:
    """A run's summary.json; UserError naming the file when it is missing or not a summary."""
    status = read_status(Path(path).parent, Path(path).name)
    if isinstance(status, Running):
        raise UserError(f"{path}: the run has no results yet (still running, or stopped before it could write them)")
    return status


@dataclass(frozen=True)
class Running:
    """What summary.json says of a run that has not written its results (running, or killed)."""

    system: str
    arch: str


def read_status(folder: Path, name: str = "summary.json") -> Summary | Running:
    """A run folder's summary: its results, or Running while it has none (UserError where the file is
    missing or not a summary)."""
    path = Path(folder) / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not JSON ({exc})") from None
    if isinstance(data, dict) and data.get("status") == "running":
        return Running(str(data.get("system", "")), str(data.get("arch", "")))
    try:
        return Summary.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{path}: not a run summary (lacks {exc}; written by another version?)") from None


def read_config(folder: Path) -> Config:
    """A run's own configuration (config.toml), as it was: keys of other architectures that rnn-tui
    0.1 wrote are dropped, and the checks across settings are not made again (the run is what it was,
    even where today's checks would refuse it, e.g. a CSV file since removed)."""
    path = Path(folder) / "config.toml"
    return from_dict(read_toml(path), str(path), strict=False, check=False)


@dataclass(frozen=True)
class EpochRow:
    """One line of metrics.jsonl: an epoch as the run wrote it. Losses are MSE in normalised units
    (NaN where the file has null); an ensemble's rows have each member's losses."""

    epoch: int
    train_loss: float
    val_loss: float
    grad_norm: float = math.nan
    lr: float = math.nan
    elapsed_s: float = math.nan
    step: int = 0
    members_train_loss: tuple[float, ...] = ()
    members_val_loss: tuple[float, ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> EpochRow:
        return cls(int(d["epoch"]), _num(d.get("train_loss")), _num(d.get("val_loss")), _num(d.get("grad_norm")),
                   _num(d.get("lr")), _num(d.get("elapsed_s")), int(d.get("step") or 0),
                   tuple(_num(v) for v in d.get("members_train_loss") or ()), tuple(_num(v) for v in d.get("members_val_loss") or ()))


def read_metrics(folder: Path) -> list[EpochRow]:
    """metrics.jsonl, one row per epoch in order; UserError naming the file and line of a broken one."""
    path = Path(folder) / "metrics.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                rows.append(EpochRow.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise UserError(f"{path}, line {n}: not an epoch record ({type(exc).__name__}: {exc})") from None
    return rows


def read_rollout(folder: Path) -> Rollout:
    """rollout.csv as written by write_forecast (t, then each component's truth, then its prediction);
    a forecast that blew up has non-finite cells, kept as they are."""
    path = Path(folder) / "rollout.csv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None
    try:
        header = rows[0]
        names = tuple(h[: -len("_true")] for h in header if h.endswith("_true"))
        values = np.array([[float(v) for v in r] for r in rows[1:]], dtype=float).reshape(len(rows) - 1, len(header))
        truth = values[:, [header.index(f"{n}_true") for n in names]]
        pred = values[:, [header.index(f"{n}_pred") for n in names]]
    except (IndexError, ValueError) as exc:
        raise UserError(f"{path}: not a forecast written by rnn-tui ({exc})") from None
    if header[0] != "t" or not names:
        raise UserError(f"{path}: not a forecast written by rnn-tui (header {','.join(header[:4])}…)")
    return Rollout(names, values[:, 0], truth, pred)


@dataclass(frozen=True)
class SweepTag:
    """sweep.json: the study a run is a trial of, its number, and its outcome (`value` of `objective`
    for a complete trial, on the validation split)."""

    study: str
    trial: int
    outcome: str = ""
    objective: str = ""
    value: float | None = None


def read_sweep_tag(folder: Path) -> SweepTag | None:
    """A trial's sweep.json; None where the run is not a trial (or the tag is not readable)."""
    try:
        tag = json.loads((Path(folder) / "sweep.json").read_text(encoding="utf-8"))
        value = tag.get("value")
        return SweepTag(str(tag["study"]), int(tag["trial"]), str(tag.get("outcome", "")), str(tag.get("objective", "")),
                        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _num(v) -> float:
    """A JSON number that may have been written as null (non-finite)."""
    return math.nan if v is None else float(v)


def write_forecast(out: Path, forecast: Forecast | None) -> None:
    """rollout.csv: t, then the truth and the prediction of each component, at full precision."""
    if forecast is None:
        return
    names = forecast.names
    header = ["t"] + [f"{n}_true" for n in names] + [f"{n}_pred" for n in names]
    write_csv_atomic(out / "rollout.csv", header, np.column_stack([forecast.t, forecast.truth, forecast.prediction]))


def save_model(path: Path, model, cfg: Config, prep) -> None:
    """Weights with the configuration and normalisation; loadable with torch.load(weights_only=True)."""
    import torch

    from rnn_tui.config import to_dict

    payload = {
        "format": "rnn-tui/1",
        "config": to_dict(cfg),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "mean": [float(v) for v in prep.mean],
        "std": [float(v) for v in prep.std],
        "dim": int(prep.dim),
        "dt": float(prep.traj.dt),
    }
    atomic_write(Path(path), lambda fh: torch.save(payload, fh), mode="wb")


def save_state(path: Path, state: dict) -> None:
    """state.pt: what `rnn-tui train --resume` needs (see core/resume.py)."""
    import torch

    atomic_write(Path(path), lambda fh: torch.save(state, fh), mode="wb")


def load_state(folder: Path) -> dict:
    """A run folder's state.pt; UserError naming the folder when it has none or it is not one."""
    import torch

    from rnn_tui.core.resume import FORMATS

    path = Path(folder) / "state.pt"
    if not path.is_file():
        raise UserError(f"--resume {folder}: no state.pt there (a closed-form run such as an ESN, one that crashed, or one "
                        "written before resume existed): it cannot be resumed")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file
        raise UserError(f"--resume {folder}: state.pt cannot be read ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") not in FORMATS:
        raise UserError(f"--resume {folder}: state.pt is not an rnn-tui training state")
    return state


def load_model(path: Path):
    """(model, cfg, mean, std) from a model.pt written by save_model."""
    import torch

    from rnn_tui.models.base import ModelSpec
    from rnn_tui.models.registry import build
    from rnn_tui.systems import get_system

    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"model file not found: {path}") from None
    # strict=False: a run saved by rnn-tui 0.1 lists every model field, not only its architecture's
    cfg = from_dict(payload["config"], str(path), strict=False)
    spec = ModelSpec(dim=payload["dim"], seq_len=cfg.train.seq_len, field=get_system(cfg.system.name).kind == "field", dt=payload["dt"])
    dtype = torch.float64 if cfg.train.dtype == "float64" else torch.float32
    model = build(spec, cfg.model).to(dtype=dtype)
    if cfg.train.ensemble > 1:  # an ensemble's weights, stacked (models/stacked.py): K members of that shape
        from rnn_tui.models.registry import stack

        model = stack(spec, cfg.model, [model] + [build(spec, cfg.model).to(dtype=dtype) for _ in range(cfg.train.ensemble - 1)])
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, cfg, np.array(payload["mean"]), np.array(payload["std"])


INSPECT_ARRAYS = ("epoch", "spectral_radius", "eigenvalues", "spectrum_of", "grad_norm_by_lag", "grad_decay_per_step",
                  "grad_lag_ratio", "gate_names", "gate_saturation", "heatmap", "heatmap_units", "heatmap_boundary",
                  "heatmap_of", "readout_groups", "readout_rms", "readout_dof")


@dataclass(frozen=True)
class InspectRecord:
    """inspect.npz read back (docs/inspect.md): a row per probe (per epoch), the last probe's heatmap
    and readout."""

    arrays: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    @property
    def epochs(self) -> int:
        return len(self.arrays["epoch"])


def read_inspect(folder: Path) -> InspectRecord | None:
    """A run's inspect.npz (None where the run was not probed: train.inspect off); a UserError naming
    the file where it is not what rnn-tui writes."""
    path = Path(folder) / "inspect.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in INSPECT_ARRAYS}
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{path}: not an inspect.npz rnn-tui writes ({exc})") from None
    return InspectRecord(arrays)


def write_results(out: Path, result) -> None:
    """Everything a finished (or diverged, or cancelled) run leaves, except metrics.jsonl (streamed)."""
    write_summary(out, result.summary)
    if getattr(result, "inspect", None) is not None:
        np.savez_compressed(out / "inspect.npz", **result.inspect)
    write_forecast(out, result.forecast)
    if getattr(result, "state", None) is not None:
        save_state(out / "state.pt", result.state)
    if result.prep is not None:
        if result.model is not None:
            save_model(out / "model.pt", result.model, result.config, result.prep)
