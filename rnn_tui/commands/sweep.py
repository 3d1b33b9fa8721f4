"""`rnn-tui sweep`: search hyperparameters with Optuna. Each trial is a run in the run library; the
study lives in an SQLite file in the runs folder, or in any database given with --storage, where
`rnn-tui sweep` on other machines joins it. `--show` prints a study's table at any time."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from rnn_tui.errors import UserError
from rnn_tui.commands.options import add_run_options

HEARTBEAT_S = 10


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="search hyperparameters (Optuna); each trial is a run in the run library",
        description="Sample settings from --param ranges, train each trial, prune poor ones by their validation loss, "
        "and rank them by --objective scored on the validation split. Run it again, or on another machine with the "
        "same --storage, to join the study until it holds --trials trials.",
    )
    add_run_options(p)
    p.add_argument("--param", dest="params", action="append", default=[], metavar="SPEC",
                   help="a setting to search: train.lr=log:1e-4:1e-1, model.hidden_size=int:16:256, train.seq_len=int:5:50:5, "
                   "model.arch=choice:rnn,lstm,gru, model.dropout=float:0:0.5 (repeat for more)")
    p.add_argument("--trials", type=int, metavar="N", help="work until the study holds N trials (complete, pruned or diverged)")
    p.add_argument("--jobs", type=int, default=1, metavar="J", help="trials at once on this machine, each in its own process with "
                   "cores/J CPU threads (default 1; at most the number of cores)")
    p.add_argument("--storage", metavar="URL", help="where the study lives: sqlite:///FILE or postgresql://USER:PASSWORD@HOST/DB "
                   "(default: sweeps.db in the runs folder)")
    p.add_argument("--study", metavar="NAME", help="the study's name (default: from the preset or file, and the objective)")
    p.add_argument("--objective", default="val_loss", metavar="OBJ", help="val_loss (default), rmse@K (forecast RMSE at lead step K) "
                   "vpt (median valid prediction time, chaotic systems), lyap (the model's own largest Lyapunov exponent's relative "
                   "error, chaotic systems), dstsp or dh (the long run's D_stsp or D_H against the truth); scored on the validation split")
    p.add_argument("--timeout", type=float, metavar="S", help="start no new trial after S seconds")
    p.add_argument("--seed", type=int, metavar="N", help="seed the sampler, so that one worker draws the same settings again")
    p.add_argument("--no-prune", action="store_true", help="train every trial to the end (by default a trial whose validation "
                   "loss is worse than the median of the others' by the same epoch is stopped)")
    p.add_argument("--save-best", metavar="NAME", help="save the best trial's configuration as preset NAME")
    p.add_argument("--show", action="store_true", help="print the study's table and exit (with --study, or the preset's default)")
    p.add_argument("--top", type=int, default=10, metavar="K", help="rows of the table (default 10)")
    p.add_argument("--runs", metavar="DIR", help="the runs folder for the trials' runs (default: $RNN_TUI_RUNS or ./runs)")
    p.add_argument("--heartbeat", type=int, default=HEARTBEAT_S, metavar="S",
                   help=f"seconds between a running trial's heartbeats; a trial silent for 3 beats is failed and retried (default {HEARTBEAT_S})")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run)


def _label(args) -> str:
    return args.preset if args.preset else Path(args.config).stem


def run(args) -> int:
    from rnn_tui.core.library import checked_root
    from rnn_tui.sweep import study as study_mod

    study_mod.quiet()
    runs = checked_root(args.runs).resolve()
    url = args.storage or study_mod.default_storage(runs)
    if args.heartbeat < 1 or args.heartbeat > 3600:
        raise UserError(f"--heartbeat must be between 1 and 3600 seconds, got {args.heartbeat}")
    if args.top < 1:
        raise UserError(f"--top must be at least 1, got {args.top}")
    if args.show:
        if args.study is None and args.preset is None and args.config is None:
            raise UserError("--show needs --study NAME (or the --preset the study was made from)")
        name = args.study or f"{_label(args)}-{args.objective}"
        if args.storage is None and not (runs / "sweeps.db").is_file():
            raise UserError(f"no sweeps in {runs} (no sweeps.db); give --storage URL or --runs DIR")
        study = study_mod.load(study_mod.open_storage(url, args.heartbeat), name)
        print(render(study, args.top))
        return 0
    job, spec, direction = _plan(args, url, runs)
    storage = study_mod.open_storage(url, args.heartbeat)
    study = study_mod.create_or_join(storage, job.study, spec, direction)
    print(f"sweep: study {job.study!r} in {study_mod.redact(url)}: {spec.describe()}", file=sys.stderr)
    if args.jobs == 1:
        outcome = _run_here(job, study, args.quiet)
    else:
        outcome = _run_workers(job, study, args.jobs, args.quiet)
    print(render(study, args.top))
    if args.save_best:
        _save_best(study, job, args.save_best)
    if outcome == "interrupted":
        print("sweep: interrupted; the study is kept: run the same command to go on", file=sys.stderr)
        return 130
    if outcome == "timeout":
        print(f"sweep: --timeout reached; {study_mod.counts(study.get_trials()).done} of {job.n_trials} trials done", file=sys.stderr)
    return 0


def _plan(args, url: str, runs: Path):
    """Check everything a trial will need, before the study is touched: one line for what is wrong."""
    from rnn_tui import config as config_mod
    from rnn_tui.core.threads import cores
    from rnn_tui.sweep import objective as objective_mod
    from rnn_tui.sweep import space
    from rnn_tui.sweep.study import Spec
    from rnn_tui.sweep.trial import Job

    if args.preset is None and args.config is None:
        raise UserError("sweep needs --preset NAME or --config FILE.toml to start from (see `rnn-tui presets`)")
    if not args.params:
        raise UserError("sweep needs at least one --param SPEC, e.g. --param train.lr=log:1e-4:1e-1")
    if args.trials is None or args.trials < 1 or args.trials > 100_000:
        raise UserError(f"--trials must be between 1 and 100000, got {args.trials}")
    if args.jobs < 1 or args.jobs > cores():
        raise UserError(f"--jobs must be between 1 and the {cores()} cores of this machine (more jobs than cores slow every trial), got {args.jobs}")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise UserError(f"--seed must be in [0, 2^32 - 1], got {args.seed}")
    if args.timeout is not None and not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise UserError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    base = config_mod.load(args.preset, args.config, args.overrides)
    params = [space.parse(p) for p in args.params]
    space.check(params, base.model.arch)
    for p in params:  # each architecture the sweep may pick must take the system and the preset's [model] keys
        if p.key == "model.arch":
            for arch in p.choices:
                try:
                    config_mod.load(args.preset, args.config, [*args.overrides, p.override(arch)])
                except UserError as exc:
                    raise UserError(f"--param {p.text}: with model.arch {arch!r}: {exc}") from None
    objective = objective_mod.parse(args.objective)
    objective.check(base)
    if args.save_best:
        config_mod.check_preset_name(args.save_best)
    threads = None
    if args.jobs > 1:
        forced = base.train.threads
        if forced and forced * args.jobs > cores():
            raise UserError(f"--jobs {args.jobs} with train.threads={forced} asks for {forced * args.jobs} threads on {cores()} cores")
        threads = forced or max(1, cores() // args.jobs)
    config_path = str(Path(args.config).resolve()) if args.config else None
    source = f"preset {args.preset}" if args.preset else f"file {config_path}"
    spec = Spec(source, tuple(args.overrides), tuple(args.params), objective.name)
    deadline = time.time() + args.timeout if args.timeout else None
    job = Job(url, args.study or f"{_label(args)}-{objective.name}", args.trials, objective.name, args.preset, config_path,
              tuple(args.overrides), tuple(args.params), str(runs), args.heartbeat, deadline, threads, not args.no_prune,
              args.seed)
    return job, spec, objective.direction


# ---------------------------------------------------------------------------------------------
# Running: in this process (--jobs 1) or in J worker processes, with a progress line


def _run_here(job, study, quiet: bool) -> str:
    from rnn_tui.sweep.worker import Worker

    worker = Worker(job)
    progress = Progress(study, job.n_trials, quiet)

    def on_sigint(signum, frame) -> None:
        if worker.interrupted.is_set():
            raise KeyboardInterrupt
        worker.interrupt()

    previous = signal.signal(signal.SIGINT, on_sigint)
    progress.start()
    try:
        return worker.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.stop()


def _run_workers(job, study, jobs: int, quiet: bool) -> str:
    """J worker processes, each in its own session (a Ctrl-C reaches them once, through here)."""
    from dataclasses import asdict

    text = json.dumps(asdict(job))
    procs = [subprocess.Popen([sys.executable, "-m", "rnn_tui.sweep.worker", text], start_new_session=True) for _ in range(jobs)]
    interrupted = threading.Event()

    def on_sigint(signum, frame) -> None:
        interrupted.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, on_sigint)
    progress = Progress(study, job.n_trials, quiet)
    progress.start()
    try:
        codes = [_wait(p) for p in procs]
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.stop()
    if interrupted.is_set() or 130 in codes:
        return "interrupted"
    if any(c == 2 for c in codes):
        raise UserError("a sweep worker stopped on an error (above)")
    if any(c != 0 for c in codes):
        raise UserError(f"a sweep worker failed (exit {[c for c in codes if c][0]}); see the lines above")
    return "timeout" if job.deadline is not None and time.time() >= job.deadline else "done"


def _wait(proc) -> int:
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:  # pragma: no cover - the handler above takes SIGINT
            continue


class Progress:
    """One line on stderr, refreshed every second from the storage: trials done, pruned, failed,
    running, and the best so far with its settings."""

    def __init__(self, study, n: int, quiet: bool) -> None:
        self.study, self.n, self.quiet = study, n, quiet
        self.tty = sys.stderr.isatty()
        self.last = ""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        if not self.quiet:
            self.thread.start()

    def stop(self) -> None:
        if self.quiet:
            return
        self.done.set()
        self.thread.join(timeout=5)
        self._show()
        if self.tty:
            print(file=sys.stderr)

    def _loop(self) -> None:
        while not self.done.wait(1.0):
            try:
                self._show()
            except Exception:  # noqa: BLE001 - a busy database: try again in a second
                pass

    def _show(self) -> None:
        line = progress_line(self.study, self.n)
        if line == self.last:
            return
        self.last = line
        if self.tty:
            print(f"\r\x1b[2K{line}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def progress_line(study, n: int) -> str:
    from rnn_tui.sweep import study as study_mod

    c = study_mod.counts(study.get_trials(deepcopy=False))
    line = (f"trials {c.done}/{n}: {c.complete} complete, {c.pruned} pruned, {c.diverged} diverged, "
            f"{c.failed_text()}, {c.running} running")
    best = study_mod.best(study)
    if best is not None:
        line += f" · best {best.value:.4g} (trial {best.number}: {_params(best.params)})"
    return line


def _params(params: dict) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------------------------------------
# The table, and the best trial as a preset


def render(study, top: int) -> str:
    from rnn_tui.sweep import study as study_mod

    spec = study_mod.spec_of(study)
    objective = spec.objective if spec else "value"
    rows = study_mod.rows(study)
    c = study_mod.counts(study.get_trials(deepcopy=False))
    keys = sorted({k for r in rows for k in r.params})
    head = ["rank", "trial", "state", objective, *keys, "run", "note"]
    shown = [r for r in rows if r.rank is not None][:top]
    shown += [r for r in rows if r.rank is None][: max(0, top - len(shown))]
    cells = [head] + [[str(r.rank or "–"), str(r.number), r.state, "–" if r.value is None else f"{r.value:.5g}",
                       *(_short(r.params[k]) if k in r.params else "–" for k in keys), r.run or "–", r.note[:60]] for r in shown]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells]
    better = "higher" if study.direction == study_mod.optuna_direction("maximize") else "lower"
    title = (f"study {study.study_name}: {c.done} trials ({c.complete} complete, {c.pruned} pruned, {c.diverged} diverged), "
             f"{c.failed_text()}, {c.running} running; {objective} on the validation split, {better} is better")
    if spec:
        title += f"\n  {spec.describe()}"
    more = len(rows) - len(shown)
    return "\n".join([title, *lines] + ([f"… {more} more (--top K)"] if more > 0 else []))


def _save_best(study, job, name: str) -> None:
    from rnn_tui import config as config_mod
    from rnn_tui.sweep import space
    from rnn_tui.sweep import study as study_mod

    best = study_mod.best(study)
    if best is None:
        print(f"sweep: no complete trial yet: nothing saved as {name}", file=sys.stderr)
        return
    params = {p.key: p for p in (space.parse(s) for s in job.params)}
    overrides = list(job.sets) + [params[k].override(v) for k, v in best.params.items() if k in params]
    cfg = config_mod.load(job.preset, job.config, overrides)
    path = config_mod.save_preset(cfg, name, f"Best trial ({best.number}) of sweep study {study.study_name}: "
                                             f"{study_mod.spec_of(study).objective} = {best.value:.5g} on the validation split")
    print(f"sweep: best trial {best.number} saved as preset {name} ({path})", file=sys.stderr)

