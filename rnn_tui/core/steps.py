"""Step runners: the one interface the epoch loop knows. Each takes the training windows of one batch
(`step(starts)`), and hands back what its steps gave since the last `drain()`: the (loss, gradient
norm) of each good step, and the first step that was not finite, if any.

- `EagerRunner`: forward, backward, clip, optimiser step, one at a time (results at once).
- `GraphRunner`: the same step captured as a CUDA graph and replayed, results read every
  `CHECK_EVERY` steps (see kernels/cudagraph.py); a short last batch is taken eagerly.
- `ClosedFormRunner`: a ridge readout (ESN, NG-RC), solved once (one "step" that is not an optimisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import torch

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


class StepRunner(Protocol):
    mode: str  # shown to the user: "eager (reason)", "cuda-graph", "closed form"
    optimises: bool  # its steps are optimisation steps (counted, with a gradient norm)
    check_every: int  # steps between drains

    @property
    def pending(self) -> int: ...

    def step(self, starts: torch.Tensor) -> None: ...

    def drain(self) -> tuple[list[StepStats], BadStep | None]: ...


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

    def step(self, starts: torch.Tensor) -> None:
        loss = self.loss_fn(starts)
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

    def drain(self) -> tuple[list[StepStats], BadStep | None]:
        out, bad = self.done, self.bad
        self.done, self.bad = [], None
        return out, bad


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

    def step(self, starts: torch.Tensor) -> None:
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
            done, self.bad = self.eager.drain()
            self.done += done

    def _collect_graphed(self) -> None:
        for lv, gn, ok in self.graphed.drain() if self.graphed is not None else []:
            if self.bad is not None:
                continue
            if ok:
                self.done.append(StepStats(lv, gn))
            else:
                self.bad = BadStep("loss, gradient or weights")

    def drain(self) -> tuple[list[StepStats], BadStep | None]:
        self._collect_graphed()
        out, bad = self.done, self.bad
        self.done, self.bad = [], None
        return out, bad


class ClosedFormRunner:
    """The closed-form fit (the ESN's or NG-RC's readout by ridge regression) as a single step that
    optimises nothing. `fit` returns the fit's report (core/results.py: ReadoutReport, with the
    training and validation losses), or None when it was stopped."""

    mode = "closed form"
    optimises = False
    check_every = 1

    def __init__(self, fit: Callable[[], ReadoutReport | None]) -> None:
        self.fit = fit
        self.done: list[StepStats] = []
        self.report: ReadoutReport | None = None
        self.fit_seconds: float | None = None  # the fit alone (not the scoring after it)

    @property
    def pending(self) -> int:
        return len(self.done)

    def step(self, starts: torch.Tensor) -> None:
        report = self.fit()
        if report is not None:  # None: stopped before the fit was done (nothing to report)
            self.report, self.fit_seconds = report, report.fit_s
            self.done.append(StepStats(report.train_loss, 0.0))

    def drain(self) -> tuple[list[StepStats], BadStep | None]:
        out, self.done = self.done, []
        return out, None
