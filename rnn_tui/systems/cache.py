"""A disk cache of generated trajectories, and of the valid ground-truth times measured on them. A
Lorenz-63 preset integrates 60,000 samples at 1e-12 tolerances (about 7 s) and a Kuramoto–Sivashinsky
one spins up and steps ETDRK4 (seconds): the same numbers for every run, sweep trial and benchmark of
that configuration. They are kept here once made.

The key is the system, its resolved parameters, steps, dt, seed and a hash of the systems' source
code: any change to a generator makes a new key, so a cached trajectory is always what generating
it now would give (tests/test_systems_cache.py checks that it is bit-for-bit). Only trajectories that
took at least MIN_SECONDS to make are kept (not the sine wave), never a CSV file's (it may change),
and the folder is trimmed to MAX_BYTES, oldest first. A file that cannot be read is made again; a
cache that cannot be written is skipped. Folder: $RNN_TUI_CACHE, else $RNN_TUI_HOME/cache, else the
platform's cache folder; RNN_TUI_CACHE=0 turns it off."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from rnn_tui.fsutil import atomic_write
from rnn_tui.systems.trajectory import Trajectory

log = logging.getLogger(__name__)

MIN_SECONDS = 0.25
MAX_BYTES = 1 << 30
UNCACHED = frozenset({"csv"})


def folder() -> Path | None:
    chosen = os.environ.get("RNN_TUI_CACHE")
    if chosen == "0":
        return None
    if chosen:
        return Path(chosen)
    home = os.environ.get("RNN_TUI_HOME")
    if home:
        return Path(home) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("rnn-tui", appauthor=False))


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """A hash of every module in rnn_tui/systems (the generators and what they call)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def key(name: str, params: dict, steps: int, dt: float, seed: int) -> str:
    return json.dumps({"system": name, "params": params, "steps": steps, "dt": dt, "seed": seed, "source": source_hash()},
                      sort_keys=True, default=str)


def _path(where: Path, kind: str, k: str, suffix: str) -> Path:
    return where / kind / f"{hashlib.sha256(k.encode()).hexdigest()[:32]}{suffix}"


def load(name: str, params: dict, steps: int, dt: float, seed: int):
    """The cached Trajectory, or None (not cached, cache off, or unreadable)."""
    where = folder()
    if where is None or name in UNCACHED:
        return None
    k = key(name, params, steps, dt, seed)
    path = _path(where, "trajectories", k, ".npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            if meta["key"] != k:
                return None
            x = f["x"] if meta["has_x"] else None
            traj = Trajectory(t=f["t"], values=f["values"], names=tuple(meta["names"]), kind=meta["kind"], dt=meta["dt"], x=x)
        os.utime(path)  # recently used: trimmed last
        return traj
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged file is made again
        log.warning("trajectory cache: %s unreadable (%s); generating it again", path, exc)
        return None


def store(name: str, params: dict, steps: int, dt: float, seed: int, traj, seconds: float) -> None:
    where = folder()
    if where is None or name in UNCACHED or seconds < MIN_SECONDS:
        return
    k = key(name, params, steps, dt, seed)
    path = _path(where, "trajectories", k, ".npz")
    meta = {"key": k, "names": list(traj.names), "kind": traj.kind, "dt": traj.dt, "has_x": traj.x is not None}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: np.savez(fh, t=traj.t, values=traj.values, x=traj.x if traj.x is not None else np.zeros(0),
                                               meta=np.array(json.dumps(meta))), mode="wb")
        trim(path.parent)
    except OSError as exc:
        log.warning("trajectory cache: cannot write %s (%s)", path, exc)


def load_record(kind: str, k: str) -> dict | None:
    """A small JSON record cached under `kind` (e.g. "truth": a valid ground-truth time), or None."""
    where = folder()
    if where is None:
        return None
    path = _path(where, kind, k, ".json")
    try:
        record = json.loads(path.read_text())
        return record["value"] if record.get("key") == k else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("cache: %s unreadable (%s); measuring again", path, exc)
        return None


def store_record(kind: str, k: str, value: dict) -> None:
    where = folder()
    if where is None:
        return
    path = _path(where, kind, k, ".json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: json.dump({"key": k, "value": value}, fh))
    except OSError as exc:
        log.warning("cache: cannot write %s (%s)", path, exc)


def trim(where: Path, limit: int = MAX_BYTES) -> None:
    """Delete the least recently used files until the folder holds at most `limit` bytes."""
    files = [(p.stat().st_mtime, p.stat().st_size, p) for p in where.glob("*.npz")]
    total = sum(size for _, size, _ in files)
    for _, size, p in sorted(files):
        if total <= limit:
            break
        try:
            p.unlink()
            total -= size
        except OSError:
            pass
