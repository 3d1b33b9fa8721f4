"""The training engine of an ensemble (train.ensemble = K > 1): K members of one architecture, member
j built and shuffled from seed train.seed + j, trained as one batched model; each member's run
(losses, divergence, early stopping, L-BFGS polish, forecast and scores) is its own, and the run
reports the members' spread and their mean forecast.

The same events and result as core/trainer.py (it is called from `core.trainer.train`); an
epoch's losses are the median of the members still training, with every member's in
`EpochEnd.members_*` (metrics.jsonl); the summary scores the mean forecast and lists every member.
A member that diverges or stops early is frozen where its own run would have ended; the others go
on. A run that optimises writes a state.pt (ensemble/resume.py) that `--resume` goes on from.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import numpy as np
import torch

from rnn_tui.config import Config
from rnn_tui.core import events as ev
from rnn_tui.core import threads
from rnn_tui.core.control import Control
from rnn_tui.core.data import prepare
from rnn_tui.core.losses import mean_loss, units_rmse, window_loss
from rnn_tui.core.optim import lbfgs_polish
from rnn_tui.core.results import EnsembleResult, Evaluation, Forecast, Summary
from rnn_tui.core.scoring import scoring
from rnn_tui.core.trainer import RunResult, pick_device
from rnn_tui.errors import UserError
from rnn_tui.ensemble.forecast import evaluate_members, member_forecast
from rnn_tui.ensemble.losses import member_losses, member_mean_losses
from rnn_tui.ensemble.members import Member, median, run_status
from rnn_tui.ensemble.optim import MemberOptimizer, MemberSchedules
from rnn_tui.ensemble.step import MemberStep
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.registry import build, stack
from rnn_tui.work import Work

log = logging.getLogger(__name__)


class EnsembleTrainer:
    """One ensemble run. `__init__` sets up (data, K members, the batched step); `run` trains and scores."""

    def __init__(self, cfg: Config, on_event: Callable[[ev.Event], None] | None, control: Control | None,
                 resume: dict | None = None) -> None:
        self.cfg, self.emit, self.control = cfg, on_event or (lambda e: None), control or Control()
        self.wall0 = time.perf_counter()
        t = cfg.train
        self.k = k = t.ensemble
        np.random.seed(t.seed)
        self.device = pick_device(t.device)
        self.dtype = torch.float64 if t.dtype == "float64" else torch.float32
        self.prep = prep = prepare(cfg, self.device, self.dtype)
        spec = ModelSpec(dim=prep.dim, seq_len=t.seq_len, field=prep.traj.kind == "field", dt=prep.traj.dt)
        self.members_nets = []
        for j in range(k):  # member j's weights are those of the run with seed + j: the same draws
            torch.manual_seed(t.seed + j)
            self.members_nets.append(build(spec, cfg.model).to(device=self.device, dtype=self.dtype))
        self.members_nets[0].check_training_data(prep.n_train)
        self.model = stack(spec, cfg.model, self.members_nets)
        self.claim = None
        self.n_train = len(prep.train_starts)
        if self.device.type == "cpu":  # the thread rule on the work of all members together
            work = cfg.model.footprint(prep.dim, t.seq_len, min(t.batch_size, self.n_train))[1] * k
            self.claim = threads.choose(t.threads, work)
            torch.set_num_threads(self.claim.n)
            self.claim.announce()
        self.members = [Member(t.seed + j) for j in range(k)]
        self.trainable = self.model.trainable
        self.batch = min(t.batch_size, self.n_train) if self.trainable else self.n_train
        self.epochs = t.epochs if self.trainable else 1
        self.steps_per_epoch = max(1, math.ceil(self.n_train / self.batch))
        self.mode = f"ensemble of {k}, " + ("batched" if self.trainable else "closed form")
        if self.trainable:
            self.opt = MemberOptimizer(cfg, self.model.flat)
            seq_loss = t.seq_loss and t.rollout_steps == 1
            loss_fn = lambda starts: member_losses(self.model, prep, starts, prep.inputs, seq_loss)  # noqa: E731
            self.stepper = MemberStep(self.model, self.opt, loss_fn, t.clip_grad_norm if t.clip_grad_norm > 0 else math.inf)
            self.schedules = MemberSchedules(cfg, k, self.epochs * self.steps_per_epoch)
            # each member's order of the training windows, from its own seed (as its own run draws it)
            self.gens = [torch.Generator(device="cpu").manual_seed(t.seed + j) for j in range(k)]
            self.best_rows = self.model.flat.detach().clone() if t.early_stop_patience else None
        self.step = 0  # batched steps taken
        self.history: list[ev.EpochEnd] = []
        self.forecast: Forecast | None = None
        self.first_epoch, self.earlier_train_s = 1, 0.0  # a resumed run goes on after its checkpoint
        if resume is not None:
            if not self.trainable:
                raise UserError("--resume: a closed-form ensemble has nothing to go on with (its fit is one step)")
            from rnn_tui.ensemble import resume as resume_mod

            resume_mod.restore(self, resume)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> RunResult:
        self.emit(ev.Started(str(self.device), self.model.num_params(), self.n_train, len(self.prep.val_starts), self.epochs,
                             self.steps_per_epoch if self.trainable else 0, self.mode,
                             self.claim.n if self.claim is not None else None, ensemble=self.k))
        log.info("training %d x %s/%s on %s", self.k, self.cfg.system.name, self.cfg.model.arch, self.device)
        self.t0 = time.perf_counter() - self.earlier_train_s  # a resumed run: its time so far counts
        self.model.train()
        cancelled = self._epochs()
        state = None
        if self.trainable and self.history:
            from rnn_tui.ensemble import resume

            state = resume.checkpoint(self)  # before the members still training are marked finished
        for j, m in enumerate(self.members):
            if m.training:
                m.status = "cancelled" if cancelled else "finished"
            if self.trainable and m.has_best:  # as one run: the best weights of early stopping are kept
                with torch.no_grad():
                    self.model.flat[j].copy_(self.best_rows[j])
        status, message = run_status(self.members, cancelled)
        evaluation, members_eval, note = self._score(status)
        summary = self._summary(status, message, evaluation, members_eval, note)
        self.emit(ev.Finished(summary))
        return RunResult(summary, self.cfg, self.model, self.prep, self.history, self.forecast, state)

    def train_seconds(self) -> float:
        return time.perf_counter() - self.t0

    def _epochs(self) -> bool:
        """Train epoch after epoch until every member has stopped; True when cancelled."""
        patience = self.cfg.train.early_stop_patience
        for epoch in range(self.first_epoch, self.epochs + 1):
            e0 = time.perf_counter()
            cancelled = self._epoch(epoch) if self.trainable else not self._fit()
            trained = [m.training and bool(m.epoch_losses) for m in self.members]
            if cancelled:
                if any(trained):
                    self._record(epoch, trained, self._epoch_losses(trained), time.perf_counter() - e0)
                return True
            if not any(trained):  # every member still training diverged in this epoch: nothing to record
                break
            losses = self._epoch_losses(trained)
            if epoch == self.epochs and self.cfg.train.lbfgs_steps > 0 and self.trainable:
                losses = self._polish(trained, losses)
            vals = self._record(epoch, trained, losses, time.perf_counter() - e0)
            if self.trainable:
                self.schedules.after_epoch(vals, losses, trained)
            every = self.cfg.rollout.every
            if every and epoch % every == 0 and epoch != self.epochs:
                self._forecast(epoch)
            for m in self.members:
                if m.training and patience and m.since_best >= patience:
                    m.status = "finished"
                    m.message = f"early stop at epoch {epoch}: no better validation loss for {m.since_best} epochs"
            if not any(m.training for m in self.members):
                break
        return False

    def _epoch(self, epoch: int) -> bool:
        """One pass of every training member over its own order of the windows; True when cancelled."""
        prep, device = self.prep, self.device
        for m in self.members:
            m.epoch_losses, m.epoch_norms = [], []
        perms = torch.stack([prep.train_starts[torch.randperm(self.n_train, generator=g).to(device)] for g in self.gens])
        training = torch.tensor([m.training for m in self.members], device=device)
        for b in range(self.steps_per_epoch):
            self.control.wait_if_paused()
            if self.control.stop.is_set():
                return True
            lr = self.control.take_lr()
            if lr is not None:
                self.schedules.set_all(lr)
            rates = torch.tensor(self.schedules.rates(), dtype=self.dtype, device=device)
            out = self.stepper.step(perms[:, b * self.batch : (b + 1) * self.batch], training, rates)
            self.schedules.after_step()
            self.step += 1
            losses, norms, taken = out.loss.tolist(), out.grad_norm.tolist(), out.taken.tolist()
            for j, m in enumerate(self.members):
                if taken[j]:
                    m.epoch_losses.append(losses[j])
                    m.epoch_norms.append(norms[j])
                    m.steps += 1
            if bool(out.bad.any()):
                self._diverged(epoch, out, losses)
                training = training & ~out.bad
                if not bool(training.any()):
                    return False
        return False

    def _diverged(self, epoch: int, out, losses: list[float]) -> None:
        """Members whose step was not finite: frozen where their own run stops, with its message."""
        rates = self.schedules.rates()
        for j in torch.nonzero(out.bad).flatten().tolist():
            m = self.members[j]
            what = "loss" if not math.isfinite(losses[j]) else "gradient"
            m.message = f"non-finite {what} at epoch {epoch}, step {len(m.epoch_losses) + 1} (train.lr = {rates[j]:g})"
            if bool(out.undone[j]):
                m.steps -= 1
                m.message += "; the step before it made the weights non-finite and is undone"
            m.status = "diverged"
            m.epoch_losses, m.epoch_norms = [], []  # an epoch that diverges is not recorded
            log.warning("member seed %d diverged: %s", m.seed, m.message)

    def _fit(self) -> bool:
        """The closed-form fit of every member at once (one "step"); False when stopped during it."""
        prep = self.prep
        if not self.model.fit_closed_form(prep.inputs[: prep.n_train], Work(self.control.stop, self.emit)):  # issue 23: phases
            return False
        for m, loss in zip(self.members, member_mean_losses(self.model, prep, prep.train_starts, prep.inputs)):
            m.epoch_losses, m.epoch_norms = [float(loss)], [0.0]
        return True

    def _epoch_losses(self, trained: list[bool]) -> list[float]:
        """Each member's mean step loss this epoch (NaN for those that did not train)."""
        return [float(np.mean(m.epoch_losses)) if t else math.nan for m, t in zip(self.members, trained)]

    def _polish(self, trained: list[bool], losses: list[float]) -> list[float]:
        """The L-BFGS polish of each member that reached the last epoch, one at a time (a line search
        per member does not batch), on an ordinary model holding that member's weights."""
        prep = self.prep
        out = list(losses)
        for j, (net, t) in enumerate(zip(self.members_nets, trained)):
            if not t:
                continue
            self.model.load_member(j, net).train()
            params = [p for p in net.parameters() if p.requires_grad]
            out[j] = lbfgs_polish(net, params, self.cfg.train.lbfgs_steps,
                                  lambda: window_loss(net, prep, prep.train_starts, prep.inputs, False),
                                  lambda: mean_loss(net, prep, prep.train_starts, prep.inputs), self.control.stop)
            self.model.store_member(j, net)
        return out

    def _record(self, epoch: int, trained: list[bool], losses: list[float], seconds: float) -> list[float]:
        """Validate every member, track each one's best (early stopping), report the epoch; returns
        the members' validation losses."""
        prep = self.prep
        vals = member_mean_losses(self.model, prep, prep.val_starts, prep.clean).tolist()
        improved = []
        for j, (m, t) in enumerate(zip(self.members, trained)):
            if not t:
                continue
            watched = vals[j] if math.isfinite(vals[j]) else losses[j]
            if watched < m.best_val:
                m.best_val, m.since_best = watched, 0
                improved.append(j)
            else:
                m.since_best += 1
            m.epochs_run, m.final_train, m.final_val = epoch, losses[j], vals[j]
        if improved and self.trainable and self.best_rows is not None:
            with torch.no_grad():
                self.best_rows[improved] = self.model.flat.detach()[improved]
            for j in improved:
                self.members[j].has_best = True
        train_m = [v if t else math.nan for v, t in zip(losses, trained)]
        val_m = [v if t else math.nan for v, t in zip(vals, trained)]
        norms = [n for m, t in zip(self.members, trained) if t for n in m.epoch_norms] if self.trainable else []
        per_step = self._median_norms(trained) if self.trainable else ()
        rates = [r for r, t in zip(self.schedules.rates(), trained) if t] if self.trainable else [0.0]
        train_loss, val_loss = median(train_m), median(val_m)
        e = ev.EpochEnd(
            epoch=epoch, epochs=self.epochs, train_loss=train_loss, val_loss=val_loss,
            train_rmse_units=units_rmse(train_loss, prep), val_rmse_units=units_rmse(val_loss, prep),
            grad_norm=float(np.mean(norms)) if norms else 0.0, grad_norms=per_step, lr=float(np.median(rates)) if rates else 0.0,
            elapsed_s=time.perf_counter() - self.t0,
            samples_per_s=sum(len(m.epoch_losses) for m in self.members) * self.batch / seconds if seconds > 0 else 0.0,
            step=self.step, best_val_loss=min(m.best_val for m in self.members),
            members_train_loss=tuple(train_m), members_val_loss=tuple(val_m),
        )
        self.history.append(e)
        self.emit(e)
        return vals

    def _median_norms(self, trained: list[bool]) -> tuple[float, ...]:
        """The median gradient norm of the members at each step of this epoch."""
        runs = [m.epoch_norms for m, t in zip(self.members, trained) if t]
        n = max((len(r) for r in runs), default=0)
        return tuple(float(np.median([r[i] for r in runs if i < len(r)])) for i in range(n))

    def _use(self) -> np.ndarray:
        """The members in the mean forecast: those that did not diverge."""
        return np.array([m.status != "diverged" for m in self.members])

    def _forecast(self, epoch: int) -> None:
        cfg = self.cfg
        self.forecast = member_forecast(self.model, self.prep, cfg.rollout.horizon, cfg.rollout.mode, epoch, self._use())
        self.emit(ev.ForecastReady(self.forecast))

    def _score(self, status: str) -> tuple[Evaluation | None, list[Evaluation | None], str]:
        """The last forecast and the test-split scores of each member and of the mean forecast."""
        none: list[Evaluation | None] = [None] * self.k
        try:
            if status == "diverged" and not self.history:
                return None, none, ""
            self._forecast(self.history[-1].epoch if self.history else 0)
            if status == "cancelled":
                return None, none, "skipped: the run was cancelled"
            cfg = self.cfg
            sc = scoring(cfg, self.prep.traj.dt)
            scores = evaluate_members(self.model, self.prep, sc.horizon, sc.lyapunov, self._use(), cfg.rollout.mode,
                                      self.control.stop, threshold=sc.threshold, truth_time=sc.truth.time if sc.truth else None)
            if scores is None:
                return None, none, "skipped: the run was stopped during the evaluation"
            mean, members = scores
            # a member that never finished an epoch has no forecast of its own, as its own run would not
            return mean, [e if m.epochs_run else None for e, m in zip(members, self.members)], ""
        except (RuntimeError, ValueError) as exc:  # members too broken to roll out still get a summary
            return None, none, str(exc).splitlines()[0]

    def _summary(self, status: str, message: str, evaluation: Evaluation | None, members_eval: list, note: str) -> Summary:
        prep, ms = self.prep, self.members
        final_val = median([m.final_val for m in ms if m.final_val is not None])
        final_train = median([m.final_train for m in ms if m.final_train is not None])
        ran = any(m.epochs_run for m in ms)
        return Summary(
            status=status, message=message, system=self.cfg.system.name, arch=self.cfg.model.arch,
            epochs_run=max(m.epochs_run for m in ms), steps=self.step,
            final_train_loss=final_train if ran else None, final_val_loss=final_val if ran else None,
            best_val_loss=min(m.best_val for m in ms), final_val_rmse_units=units_rmse(final_val, prep) if ran else None,
            n_params=self.model.num_params(), device=str(self.device), step_mode=self.mode, dtype=self.cfg.train.dtype,
            threads=self.claim.n if self.claim is not None else None,
            threads_reason=self.claim.reason if self.claim is not None else "",
            n_train_windows=self.n_train, n_val_windows=len(prep.val_starts),
            split_samples={"train": prep.n_train, "val": prep.n_val, "test": prep.n_test},
            wall_time_s=round(time.perf_counter() - self.wall0, 3), train_time_s=round(time.perf_counter() - self.t0, 3),
            evaluation=evaluation, evaluation_note=note,
            ensemble=EnsembleResult(tuple(m.result(e) for m, e in zip(ms, members_eval)), int(self._use().sum()), float(prep.traj.dt)),
        )
