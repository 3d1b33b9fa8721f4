"""Step runners: the one interface the epoch loop knows. A run is K >= 1 members (train.ensemble); a
runner takes each member's training windows of one batch (`step(starts)`, starts (K, B)), and hands
back what its steps gave since the last `drain()`: each member's good steps (loss, gradient norm), and
for each member whose step was not finite, that step (the member then stops training).

One model (K = 1):
- `EagerRunner`: forward, backward, clip, optimiser step, one at a time (results at once).
- `GraphRunner`: the same step captured as a CUDA graph and replayed, results read every
  `CHECK_EVERY` steps (see kernels/cudagraph.py); a short last batch is taken eagerly.
K > 1 members, stacked into one batched model (models/stacked.py):
- `MemberRunner`: core/member_step.py's batched step, each member's outcome its own.
- `MembersGraphRunner`: that step captured as one CUDA graph (kernels/cudagraph.MembersGraphedStep).
Any K:
- `ClosedFormRunner`: a ridge readout (ESN, NG-RC), solved once (one "step" that is not an optimisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import torch

from rnn_tui.core.member_step import MemberStep
from rnn_tui.core.optim import grad_norm
from rnn_tui.core.results import ReadoutReport
from rnn_tui.kernels import cudagraph


@dataclass(frozen=True)
class StepStats:
    loss: float  # MSE, normalised units
    grad_norm: float  # before clipping


@dataclass(frozen=True)
class BadStep:
    """A step whose loss, gradient or new weights were not finite. It changed no weights; `undone`:
    the step before it had left non-finite weights, and those were put back too."""

    what: str  # "loss", "gradient" or "loss, gradient or weights"
    undone: bool = False


@dataclass
class Drained:
    """What a runner's steps gave since the last drain."""

    steps: list[list[StepStats]]  # each member's good steps, in order
    bad: dict[int, BadStep]  # the members whose step was not finite: that step (they train no more)


class StepRunner(Protocol):
    mode: str  # shown to the user: "eager (reason)", "cuda-graph", "closed form", "ensemble of K, batched"
    optimises: bool  # its steps are optimisation steps (counted, with a gradient norm)
    check_every: int  # steps between drains

    @property
    def pending(self) -> int: ...

    def step(self, starts: torch.Tensor) -> None: ...  # starts (K, B): each member's windows

    def drain(self) -> Drained: ...

    def freeze(self, j: int) -> None: ...  # member j stops training (it stopped early)


def _one(done: list[StepStats], bad: BadStep | None) -> Drained:
    return Drained([done], {0: bad} if bad is not None else {})


LossFn = Callable[[torch.Tensor], torch.Tensor]


class EagerRunner:
    """One optimisation step per call, in Python. A non-finite loss or gradient takes no step; if the
    step before it left non-finite weights (a finite loss and gradient, but an overflowing update),
    the weights from before that step are put back (kept at 3 us a step)."""

    optimises = True
    check_every = 1

    def __init__(self, opt: torch.optim.Optimizer, params: list, loss_fn: LossFn, clip: float, reason: str,
                 grads_to_none: bool = True) -> None:
        self.opt, self.params, self.loss_fn, self.clip = opt, params, loss_fn, clip
        self.mode = f"eager ({reason})"
        self.grads_to_none = grads_to_none  # False beside a CUDA graph, whose gradients keep their addresses
        self.weights = [p.detach() for p in params]
        self.before = [w.clone() for w in self.weights]
        self.done: list[StepStats] = []
        self.bad: BadStep | None = None

    @property
    def pending(self) -> int:
        return len(self.done) + (self.bad is not None)

    def freeze(self, j: int) -> None:  # one member: a run that stops early ends; nothing to hold back
        pass

    def step(self, starts: torch.Tensor) -> None:
        loss = self.loss_fn(starts[0] if starts.dim() == 2 else starts)
        lv, gn = loss.item(), float("nan")
        if math.isfinite(lv):
            self.opt.zero_grad(set_to_none=self.grads_to_none)
            loss.backward()
            gn = grad_norm(self.params, self.clip)
        if not (math.isfinite(lv) and math.isfinite(gn)):
            self.bad = BadStep("loss" if not math.isfinite(lv) else "gradient", self._undo_if_weights_bad())
            return
        torch._foreach_copy_(self.before, self.weights)
        self.opt.step()
        self.done.append(StepStats(lv, gn))

    def _undo_if_weights_bad(self) -> bool:
        if bool(torch.isfinite(torch.stack(torch._foreach_norm(self.weights)).sum())):
            return False
        torch._foreach_copy_(self.weights, self.before)
        return True

    def drain(self) -> Drained:
        out, bad = self.done, self.bad
        self.done, self.bad = [], None
        return _one(out, bad)


