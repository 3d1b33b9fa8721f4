"""CUDA-graph fast path: one whole optimisation step (forward, backward, gradient norm, clipping,
optimiser step) captured once and replayed for every full batch. Static shapes, a capturable
optimiser with a tensor learning rate (so schedules and live changes need no re-capture).

Used only on CUDA and only where the step is capturable; anything else trains eagerly, and a
failed capture falls back to eager training too. `eligibility` says why a run is not eligible.
At capture the first step is taken both ways from the same weights and batch, graphed and eager
(`GraphedStep.self_check`); a mismatch raises SelfCheckFailed and the run trains eagerly, with the
reason in its step mode (status line and summary).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

WARMUP_STEPS = 3  # eager steps on a side stream before capture (then undone)


def eligibility(device: torch.device, cfg, model) -> str | None:
    """None when the step can be captured on this run, else the reason (shown to the user)."""
    if device.type != "cuda":
        return "not on CUDA"
    if not cfg.train.cuda_graph:
        return "train.cuda_graph = false"
    if not getattr(model, "trainable", True):
        return "closed-form model"
    if cfg.train.optimizer not in ("adam", "rmsprop"):
        return f"optimizer {cfg.train.optimizer} has no capturable mode here"
    if cfg.train.lbfgs_steps:
        return "L-BFGS polish needs eager steps"
    if getattr(cfg.model, "dropout", 0.0) > 0 and getattr(cfg.model, "num_layers", 1) > 1:  # only stacked nets use it
        return "dropout draws random numbers each step"
    return None


def make_capturable_optimizer(cfg, params, device: torch.device) -> torch.optim.Optimizer:
    """Adam or RMSprop with its learning rate in a device tensor (changed in place, never
    re-captured); capturable on CUDA (torch allows it nowhere else: the CPU tests run it eagerly)."""
    t = cfg.train
    lr = torch.tensor(t.lr, device=device)
    capturable = device.type == "cuda"
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=t.weight_decay, capturable=capturable)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=t.weight_decay, capturable=capturable)


STEP_TOLERANCE = 1e-2  # self-check: graphed against eager weights, relative to the step's size


class SelfCheckFailed(RuntimeError):
    """The captured step does not reproduce the eager one (the run then trains eagerly)."""


def compare(eager_out: torch.Tensor, eager_w: list[torch.Tensor], graph_out: torch.Tensor,
            graph_w: list[torch.Tensor], initial: list[torch.Tensor]) -> str | None:
    """None when a graphed step agrees with the eager one, else a one-line reason. Each is [loss,
    gradient norm, ok] (rows of K for members) and the weights after the step; `initial` the weights before it. The loss and
    norm agree to rounding (the two may sum in different orders: atomics in a backward pass), and the
    weights' difference is small against the step itself, max |eager - graphed| <= STEP_TOLERANCE x
    max |eager - initial|: a graph that replays a stale buffer takes a different step."""
    names = ("loss", "gradient norm", "finite flag", "training flag")
    tol = 1e-3 if eager_out.dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-8
    for name, e_row, g_row in zip(names, eager_out.tolist(), graph_out.tolist()):
        # one model: a number per name; K members (MembersGraphedStep): a row of K
        for e, g in zip(*((row if isinstance(row, list) else [row]) for row in (e_row, g_row))):
            if not (math.isclose(e, g, rel_tol=tol, abs_tol=tol * 1e-3) or (math.isnan(e) and math.isnan(g))):
                return f"{name} {g:.6g} graphed against {e:.6g} eager"
    moved = max((float((e - w0).abs().max()) for e, w0 in zip(eager_w, initial) if e.numel()), default=0.0)
    apart = max((float((e - g).abs().max()) for e, g in zip(eager_w, graph_w) if e.numel()), default=0.0)
    if not apart <= STEP_TOLERANCE * moved:  # NaN fails too; a step that moved nothing must match exactly
        return f"the weights after the first step differ by {apart:.2g} between graphed and eager (the step moved them {moved:.2g})"
    return None


CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_'s: coefficient = clip / (norm + 1e-6), member by member

CHECK_EVERY = 32  # graphed steps between reads of their losses (each read waits for the device)


class GraphedStep:
    """Replays a captured training step without waiting for it.

    `__call__(starts)` queues one step and keeps its [loss, grad_norm, ok] on the device; `drain()`
    reads all kept results at once (one device sync) as [(loss, grad_norm, ok), ...]. The trainer
    drains every CHECK_EVERY steps and at the end of an epoch, so the CPU queues the next steps
    while the device works: with a read (a sync) after every step the device would sit idle
    during the loop's own work between steps, and at the notes' sizes a graphed step is short
    (~0.17 ms on an H100 by the issue's figures).

    A step whose loss, gradient norm or new weights are not finite changes no weights (ok = 0):
    the weights are copied to a shadow buffer before the optimiser updates them and put back
    inside the graph, so the run keeps its last finite weights however many queued steps follow.

    `capture=False` runs the same step eagerly (no graph): the trainer's CPU tests use it.
    Subclasses change what one step is (`_make_body`, `_rows`): MembersGraphedStep steps K members.
    """

    def __init__(self, model, optimizer, params, loss_fn: Callable[[torch.Tensor], torch.Tensor], starts: torch.Tensor,
                 clip: float, capture: bool = True):
        self.params = params
        self.static_starts = starts.clone()
        self.kept: list[torch.Tensor] = []
        self.graph = None
        self._body = self._make_body(optimizer, params, loss_fn, clip)
        self.optimizer, self.initial = optimizer, [p.detach().clone() for p in params]
        if capture:
            self._capture()

    def _make_body(self, optimizer, params, loss_fn, clip) -> Callable[[], torch.Tensor]:
        previous = [p.detach().clone() for p in params]

        def body() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=False)
            loss = loss_fn(self.static_starts)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
            with torch.no_grad():
                torch._foreach_copy_(previous, [p.detach() for p in params])
                optimizer.step()
                # Finite loss, gradient and new weights (the optimiser's state may already be
                # non-finite from an earlier step): else the step is undone.
                ok = torch.isfinite(loss.detach()) & torch.isfinite(gn.detach()) & torch.isfinite(torch.stack(torch._foreach_norm(params)).sum())
                for p, prev in zip(params, previous):
                    p.copy_(torch.where(ok, p, prev))
            return torch.stack([loss.detach(), gn.detach(), ok.to(loss.dtype)])

        return body

    def _capture(self) -> None:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self._body()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = self._body()
        self.reset()  # undo the warm-up
        reason = self.self_check(self._replay_once)
        if reason is not None:
            raise SelfCheckFailed(reason)

    def reset(self) -> None:
        """The initial weights and a fresh optimiser state (zeros, step 0), at the same addresses."""
        with torch.no_grad():
            torch._foreach_copy_([p.data for p in self.params], self.initial)
            for state in self.optimizer.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()

    def _replay_once(self) -> torch.Tensor:
        self.graph.replay()
        return self.out.clone()

    def self_check(self, replay: Callable[[], torch.Tensor]) -> str | None:
        """The first step both ways from the same weights and batch: `replay` (the graph) against the
        eager step. None when they agree (see `compare`), else why not. Leaves the initial state."""
        results = []
        for run in (self._body, replay):
            self.reset()
            out = run()
            results.append((out.detach().clone(), [p.detach().clone() for p in self.params]))
        self.reset()
        (eager_out, eager_w), (graph_out, graph_w) = results
        return compare(eager_out, eager_w, graph_out, graph_w, self.initial)

    @property
    def pending(self) -> int:
        return len(self.kept)

    def __call__(self, starts: torch.Tensor) -> None:
        self.static_starts.copy_(starts)
        if self.graph is None:
            self.kept.append(self._body())
        else:
            self.graph.replay()
            self.kept.append(self.out.clone())  # the next replay overwrites the static output

    def drain(self) -> list:
        if not self.kept:
            return []
        values = torch.stack(self.kept).tolist()
        self.kept = []
        return [self._rows(v) for v in values]

    @staticmethod
    def _rows(v: list) -> tuple:
        lv, gn, ok = v
        return lv, gn, ok == 1.0


class MembersGraphedStep(GraphedStep):
    """The step of K members (train.ensemble) as one captured graph: core/member_step.py's batched
    step without a host decision, each member's outcome its own. `training` (K,) and `rates` (K,)
    are static device tensors the runner fills before a replay; a member whose loss, gradient norm
    or new weights are not finite keeps its weights and stops training inside the graph (its
    `training` entry is cleared), so the steps queued after it leave it as it was. A step's result
    is (4, K): loss, gradient norm, ok (stepped), and whether the member was training."""

    def __init__(self, model, optimizer, loss_fn, starts, clip, training: torch.Tensor, rates: torch.Tensor,
                 capture: bool = True):
        self.training, self.rates = training, rates
        self.initial_training = training.clone()
        super().__init__(model, optimizer, [model.flat], loss_fn, starts, clip, capture)

    def _make_body(self, optimizer, params, loss_fn, clip) -> Callable[[], torch.Tensor]:
        flat = params[0]
        training, rates = self.training, self.rates

        def body() -> torch.Tensor:
            losses = loss_fn(self.static_starts)  # (K,)
            value = losses.detach()
            trained = training.clone()
            live = trained & torch.isfinite(value)
            (grad,) = torch.autograd.grad(torch.where(live, losses, torch.zeros_like(losses)).sum(), flat)
            with torch.no_grad():
                norm = torch.linalg.vector_norm(grad, dim=1)
                ok = live & torch.isfinite(norm)
                grad = grad.masked_fill(~ok.unsqueeze(1), 0.0)
                if math.isfinite(clip):
                    coef = (clip / (norm + CLIP_EPS)).clamp(max=1.0)
                    grad = grad * torch.where(ok, coef, torch.ones_like(coef)).unsqueeze(1)
                before = flat.detach().clone()
                optimizer.step(grad, rates * ok)
                finite = torch.isfinite(torch.linalg.vector_norm(flat, dim=1))
                flat.copy_(torch.where(finite.unsqueeze(1), flat, before))
                ok = ok & finite
                training.copy_(trained & ok)
            return torch.stack([value, norm, ok.to(value.dtype), trained.to(value.dtype)])

        return body

    def reset(self) -> None:
        super().reset()
        self.training.copy_(self.initial_training)

    @staticmethod
    def _rows(v: list) -> tuple:
        loss, norm, ok, trained = v
        return loss, norm, [o == 1.0 for o in ok], [t == 1.0 for t in trained]
