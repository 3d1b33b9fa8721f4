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
    gradient norm, ok] and the weights after the step; `initial` the weights before it. The loss and
    norm agree to rounding (the two may sum in different orders: atomics in a backward pass), and the
    weights' difference is small against the step itself, max |eager - graphed| <= STEP_TOLERANCE x
    max |eager - initial|: a graph that replays a stale buffer takes a different step."""
    names = ("loss", "gradient norm", "finite flag")
    tol = 1e-3 if eager_out.dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-8
    for name, e, g in zip(names, eager_out.tolist(), graph_out.tolist()):
        if not (math.isclose(e, g, rel_tol=tol, abs_tol=tol * 1e-3) or (math.isnan(e) and math.isnan(g))):
            return f"{name} {g:.6g} graphed against {e:.6g} eager"
    moved = max((float((e - w0).abs().max()) for e, w0 in zip(eager_w, initial) if e.numel()), default=0.0)
    apart = max((float((e - g).abs().max()) for e, g in zip(eager_w, graph_w) if e.numel()), default=0.0)
    if not apart <= STEP_TOLERANCE * moved:  # NaN fails too; a step that moved nothing must match exactly
        return f"the weights after the first step differ by {apart:.2g} between graphed and eager (the step moved them {moved:.2g})"
    return None


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
    """

    def __init__(self, model, optimizer, params, loss_fn: Callable[[torch.Tensor], torch.Tensor], starts: torch.Tensor,
                 clip: float, capture: bool = True):
        self.params = params
        self.static_starts = starts.clone()
        self.previous = [p.detach().clone() for p in params]
        self.kept: list[torch.Tensor] = []

        def body() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=False)
            loss = loss_fn(self.static_starts)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
            with torch.no_grad():
                torch._foreach_copy_(self.previous, [p.detach() for p in params])
                optimizer.step()
                # Finite loss, gradient and new weights (the optimiser's state may already be
                # non-finite from an earlier step): else the step is undone.
                ok = torch.isfinite(loss.detach()) & torch.isfinite(gn.detach()) & torch.isfinite(torch.stack(torch._foreach_norm(params)).sum())
                for p, prev in zip(params, self.previous):
                    p.copy_(torch.where(ok, p, prev))
            return torch.stack([loss.detach(), gn.detach(), ok.to(loss.dtype)])

        self.graph = None
        self._body = body
        self.optimizer, self.initial = optimizer, [p.detach().clone() for p in params]
        if not capture:
            return
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                body()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = body()
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

    def drain(self) -> list[tuple[float, float, bool]]:
        if not self.kept:
            return []
        values = torch.stack(self.kept).tolist()
        self.kept = []
        return [(lv, gn, ok == 1.0) for lv, gn, ok in values]
