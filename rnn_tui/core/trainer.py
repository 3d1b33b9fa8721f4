"""The training engine: builds data, model and a step runner from a Config, runs the epochs, rolls
out and scores, and ends in a typed `Summary`.

It never draws: it reports through `on_event(event)` (see events.py) and obeys a `Control`
(stop, pause, a learning-rate change) that another thread may set at any time. How a step is
taken (eagerly, replayed from a CUDA graph, or a closed-form fit) is the runner's business
(steps.py); the epoch loop here is the same for all of them.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from rnn_tui.config import Config
from rnn_tui.core import events as ev
from rnn_tui.core import threads
from rnn_tui.core.control import Control
from rnn_tui.core.closed_form import fit_readout
from rnn_tui.core.data import Prepared, prepare
from rnn_tui.core.evaluate import evaluate
from rnn_tui.core.scoring import scoring
from rnn_tui.core.losses import mean_loss, units_rmse, window_loss
from rnn_tui.core.optim import Schedule, current_lr, grad_norm, lbfgs_polish, make_optimizer, set_lr
from rnn_tui.core.results import Evaluation, Forecast, Summary
from rnn_tui.core.rollout import display_forecast
from rnn_tui.core.steps import BadStep, ClosedFormRunner, EagerRunner, GraphRunner, StepRunner, StepStats
from rnn_tui.errors import UserError
from rnn_tui.kernels import cudagraph
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.registry import build
from rnn_tui.work import Work

__all__ = ["Control", "RunResult", "train", "grad_norm", "make_optimizer", "window_loss"]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run leaves behind (the files of a run are written from this by runio)."""

    summary: Summary
    config: Config
    model: torch.nn.Module | None = None
    prep: Prepared | None = None
    history: list[ev.EpochEnd] = field(default_factory=list)  # one event per epoch (metrics.jsonl rows)
    forecast: Forecast | None = None  # the last forecast shown
    state: dict | None = None  # what `--resume` needs to go on (resume.checkpoint), for trained models

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def message(self) -> str:
        return self.summary.message


@dataclass(frozen=True)
class Divergence:
    """Where a run stopped on a step that was not finite (that step changed no weights)."""

    epoch: int
    step: int  # 1-based, within the epoch
    lr: float  # the learning rate it happened at
    bad: BadStep

    @property
    def message(self) -> str:
        text = f"non-finite {self.bad.what} at epoch {self.epoch}, step {self.step} (train.lr = {self.lr:g})"
        if self.bad.undone:
            text += "; the step before it made the weights non-finite and is undone"
        return text


@dataclass
class EpochOutcome:
    """What one pass over the training windows gave: its good steps, or a divergence, or a cancel."""

    steps: list[StepStats]
    divergence: Divergence | None = None
    cancelled: bool = False


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("train.device = 'cuda' but no CUDA device is available; use auto or cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train(cfg: Config, on_event: Callable[[ev.Event], None] | None = None, control: Control | None = None,
          resume: dict | None = None) -> RunResult:
    """Run one configuration to the end (or to a stop), or go on from a checkpoint (`resume`, see
    resume.py) up to `cfg.train.epochs`. Raises UserError for bad input found at set-up."""
    threads = torch.get_num_threads()
    trainer = None
    try:
        if cfg.train.ensemble > 1:  # K members at once, batched (rnn_tui/ensemble/)
            from rnn_tui.ensemble.trainer import EnsembleTrainer

            trainer = EnsembleTrainer(cfg, on_event, control, resume)
        else:
            trainer = Trainer(cfg, on_event, control, resume)
        return trainer.run()
    finally:
        torch.set_num_threads(threads)  # the thread count applies to this run only
        if trainer is not None and trainer.claim is not None:
            trainer.claim.release()


