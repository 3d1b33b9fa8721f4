"""One trial: its settings from the search space, one run in the run library (tagged with the study
and trial number in `sweep.json`), the validation loss reported each epoch for pruning, and the
objective scored on the validation split.

A trial that cannot train (a diverged run, settings the data cannot take, a crash) raises
TrialFailed with its reason, which the worker records and goes on from; Interrupted ends the worker.
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from rnn_tui.errors import UserError

REPORT_EVERY_S = 0.5  # a trial reports its loss at most this often (each report is a database write)


class TrialFailed(Exception):
    """The trial ran and failed for a reason of its own (recorded); the sweep goes on."""


class Surplus(Exception):
    """Another worker took the study's last place first: this trial is not needed."""


class Interrupted(Exception):
    """The user stopped the sweep during this trial."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs (it crosses to worker processes as JSON)."""

    storage: str
    study: str
    n_trials: int
    objective: str
    preset: str | None
    config: str | None
    sets: tuple[str, ...]
    params: tuple[str, ...]
    runs: str
    heartbeat: int = 10
    deadline: float | None = None  # time.time() after which no new trial starts
    threads: int | None = None  # train.threads forced for every trial (jobs > 1)
    prune: bool = True  # stop poor trials early (LossMedianPruner)
    seed: int | None = None  # the sampler's seed (repeatable draws for one worker)


def is_surplus(study, number: int, n_trials: int) -> bool:
    """Whether `number` is beyond the study's N places: trials that count, numbered below it."""
    from rnn_tui.sweep.study import counted

    before = [t for t in study.get_trials(deepcopy=False) if t.number < number and counted(t)]
    return len(before) >= n_trials


def run_trial(trial, job: Job, control) -> float:
    from rnn_tui import config as config_mod
    from rnn_tui.sweep import objective as objective_mod
    from rnn_tui.sweep import space

    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    if is_surplus(trial.study, trial.number, job.n_trials):
        from rnn_tui.sweep.study import SURPLUS_REASON

        trial.set_user_attr("reason", f"{SURPLUS_REASON}: the study already had its trials")
        raise Surplus
    params = [space.parse(p) for p in job.params]
    values = {p.key: p.suggest(trial) for p in params}
    overrides = list(job.sets) + [p.override(values[p.key]) for p in params]
    if job.threads is not None:
        overrides.append(f"train.threads={job.threads}")
    try:
        cfg = config_mod.load(job.preset, job.config, overrides)
    except UserError as exc:
        _fail(trial, str(exc))
    return _train(trial, job, cfg, objective_mod.parse(job.objective), control)


def _fail(trial, reason: str, diverged: bool = False):
    trial.set_user_attr("reason", reason)
    if diverged:
        trial.set_user_attr("diverged", True)
    raise TrialFailed(reason)


def _train(trial, job: Job, cfg, objective, control) -> float:
    from rnn_tui.core import events as ev
    from rnn_tui.core import runio
    from rnn_tui.core.runfolder import RunFolder
    from rnn_tui.core.trainer import train
    from rnn_tui.crash import crashed
    from rnn_tui.sweep.study import redact

    path = runio.new_run_dir(f"{job.study}-t{trial.number:04d}", job.runs)
    folder = RunFolder.claim(path)
    trial.set_user_attr("run", str(path.resolve()))
    tag = {"study": job.study, "trial": trial.number, "storage": redact(job.storage), "params": dict(trial.params)}
    state = {"last": 0.0, "pruned": None}

    def on_event(e) -> None:
        if isinstance(e, ev.Started):
            folder.start(cfg, f"Trial {trial.number} of sweep study {job.study!r} ({redact(job.storage)}).\n"
                              f"Repeat it with: rnn-tui train --config {path / 'config.toml'}")
            runio.write_json(path / "sweep.json", tag)
        elif isinstance(e, ev.EpochEnd):
            folder.append(e)
            now = time.monotonic()
            if now - state["last"] >= REPORT_EVERY_S or e.epoch == e.epochs:
                state["last"] = now
                trial.report(e.val_loss if math.isfinite(e.val_loss) else math.nan, e.epoch)
                if state["pruned"] is None and e.epoch < e.epochs and trial.should_prune():  # the last epoch: nothing to save
                    state["pruned"] = e.epoch
                    control.request_stop()

    try:
        result = train(cfg, on_event, control)
    except UserError as exc:
        folder.abandon()
        _fail(trial, str(exc))
    except Exception as exc:  # a bug: a crash report, and the sweep goes on  # noqa: BLE001
        folder.release()
        _fail(trial, str(crashed(exc, cfg, path if folder.metrics is not None else None)))
    folder.finish(result)
    return _outcome(trial, result, objective, state["pruned"], path, tag)


def _outcome(trial, result, objective, pruned_at: int | None, path: Path, tag: dict) -> float:
    import optuna

    from rnn_tui.core import runio

    if pruned_at is not None:
        runio.write_json(path / "sweep.json", {**tag, "outcome": f"pruned after epoch {pruned_at}"})
        raise optuna.TrialPruned(f"pruned after epoch {pruned_at}")
    if result.status == "cancelled":
        trial.set_user_attr("reason", "interrupted")
        runio.write_json(path / "sweep.json", {**tag, "outcome": "interrupted"})
        raise Interrupted
    if result.status == "diverged":
        runio.write_json(path / "sweep.json", {**tag, "outcome": "diverged"})
        _fail(trial, f"diverged: {result.summary.message}", diverged=True)
    try:
        value = objective.score(result)
    except UserError as exc:
        _fail(trial, str(exc))
    if not math.isfinite(value):
        runio.write_json(path / "sweep.json", {**tag, "outcome": f"{objective.name} is not finite"})
        _fail(trial, f"{objective.name} is not finite (the forecast blew up)", diverged=True)
    runio.write_json(path / "sweep.json", {**tag, "outcome": "complete", "value": value, "objective": objective.name})
    return value
