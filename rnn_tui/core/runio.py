"""The files of a run, written the same way by headless mode and the app's export:
config.toml, metrics.jsonl, summary.json, rollout.csv and model.pt (all atomic where it matters)."""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from rnn_tui.config import Config, dumps, from_dict
from rnn_tui.errors import UserError


def atomic_write(path: Path, writer, mode: str = "w") -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            writer(fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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

    def __init__(self, out: Path):
        self.path = out / "metrics.jsonl"
        self.path.write_text("")

    def append(self, row: dict) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps(_clean(row)) + "\n")


def write_summary(out: Path, summary: dict) -> None:
    atomic_write(out / "summary.json", lambda fh: json.dump(_clean(summary), fh, indent=2))


def write_rollout(out: Path, rollout: dict | None, names) -> None:
    if rollout is None:
        return
    header = ["t"] + [f"{n}_true" for n in names] + [f"{n}_pred" for n in names]
    data = np.column_stack([rollout["t"], rollout["truth"], rollout["prediction"]])

    def writer(fh):
        fh.write(",".join(header) + "\n")
        np.savetxt(fh, data, delimiter=",", fmt="%.10g")

    atomic_write(out / "rollout.csv", writer)


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
    cfg = from_dict(payload["config"], str(path))
    spec = ModelSpec(dim=payload["dim"], seq_len=cfg.train.seq_len, field=get_system(cfg.system.name).kind == "field", dt=payload["dt"])
    dtype = torch.float64 if cfg.train.dtype == "float64" else torch.float32
    model = build(spec, cfg.model).to(dtype=dtype)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, cfg, np.array(payload["mean"]), np.array(payload["std"])


def write_results(out: Path, result) -> None:
    """Everything a finished (or diverged, or cancelled) run leaves, except metrics.jsonl (streamed)."""
    write_summary(out, result.summary)
    if result.prep is not None:
        write_rollout(out, result.rollout, result.prep.traj.names)
        if result.model is not None:
            save_model(out / "model.pt", result.model, result.config, result.prep)