class GraphRunner:
    """Full batches go through one captured step (captured at the first full batch); a short batch,
    or every batch after a failed capture, goes through an eager runner sharing the optimiser."""

    optimises = True

    def __init__(self, model, opt, params: list, loss_fn: LossFn, clip: float, batch: int, capture: bool) -> None:
        self.model, self.opt, self.params, self.loss_fn, self.clip = model, opt, params, loss_fn, clip
        self.batch, self.capture = batch, capture
        self.graphed: cudagraph.GraphedStep | None = None
        self.failed = ""  # why capture failed (then every step is eager)
        self.eager = EagerRunner(opt, params, loss_fn, clip, "short batch", grads_to_none=False)
        self.done: list[StepStats] = []
        self.bad: BadStep | None = None

    @property
    def mode(self) -> str:
        if self.failed:
            return f"eager ({self.failed})"
        return "cuda-graph" if self.graphed is not None else "eager (no full batch)"

    @property
    def check_every(self) -> int:
        return cudagraph.CHECK_EVERY

    @property
    def pending(self) -> int:
        queued = self.graphed.pending if self.graphed is not None else 0
        return queued + len(self.done) + (self.bad is not None)

    def freeze(self, j: int) -> None:
        pass

    def step(self, starts: torch.Tensor) -> None:
        if starts.dim() == 2:
            starts = starts[0]
        if self.bad is not None:  # a bad step stops the run: nothing after it counts
            return
        if len(starts) == self.batch and not self.failed and self.graphed is None:
            try:
                self.graphed = cudagraph.GraphedStep(self.model, self.opt, self.params, self.loss_fn, starts, self.clip, capture=self.capture)
            except cudagraph.SelfCheckFailed as exc:  # the graph does not reproduce the eager step
                self.failed = f"capture self-check failed: {exc}"
            except RuntimeError as exc:  # capture is best effort: train eagerly instead
                self.failed = f"capture failed: {str(exc).splitlines()[0]}"
        if len(starts) == self.batch and self.graphed is not None and not self.failed:
            self.graphed(starts)  # queued; its result is read at the next drain
            return
        self._collect_graphed()
        if self.bad is None:
            self.eager.step(starts)
            out = self.eager.drain()
            self.done += out.steps[0]
            self.bad = out.bad.get(0)

    def _collect_graphed(self) -> None:
        for lv, gn, ok in self.graphed.drain() if self.graphed is not None else []:
            if self.bad is not None:
                continue
            if ok:
                self.done.append(StepStats(lv, gn))
            else:
                self.bad = BadStep("loss, gradient or weights")

    def drain(self) -> Drained:
        self._collect_graphed()
        out, bad = self.done, self.bad
        self.done, self.bad = [], None
        return _one(out, bad)


class MemberRunner:
    """K > 1 members, one batched step each call (core/member_step.py): a member whose loss or
    gradient is not finite takes no step, is reported bad and trains no more; the others go on.
    Their learning rates come from `schedules.rates()` (each member's own schedule)."""

    optimises = True
    check_every = 1

    def __init__(self, model, opt, schedules, loss_fn: LossFn, clip: float) -> None:
        self.k, self.schedules = model.k, schedules
        self.stepper = MemberStep(model, opt, loss_fn, clip)
        self.flat = model.flat
        self.training = torch.ones(model.k, dtype=torch.bool, device=model.flat.device)
        self.done: list[list[StepStats]] = [[] for _ in range(self.k)]
        self.bad: dict[int, BadStep] = {}

    @property
    def mode(self) -> str:
        return f"ensemble of {self.k}, batched"

    @property
    def pending(self) -> int:
        return 1 if any(self.done) or self.bad else 0

    def freeze(self, j: int) -> None:
        self.training[j] = False

    def rates(self) -> torch.Tensor:
        return torch.tensor(self.schedules.rates(), dtype=self.flat.dtype, device=self.flat.device)

    def step(self, starts: torch.Tensor) -> None:
        out = self.stepper.step(starts, self.training, self.rates())
        losses, norms, taken = out.loss.tolist(), out.grad_norm.tolist(), out.taken.tolist()
        for j in range(self.k):
            if taken[j]:
                self.done[j].append(StepStats(losses[j], norms[j]))
        if bool(out.bad.any()):
            for j in torch.nonzero(out.bad).flatten().tolist():
                self.bad[j] = BadStep("loss" if not math.isfinite(losses[j]) else "gradient", bool(out.undone[j]))
            self.training &= ~out.bad

    def drain(self) -> Drained:
        out = Drained(self.done, self.bad)
        self.done, self.bad = [[] for _ in range(self.k)], {}
        return out


