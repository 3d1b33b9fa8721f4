"""A sweep worker: runs trials of one study until it holds N counted trials, the deadline passes, or
the user stops it. `rnn-tui sweep` runs one in its own process (--jobs 1) or starts J of these
(`python -m rnn_tui.sweep.worker JOB_JSON`), and other machines run their own on the same storage.

Each pass first fails trials whose worker stopped beating (killed) so that they are retried, then
starts a trial only if the study still has a free place: places held by running trials are waited
on, since such a trial either finishes or goes stale and comes back as a retry."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

from rnn_tui.errors import UserError

MAX_FAILS_IN_A_ROW = 3  # trials failing for a reason other than divergence, before the worker gives up


class Worker:
    def __init__(self, job) -> None:
        self.job = job
        self.interrupted = threading.Event()
        self.control = None  # the running trial's Control
        self.fails_in_a_row = 0

    def interrupt(self) -> None:
        """Stop: the running trial ends (marked failed, not counted) and no new one starts."""
        self.interrupted.set()
        if self.control is not None:
            self.control.request_stop()

    def run(self) -> str:
        """'done', 'timeout' or 'interrupted'."""
        import optuna

        from rnn_tui.sweep import study as study_mod
        from rnn_tui.sweep.pruner import LossMedianPruner
        from rnn_tui.sweep.trial import Surplus, TrialFailed

        study_mod.quiet()
        storage = study_mod.open_storage(self.job.storage, self.job.heartbeat)
        pruner = LossMedianPruner() if self.job.prune else optuna.pruners.NopPruner()
        sampler = optuna.samplers.TPESampler(seed=self.job.seed) if self.job.seed is not None else None
        study = optuna.load_study(study_name=self.job.study, storage=storage, pruner=pruner, sampler=sampler)
        while True:
            if self.interrupted.is_set():
                return "interrupted"
            if self.job.deadline is not None and time.time() >= self.job.deadline:
                return "timeout"
            optuna.storages.fail_stale_trials(study)
            c = study_mod.counts(study.get_trials(deepcopy=False))
            if c.done >= self.job.n_trials:
                return "done"
            if c.done + c.running >= self.job.n_trials and c.waiting == 0:
                self.interrupted.wait(min(1.0, self.job.heartbeat))  # the last places are taken: see whether they finish
                continue
            self._one(study, (TrialFailed, Surplus))

    def _one(self, study, catch) -> None:
        from rnn_tui.core.control import Control
        from rnn_tui.sweep.trial import Interrupted, run_trial

        self.control = Control()
        if self.interrupted.is_set():
            return
        numbers: list[int] = []

        def objective(trial) -> float:
            numbers.append(trial.number)
            return run_trial(trial, self.job, self.control)

        try:
            study.optimize(objective, n_trials=1, catch=catch)
        except Interrupted:
            self.interrupted.set()
            return
        finally:
            self.control = None
        if numbers:
            self._count_failure(study.get_trials(deepcopy=False)[numbers[0]])

    def _count_failure(self, t) -> None:
        """Give up after trials in a row fail for reasons of their own (not divergence): a setting
        that never works should not loop until the deadline."""
        reason = t.user_attrs.get("reason", "")
        failed = t.state.name == "FAIL" and not t.user_attrs.get("diverged") and "not needed" not in reason
        self.fails_in_a_row = self.fails_in_a_row + 1 if failed else 0
        if self.fails_in_a_row >= MAX_FAILS_IN_A_ROW:
            raise UserError(f"{MAX_FAILS_IN_A_ROW} trials in a row failed; the last: {reason}")


def job_from_json(text: str):
    from rnn_tui.sweep.trial import Job

    data = json.loads(text)
    data["sets"], data["params"] = tuple(data["sets"]), tuple(data["params"])
    return Job(**data)


def _die_with_parent() -> None:
    """Linux: this worker gets SIGKILL when the `rnn-tui sweep` that started it dies, like a trial run
    in that process would (its trial then goes stale and is retried)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    _die_with_parent()
    worker = Worker(job_from_json(argv[0]))

    def on_sigint(signum, frame) -> None:
        if worker.interrupted.is_set():
            raise KeyboardInterrupt
        worker.interrupt()

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigint)
    try:
        return 130 if worker.run() == "interrupted" else 0
    except UserError as exc:
        print(f"rnn-tui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