class Trainer:
    """One run. `__init__` sets up (data, model, step runner); `run` trains, forecasts and scores."""

    def __init__(self, cfg: Config, on_event: Callable[[ev.Event], None] | None, control: Control | None,
                 resume: dict | None = None) -> None:
        self.cfg, self.emit, self.control = cfg, on_event or (lambda e: None), control or Control()
        self.wall0 = time.perf_counter()
        t = cfg.train
        torch.manual_seed(t.seed)
        np.random.seed(t.seed)
        self.device = pick_device(t.device)
        dtype = torch.float64 if t.dtype == "float64" else torch.float32
        self.prep = prepare(cfg, self.device, dtype)
        spec = ModelSpec(dim=self.prep.dim, seq_len=t.seq_len, field=self.prep.traj.kind == "field", dt=self.prep.traj.dt)
        self.model = build(spec, cfg.model).to(device=self.device, dtype=dtype)
        self.model.check_training_data(self.prep.n_train)  # before Started: a run folder is made only for a run that can train
        self.claim = None
        if self.device.type == "cpu":  # one thread for small steps, never more than other runs leave free
            work = cfg.model.footprint(self.prep.dim, t.seq_len, min(t.batch_size, len(self.prep.train_starts)))[1]
            self.claim = threads.choose(t.threads, work)
            torch.set_num_threads(self.claim.n)
            self.claim.announce()
        self.n_train = len(self.prep.train_starts)
        self.opt: torch.optim.Optimizer | None = None
        self.runner = self._make_runner()
        self.epochs = t.epochs if self.runner.optimises else 1
        self.steps_per_epoch = max(1, math.ceil(self.n_train / self.batch))
        self.schedule = Schedule(cfg, self.opt, self.epochs * self.steps_per_epoch) if self.opt is not None else None
        self.history: list[ev.EpochEnd] = []
        self.forecast: Forecast | None = None
        self.step = 0
        self.gen = torch.Generator(device="cpu").manual_seed(t.seed)  # the order of the training windows
        self.best_val, self.best_state, self.since_best = float("inf"), None, 0
        self.first_epoch, self.earlier_train_s = 1, 0.0  # a resumed run goes on after its checkpoint
        if resume is not None:
            from rnn_tui.core import resume as resume_mod

            resume_mod.restore(self, resume)

    def _make_runner(self) -> StepRunner:
        model, prep, t = self.model, self.prep, self.cfg.train
        if not model.trainable:
            self.batch = self.n_train
            work = Work(self.control.stop, self.emit)  # issue 23: the fit and its scoring report their phases
            return ClosedFormRunner(lambda: fit_readout(model, prep, work, scoring(self.cfg, prep.traj.dt, truth=False)))
        self.batch = min(t.batch_size, self.n_train)
        params = [p for p in model.parameters() if p.requires_grad]
        self.params = params
        seq_loss = t.seq_loss and t.rollout_steps == 1
        loss_fn = lambda starts: window_loss(model, prep, starts, prep.inputs, seq_loss)  # noqa: E731
        clip = t.clip_grad_norm if t.clip_grad_norm > 0 else float("inf")
        reason = cudagraph.eligibility(self.device, self.cfg, model)
        if reason is None:
            self.opt = cudagraph.make_capturable_optimizer(self.cfg, params, self.device)
            return GraphRunner(model, self.opt, params, loss_fn, clip, self.batch, capture=self.device.type == "cuda")
        self.opt = make_optimizer(self.cfg, params)
        return EagerRunner(self.opt, params, loss_fn, clip, reason)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> RunResult:
        n_threads = self.claim.n if self.claim is not None else None
        self.emit(ev.Started(str(self.device), self.model.num_params(), self.n_train, len(self.prep.val_starts), self.epochs,
                             self.steps_per_epoch if self.runner.optimises else 0, self.runner.mode, n_threads))
        log.info("training %s/%s on %s (%s)", self.cfg.system.name, self.cfg.model.arch, self.device, self.runner.mode)
        self.t0 = time.perf_counter() - self.earlier_train_s  # training starts now (a resumed run: its time so far counts)
        self.model.train()
        status, message = self._epochs()
        state = None
        if self.runner.optimises and self.history:
            from rnn_tui.core import resume

            state = resume.checkpoint(self)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        if status == "diverged":
            message += "; the last finite weights are kept. Try a lower train.lr or set train.clip_grad_norm (e.g. 1.0)"
            log.warning("diverged: %s", message)
        evaluation, note = self._score(status)
        summary = self._summary(status, message, evaluation, note)
        self.emit(ev.Finished(summary))
        return RunResult(summary, self.cfg, self.model, self.prep, self.history, self.forecast, state)

    def _epochs(self) -> tuple[str, str]:
        """Train epoch after epoch; returns (status, message)."""
        for epoch in range(self.first_epoch, self.epochs + 1):
            e0 = time.perf_counter()
            out = self._epoch(epoch)
            if out.divergence is not None:
                if out.divergence.bad.undone:
                    self.step -= 1  # the step before it was counted, and is undone
                return "diverged", out.divergence.message
            if out.cancelled:
                if out.steps:
                    self._record(epoch, out.steps, float(np.mean([s.loss for s in out.steps])), time.perf_counter() - e0)
                return "cancelled", ""
            train_loss = float(np.mean([s.loss for s in out.steps]))
            if epoch == self.epochs and self.cfg.train.lbfgs_steps > 0 and self.runner.optimises:
                train_loss = self._polish()
            e = self._record(epoch, out.steps, train_loss, time.perf_counter() - e0)
            if self.schedule is not None:
                self.schedule.after_epoch(e.val_loss, e.train_loss)
            every = self.cfg.rollout.every
            if every and epoch % every == 0 and epoch != self.epochs:
                self._forecast(epoch)
            patience = self.cfg.train.early_stop_patience
            if patience and self.since_best >= patience:
                return "finished", f"early stop at epoch {epoch}: no better validation loss for {self.since_best} epochs"
        return "finished", ""

    def _epoch(self, epoch: int) -> EpochOutcome:
        """One pass over the training windows in a fresh random order, batch by batch; the control is
        read before every step (stop, pause, a new learning rate)."""
        perm = self.prep.train_starts[torch.randperm(self.n_train, generator=self.gen).to(self.device)]
        runner, done = self.runner, []
        for b in range(self.steps_per_epoch):
            self.control.wait_if_paused()
            if self.control.stop.is_set():
                return self._drained(epoch, done, cancelled=True)
            lr = self.control.take_lr()
            if lr is not None and self.opt is not None:
                set_lr(self.opt, lr)
            runner.step(perm[b * self.batch : (b + 1) * self.batch])
            if self.schedule is not None:
                self.schedule.after_step()
            if runner.pending >= runner.check_every or b == self.steps_per_epoch - 1:
                out = self._drained(epoch, done)
                if out.divergence is not None:
                    return out
        if self.control.stop.is_set() and len(done) < self.steps_per_epoch:  # a step that stopped inside (the closed-form fit)
            return EpochOutcome(done, cancelled=True)
        return EpochOutcome(done)

    def _drained(self, epoch: int, done: list[StepStats], cancelled: bool = False) -> EpochOutcome:
        """Take the runner's results into this epoch's steps; a bad step ends the epoch (and the run)."""
        good, bad = self.runner.drain()
        done += good
        if self.runner.optimises:
            self.step += len(good)
        if bad is not None:
            return EpochOutcome(done, Divergence(epoch, len(done) + 1, current_lr(self.opt), bad))
        return EpochOutcome(done, cancelled=cancelled)

    def _polish(self) -> float:
        model, prep = self.model, self.prep
        return lbfgs_polish(model, self.params, self.cfg.train.lbfgs_steps,
                            lambda: window_loss(model, prep, prep.train_starts, prep.inputs, False),
                            lambda: mean_loss(model, prep, prep.train_starts, prep.inputs), self.control.stop)

    def _record(self, epoch: int, steps: list[StepStats], train_loss: float, seconds: float) -> ev.EpochEnd:
        """Validate, track the best weights (early stopping), and report the epoch."""
        # Validation is always the next-step error after the full window (comparable across settings).
        report = getattr(self.runner, "report", None)  # issue 23: a closed-form fit scored its windows already
        val_loss = report.val_loss if report is not None else mean_loss(self.model, self.prep, self.prep.val_starts, self.prep.clean)
        watched = val_loss if math.isfinite(val_loss) else train_loss
        if watched < self.best_val:
            self.best_val, self.since_best = watched, 0
            if self.cfg.train.early_stop_patience:
                self.best_state = copy.deepcopy(self.model.state_dict())
        else:
            self.since_best += 1
        norms = tuple(s.grad_norm for s in steps) if self.runner.optimises else ()
        e = ev.EpochEnd(
            epoch=epoch, epochs=self.epochs, train_loss=train_loss, val_loss=val_loss,
            train_rmse_units=units_rmse(train_loss, self.prep), val_rmse_units=units_rmse(val_loss, self.prep),
            grad_norm=float(np.mean(norms)) if norms else 0.0, grad_norms=norms, lr=current_lr(self.opt),
            elapsed_s=time.perf_counter() - self.t0, samples_per_s=len(steps) * self.batch / seconds if seconds > 0 else 0.0,
            step=self.step, best_val_loss=self.best_val,
        )
        self.history.append(e)
        self.emit(e)
        return e

    def _forecast(self, epoch: int) -> None:
        self.forecast = display_forecast(self.model, self.prep, self.cfg.rollout.horizon, self.cfg.rollout.mode, epoch)
        self.emit(ev.ForecastReady(self.forecast))

    def _score(self, status: str) -> tuple[Evaluation | None, str]:
        """The last forecast and the test-split scores (skipped for a cancelled run: stop means stop)."""
        try:
            if status == "diverged" and not self.history:
                return None, ""
            self._forecast(self.history[-1].epoch if self.history else 0)
            if status == "cancelled":
                return None, "skipped: the run was cancelled"
            sc = scoring(self.cfg, self.prep.traj.dt)  # None exponent away from where it was measured
            scores = evaluate(self.model, self.prep, sc.horizon, sc.lyapunov, mode=self.cfg.rollout.mode, stop=self.control.stop,
                              threshold=sc.threshold, truth_time=sc.truth.time if sc.truth else None,
                              work=Work(None, self.emit))  # issue 23: scoring's progress (stop stays as it was)
            return scores, "" if scores is not None else "skipped: the run was stopped during the evaluation"
        except (RuntimeError, ValueError) as exc:  # a model too broken to roll out still gets a summary
            return None, str(exc).splitlines()[0]

    def _fit_seconds(self) -> float | None:
        fit = self.runner.fit_seconds if isinstance(self.runner, ClosedFormRunner) else None
        return round(fit, 3) if fit is not None else None

    def train_seconds(self) -> float:
        return time.perf_counter() - self.t0

    def _summary(self, status: str, message: str, evaluation: Evaluation | None, note: str) -> Summary:
        last = self.history[-1] if self.history else None
        prep = self.prep
        return Summary(
            status=status, message=message, system=self.cfg.system.name, arch=self.cfg.model.arch,
            epochs_run=last.epoch if last else 0, steps=self.step,
            final_train_loss=last.train_loss if last else None, final_val_loss=last.val_loss if last else None,
            best_val_loss=self.best_val, final_val_rmse_units=last.val_rmse_units if last else None,
            n_params=self.model.num_params(), device=str(self.device), step_mode=self.runner.mode, dtype=self.cfg.train.dtype,
            threads=self.claim.n if self.claim is not None else None,
            threads_reason=self.claim.reason if self.claim is not None else "",
            n_train_windows=self.n_train, n_val_windows=len(prep.val_starts),
            split_samples={"train": prep.n_train, "val": prep.n_val, "test": prep.n_test},
            wall_time_s=round(time.perf_counter() - self.wall0, 3), train_time_s=round(self.train_seconds(), 3),
            evaluation=evaluation, evaluation_note=note,
            fit_time_s=self._fit_seconds(), readout=getattr(self.runner, "report", None),  # issue 23
        )