class MembersGraphRunner(MemberRunner):
    """K > 1 members with full batches replayed from one captured graph (kernels/cudagraph.py:
    MembersGraphedStep), results read every CHECK_EVERY steps; a short batch, or every batch after
    a failed capture, goes through MemberRunner's eager step on the same optimiser and weights."""

    def __init__(self, model, opt, schedules, loss_fn: LossFn, clip: float, batch: int, capture: bool) -> None:
        super().__init__(model, opt, schedules, loss_fn, clip)
        self.model, self.opt, self.loss_fn, self.clip = model, opt, loss_fn, clip
        self.batch, self.capture = batch, capture
        self.graphed: cudagraph.MembersGraphedStep | None = None
        self.failed = ""
        self.static_rates: torch.Tensor | None = None  # the rates a replay reads, filled before each

    @property
    def mode(self) -> str:
        if self.failed:
            return f"ensemble of {self.k}, batched, eager ({self.failed})"
        return f"ensemble of {self.k}, batched, " + ("cuda-graph" if self.graphed is not None else "eager (no full batch)")

    @property
    def check_every(self) -> int:
        return cudagraph.CHECK_EVERY

    @property
    def pending(self) -> int:
        return (self.graphed.pending if self.graphed is not None else 0) + super().pending

    def step(self, starts: torch.Tensor) -> None:
        full = starts.shape[1] == self.batch
        if full and not self.failed and self.graphed is None:
            self.static_rates = self.rates()
            try:
                self.graphed = cudagraph.MembersGraphedStep(self.model, self.opt, self.loss_fn, starts, self.clip, self.training,
                                                            self.static_rates, capture=self.capture)
            except cudagraph.SelfCheckFailed as exc:
                self.failed = f"capture self-check failed: {exc}"
            except RuntimeError as exc:
                self.failed = f"capture failed: {str(exc).splitlines()[0]}"
        if full and self.graphed is not None and not self.failed:
            self.static_rates.copy_(self.rates())
            self.graphed(starts)
            return
        self._collect_graphed()
        super().step(starts)

    def _collect_graphed(self) -> None:
        for losses, norms, ok, trained in self.graphed.drain() if self.graphed is not None else []:
            for j in range(self.k):
                if ok[j]:
                    self.done[j].append(StepStats(losses[j], norms[j]))
                elif trained[j] and j not in self.bad:
                    self.bad[j] = BadStep("loss, gradient or weights")

    def drain(self) -> Drained:
        self._collect_graphed()
        return super().drain()


@dataclass(frozen=True)
class ClosedFormFit:
    """What a closed-form fit gave: each member's training loss, each member's validation loss where
    the fit scored it already (None: the trainer's own validation pass), the fit's seconds, and one
    readout's report (the ridge kept and the ridge path; core/closed_form.py) where there is one."""

    train_losses: tuple[float, ...]
    val_losses: tuple[float, ...] | None
    seconds: float
    report: ReadoutReport | None = None


class ClosedFormRunner:
    """The closed-form fit (the ESN's or NG-RC's readout by ridge regression) as a single step that
    optimises nothing; every member is fitted at once. `fit` returns a ClosedFormFit, or None when it
    was stopped before it was done (then nothing is reported)."""

    optimises = False
    check_every = 1

    def __init__(self, fit: Callable[[], ClosedFormFit | None], k: int = 1) -> None:
        self.fit, self.k = fit, k
        self.mode = "closed form" if k == 1 else f"ensemble of {k}, closed form"
        self.done: list[list[StepStats]] = [[] for _ in range(k)]
        self.result: ClosedFormFit | None = None

    @property
    def fit_seconds(self) -> float | None:
        """The fit alone (not its scoring), once done."""
        return self.result.seconds if self.result is not None else None

    @property
    def report(self) -> ReadoutReport | None:
        return self.result.report if self.result is not None else None

    @property
    def pending(self) -> int:
        return 1 if any(self.done) else 0

    def freeze(self, j: int) -> None:
        pass

    def step(self, starts: torch.Tensor) -> None:
        out = self.fit()
        if out is not None:
            self.result = out
            for j, loss in enumerate(out.train_losses):
                self.done[j].append(StepStats(float(loss), 0.0))

    def drain(self) -> Drained:
        out, self.done = self.done, [[] for _ in range(self.k)]
        return Drained(out, {})
