"""Run folders and sweep storage survive kill -9 of any process at any moment (issue 21, the `heavy`
tier): a run, a sweep worker and a served app are killed at random points (seeded: the seed is in
every message), then the run library lists, the killed run resumes or says in one line why not and
is removable, the sweep goes on to N, and the server serves again on the same runs folder."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy

CLI = [sys.executable, "-m", "rnn_tui"]
SEED = int(os.environ.get("RNN_TUI_KILL9_SEED", random.SystemRandom().randrange(1 << 30)))
RUN = ["--preset", "sine_rnn", "--set", "train.epochs=40", "--set", "model.hidden_size=8", "--set", "train.threads=1",
       "--set", "system.steps=2000", "--set", "rollout.every=5", "--quiet"]


def rnn_tui(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def one_line_or_fine(p: subprocess.CompletedProcess, what: str) -> None:
    """Exit 0, or exit 2 with one line: never a crash (exit 1), a traceback or a warning."""
    assert p.returncode in (0, 2) and "Traceback" not in p.stderr and "Warning" not in p.stderr, (what, SEED, p.returncode, p.stderr)
    if p.returncode == 2:
        assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("rnn-tui: error: "), (what, SEED, p.stderr)


def kill_at(proc: subprocess.Popen, delay: float) -> None:
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(60)


def library(runs: Path) -> list[dict]:
    p = rnn_tui("runs", "--runs", runs, "--json")
    assert p.returncode == 0 and "Traceback" not in p.stderr, (SEED, p.stderr)
    return json.loads(p.stdout)


def test_runs_killed_at_random_points_list_resume_or_refuse_and_are_removable(tmp_path):
    rng = random.Random(SEED)
    runs = tmp_path / "runs"
    for i in range(4):
        proc = subprocess.Popen([*CLI, "train", *RUN, "--runs", str(runs)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_at(proc, rng.uniform(0.5, 8.0))  # before, during or after set-up, an epoch, the forecast, the files
    rows = library(runs)
    assert rows and all(r["status"] in ("running", "finished", "unreadable") for r in rows), (SEED, rows)
    for r in rows:
        folder = Path(r["path"])
        if (folder / "summary.json").exists():  # written atomically: whole, whenever the kill came
            json.loads((folder / "summary.json").read_text())
        if (folder / "config.toml").exists():
            tomllib.loads((folder / "config.toml").read_text())
        if (folder / "metrics.jsonl").exists():  # appended a line an epoch: all whole but a last one cut by the kill
            for line in (folder / "metrics.jsonl").read_text().splitlines()[:-1]:
                json.loads(line)
        p = rnn_tui("train", "--resume", folder, "--set", "train.epochs=45", "--quiet")
        one_line_or_fine(p, f"resume {r['id']} ({r['status']})")
        if p.returncode == 0:
            assert json.loads((folder / "summary.json").read_text())["status"] == "finished"
    for r in library(runs):
        if r["status"] != "unreadable":  # a folder killed before its files were written is refused: said why
            p = rnn_tui("runs", "--runs", runs, "rm", r["id"], "--yes")
            assert p.returncode == 0 and not Path(r["path"]).exists(), (SEED, r, p.stderr)


def test_a_sweep_worker_killed_at_random_points_goes_on_to_n(tmp_path):
    rng = random.Random(SEED + 1)
    runs = tmp_path / "runs"
    args = ["sweep", "--preset", "sine_rnn", "--set", "train.epochs=15", "--set", "model.hidden_size=8", "--set", "train.threads=1",
            "--set", "rollout.every=0", "--param", "train.lr=log:1e-3:3e-2", "--trials", "4", "--heartbeat", "1",
            "--runs", str(runs), "--quiet"]
    for _ in range(3):
        proc = subprocess.Popen([*CLI, *args, "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(1.0, 6.0))
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()]
        victims = [proc.pid, *workers] if rng.random() < 0.5 else (workers[:1] or [proc.pid])
        for pid in victims:  # a worker alone, or the whole sweep
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            proc.wait(120)  # with one worker killed, the other may finish the sweep
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what is left of this sweep (its own process group)
        except ProcessLookupError:
            pass
        proc.wait(60)
    time.sleep(3.5)  # three heartbeats: the killed workers' trials are stale, then failed and retried
    p = rnn_tui(*args, timeout=600)
    assert p.returncode == 0, (SEED, p.stderr)
    show = rnn_tui("sweep", "--show", "--study", "sine_rnn-val_loss", "--runs", runs)
    assert show.returncode == 0 and "sine_rnn-val_loss" in show.stdout, (SEED, show.stderr)
    import optuna

    study = optuna.load_study(study_name="sine_rnn-val_loss", storage=f"sqlite:///{runs / 'sweeps.db'}")
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) >= 4, (SEED, [t.state for t in study.trials])
    rows = library(runs)
    assert sum(r["status"] == "finished" and r["study"] == "sine_rnn-val_loss" for r in rows) >= 4, (SEED, rows)


def test_a_served_app_and_its_server_killed_at_random_points_serve_again(serve, tmp_path):
    import aiohttp

    rng = random.Random(SEED + 2)
    runs = tmp_path / "runs"
    app_args = ("--preset", "sine_rnn", "--set", "train.threads=1", "--set", "train.epochs=30", "--runs", str(runs))
    for _ in range(2):
        server = serve(*app_args)

        async def session() -> None:
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(f"ws://127.0.0.1:{server.port}/ws?width=120&height=40") as ws:
                    await ws.receive(timeout=60)
                    await ws.send_json(["stdin", "s"])
                    [app] = server.wait_apps(1)
                    await asyncio.sleep(rng.uniform(0.5, 6.0))
                    os.kill(app if rng.random() < 0.5 else server.proc.pid, signal.SIGKILL)  # the app, or the server
                    await asyncio.sleep(0.5)

        asyncio.run(session())
        server.stop()
    assert all(r["status"] in ("finished", "cancelled", "running", "unreadable") for r in library(runs))
    again = serve(*app_args)  # the same runs folder serves again, and its app trains

    async def reopen() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"ws://127.0.0.1:{again.port}/ws?width=120&height=40") as ws:
                assert (await ws.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY  # the app's screen
                await ws.send_json(["stdin", "s"])
                again.wait_apps(1)

    asyncio.run(reopen())
