"""The training engine: builds data, model and a step runner from a Config, runs the epochs, rolls
out and scores, and ends in a typed `Summary`.

A run is K >= 1 members (train.ensemble = K; an ordinary run is K = 1): member j is built and
shuffled from seed train.seed + j, and its run (losses, divergence, early stopping, L-BFGS polish,
forecast and scores) is its own. One member trains as its own network on the fused and CUDA-graph
runners; K > 1 train as one batched network (models/stacked.py). The epoch loop, the scoring, the
summary and the checkpoint (core/resume.py) are the same for both: how a step is taken (eagerly,
replayed from a CUDA graph, batched over members, or a closed-form fit) is the runner's business
(steps.py).

It never draws: it reports through `on_event(event)` (see events.py) and obeys a `Control`
(stop, pause, a learning-rate change) that another thread may set at any time.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from rnn_tui.config import Config
from rnn_tui.core import events as ev
from rnn_tui.core import resume as resume_mod
from rnn_tui.core import threads
from rnn_tui.core.climate import ClimateView, evaluate_climate
from rnn_tui.core.closed_form import fit_readout
from rnn_tui.core.control import Control
from rnn_tui.core.data import Prepared, prepare
from rnn_tui.core.evaluate import evaluate_members
from rnn_tui.core.losses import mean_losses, member_losses, units_rmse, window_loss
from rnn_tui.core.member_optim import MemberOptimizer, MemberSchedules
from rnn_tui.core.members import BestWeights, Member, median, run_status
from rnn_tui.core.optim import Schedules, lbfgs_polish, make_optimizer
from rnn_tui.core.probing import Probe, probe_model
from rnn_tui.core.results import EnsembleResult, Evaluation, Forecast, Summary
from rnn_tui.core.rollout import display_forecast
from rnn_tui.core.scoring import scoring
from rnn_tui.core.steps import (BadStep, ClosedFormFit, ClosedFormRunner, Drained, EagerRunner, GraphRunner, MemberRunner,
                                MembersGraphRunner, StepRunner)
from rnn_tui.errors import Stopped, UserError
from rnn_tui.inside.results import InspectSummary
from rnn_tui.kernels import cudagraph
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.registry import build, stack
from rnn_tui.work import Work

__all__ = ["Control", "RunResult", "train"]

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
    inspect: dict | None = None  # inspect.npz's arrays (core/probing.py), where the model was probed
    climate_view: ClimateView | None = None  # [climate] enabled: the long runs, spectra and histograms for the app

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def message(self) -> str:
        return self.summary.message


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
    n_threads = torch.get_num_threads()
    trainer = None
    try:
        try:
            trainer = Trainer(cfg, on_event, control, resume)
        except Stopped:  # stopped while integrating the truth: nothing was trained, nothing is kept
            raise UserError(f"stopped while integrating {cfg.system.name} (before training): nothing was trained") from None
        return trainer.run()
    finally:
        torch.set_num_threads(n_threads)  # the thread count applies to this run only
        if trainer is not None and trainer.claim is not None:
            trainer.claim.release()


class Trainer:
    """One run of K >= 1 members. `__init__` sets up (data, model, step runner); `run` trains,
    forecasts and scores."""

    def __init__(self, cfg: Config, on_event: Callable[[ev.Event], None] | None, control: Control | None,
                 resume: dict | None = None) -> None:
        self.cfg, self.emit, self.control = cfg, on_event or (lambda e: None), control or Control()
        self.work = Work(self.control.stop, self.emit)  # long phases: stop within a second, report progress
        self.wall0 = time.perf_counter()
        self.claim = None
        t = cfg.train
        self.k = t.ensemble
        torch.manual_seed(t.seed)
        np.random.seed(t.seed)
        self.device = pick_device(t.device)
        self.dtype = torch.float64 if t.dtype == "float64" else torch.float32
        self.prep = prepare(cfg, self.device, self.dtype, work=self.work)
        self.nets, self.model = self._build()
        self.nets[0].check_training_data(self.prep.n_train)  # before Started: a run folder is made only for a run that can train
        self.n_train = len(self.prep.train_starts)
        self._claim_threads()
        self.members = [Member(t.seed + j) for j in range(self.k)]
        trainable = self.model.trainable  # else one closed-form fit on every training window
        self.batch = min(t.batch_size, self.n_train) if trainable else self.n_train
        self.epochs = t.epochs if trainable else 1
        self.steps_per_epoch = max(1, math.ceil(self.n_train / self.batch))
        self.opt, self.schedules = None, None
        self.runner = self._make_runner()
        # each member's order of the training windows, from its own seed (as its own run draws it)
        self.gens = [torch.Generator(device="cpu").manual_seed(t.seed + j) for j in range(self.k)]
        self.best = BestWeights(self.model, enabled=bool(t.early_stop_patience) and self.runner.optimises)
        self.history: list[ev.EpochEnd] = []
        self.forecast: Forecast | None = None
        self.batched = 0  # calls of the runner's step (K > 1: each is every training member's step)
        self.first_epoch, self.earlier_train_s = 1, 0.0  # a resumed run goes on after its checkpoint
        self.probe = Probe(self.prep, t.seq_len, cfg.rollout.horizon)
        if resume is not None:
            resume_mod.restore(self, resume)

    def _build(self) -> tuple[list, torch.nn.Module]:
        """Member j's network built after seeding with train.seed + j (so exactly the weights of the
        run with that seed); K > 1 stacked into one batched model."""
        t, prep = self.cfg.train, self.prep
        spec = ModelSpec(dim=prep.dim, seq_len=t.seq_len, field=prep.traj.kind == "field", dt=prep.traj.dt)
        nets = []
        for j in range(self.k):
            torch.manual_seed(t.seed + j)
            nets.append(build(spec, self.cfg.model).to(device=self.device, dtype=self.dtype))
        return nets, (nets[0] if self.k == 1 else stack(spec, self.cfg.model, nets))

    def _claim_threads(self) -> None:
        """On the CPU: one thread for small steps, never more than other runs leave free (the rule on
        the work of all members together)."""
        if self.device.type != "cpu":
            return
        t = self.cfg.train
        work = self.cfg.model.footprint(self.prep.dim, t.seq_len, min(t.batch_size, self.n_train))[1] * self.k
        self.claim = threads.choose(t.threads, work)
        torch.set_num_threads(self.claim.n)
        self.claim.announce()

    def _make_runner(self) -> StepRunner:
        """The runner for this run, with its optimiser (`opt`) and each member's learning-rate schedule
        (`schedules`) where it optimises."""
        model, prep, t = self.model, self.prep, self.cfg.train
        if not model.trainable:
            return ClosedFormRunner(self._fit_closed_form, self.k)
        seq_loss = t.seq_loss and t.rollout_steps == 1
        clip = t.clip_grad_norm if t.clip_grad_norm > 0 else math.inf
        reason = cudagraph.eligibility(self.device, self.cfg, model)
        capture, total = self.device.type == "cuda", self.epochs * self.steps_per_epoch
        if self.k > 1:
            self.opt = MemberOptimizer(self.cfg, model.flat)
            self.schedules = MemberSchedules(self.cfg, self.k, total)
            loss_fn = lambda starts: member_losses(model, prep, starts, prep.inputs, seq_loss)  # noqa: E731
            if reason is None:
                return MembersGraphRunner(model, self.opt, self.schedules, loss_fn, clip, self.batch, capture)
            return MemberRunner(model, self.opt, self.schedules, loss_fn, clip)
        params = [p for p in model.parameters() if p.requires_grad]
        loss_fn = lambda starts: window_loss(model, prep, starts, prep.inputs, seq_loss)  # noqa: E731
        if reason is None:
            self.opt = cudagraph.make_capturable_optimizer(self.cfg, params, self.device)
            runner: StepRunner = GraphRunner(model, self.opt, params, loss_fn, clip, self.batch, capture)
        else:
            self.opt = make_optimizer(self.cfg, params)
            runner = EagerRunner(self.opt, params, loss_fn, clip, reason)
        self.schedules = Schedules(self.cfg, self.opt, total)
        return runner

    def _fit_closed_form(self) -> ClosedFormFit | None:
        """One model: core/closed_form.py fits the readout, scores the ridge path on validation and
        gives the losses from one pass over each split's windows. K > 1 members: every member's
        readout in one batched solve, their training losses by the trainer's rule."""
        model, prep = self.model, self.prep
        if self.k == 1:
            report = fit_readout(model, prep, self.work, scoring(self.cfg, prep.traj.dt, truth=False))
            return None if report is None else ClosedFormFit((report.train_loss,), (report.val_loss,), report.fit_s, report)
        t0 = time.perf_counter()
        if not model.fit_closed_form(prep.inputs[: prep.n_train], self.work):
            return None
        seconds = time.perf_counter() - t0
        return ClosedFormFit(tuple(mean_losses(model, prep, prep.train_starts, prep.inputs)), None, seconds)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> RunResult:
        self.emit(ev.Started(str(self.device), self.model.num_params(), self.n_train, len(self.prep.val_starts), self.epochs,
                             self.steps_per_epoch if self.runner.optimises else 0, self.runner.mode,
                             self.claim.n if self.claim is not None else None, ensemble=self.k))
        models = f"{self.k} x " if self.k > 1 else ""
        log.info("training %s%s/%s on %s (%s)", models, self.cfg.system.name, self.cfg.model.arch, self.device, self.runner.mode)
        self.t0 = time.perf_counter() - self.earlier_train_s  # training starts now (a resumed run: its time so far counts)
        self.model.train()
        cancelled = self._epochs()
        if self.history and self.probe.epochs and self.probe.epochs[-1] != self.history[-1].epoch:
            self._inspect(self.history[-1].epoch, True)  # stopped early or cancelled: the last epoch's probe
        state = resume_mod.checkpoint(self) if self.runner.optimises and self.history else None
        for m in self.members:  # after the checkpoint: a resumed run goes on with the members still training
            if m.training:
                m.status = "cancelled" if cancelled else "finished"
        self.best.restore()  # as one run: the best weights of early stopping are kept
        status, message = run_status(self.members, cancelled)
        if status == "diverged":
            log.warning("diverged: %s", message)
        evaluation, members_eval, note = self._score(status)
        climate, view = self._climate(status, evaluation)
        summary = self._summary(status, message, evaluation, members_eval, note, climate)
        self.emit(ev.Finished(summary))
        probed = self.probe.arrays() if self.probe.epochs else None
        return RunResult(summary, self.cfg, self.model, self.prep, self.history, self.forecast, state, probed, view)

    def _epochs(self) -> bool:
        """Train epoch after epoch until every member has stopped; True when cancelled."""
        patience = self.cfg.train.early_stop_patience
        for epoch in range(self.first_epoch, self.epochs + 1):
            e0 = time.perf_counter()
            cancelled = self._epoch(epoch)
            trained = [m.training and bool(m.epoch_losses) for m in self.members]
            if cancelled:
                if any(trained):
                    self._record(epoch, trained, self._epoch_losses(trained), time.perf_counter() - e0)
                return True
            if not any(trained):  # every member still training diverged in this epoch: nothing to record
                break
            losses = self._epoch_losses(trained)
            if epoch == self.epochs and self.cfg.train.lbfgs_steps > 0 and self.runner.optimises:
                losses = self._polish(trained, losses)
            vals = self._record(epoch, trained, losses, time.perf_counter() - e0)
            self._inspect(epoch, epoch == self.epochs)
            if self.schedules is not None:
                self.schedules.after_epoch(vals, losses, trained)
            every = self.cfg.rollout.every
            if every and epoch % every == 0 and epoch != self.epochs:
                self._forecast(epoch)
            for j, m in enumerate(self.members):
                if m.training and patience and m.since_best >= patience:
                    m.status = "finished"
                    m.message = f"early stop at epoch {epoch}: no better validation loss for {m.since_best} epochs"
                    self.runner.freeze(j)
            if not any(m.training for m in self.members):
                break
        return False

    def _inspect(self, epoch: int, last: bool) -> None:
        """Probe the model after `epoch` where train.inspect or the app's Inside view asks and it is due
        (core/probing.py: the probe's time budget)."""
        if self.probe.due(epoch, self.train_seconds(), last, self.cfg.train.inspect, self.control.inspect.is_set()):
            self.emit(ev.InsideReady(epoch, self.probe(probe_model(self), epoch)))

    def _epoch(self, epoch: int) -> bool:
        """One pass of every training member over its own fresh order of the windows, batch by batch;
        the control is read before every step (stop, pause, a new learning rate). True when cancelled."""
        for m in self.members:
            m.epoch_losses, m.epoch_norms = [], []
        prep, runner = self.prep, self.runner
        perms = torch.stack([prep.train_starts[torch.randperm(self.n_train, generator=g).to(self.device)] for g in self.gens])
        for b in range(self.steps_per_epoch):
            self.control.wait_if_paused()
            if self.control.stop.is_set():
                self._take(epoch, runner.drain())
                return True
            lr = self.control.take_lr()
            if lr is not None and self.schedules is not None:
                self.schedules.set_all(lr)
            runner.step(perms[:, b * self.batch : (b + 1) * self.batch])
            if self.schedules is not None:
                self.schedules.after_step()
            if runner.optimises:
                self.batched += 1
            if runner.pending >= runner.check_every or b == self.steps_per_epoch - 1:
                self._take(epoch, runner.drain())
                if not any(m.training for m in self.members):
                    return False
        # a step that stopped inside (the closed-form fit) is a cancel
        return self.control.stop.is_set() and not any(m.epoch_losses for m in self.members)

    def _take(self, epoch: int, out: Drained) -> None:
        """Each member's steps into its record; a member whose step was not finite diverges there
        (its epoch is not recorded: frozen where its own run stops)."""
        for j, steps in enumerate(out.steps):
            m = self.members[j]
            for s in steps:
                m.epoch_losses.append(s.loss)
                m.epoch_norms.append(s.grad_norm)
            if self.runner.optimises:
                m.steps += len(steps)
        for j, bad in sorted(out.bad.items()):
            self._diverged(epoch, j, bad)

    def _diverged(self, epoch: int, j: int, bad: BadStep) -> None:
        m = self.members[j]
        lr = self.schedules.rates()[j] if self.schedules is not None else 0.0
        m.message = f"non-finite {bad.what} at epoch {epoch}, step {len(m.epoch_losses) + 1} (train.lr = {lr:g})"
        if bad.undone:
            m.steps -= 1
            m.message += "; the step before it made the weights non-finite and is undone"
        m.status = "diverged"
        m.epoch_losses, m.epoch_norms = [], []  # an epoch that diverges is not recorded
        log.warning("member seed %d diverged: %s", m.seed, m.message)

    def _epoch_losses(self, trained: list[bool]) -> list[float]:
        """Each member's mean step loss this epoch (NaN for those that did not train)."""
        return [float(np.mean(m.epoch_losses)) if t else math.nan for m, t in zip(self.members, trained)]

    def _polish(self, trained: list[bool], losses: list[float]) -> list[float]:
        """The L-BFGS polish of each member that reached the last epoch, one at a time (a line search
        per member does not batch), on an ordinary model holding that member's weights."""
        prep, out = self.prep, list(losses)
        for j, (net, t) in enumerate(zip(self.nets, trained)):
            if not t:
                continue
            if self.k > 1:
                self.model.load_member(j, net).train()
            params = [p for p in net.parameters() if p.requires_grad]
            out[j] = lbfgs_polish(net, params, self.cfg.train.lbfgs_steps,
                                  lambda: window_loss(net, prep, prep.train_starts, prep.inputs, False),
                                  lambda: float(mean_losses(net, prep, prep.train_starts, prep.inputs)[0]), self.control.stop)
            if self.k > 1:
                self.model.store_member(j, net)
        return out

    def _record(self, epoch: int, trained: list[bool], losses: list[float], seconds: float) -> list[float]:
        """Validate every member, track each one's best (early stopping), report the epoch; returns
        the members' validation losses. The epoch's losses are the median member's (one member: its own)."""
        prep = self.prep
        # Validation is always the next-step error after the full window (comparable across settings);
        # a closed-form fit has scored its validation windows already.
        fitted = self.runner.result if isinstance(self.runner, ClosedFormRunner) else None
        if fitted is not None and fitted.val_losses is not None:
            vals = list(fitted.val_losses)
        else:
            vals = mean_losses(self.model, prep, prep.val_starts, prep.clean).tolist()
        improved = []
        for j, (m, t) in enumerate(zip(self.members, trained)):
            if t:
                if m.watch(vals[j], losses[j]):
                    improved.append(j)
                m.epochs_run, m.final_train, m.final_val = epoch, losses[j], vals[j]
        self.best.keep(improved)
        train_m = [v if t else math.nan for v, t in zip(losses, trained)]
        val_m = [v if t else math.nan for v, t in zip(vals, trained)]
        norms = [n for m, t in zip(self.members, trained) if t for n in m.epoch_norms] if self.runner.optimises else []
        rates = [r for r, t in zip(self.schedules.rates(), trained) if t] if self.schedules is not None else [0.0]
        train_loss, val_loss = median(train_m), median(val_m)
        e = ev.EpochEnd(
            epoch=epoch, epochs=self.epochs, train_loss=train_loss, val_loss=val_loss,
            train_rmse_units=units_rmse(train_loss, prep), val_rmse_units=units_rmse(val_loss, prep),
            grad_norm=float(np.mean(norms)) if norms else 0.0, grad_norms=self._median_norms(trained), lr=float(np.median(rates)),
            elapsed_s=time.perf_counter() - self.t0,
            samples_per_s=sum(len(m.epoch_losses) for m in self.members) * self.batch / seconds if seconds > 0 else 0.0,
            step=self.step, best_val_loss=min(m.best_val for m in self.members),
            members_train_loss=tuple(train_m) if self.k > 1 else (), members_val_loss=tuple(val_m) if self.k > 1 else (),
        )
        self.history.append(e)
        self.emit(e)
        return vals

    def _median_norms(self, trained: list[bool]) -> tuple[float, ...]:
        """The median gradient norm of the members at each step of this epoch (one member: its own)."""
        if not self.runner.optimises:
            return ()
        runs = [m.epoch_norms for m, t in zip(self.members, trained) if t]
        if len(runs) == 1:
            return tuple(runs[0])
        n = max((len(r) for r in runs), default=0)
        return tuple(float(np.median([r[i] for r in runs if i < len(r)])) for i in range(n))

    def _use(self) -> np.ndarray:
        """The members in the mean forecast: those that did not diverge."""
        return np.array([m.status != "diverged" for m in self.members])

    def _forecast(self, epoch: int) -> None:
        r = self.cfg.rollout
        self.forecast = display_forecast(self.model, self.prep, r.horizon, r.mode, epoch, self._use())
        self.emit(ev.ForecastReady(self.forecast))

    def _score(self, status: str) -> tuple[Evaluation | None, list[Evaluation | None], str]:
        """The last forecast and the test-split scores: of the (mean) forecast, and of each member
        when K > 1 (skipped for a cancelled run: stop means stop)."""
        none: list[Evaluation | None] = [None] * self.k if self.k > 1 else []
        try:
            if status == "diverged" and not self.history:
                return None, none, ""
            self._forecast(self.history[-1].epoch if self.history else 0)
            if status == "cancelled":
                return None, none, "skipped: the run was cancelled"
            cfg = self.cfg
            sc = scoring(cfg, self.prep.traj.dt)  # None exponent away from where it was measured
            scores = evaluate_members(self.model, self.prep, sc.horizon, sc.lyapunov, mode=cfg.rollout.mode, stop=self.control.stop,
                                      threshold=sc.threshold, truth_time=sc.truth.time if sc.truth else None, use=self._use(),
                                      work=self.work)
            if scores is None:
                return None, none, "skipped: the run was stopped during the evaluation"
            mean, members = scores
            # a member that never finished an epoch has no forecast of its own, as its own run would not
            return mean, [e if m.epochs_run else None for e, m in zip(members, self.members)], ""
        except (RuntimeError, ValueError) as exc:  # a model too broken to roll out still gets a summary
            return None, none, str(exc).splitlines()[0]

    def _climate(self, status: str, evaluation: Evaluation | None):
        """[climate] enabled, one model that finished and was scored: the long run (core/climate.py).
        (None, None) otherwise, or when stopped during it (stop means stop)."""
        if not self.cfg.climate.enabled or self.k > 1 or status != "finished" or evaluation is None:
            return None, None
        try:
            out = evaluate_climate(self.model, self.prep, self.cfg, self.work)
        except (RuntimeError, ValueError) as exc:  # a model too broken for it still gets its summary
            log.warning("climate: %s", str(exc).splitlines()[0])
            return None, None
        if out is None:
            return None, None
        log.info("%s", out.climate.text())
        return out.climate, out.view

    @property
    def step(self) -> int:
        """Optimisation steps so far: one member's own (a step that was not finite, or one undone, does
        not count); K > 1: the batched steps, every training member's at once."""
        return self.members[0].steps if self.k == 1 else self.batched

    def _fit_seconds(self) -> float | None:
        fit = self.runner.fit_seconds if isinstance(self.runner, ClosedFormRunner) else None
        return round(fit, 3) if fit is not None else None

    def train_seconds(self) -> float:
        return time.perf_counter() - self.t0

    def _summary(self, status: str, message: str, evaluation: Evaluation | None, members_eval: list, note: str,
                 climate=None) -> Summary:
        prep, ms = self.prep, self.members
        final_val = median([m.final_val for m in ms if m.final_val is not None])
        final_train = median([m.final_train for m in ms if m.final_train is not None])
        ran = any(m.epochs_run for m in ms)
        ensemble = None
        if self.k > 1:
            ensemble = EnsembleResult(tuple(m.result(e) for m, e in zip(ms, members_eval)), int(self._use().sum()), float(prep.traj.dt))
        return Summary(
            status=status, message=message, system=self.cfg.system.name, arch=self.cfg.model.arch,
            epochs_run=max(m.epochs_run for m in ms), steps=self.step,
            final_train_loss=final_train if ran else None, final_val_loss=final_val if ran else None,
            best_val_loss=min(m.best_val for m in ms), final_val_rmse_units=units_rmse(final_val, prep) if ran else None,
            n_params=self.model.num_params(), device=str(self.device), step_mode=self.runner.mode, dtype=self.cfg.train.dtype,
            threads=self.claim.n if self.claim is not None else None,
            threads_reason=self.claim.reason if self.claim is not None else "",
            n_train_windows=self.n_train, n_val_windows=len(prep.val_starts),
            split_samples={"train": prep.n_train, "val": prep.n_val, "test": prep.n_test},
            wall_time_s=round(time.perf_counter() - self.wall0, 3), train_time_s=round(self.train_seconds(), 3),
            evaluation=evaluation, evaluation_note=note, ensemble=ensemble, fit_time_s=self._fit_seconds(),
            readout=self.runner.report if isinstance(self.runner, ClosedFormRunner) else None,
            inspect=InspectSummary.of(self.probe.last), climate=climate,
        )
