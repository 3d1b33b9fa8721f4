"""`rnn-tui bench sweep`: trials per minute of a sweep on the sine preset with --jobs 2 against
--jobs 1 (issue 12's target: at least 1.7x on 2 cores). Each mode is a real `rnn-tui sweep` process
on its own SQLite study in a temporary runs folder, timed from start to exit (start-up included),
without pruning so that both modes train the same amount."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from rnn_tui.core.threads import cores

PARAMS = ("train.lr=log:1e-3:1e-2",)


def sweep_once(jobs: int, trials: int, quick: bool) -> dict:
    sets = ["--set", "train.epochs=3", "--set", "model.hidden_size=8"] if quick else []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RNN_TUI_RUNS": os.path.join(tmp, "runs"), "RNN_TUI_HOME": os.path.join(tmp, "home")}
        argv = [sys.executable, "-m", "rnn_tui", "sweep", "--preset", "sine_rnn", *sets, *(a for p in PARAMS for a in ("--param", p)),
                "--trials", str(trials), "--jobs", str(jobs), "--no-prune", "--quiet", "--study", "bench"]
        t0 = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=3600)
        wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"bench sweep --jobs {jobs} failed: {(r.stderr.strip().splitlines() or ['no output'])[-1]}")
    return {"jobs": jobs, "trials": trials, "wall_s": wall, "trials_per_min": trials / wall * 60}


def run(trials: int = 6, quick: bool = False) -> dict:
    one = sweep_once(1, trials, quick)
    two = sweep_once(2, trials, quick) if cores() >= 2 else None
    return {"preset": "sine_rnn", "params": list(PARAMS), "cores": cores(), "one": one, "two": two,
            "speedup": two["trials_per_min"] / one["trials_per_min"] if two else None, "quick": quick}


def table(res: dict) -> str:
    lines = [f"rnn-tui bench sweep  (preset {res['preset']}, {res['one']['trials']} trials, no pruning; {res['cores']} cores)"]
    for key in ("one", "two"):
        r = res[key]
        if r is None:
            lines.append("--jobs 2: not measured (one core)")
            continue
        lines.append(f"--jobs {r['jobs']}: {r['wall_s']:.1f} s, {r['trials_per_min']:.2f} trials/min")
    if res["speedup"] is not None:
        lines.append(f"--jobs 2 against --jobs 1: {res['speedup']:.2f}x trials per minute (target 1.7x)")
    return "\n".join(lines)
